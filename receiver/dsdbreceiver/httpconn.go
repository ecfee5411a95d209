package dsdbreceiver

import (
	"net"
	"sync"
)

// prefixConn is a sniffed connection: reads return the bytes the sniffer already read, then
// the connection's. Close runs done once, so the receiver stops tracking it.
type prefixConn struct {
	net.Conn
	pending []byte
	once    sync.Once
	done    func()
}

func (c *prefixConn) Read(b []byte) (int, error) {
	if len(c.pending) > 0 {
		n := copy(b, c.pending)
		c.pending = c.pending[n:]
		return n, nil
	}
	return c.Conn.Read(b)
}

func (c *prefixConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.done)
	return err
}

// connListener is the HTTP server's listener: it accepts the connections the sniffer found
// to be HTTP.
type connListener struct {
	addr   net.Addr
	ch     chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func newConnListener(addr net.Addr) *connListener {
	return &connListener{addr: addr, ch: make(chan net.Conn), closed: make(chan struct{})}
}

// offer hands c to the server; false once the listener is closed.
func (l *connListener) offer(c net.Conn) bool {
	select {
	case l.ch <- c:
		return true
	case <-l.closed:
		return false
	}
}

func (l *connListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *connListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *connListener) Addr() net.Addr { return l.addr }
