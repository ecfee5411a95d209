//go:build unix && !linux

package listener

import (
	"net"
	"syscall"
)

// msgReader falls back to ReadMsgUnix, which allocates the sender's address per read.
type msgReader struct{ conn *net.UnixConn }

func newMsgReader(conn *net.UnixConn) (*msgReader, error) { return &msgReader{conn: conn}, nil }

// ReadMsg reads one datagram into b and its control messages into oob.
func (r *msgReader) ReadMsg(b, oob []byte) (n, oobn int, truncated bool, err error) {
	n, oobn, flags, _, err := r.conn.ReadMsgUnix(b, oob)
	return n, oobn, flags&syscall.MSG_TRUNC != 0, err
}
