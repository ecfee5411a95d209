package listener

import (
	"errors"
	"io"
	"net"
	"sync"

	"go.uber.org/zap"

	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/packets"
)

// streamServer accepts connections and serves each in its own goroutine with a streamReader;
// all connections share one packets.Buffer. It is the common part of UnixStream and TCP.
type streamServer struct {
	set      Settings
	stats    *Stats
	maxConns int
	// eolRequired is the transport's EOLRequired, handed to each connection's reader.
	eolRequired bool
	// serve reads one connection into packets (frames or lines) and returns why it ended.
	serve func(c net.Conn, r *streamReader) error
	// originOf returns the origin of a new connection's packets ("" without origin detection).
	originOf func(c net.Conn) string

	ln     net.Listener
	buffer *packets.Buffer

	accepting sync.WaitGroup
	serving   sync.WaitGroup
	mu        sync.Mutex
	conns     map[net.Conn]struct{}
	stop      sync.Once
}

func (s *streamServer) start(ln net.Listener) {
	s.ln = ln
	s.conns = make(map[net.Conn]struct{})
	s.buffer = packets.NewBuffer(s.set.Buffer, s.set.Out, s.set.Pool, &s.stats.Buffer)
	s.accepting.Go(s.acceptLoop)
}

func (s *streamServer) acceptLoop() {
	errs := 0
	for {
		c, err := s.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			s.stats.ReadErrors.Add(1) // e.g. out of file descriptors: wait, do not spin
			errs = backoff(errs, err, s.set.Logger)
			continue
		}
		errs = 0
		s.mu.Lock()
		if s.maxConns > 0 && len(s.conns) >= s.maxConns {
			s.mu.Unlock()
			s.stats.RejectedConnections.Add(1)
			_ = c.Close()
			continue
		}
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.stats.Connections.Add(1)
		s.stats.OpenConnections.Add(1)
		s.serving.Go(func() { s.handle(c) })
	}
}

func (s *streamServer) handle(c net.Conn) {
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		_ = c.Close()
		s.stats.OpenConnections.Add(-1)
	}()
	origin := ""
	if s.originOf != nil {
		origin = s.originOf(c)
	}
	r := newStreamReader(s.set.Pool, s.buffer, s.stats.Transport, origin, s.stats)
	r.eolRequired = s.eolRequired
	err := s.serve(c, r)
	switch {
	case err == nil, errors.Is(err, net.ErrClosed):
	case errors.Is(err, errFrameTooLarge):
		s.set.Logger.Debug("dogstatsd: closing a connection that sent an oversized frame",
			zap.Stringer("transport", s.stats.Transport))
	case errors.Is(err, io.ErrUnexpectedEOF):
		s.stats.ReadErrors.Add(1)
	default:
		s.stats.ReadErrors.Add(1)
		s.set.Logger.Debug("dogstatsd: connection read error", zap.Error(err))
	}
}

// shutdown stops accepting, closes every connection, waits for their goroutines (each hands
// over what it read) and flushes the buffer.
func (s *streamServer) shutdown() {
	if s.ln == nil {
		return // never started: nothing to stop, and a later Start still works
	}
	s.stop.Do(func() {
		s.buffer.Drain() // what the connections read is queued, waiting for room if need be
		_ = s.ln.Close()
		s.accepting.Wait() // no connection is added after this
		s.mu.Lock()
		for c := range s.conns {
			_ = c.Close()
		}
		s.mu.Unlock()
		s.serving.Wait()
		s.buffer.Close()
	})
}
