//go:build windows

package listener

import "net"

// msgReader falls back to ReadMsgUnix; Windows reports no truncation flag.
type msgReader struct{ conn *net.UnixConn }

func newMsgReader(conn *net.UnixConn) (*msgReader, error) { return &msgReader{conn: conn}, nil }

// ReadMsg reads one datagram into b and its control messages into oob.
func (r *msgReader) ReadMsg(b, oob []byte) (n, oobn int, truncated bool, err error) {
	n, oobn, _, _, err = r.conn.ReadMsgUnix(b, oob)
	return n, oobn, false, err
}
