//go:build linux

package listener

import (
	"net"
	"strings"
	"testing"
	"time"
)

const udpDropCounterSupported = true

// The helpers alone: a socket nobody reads overflows; both drop sources see it.
func TestKernelDropCounters(t *testing.T) {
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	rc, err := conn.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tuneRcvbuf(rc, 4096); err != nil {
		t.Fatal(err)
	}
	if err := enableDropCounter(rc); err != nil {
		t.Fatal(err)
	}
	inode := socketInode(rc)
	if inode == 0 {
		t.Fatal("no inode")
	}
	if d, ok := procUDPDrops(inode); !ok || d != 0 {
		t.Fatalf("fresh socket: drops %d, found %v", d, ok)
	}
	c, err := net.Dial("udp", conn.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for range 500 {
		_, _ = c.Write([]byte(strings.Repeat("y", 100)))
	}
	procDrops, ok := procUDPDrops(inode)
	if !ok || procDrops == 0 {
		t.Fatalf("/proc/net/udp drops %d (found %v) after overflowing the socket", procDrops, ok)
	}
	// Each datagram queued after the first drop carries the count; read until one does.
	if err := conn.SetReadDeadline(time.Now().Add(2 * time.Second)); err != nil {
		t.Fatal(err)
	}
	// Make room, then queue one more so it is stamped with the drop count.
	buf, oob := make([]byte, 256), make([]byte, udpOOBSize)
	for range 3 {
		if _, _, _, _, err := conn.ReadMsgUDPAddrPort(buf, oob); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Write([]byte("z")); err != nil {
		t.Fatal(err)
	}
	var oobDrops uint64
	for {
		n, oobn, _, _, err := conn.ReadMsgUDPAddrPort(buf, oob)
		if err != nil {
			t.Fatalf("no datagram carried a drop count: %v", err)
		}
		if d, ok := dropsFromOOB(oob[:oobn]); ok {
			oobDrops = d
		}
		if n == 1 {
			break
		}
	}
	if oobDrops == 0 || oobDrops > procDrops {
		t.Fatalf("drop count in control message %d, /proc says %d", oobDrops, procDrops)
	}
}
