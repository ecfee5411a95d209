//go:build linux

package listener

import (
	"net"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// batchSender writes up to 32 datagrams per sendmmsg(2) call on a connected socket, so a
// benchmark's sender costs less than the listener it measures.
type batchSender struct {
	rc   syscall.RawConn
	hs   []mmsghdr
	iovs []unix.Iovec
	n    int
	err  syscall.Errno
	sent int
	fn   func(fd uintptr) bool
}

func newBatchSender(c net.Conn) (*batchSender, error) {
	rc, err := c.(syscall.Conn).SyscallConn()
	if err != nil {
		return nil, err
	}
	s := &batchSender{rc: rc, hs: make([]mmsghdr, readBatch), iovs: make([]unix.Iovec, readBatch)}
	for i := range s.hs {
		s.hs[i].hdr.Iov = &s.iovs[i]
		s.hs[i].hdr.SetIovlen(1)
	}
	s.fn = func(fd uintptr) bool {
		r, _, e := unix.Syscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&s.hs[s.sent])), uintptr(s.n-s.sent), 0, 0, 0)
		if e == unix.EAGAIN {
			return false
		}
		if e == 0 {
			s.sent += int(r)
			return s.sent == s.n
		}
		s.err = e
		return true
	}
	return s, nil
}

// Send writes all of msgs (at most 32).
func (s *batchSender) Send(msgs [][]byte) error {
	for i, m := range msgs {
		s.iovs[i].Base = &m[0]
		s.iovs[i].SetLen(len(m))
	}
	s.n, s.sent, s.err = len(msgs), 0, 0
	if err := s.rc.Write(s.fn); err != nil {
		return err
	}
	if s.err != 0 {
		return s.err
	}
	return nil
}
