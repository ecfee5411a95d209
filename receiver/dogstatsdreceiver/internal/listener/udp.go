package listener

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/packets"
)

// DefaultEndpoint is where the UDP and TCP listeners bind when no endpoint is configured:
// localhost only, the DogStatsD port.
const DefaultEndpoint = "localhost:8125"

// UDPConfig configures the UDP listener.
type UDPConfig struct {
	// Endpoint is host:port to bind; "" means DefaultEndpoint, port 0 picks a free port.
	Endpoint string
	// SoRcvbuf is the socket receive buffer in bytes (so_rcvbuf); 0 keeps the system default.
	// It is what absorbs bursts while the reader is busy: the kernel drops datagrams when it
	// is full.
	SoRcvbuf int
	// Readers is the number of goroutines reading the socket, each with its own assembler;
	// <= 0 means 1.
	Readers int
	// EOLRequired drops the last line of a datagram that does not end with '\n' and counts it
	// in Stats.Unterminated (the Agent's dogstatsd_eol_required "udp"). The check is made per
	// datagram, before the assembler packs datagrams together.
	EOLRequired bool
}

// UDP reads datagrams, packs them with one packets.Assembler per reader and batches the
// packets with one packets.Buffer.
type UDP struct {
	cfg   UDPConfig
	set   Settings
	stats Stats

	conn     *net.UDPConn
	inode    atomic.Uint64 // read by Stats, which may run before Start
	draining atomic.Bool   // Stop is reading what the socket still holds
	buffer   *packets.Buffer
	wg       sync.WaitGroup
	stop     sync.Once

	procMu   sync.Mutex
	procRead time.Time
}

// NewUDP returns a UDP listener; nothing is bound until Start.
func NewUDP(cfg UDPConfig, set Settings) *UDP {
	if cfg.Endpoint == "" {
		cfg.Endpoint = DefaultEndpoint
	}
	if cfg.Readers <= 0 {
		cfg.Readers = 1
	}
	l := &UDP{cfg: cfg, set: set}
	l.stats.Transport = packets.SourceUDP
	return l
}

// Start binds the socket and starts the readers.
func (l *UDP) Start() error {
	if err := l.set.check(); err != nil {
		return err
	}
	pc, err := (&net.ListenConfig{}).ListenPacket(context.Background(), "udp", l.cfg.Endpoint)
	if err != nil {
		return fmt.Errorf("dogstatsd udp: listen on %q: %w", l.cfg.Endpoint, err)
	}
	conn := pc.(*net.UDPConn)
	if err := l.setup(conn); err != nil {
		_ = conn.Close()
		return err
	}
	readers := make([]*datagramReader, l.cfg.Readers)
	for i := range readers {
		if readers[i], err = newDatagramReader(conn, udpOOBSize); err != nil {
			_ = conn.Close()
			return fmt.Errorf("dogstatsd udp: %w", err)
		}
	}
	l.conn = conn
	l.buffer = packets.NewBuffer(l.set.Buffer, l.set.Out, l.set.Pool, &l.stats.Buffer)
	for _, r := range readers {
		asm := packets.NewAssembler(l.set.Buffer.FlushTimeout, l.set.Pool, l.buffer, packets.SourceUDP, &l.stats.Assembler)
		l.wg.Go(func() { l.read(asm, r) })
	}
	l.set.Logger.Debug("dogstatsd udp listening", zap.Stringer("addr", conn.LocalAddr()))
	return nil
}

func (l *UDP) setup(conn *net.UDPConn) error {
	rc, err := conn.SyscallConn()
	if err != nil {
		return err
	}
	if l.cfg.SoRcvbuf > 0 {
		if err := conn.SetReadBuffer(l.cfg.SoRcvbuf); err != nil {
			return fmt.Errorf("dogstatsd udp: so_rcvbuf %d: %w", l.cfg.SoRcvbuf, err)
		}
	}
	got, err := tuneRcvbuf(rc, l.cfg.SoRcvbuf)
	if err != nil {
		return fmt.Errorf("dogstatsd udp: so_rcvbuf %d: %w", l.cfg.SoRcvbuf, err)
	}
	l.stats.ReceiveBuffer.Store(int64(got))
	if got > 0 && got < l.cfg.SoRcvbuf {
		l.set.Logger.Warn("dogstatsd udp: the kernel capped so_rcvbuf; raise net.core.rmem_max",
			zap.Int("requested", l.cfg.SoRcvbuf), zap.Int("effective", got))
	}
	if err := enableDropCounter(rc); err != nil {
		l.set.Logger.Debug("dogstatsd udp: no kernel drop counter", zap.Error(err))
	}
	l.inode.Store(socketInode(rc))
	return nil
}

// read is one reader goroutine. Each slot of its batch reader is one byte longer than a
// packet so the assembler can tell an oversized datagram from one that fits exactly.
func (l *UDP) read(asm *packets.Assembler, r *datagramReader) {
	defer asm.Close()
	size := l.set.Pool.BufferSize()
	slab := make([]byte, r.Slots()*(size+1))
	for i := range r.Slots() {
		r.SetSlot(i, slab[i*(size+1):(i+1)*(size+1)])
	}
	errs := 0
	for {
		if l.draining.Load() {
			// Stopping: read on while datagrams are queued, and end once none has come for
			// drainIdle. The deadline is set before each read, so a slow batch cannot end the
			// drain early.
			_ = l.conn.SetReadDeadline(time.Now().Add(drainIdle))
		}
		n, err := r.Read()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || (l.draining.Load() && errors.Is(err, os.ErrDeadlineExceeded)) {
				return
			}
			l.stats.ReadErrors.Add(1)
			errs = backoff(errs, err, l.set.Logger)
			continue
		}
		errs = 0
		var nbytes, oversized, unterminated uint64
		for i := range n {
			d, oob, _ := r.Datagram(i)
			nbytes += uint64(len(d))
			if len(oob) > 0 {
				if drops, ok := dropsFromOOB(oob); ok {
					raiseTo(&l.stats.KernelDrops, drops)
				}
			}
			if len(d) > size {
				oversized++ // its cut last line is dropped by the assembler
			} else if l.cfg.EOLRequired {
				var cut bool
				if d, cut = packets.DropUnterminated(d); cut {
					unterminated++
				}
			}
			asm.Add(d)
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

// backoff logs a read error and, after a run of them, sleeps briefly so a persistent error
// does not spin a core. It returns the new run length.
func backoff(run int, err error, log *zap.Logger) int {
	run++
	log.Debug("dogstatsd: read error", zap.Error(err))
	if run >= 100 {
		time.Sleep(10 * time.Millisecond)
	}
	return run
}

// Stop stops taking datagrams, reads those the socket already holds, then closes it and
// flushes the readers' assemblers and the buffer into the queue, waiting for room there.
//
// On Unix the socket is first connected to its own address: the kernel then refuses new
// datagrams (senders on connected sockets get "connection refused") but keeps those queued,
// which the readers read until none has come for drainIdle (at most maxDrain in all). So
// nothing the kernel accepted before the stop is lost, and what it refuses is visible to the
// sender. Where the socket cannot be sealed, the drain reads until the socket is idle.
func (l *UDP) Stop() {
	if l.conn == nil {
		return // never started: nothing to stop, and a later Start still works
	}
	l.stop.Do(func() {
		l.buffer.Drain()
		if err := sealUDP(l.conn); err != nil {
			l.set.Logger.Debug("dogstatsd udp: cannot refuse new datagrams while draining", zap.Error(err))
		}
		l.draining.Store(true)
		_ = l.conn.SetReadDeadline(time.Now().Add(drainIdle))
		done := make(chan struct{})
		go func() { l.wg.Wait(); close(done) }() // each reader closes its assembler on return
		select {
		case <-done:
		case <-time.After(maxDrain):
			l.set.Logger.Warn("dogstatsd udp: still reading queued datagrams after the drain limit; closing the socket", zap.Duration("limit", maxDrain))
		}
		l.refreshDrops(true)
		_ = l.conn.Close()
		<-done
		l.buffer.Close()
	})
}

// drainIdle is how long a stopping datagram listener waits for one more queued datagram;
// maxDrain bounds the whole drain.
const (
	drainIdle = 50 * time.Millisecond
	maxDrain  = 5 * time.Second
)

// Addr returns the bound address.
func (l *UDP) Addr() net.Addr {
	if l.conn == nil {
		return nil
	}
	return l.conn.LocalAddr()
}

// Stats returns the listener's counters; on Linux it first refreshes KernelDrops from
// /proc/net/udp (at most once a second), which sees drops no later datagram reported.
func (l *UDP) Stats() *Stats {
	l.refreshDrops(false)
	return &l.stats
}

func (l *UDP) refreshDrops(force bool) {
	inode := l.inode.Load()
	if inode == 0 {
		return
	}
	l.procMu.Lock()
	defer l.procMu.Unlock()
	if now := time.Now(); force || now.Sub(l.procRead) >= time.Second {
		l.procRead = now
		if d, ok := procUDPDrops(inode); ok {
			raiseTo(&l.stats.KernelDrops, d)
		}
	}
}
