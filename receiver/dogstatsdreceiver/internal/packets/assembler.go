package packets

import (
	"sync"
	"sync/atomic"
	"time"
)

// AssemblerStats counts what Assemblers did; several assemblers may share one.
type AssemblerStats struct {
	// FlushesBySize counts packets sent because the next datagram would not fit.
	FlushesBySize atomic.Uint64
	// FlushesByTimer counts partly filled packets sent by the flush timer.
	FlushesByTimer atomic.Uint64
	// FlushesOnClose counts partly filled packets sent by Close.
	FlushesOnClose atomic.Uint64
	// Truncated counts datagrams longer than the buffer size; only their whole lines that fit
	// were kept.
	Truncated atomic.Uint64
	// TruncatedBytes counts bytes discarded from those datagrams (at least: the kernel may
	// already have cut more).
	TruncatedBytes atomic.Uint64
}

// Assembler packs many small datagrams, joined by '\n', into one pooled packet of up to the
// pool's buffer size, so the workers parse full packets instead of one line each. It sends the
// packet to its Sink when the next datagram would not fit and on its flush timer. It copies the
// datagram, so the caller may reuse its read buffer as soon as Add returns. It is safe for
// concurrent use (the flush timer runs in its own goroutine), but one reader per assembler
// avoids lock contention.
//
// A datagram longer than the buffer size cannot be packed whole. The assembler keeps its
// longest prefix of whole lines that fits, sends that, and counts the datagram as Truncated; a
// cut line is never delivered because it would parse as a different, wrong value. A reader
// that wants truncation detected passes up to bufferSize+1 bytes of the datagram.
//
// The assembler joins datagrams with '\n', so once packed a datagram whose last line had no
// '\n' cannot be told from one that had: a reader enforcing eol_required checks each datagram
// with DropUnterminated before Add.
type Assembler struct {
	pool   *Pool
	out    Sink
	source Source
	stats  *AssemblerStats

	mu     sync.Mutex
	pk     *Packet
	n      int
	closed bool

	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// NewAssembler starts an assembler whose packets carry source. flushTimeout <= 0 means
// DefaultFlushTimeout. stats may be shared; nil gives the assembler its own.
func NewAssembler(flushTimeout time.Duration, pool *Pool, out Sink, source Source, stats *AssemblerStats) *Assembler {
	if flushTimeout <= 0 {
		flushTimeout = DefaultFlushTimeout
	}
	if stats == nil {
		stats = new(AssemblerStats)
	}
	a := &Assembler{
		pool:   pool,
		out:    out,
		source: source,
		stats:  stats,
		pk:     pool.Get(),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	go a.flushLoop(flushTimeout)
	return a
}

// Stats returns the assembler's live counters.
func (a *Assembler) Stats() *AssemblerStats { return a.stats }

func (a *Assembler) flushLoop(d time.Duration) {
	defer close(a.done)
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			a.mu.Lock()
			if a.n > 0 {
				a.stats.FlushesByTimer.Add(1)
				a.flushLocked()
			}
			a.mu.Unlock()
		case <-a.stop:
			return
		}
	}
}

// Add copies one datagram into the packet being assembled. Empty datagrams are ignored, and a
// trailing '\n' is dropped since the assembler adds its own separators. Add must not be
// called after Close.
func (a *Assembler) Add(datagram []byte) {
	size := a.pool.size
	if len(datagram) > size {
		kept := CompleteLines(datagram[:size+1])
		a.stats.Truncated.Add(1)
		a.stats.TruncatedBytes.Add(uint64(len(datagram) - len(kept)))
		datagram = kept
	}
	if n := len(datagram); n > 0 && datagram[n-1] == '\n' {
		datagram = datagram[:n-1]
	}
	if len(datagram) == 0 {
		return
	}
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return
	}
	if a.n > 0 && a.n+1+len(datagram) > size {
		a.stats.FlushesBySize.Add(1)
		a.flushLocked()
	}
	buf := a.pk.buf
	if a.n > 0 {
		buf[a.n] = '\n'
		a.n++
	}
	a.n += copy(buf[a.n:], datagram)
	a.mu.Unlock()
}

// flushLocked hands the current packet to the sink and takes a fresh one. The caller holds
// a.mu and has checked a.n > 0.
func (a *Assembler) flushLocked() {
	a.pk.Contents = a.pk.buf[:a.n]
	a.pk.Source = a.source
	a.out.Append(a.pk)
	a.pk = a.pool.Get()
	a.n = 0
}

// Close stops the flush timer and sends what the assembler holds. It is idempotent.
func (a *Assembler) Close() {
	a.once.Do(func() {
		close(a.stop)
		<-a.done
		a.mu.Lock()
		defer a.mu.Unlock()
		if a.n > 0 {
			a.stats.FlushesOnClose.Add(1)
			a.flushLocked()
		}
		a.pool.Put(a.pk)
		a.pk = nil
		a.closed = true
	})
}
