//go:build linux

package origin

import (
	"encoding/binary"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The kernel reports this process as the sender of a datagram it writes to a unixgram socket
// with SO_PASSCRED enabled.
func TestPassCredReportsSenderPID(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dsd.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	rc, err := conn.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	if err := EnablePassCred(rc); err != nil {
		t.Fatalf("EnablePassCred: %v", err)
	}
	client, err := net.Dial("unixgram", path)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	if _, err := client.Write([]byte("page.views:1|c")); err != nil {
		t.Fatal(err)
	}
	if err := conn.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	buf, oob := make([]byte, 64), make([]byte, OOBSize)
	n, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil {
		t.Fatal(err)
	}
	if string(buf[:n]) != "page.views:1|c" {
		t.Fatalf("payload %q", buf[:n])
	}
	cred, ok := ParseCredentials(oob[:oobn])
	if !ok {
		t.Fatalf("no credentials in %d control bytes", oobn)
	}
	if cred.PID != int32(os.Getpid()) || cred.UID != uint32(os.Getuid()) || cred.GID != uint32(os.Getgid()) {
		t.Fatalf("credentials %+v, want pid %d uid %d gid %d", cred, os.Getpid(), os.Getuid(), os.Getgid())
	}
}

func TestPeerCredentials(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dsd-stream.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server, err := ln.AcceptUnix()
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	rc, err := server.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	cred, err := PeerCredentials(rc)
	if err != nil {
		t.Fatal(err)
	}
	if cred.PID != int32(os.Getpid()) {
		t.Fatalf("peer pid %d, want %d", cred.PID, os.Getpid())
	}
}

// cmsg builds one control message as the kernel lays it out.
func cmsg(level, typ int32, data []byte) []byte {
	b := make([]byte, unix.CmsgSpace(len(data)))
	binary.NativeEndian.PutUint64(b, uint64(unix.CmsgLen(len(data))))
	binary.NativeEndian.PutUint32(b[8:], uint32(level))
	binary.NativeEndian.PutUint32(b[12:], uint32(typ))
	copy(b[unix.CmsgLen(0):], data)
	return b
}

func TestControlMessage(t *testing.T) {
	if unix.SizeofPtr != 8 {
		t.Skip("the test builds 64-bit control headers")
	}
	ucred := make([]byte, unix.SizeofUcred)
	binary.NativeEndian.PutUint32(ucred, 1234)
	binary.NativeEndian.PutUint32(ucred[4:], 1000)
	binary.NativeEndian.PutUint32(ucred[8:], 100)
	drops := []byte{7, 0, 0, 0}
	both := append(cmsg(unix.SOL_SOCKET, unix.SO_RXQ_OVFL, drops), cmsg(unix.SOL_SOCKET, unix.SCM_CREDENTIALS, ucred)...)

	cred, ok := ParseCredentials(both)
	if !ok || cred != (Credentials{PID: 1234, UID: 1000, GID: 100}) {
		t.Fatalf("ParseCredentials = %+v, %v", cred, ok)
	}
	if got := ControlMessage(both, unix.SOL_SOCKET, unix.SO_RXQ_OVFL); len(got) != 4 || got[0] != 7 {
		t.Fatalf("RXQ_OVFL data = %v", got)
	}
	for name, oob := range map[string][]byte{
		"empty":            nil,
		"short header":     both[:10],
		"length past end":  both[:len(both)-8],
		"zero length":      make([]byte, 32),
		"only other types": cmsg(unix.SOL_SOCKET, unix.SO_RXQ_OVFL, drops),
	} {
		if _, ok := ParseCredentials(oob); ok {
			t.Errorf("%s: credentials found in malformed or unrelated control data", name)
		}
	}
	allocs := testing.AllocsPerRun(100, func() { _, _ = ParseCredentials(both) })
	if allocs != 0 {
		t.Fatalf("ParseCredentials allocates %.0f times", allocs)
	}
}

func FuzzControlMessage(f *testing.F) {
	f.Add(cmsg(unix.SOL_SOCKET, unix.SCM_CREDENTIALS, make([]byte, unix.SizeofUcred)))
	f.Add([]byte{255, 255, 255, 255, 255, 255, 255, 255, 1, 0, 0, 0, 2, 0, 0, 0})
	f.Fuzz(func(t *testing.T, oob []byte) {
		data := ControlMessage(oob, unix.SOL_SOCKET, unix.SCM_CREDENTIALS)
		if len(data) > len(oob) {
			t.Fatalf("returned %d bytes from %d", len(data), len(oob))
		}
		_, _ = ParseCredentials(oob)
	})
}
