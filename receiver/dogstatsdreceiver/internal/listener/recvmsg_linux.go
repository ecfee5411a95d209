//go:build linux

package listener

import (
	"net"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// msgReader reads one datagram and its control bytes with recvmsg(2) through the runtime
// poller without allocating: net.UnixConn.ReadMsgUnix allocates the sender's address on every
// read. One msgReader belongs to one reading goroutine.
type msgReader struct {
	rc  syscall.RawConn
	msg unix.Msghdr
	iov unix.Iovec
	fn  func(fd uintptr) bool // r.recv, bound once so a read does not allocate a closure

	n, oobn, flags int
	errno          syscall.Errno
}

func newMsgReader(conn *net.UnixConn) (*msgReader, error) {
	rc, err := conn.SyscallConn()
	if err != nil {
		return nil, err
	}
	r := &msgReader{rc: rc}
	r.msg.Iov = &r.iov
	r.msg.SetIovlen(1)
	r.fn = r.recv
	return r, nil
}

func (r *msgReader) recv(fd uintptr) bool {
	for {
		n, _, errno := unix.Syscall(unix.SYS_RECVMSG, fd, uintptr(unsafe.Pointer(&r.msg)), unix.MSG_CMSG_CLOEXEC)
		switch errno {
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false // nothing queued: park in the poller until the socket is readable
		}
		r.n, r.errno = int(n), errno
		r.oobn, r.flags = int(r.msg.Controllen), int(r.msg.Flags)
		return true
	}
}

// ReadMsg reads one datagram into b and its control messages into oob. truncated reports that
// the datagram was longer than b (MSG_TRUNC).
func (r *msgReader) ReadMsg(b, oob []byte) (n, oobn int, truncated bool, err error) {
	r.iov.Base = &b[0]
	r.iov.SetLen(len(b))
	if len(oob) > 0 {
		r.msg.Control = &oob[0]
	} else {
		r.msg.Control = nil
	}
	r.msg.SetControllen(len(oob))
	r.msg.Flags = 0
	if err := r.rc.Read(r.fn); err != nil {
		return 0, 0, false, err
	}
	if r.errno != 0 {
		return 0, 0, false, r.errno
	}
	return r.n, r.oobn, r.flags&unix.MSG_TRUNC != 0, nil
}
