package packets

import (
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of the Buffer, the seed's values.
const (
	// DefaultPacketBufferSize is packets per batch: 32 lets a worker parse a run of packets
	// per channel receive instead of paying the channel cost per packet.
	DefaultPacketBufferSize = 32
	// DefaultFlushTimeout bounds how long a packet waits in a partly filled assembler or
	// buffer when traffic is light.
	DefaultFlushTimeout = 100 * time.Millisecond
	// DefaultQueueSize is the number of batches the worker queue holds:
	// 1024 * 32 * 8192 bytes = 256 MiB worst case, the seed's bound.
	DefaultQueueSize = 1024
)

// BufferConfig configures a Buffer.
type BufferConfig struct {
	// Size is the number of packets per batch (packet_buffer_size); <= 0 means 32.
	Size int
	// FlushTimeout sends a partial batch this long after the last timer tick
	// (packet_buffer_flush_timeout); <= 0 means 100 ms.
	FlushTimeout time.Duration
	// BlockWhenFull makes a flush wait for room in the queue instead of dropping the batch.
	// The consumer of the queue must then keep receiving until every Buffer is closed.
	BlockWhenFull bool
}

// BufferStats counts what Buffers did; several buffers may share one.
type BufferStats struct {
	// FlushesBySize counts batches flushed because they reached Size packets.
	FlushesBySize atomic.Uint64
	// FlushesByTimer counts partial batches flushed by the flush timer.
	FlushesByTimer atomic.Uint64
	// FlushesOnClose counts partial batches flushed by Close.
	FlushesOnClose atomic.Uint64
	// BatchesSent and PacketsSent count what reached the queue.
	BatchesSent atomic.Uint64
	PacketsSent atomic.Uint64
	// BatchesDropped and PacketsDropped count what was dropped because the queue was full.
	BatchesDropped atomic.Uint64
	PacketsDropped atomic.Uint64
	// BlockedSends counts sends that found the queue full and waited (BlockWhenFull only).
	BlockedSends atomic.Uint64
}

// Sink takes ownership of packets. Buffer is the Sink of assemblers and listeners.
type Sink interface {
	Append(p *Packet)
}

// Buffer collects packets and sends them as one Packets batch on a bounded channel when it
// holds Size packets or when its flush timer fires. It is safe for concurrent use by several
// producers; it owns the packets it holds and hands them to whoever receives the batch. When
// the channel is full a batch is dropped (its packets go back to the pool) and counted, unless
// BlockWhenFull is set.
type Buffer struct {
	cfg   BufferConfig
	out   chan<- Packets
	pool  *Pool
	stats *BufferStats

	mu      sync.Mutex
	packets Packets
	closed  bool

	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// NewBuffer starts a buffer sending to out. Dropped packets are given back to pool. stats may
// be shared between buffers; nil gives the buffer its own.
func NewBuffer(cfg BufferConfig, out chan<- Packets, pool *Pool, stats *BufferStats) *Buffer {
	if cfg.Size <= 0 {
		cfg.Size = DefaultPacketBufferSize
	}
	if cfg.FlushTimeout <= 0 {
		cfg.FlushTimeout = DefaultFlushTimeout
	}
	if stats == nil {
		stats = new(BufferStats)
	}
	b := &Buffer{
		cfg:     cfg,
		out:     out,
		pool:    pool,
		stats:   stats,
		packets: make(Packets, 0, cfg.Size),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	go b.flushLoop()
	return b
}

// Stats returns the buffer's live counters.
func (b *Buffer) Stats() *BufferStats { return b.stats }

func (b *Buffer) flushLoop() {
	defer close(b.done)
	t := time.NewTicker(b.cfg.FlushTimeout)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			b.mu.Lock()
			if len(b.packets) > 0 {
				b.stats.FlushesByTimer.Add(1)
				b.flushLocked()
			}
			b.mu.Unlock()
		case <-b.stop:
			return
		}
	}
}

// Append takes ownership of p and sends the batch if it is now full. After Close, p is given
// back to the pool and counted as dropped.
func (b *Buffer) Append(p *Packet) {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		b.stats.PacketsDropped.Add(1)
		b.pool.Put(p)
		return
	}
	b.packets = append(b.packets, p)
	if len(b.packets) >= b.cfg.Size {
		b.stats.FlushesBySize.Add(1)
		b.flushLocked()
	}
	b.mu.Unlock()
}

// flushLocked sends the held packets. The caller holds b.mu and has checked there are some.
func (b *Buffer) flushLocked() {
	batch := b.packets
	select {
	case b.out <- batch:
	default:
		if !b.cfg.BlockWhenFull {
			b.stats.BatchesDropped.Add(1)
			b.stats.PacketsDropped.Add(uint64(len(batch)))
			b.pool.PutAll(batch)
			b.packets = batch[:0] // nobody else saw the slice: reuse it
			return
		}
		b.stats.BlockedSends.Add(1)
		b.out <- batch
	}
	b.stats.BatchesSent.Add(1)
	b.stats.PacketsSent.Add(uint64(len(batch)))
	// The receiver owns batch now, so the next one needs its own array.
	b.packets = make(Packets, 0, b.cfg.Size)
}

// Drain makes every later flush wait for room in the queue, whatever BlockWhenFull says. A
// listener calls it when it stops: the workers keep emptying the queue until every listener
// is done, so what was read before the stop is handed on, never dropped for want of room.
func (b *Buffer) Drain() {
	b.mu.Lock()
	b.cfg.BlockWhenFull = true
	b.mu.Unlock()
}

// Close stops the flush timer and flushes what the buffer holds. It is idempotent. With
// BlockWhenFull (or after Drain) it waits until the queue has room for the last batch.
func (b *Buffer) Close() {
	b.once.Do(func() {
		close(b.stop)
		<-b.done
		b.mu.Lock()
		defer b.mu.Unlock()
		if len(b.packets) > 0 {
			b.stats.FlushesOnClose.Add(1)
			b.flushLocked()
		}
		b.closed = true
	})
}
