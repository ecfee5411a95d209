//go:build unix

package listener

import (
	"net"
	"syscall"
)

// sealUDP connects conn to its own address, so that the kernel refuses datagrams from every
// sender (they match no socket: ICMP port unreachable, "connection refused" on connected
// senders) while the datagrams already queued stay readable. A socket bound to an unspecified
// address is connected to the loopback address of its family.
func sealUDP(conn *net.UDPConn) error {
	la, ok := conn.LocalAddr().(*net.UDPAddr)
	if !ok {
		return syscall.EINVAL
	}
	var sa syscall.Sockaddr
	if ip4 := la.IP.To4(); ip4 != nil && !isIPv6Socket(conn) {
		a := &syscall.SockaddrInet4{Port: la.Port}
		copy(a.Addr[:], ip4)
		if la.IP.IsUnspecified() {
			a.Addr = [4]byte{127, 0, 0, 1}
		}
		sa = a
	} else {
		a := &syscall.SockaddrInet6{Port: la.Port}
		copy(a.Addr[:], la.IP.To16())
		if la.IP.IsUnspecified() {
			a.Addr = [16]byte{15: 1}
		}
		sa = a
	}
	rc, err := conn.SyscallConn()
	if err != nil {
		return err
	}
	var cerr error
	if err := rc.Control(func(fd uintptr) { cerr = syscall.Connect(int(fd), sa) }); err != nil {
		return err
	}
	return cerr
}

// isIPv6Socket reports whether conn's socket is AF_INET6 (a dual-stack socket bound to "::"
// or an IPv4-mapped address reports an IPv4 local address but needs an IPv6 peer).
func isIPv6Socket(conn *net.UDPConn) bool {
	rc, err := conn.SyscallConn()
	if err != nil {
		return false
	}
	v6 := false
	_ = rc.Control(func(fd uintptr) {
		if sa, err := syscall.Getsockname(int(fd)); err == nil {
			_, v6 = sa.(*syscall.SockaddrInet6)
		}
	})
	return v6
}
