//go:build linux

package listener

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"os"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/origin"
)

// udpOOBSize fits the SO_RXQ_OVFL control message (a uint32) with room to spare.
var udpOOBSize = unix.CmsgSpace(4) * 2

// tuneRcvbuf sets the receive buffer to n bytes. SO_RCVBUFFORCE passes net.core.rmem_max when
// the process has CAP_NET_ADMIN; otherwise SO_RCVBUF is capped by it. It returns the size the
// kernel reports afterwards.
func tuneRcvbuf(rc syscall.RawConn, n int) (int, error) {
	var got int
	var serr error
	err := rc.Control(func(fd uintptr) {
		if n > 0 {
			if unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, n) != nil {
				serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, n)
			}
		}
		got, _ = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF)
	})
	if err != nil {
		return 0, err
	}
	return got, serr
}

// enableDropCounter asks the kernel to attach the socket's cumulative drop count to each
// datagram read (SO_RXQ_OVFL).
func enableDropCounter(rc syscall.RawConn) error {
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RXQ_OVFL, 1)
	}); err != nil {
		return err
	}
	return serr
}

// dropsFromOOB returns the drop count carried by a read's control bytes. The kernel only
// attaches it once the socket has dropped something.
func dropsFromOOB(oob []byte) (uint64, bool) {
	data := origin.ControlMessage(oob, unix.SOL_SOCKET, unix.SO_RXQ_OVFL)
	if len(data) < 4 {
		return 0, false
	}
	return uint64(binary.NativeEndian.Uint32(data)), true
}

// socketInode returns the inode that names the socket in /proc/net/*.
func socketInode(rc syscall.RawConn) uint64 {
	var st unix.Stat_t
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = unix.Fstat(int(fd), &st) }); err != nil || serr != nil {
		return 0
	}
	return st.Ino
}

// procUDPDrops reads the drops column of the socket with this inode from /proc/net/udp and
// udp6. It sees drops that no later datagram reported (the queue was full until traffic ended).
func procUDPDrops(inode uint64) (uint64, bool) {
	if inode == 0 {
		return 0, false
	}
	want := []byte(strconv.FormatUint(inode, 10))
	for _, name := range []string{"/proc/net/udp", "/proc/net/udp6"} {
		data, err := os.ReadFile(name)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			// sl local rem st tx:rx tr:when retrnsmt uid timeout inode ref pointer drops
			f := bytes.Fields(sc.Bytes())
			if len(f) < 13 || !bytes.Equal(f[9], want) {
				continue
			}
			d, err := strconv.ParseUint(string(f[12]), 10, 64)
			return d, err == nil
		}
	}
	return 0, false
}
