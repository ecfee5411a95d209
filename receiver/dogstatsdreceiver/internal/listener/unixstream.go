package listener

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"

	"go.uber.org/zap"

	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/origin"
	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/packets"
)

// UnixStreamConfig configures the Unix stream listener.
type UnixStreamConfig struct {
	// Path of the socket file. Required. A stale socket file is removed at Start; the file is
	// removed at Stop.
	Path string
	// Permissions of the socket file (socket_permissions); 0 means DefaultSocketPermissions.
	Permissions fs.FileMode
	// MaxConnections caps connections served at once (each holds about 3 * buffer_size
	// bytes); 0 means no cap. Connections over the cap are closed at once and counted.
	MaxConnections int
	// OriginDetection sets every packet's Origin to the container id of the process that
	// connected (SO_PEERCRED at accept, Linux only).
	OriginDetection bool
	// Resolver maps pids to container ids; nil with OriginDetection means a default one.
	Resolver *origin.Resolver
	// EOLRequired drops the last line of a frame that does not end with '\n' and counts it in
	// Stats.Unterminated (the Agent's dogstatsd_eol_required "uds"). The check is made per
	// frame, before frames are packed together.
	EOLRequired bool
}

// UnixStream serves DogStatsD over a Unix stream socket: each frame is a 4-byte little-endian
// length and that many bytes of payload. A frame longer than buffer_size closes its connection
// and is counted as Oversized. Frames are packed into packets joined by '\n'.
type UnixStream struct {
	cfg   UnixStreamConfig
	stats Stats
	srv   streamServer
}

// NewUnixStream returns a Unix stream listener; nothing is bound until Start.
func NewUnixStream(cfg UnixStreamConfig, set Settings) *UnixStream {
	if cfg.OriginDetection && cfg.Resolver == nil {
		cfg.Resolver = origin.NewResolver(origin.ResolverConfig{})
	}
	l := &UnixStream{cfg: cfg}
	l.stats.Transport = packets.SourceUnixStream
	l.srv = streamServer{
		set:         set,
		stats:       &l.stats,
		maxConns:    cfg.MaxConnections,
		eolRequired: cfg.EOLRequired,
		serve:       func(c net.Conn, r *streamReader) error { return r.readFrames(c) },
	}
	if cfg.OriginDetection {
		l.srv.originOf = l.origin
	}
	return l
}

// Start binds the socket, sets its permissions and starts accepting.
func (l *UnixStream) Start() error {
	if err := l.srv.set.check(); err != nil {
		return err
	}
	if l.cfg.Path == "" {
		return errors.New("dogstatsd unix stream: the socket path is empty")
	}
	if l.cfg.OriginDetection && !origin.Supported {
		return fmt.Errorf("dogstatsd unix stream: origin detection: %w", origin.ErrUnsupported)
	}
	if err := prepareSocketPath("unix", l.cfg.Path); err != nil {
		return fmt.Errorf("dogstatsd unix stream: %w", err)
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: l.cfg.Path, Net: "unix"})
	if err != nil {
		return fmt.Errorf("dogstatsd unix stream: listen on %q: %w", l.cfg.Path, err)
	}
	if err := os.Chmod(l.cfg.Path, socketPermissions(l.cfg.Permissions)); err != nil {
		_ = ln.Close()
		removeSocket(l.cfg.Path)
		return fmt.Errorf("dogstatsd unix stream %q: %w", l.cfg.Path, err)
	}
	l.srv.start(ln)
	l.srv.set.Logger.Debug("dogstatsd unix stream listening", zap.String("path", l.cfg.Path))
	return nil
}

func (l *UnixStream) origin(c net.Conn) string {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return ""
	}
	rc, err := uc.SyscallConn()
	if err != nil {
		l.stats.OriginErrors.Add(1)
		return ""
	}
	cred, err := origin.PeerCredentials(rc)
	if err != nil {
		l.stats.OriginErrors.Add(1)
		return ""
	}
	id, err := l.cfg.Resolver.ContainerID(cred.PID)
	if err != nil {
		l.stats.OriginErrors.Add(1)
	}
	return id
}

// Stop closes the socket and every connection, waits for them, flushes the buffer and removes
// the socket file.
func (l *UnixStream) Stop() {
	started := l.srv.ln != nil
	l.srv.shutdown()
	if started {
		removeSocket(l.cfg.Path)
	}
}

// Addr returns the socket's address.
func (l *UnixStream) Addr() net.Addr {
	if l.srv.ln == nil {
		return nil
	}
	return l.srv.ln.Addr()
}

// Stats returns the listener's counters.
func (l *UnixStream) Stats() *Stats { return &l.stats }
