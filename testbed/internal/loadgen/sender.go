package loadgen

import (
	"fmt"
	"net"
	"sort"
	"time"
)

// Transport names a socket type the generator sends over.
type Transport string

const (
	UDP        Transport = "udp"      // datagrams to host:port
	UnixGram   Transport = "unixgram" // datagrams to a Unix socket path
	UnixStream Transport = "unix"     // 4-byte little-endian length-prefixed frames on a Unix stream
)

// Target is where traffic goes.
type Target struct {
	Transport Transport
	Addr      string // host:port for UDP, a path for Unix sockets
}

func (t Target) String() string { return string(t.Transport) + "://" + t.Addr }

// sender writes runs of a workload's datagrams to one socket. It is used by one goroutine.
type sender interface {
	// send writes datagrams [i, j) (j > i, no wrap) and returns how many were written whole.
	send(w *Workload, i, j int, deadline time.Time) (int, error)
	close() error
}

func dial(t Target) (sender, error) {
	switch t.Transport {
	case UDP, UnixGram:
		c, err := net.Dial(string(t.Transport), t.Addr)
		if err != nil {
			return nil, fmt.Errorf("loadgen: dial %s: %w", t, err)
		}
		return &datagramSender{conn: c}, nil
	case UnixStream:
		c, err := net.Dial("unix", t.Addr)
		if err != nil {
			return nil, fmt.Errorf("loadgen: dial %s: %w", t, err)
		}
		return &streamSender{conn: c}, nil
	}
	return nil, fmt.Errorf("loadgen: unknown transport %q", t.Transport)
}

// datagramSender writes one datagram per call; a UDP write never blocks on a slow receiver (the
// kernel drops at the receiving socket), a Unix datagram write waits until the receiver has room.
type datagramSender struct {
	conn     net.Conn
	deadline time.Time
}

func (s *datagramSender) send(w *Workload, i, j int, deadline time.Time) (int, error) {
	if !deadline.Equal(s.deadline) {
		if err := s.conn.SetWriteDeadline(deadline); err != nil {
			return 0, err
		}
		s.deadline = deadline
	}
	for k := i; k < j; k++ {
		if _, err := s.conn.Write(w.Datagram(k)); err != nil {
			return k - i, err
		}
	}
	return j - i, nil
}

func (s *datagramSender) close() error { return s.conn.Close() }

// streamSender writes a run of frames with one write call, as a buffered client does.
type streamSender struct {
	conn     net.Conn
	deadline time.Time
	broken   bool
}

func (s *streamSender) send(w *Workload, i, j int, deadline time.Time) (int, error) {
	if s.broken {
		return 0, net.ErrClosed
	}
	if !deadline.Equal(s.deadline) {
		if err := s.conn.SetWriteDeadline(deadline); err != nil {
			return 0, err
		}
		s.deadline = deadline
	}
	b := w.Framed(i, j)
	n, err := s.conn.Write(b)
	if err == nil {
		return j - i, nil
	}
	// A partial write leaves a torn frame on the stream: count the whole frames and stop using
	// this connection.
	s.broken = true
	base := w.dgrams[i].framedOff
	whole := sort.Search(j-i, func(k int) bool {
		d := w.dgrams[i+k]
		return d.framedOff-base+4+d.n > n
	})
	return whole, err
}

func (s *streamSender) close() error { return s.conn.Close() }
