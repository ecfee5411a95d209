package listener

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"sync"

	"go.uber.org/zap"

	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/origin"
	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/packets"
)

// UnixDatagramConfig configures the Unix datagram listener.
type UnixDatagramConfig struct {
	// Path of the socket file. Required. A stale socket file is removed at Start; the file is
	// removed at Stop.
	Path string
	// Permissions of the socket file (socket_permissions); 0 means DefaultSocketPermissions.
	Permissions fs.FileMode
	// SoRcvbuf is the socket receive buffer in bytes; 0 keeps the system default. A full Unix
	// datagram socket makes senders block or fail instead of dropping silently.
	SoRcvbuf int
	// OriginDetection reads each sender's pid (SO_PASSCRED, Linux only) and sets the packet's
	// Origin to its container id.
	OriginDetection bool
	// Resolver maps pids to container ids; nil with OriginDetection means a default one.
	Resolver *origin.Resolver
	// EOLRequired drops the last line of a datagram that does not end with '\n' and counts it
	// in Stats.Unterminated (the Agent's dogstatsd_eol_required "uds").
	EOLRequired bool
}

// UnixDatagram reads one datagram into one pooled packet (no assembler: each packet carries its
// own sender's origin) and batches them with a packets.Buffer.
type UnixDatagram struct {
	cfg   UnixDatagramConfig
	set   Settings
	stats Stats

	conn   *net.UnixConn
	buffer *packets.Buffer
	wg     sync.WaitGroup
	stop   sync.Once
}

// NewUnixDatagram returns a Unix datagram listener; nothing is bound until Start.
func NewUnixDatagram(cfg UnixDatagramConfig, set Settings) *UnixDatagram {
	if cfg.OriginDetection && cfg.Resolver == nil {
		cfg.Resolver = origin.NewResolver(origin.ResolverConfig{})
	}
	l := &UnixDatagram{cfg: cfg, set: set}
	l.stats.Transport = packets.SourceUnixDatagram
	return l
}

// Start binds the socket, sets its permissions and starts the reader.
func (l *UnixDatagram) Start() error {
	if err := l.set.check(); err != nil {
		return err
	}
	if l.cfg.Path == "" {
		return errors.New("dogstatsd unixgram: the socket path is empty")
	}
	if err := prepareSocketPath("unixgram", l.cfg.Path); err != nil {
		return fmt.Errorf("dogstatsd unixgram: %w", err)
	}
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: l.cfg.Path, Net: "unixgram"})
	if err != nil {
		return fmt.Errorf("dogstatsd unixgram: listen on %q: %w", l.cfg.Path, err)
	}
	fail := func(err error) error {
		_ = conn.Close()
		removeSocket(l.cfg.Path)
		return fmt.Errorf("dogstatsd unixgram %q: %w", l.cfg.Path, err)
	}
	if err := os.Chmod(l.cfg.Path, socketPermissions(l.cfg.Permissions)); err != nil {
		return fail(err)
	}
	rc, err := conn.SyscallConn()
	if err != nil {
		return fail(err)
	}
	if l.cfg.SoRcvbuf > 0 {
		if err := conn.SetReadBuffer(l.cfg.SoRcvbuf); err != nil {
			return fail(err)
		}
	}
	got, _ := tuneRcvbuf(rc, l.cfg.SoRcvbuf)
	l.stats.ReceiveBuffer.Store(int64(got))
	if l.cfg.OriginDetection {
		if err := origin.EnablePassCred(rc); err != nil {
			return fail(fmt.Errorf("origin detection: %w", err))
		}
	}
	oobSize := 0
	if l.cfg.OriginDetection {
		oobSize = origin.OOBSize
	}
	r, err := newDatagramReader(conn, oobSize)
	if err != nil {
		return fail(err)
	}
	l.conn = conn
	l.buffer = packets.NewBuffer(l.set.Buffer, l.set.Out, l.set.Pool, &l.stats.Buffer)
	l.wg.Go(func() { l.read(r) })
	l.set.Logger.Debug("dogstatsd unixgram listening", zap.String("path", l.cfg.Path),
		zap.Bool("origin_detection", l.cfg.OriginDetection))
	return nil
}

// read fills one pooled packet per datagram: each slot of the batch reader receives straight
// into a packet's buffer, and a slot gets a fresh packet only once its packet was handed to the
// buffer, so errors and empty datagrams reuse it.
func (l *UnixDatagram) read(r *datagramReader) {
	pks := make([]*packets.Packet, r.Slots())
	for i := range pks {
		pks[i] = l.set.Pool.Get()
		r.SetSlot(i, pks[i].Buffer())
	}
	defer func() {
		for _, pk := range pks {
			l.set.Pool.Put(pk)
		}
	}()
	errs := 0
	for {
		n, err := r.Read()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			l.stats.ReadErrors.Add(1)
			errs = backoff(errs, err, l.set.Logger)
			continue
		}
		errs = 0
		var nbytes, oversized, unterminated uint64
		for i := range n {
			contents, oob, truncated := r.Datagram(i)
			nbytes += uint64(len(contents))
			if truncated {
				// The kernel cut the datagram at buffer_size: keep its whole lines only.
				oversized++
				contents = packets.CompleteLines(contents)
			} else if l.cfg.EOLRequired {
				var cut bool
				if contents, cut = packets.DropUnterminated(contents); cut {
					unterminated++
				}
			}
			if len(contents) == 0 {
				continue
			}
			pk := pks[i]
			pk.Contents = contents
			pk.Source = packets.SourceUnixDatagram
			if l.cfg.OriginDetection {
				pk.Origin = l.origin(oob)
			}
			l.buffer.Append(pk)
			pks[i] = l.set.Pool.Get()
			r.SetSlot(i, pks[i].Buffer())
		}
		l.stats.Packets.Add(uint64(n))
		l.stats.Bytes.Add(nbytes)
		if oversized > 0 {
			l.stats.Oversized.Add(oversized)
		}
		if unterminated > 0 {
			l.stats.Unterminated.Add(unterminated)
		}
	}
}

func (l *UnixDatagram) origin(oob []byte) string {
	cred, ok := origin.ParseCredentials(oob)
	if !ok {
		l.stats.OriginErrors.Add(1)
		return ""
	}
	id, err := l.cfg.Resolver.ContainerID(cred.PID)
	if err != nil {
		l.stats.OriginErrors.Add(1)
	}
	return id
}

// Stop closes the socket, waits for the reader, flushes the buffer and removes the socket file.
func (l *UnixDatagram) Stop() {
	if l.conn == nil {
		return // never started: nothing to stop, and a later Start still works
	}
	l.stop.Do(func() {
		l.buffer.Drain() // what was read is queued, waiting for room if need be
		_ = l.conn.Close()
		l.wg.Wait()
		l.buffer.Close()
		removeSocket(l.cfg.Path)
	})
}

// Addr returns the socket's address.
func (l *UnixDatagram) Addr() net.Addr {
	if l.conn == nil {
		return nil
	}
	return l.conn.LocalAddr()
}

// Stats returns the listener's counters.
func (l *UnixDatagram) Stats() *Stats { return &l.stats }
