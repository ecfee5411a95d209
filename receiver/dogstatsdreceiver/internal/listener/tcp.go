package listener

import (
	"context"
	"fmt"
	"net"

	"go.uber.org/zap"

	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/packets"
)

// TCPConfig configures the TCP listener.
type TCPConfig struct {
	// Endpoint is host:port to bind; "" means DefaultEndpoint, port 0 picks a free port.
	Endpoint string
	// MaxConnections caps connections served at once (each holds about 3 * buffer_size
	// bytes); 0 means no cap. Connections over the cap are closed at once and counted.
	MaxConnections int
	// EOLRequired drops a last line without '\n' when a client closes its connection and
	// counts it in Stats.Unterminated. Without it that line is delivered on a clean close (a
	// reset or read error drops it either way).
	EOLRequired bool
}

// TCP serves DogStatsD lines separated by '\n' over TCP, packed into packets of up to
// buffer_size. A line longer than buffer_size is dropped and counted as Oversized; the
// connection is kept and reading resumes after the line's '\n'. A last line without '\n' is
// delivered when the client closes the connection cleanly, unless EOLRequired is set.
type TCP struct {
	cfg   TCPConfig
	stats Stats
	srv   streamServer
}

// NewTCP returns a TCP listener; nothing is bound until Start.
func NewTCP(cfg TCPConfig, set Settings) *TCP {
	if cfg.Endpoint == "" {
		cfg.Endpoint = DefaultEndpoint
	}
	l := &TCP{cfg: cfg}
	l.stats.Transport = packets.SourceTCP
	l.srv = streamServer{
		set:         set,
		stats:       &l.stats,
		maxConns:    cfg.MaxConnections,
		eolRequired: cfg.EOLRequired,
		serve:       func(c net.Conn, r *streamReader) error { return r.readLines(c) },
	}
	return l
}

// Start binds the socket and starts accepting.
func (l *TCP) Start() error {
	if err := l.srv.set.check(); err != nil {
		return err
	}
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", l.cfg.Endpoint)
	if err != nil {
		return fmt.Errorf("dogstatsd tcp: listen on %q: %w", l.cfg.Endpoint, err)
	}
	l.srv.start(ln)
	l.srv.set.Logger.Debug("dogstatsd tcp listening", zap.Stringer("addr", ln.Addr()))
	return nil
}

// Stop closes the socket and every connection, waits for them and flushes the buffer.
func (l *TCP) Stop() { l.srv.shutdown() }

// Addr returns the bound address.
func (l *TCP) Addr() net.Addr {
	if l.srv.ln == nil {
		return nil
	}
	return l.srv.ln.Addr()
}

// Stats returns the listener's counters.
func (l *TCP) Stats() *Stats { return &l.stats }
