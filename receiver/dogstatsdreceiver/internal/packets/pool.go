package packets

import (
	"sync"
	"sync/atomic"
)

// DefaultBufferSize is the default size of one packet: 8192 bytes holds the largest datagram
// the DogStatsD clients send by default (8 KiB for UDS) and fits many 1432-byte UDP datagrams.
const DefaultBufferSize = 8192

// PoolStats counts what a Pool did. Gets - Puts is the number of packets in flight.
type PoolStats struct {
	// Allocations counts packets allocated because the pool had none to hand out.
	Allocations atomic.Uint64
	// Gets counts packets handed out.
	Gets atomic.Uint64
	// Puts counts packets given back.
	Puts atomic.Uint64
	// Foreign counts packets given back that the pool did not make (wrong size) and dropped.
	Foreign atomic.Uint64
}

// Pool hands out packets whose backing array is exactly BufferSize bytes. It is never empty:
// when no packet is free it allocates one. It is safe for concurrent use.
//
// Aliasing: after Put(p) the pool may hand p to another goroutine at once, which overwrites
// its bytes. So after Put nothing may read p.Contents, p.Buffer() or any slice taken from them,
// and a string that shares those bytes (made with unsafe.String or similar zero-copy tricks)
// silently changes. Copy or intern every string you keep before giving the packet back, and
// never Put the same packet twice.
type Pool struct {
	size  int
	pool  sync.Pool
	stats PoolStats
}

// NewPool returns a pool of packets of bufferSize bytes (DefaultBufferSize when <= 0).
func NewPool(bufferSize int) *Pool {
	if bufferSize <= 0 {
		bufferSize = DefaultBufferSize
	}
	p := &Pool{size: bufferSize}
	p.pool.New = func() any {
		p.stats.Allocations.Add(1)
		return &Packet{buf: make([]byte, p.size)}
	}
	return p
}

// BufferSize returns the size of every packet's backing array.
func (p *Pool) BufferSize() int { return p.size }

// Stats returns the pool's live counters.
func (p *Pool) Stats() *PoolStats { return &p.stats }

// Get returns a packet with empty Contents, no Origin and SourceUnknown.
func (p *Pool) Get() *Packet {
	p.stats.Gets.Add(1)
	pk := p.pool.Get().(*Packet)
	pk.Contents = pk.buf[:0]
	pk.Origin = ""
	pk.Source = SourceUnknown
	return pk
}

// Put gives a packet back. See the type's doc comment for what must not happen afterwards.
// A nil packet is ignored; a packet of another size is dropped (left to the GC) and counted.
func (p *Pool) Put(pk *Packet) {
	if pk == nil {
		return
	}
	if len(pk.buf) != p.size {
		p.stats.Foreign.Add(1)
		return
	}
	p.stats.Puts.Add(1)
	pk.Contents = nil
	p.pool.Put(pk)
}

// PutAll gives back every packet of a batch and clears the batch's slots so the slice does not
// keep them reachable.
func (p *Pool) PutAll(ps Packets) {
	for i, pk := range ps {
		p.Put(pk)
		ps[i] = nil
	}
}
