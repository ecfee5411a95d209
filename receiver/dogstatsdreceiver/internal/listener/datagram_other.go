//go:build !linux

package listener

import (
	"errors"
	"net"
	"syscall"
)

// datagramReader reads one datagram per call here (recvmmsg is Linux only). Reading a Unix
// socket allocates the sender's address each time.
type datagramReader struct {
	conn      syscall.Conn
	buf, oob  []byte
	n, oobn   int
	truncated bool
}

func newDatagramReader(c syscall.Conn, oobSize int) (*datagramReader, error) {
	switch c.(type) {
	case *net.UDPConn, *net.UnixConn:
	default:
		return nil, errors.New("listener: datagram reader needs a UDP or Unix connection")
	}
	return &datagramReader{conn: c, oob: make([]byte, oobSize)}, nil
}

// Slots is the number of datagrams one Read can return.
func (r *datagramReader) Slots() int { return 1 }

// SetSlot makes the slot receive into b.
func (r *datagramReader) SetSlot(_ int, b []byte) { r.buf = b }

// Read waits for one datagram.
func (r *datagramReader) Read() (int, error) {
	var flags int
	var err error
	switch c := r.conn.(type) {
	case *net.UDPConn:
		r.n, r.oobn, flags, _, err = c.ReadMsgUDPAddrPort(r.buf, r.oob)
	case *net.UnixConn:
		r.n, r.oobn, flags, _, err = c.ReadMsgUnix(r.buf, r.oob)
	}
	if err != nil {
		return 0, err
	}
	r.truncated = msgTrunc != 0 && flags&msgTrunc != 0
	return 1, nil
}

// Datagram returns what the last Read received.
func (r *datagramReader) Datagram(int) (data, oob []byte, truncated bool) {
	return r.buf[:r.n], r.oob[:r.oobn], r.truncated
}
