package packets

import (
	"sync"
	"testing"
	"time"
)

func packetWith(pool *Pool, s string) *Packet {
	p := pool.Get()
	p.SetLen(copy(p.Buffer(), s))
	return p
}

func receive(t *testing.T, out <-chan Packets) Packets {
	t.Helper()
	select {
	case ps := <-out:
		return ps
	case <-time.After(5 * time.Second):
		t.Fatal("timed out waiting for a batch")
		return nil
	}
}

func TestBufferFlushBySize(t *testing.T) {
	pool := NewPool(64)
	out := make(chan Packets, 4)
	b := NewBuffer(BufferConfig{Size: 3, FlushTimeout: never}, out, pool, nil)
	defer b.Close()
	for _, s := range []string{"a", "b", "c", "d"} {
		b.Append(packetWith(pool, s))
	}
	if len(out) != 1 {
		t.Fatalf("queue holds %d batches, want 1", len(out))
	}
	ps := <-out
	if len(ps) != 3 || string(ps[0].Contents) != "a" || string(ps[2].Contents) != "c" {
		t.Fatalf("batch has %d packets", len(ps))
	}
	pool.PutAll(ps)
	s := b.Stats()
	if s.FlushesBySize.Load() != 1 || s.BatchesSent.Load() != 1 || s.PacketsSent.Load() != 3 {
		t.Fatalf("by size %d, batches %d, packets %d; want 1, 1, 3",
			s.FlushesBySize.Load(), s.BatchesSent.Load(), s.PacketsSent.Load())
	}
	b.Close()
	ps = receive(t, out)
	if len(ps) != 1 || string(ps[0].Contents) != "d" {
		t.Fatalf("Close flushed %d packets, want the d packet", len(ps))
	}
	if s.FlushesOnClose.Load() != 1 {
		t.Fatalf("FlushesOnClose = %d, want 1", s.FlushesOnClose.Load())
	}
}

func TestBufferFlushByTimer(t *testing.T) {
	pool := NewPool(64)
	out := make(chan Packets, 4)
	b := NewBuffer(BufferConfig{Size: 32, FlushTimeout: 10 * time.Millisecond}, out, pool, nil)
	defer b.Close()
	b.Append(packetWith(pool, "a"))
	b.Append(packetWith(pool, "b"))
	ps := receive(t, out)
	if len(ps) != 2 || string(ps[1].Contents) != "b" {
		t.Fatalf("timer flushed %d packets, want 2", len(ps))
	}
	if n := b.Stats().FlushesByTimer.Load(); n != 1 {
		t.Fatalf("FlushesByTimer = %d, want 1", n)
	}
}

func TestBufferDropsWhenQueueFull(t *testing.T) {
	pool := NewPool(64)
	out := make(chan Packets, 1)
	b := NewBuffer(BufferConfig{Size: 2, FlushTimeout: never}, out, pool, nil)
	defer b.Close()
	putsBefore := pool.Stats().Puts.Load()
	for range 6 { // three batches of two; the queue holds one
		b.Append(packetWith(pool, "x"))
	}
	s := b.Stats()
	if s.BatchesSent.Load() != 1 || s.BatchesDropped.Load() != 2 || s.PacketsDropped.Load() != 4 {
		t.Fatalf("sent %d, dropped %d batches / %d packets; want 1, 2, 4",
			s.BatchesSent.Load(), s.BatchesDropped.Load(), s.PacketsDropped.Load())
	}
	if got := pool.Stats().Puts.Load() - putsBefore; got != 4 {
		t.Fatalf("%d dropped packets went back to the pool, want 4", got)
	}
	pool.PutAll(<-out)
}

func TestBufferBlocksWhenConfigured(t *testing.T) {
	pool := NewPool(64)
	out := make(chan Packets, 1)
	b := NewBuffer(BufferConfig{Size: 1, FlushTimeout: never, BlockWhenFull: true}, out, pool, nil)
	b.Append(packetWith(pool, "first")) // fills the queue
	done := make(chan struct{})
	go func() {
		b.Append(packetWith(pool, "second")) // must wait for room
		close(done)
	}()
	select {
	case <-done:
		t.Fatal("Append returned while the queue was full")
	case <-time.After(50 * time.Millisecond):
	}
	if got := string((<-out)[0].Contents); got != "first" {
		t.Fatalf("first batch = %q", got)
	}
	<-done
	if got := string(receive(t, out)[0].Contents); got != "second" {
		t.Fatalf("second batch = %q", got)
	}
	b.Close()
	s := b.Stats()
	if s.BlockedSends.Load() != 1 || s.PacketsDropped.Load() != 0 || s.PacketsSent.Load() != 2 {
		t.Fatalf("blocked %d dropped %d sent %d; want 1, 0, 2",
			s.BlockedSends.Load(), s.PacketsDropped.Load(), s.PacketsSent.Load())
	}
}

func TestBufferAppendAfterClose(t *testing.T) {
	pool := NewPool(64)
	out := make(chan Packets, 1)
	b := NewBuffer(BufferConfig{}, out, pool, nil)
	b.Close()
	b.Close()
	b.Append(packetWith(pool, "late"))
	if len(out) != 0 || b.Stats().PacketsDropped.Load() != 1 {
		t.Fatalf("late packet: queue %d, dropped %d; want 0 and 1", len(out), b.Stats().PacketsDropped.Load())
	}
}

// Concurrent producers: every packet is either sent or counted as dropped.
func TestBufferConcurrentProducersConserve(t *testing.T) {
	pool := NewPool(64)
	out := make(chan Packets, 8)
	b := NewBuffer(BufferConfig{Size: 4, FlushTimeout: time.Millisecond}, out, pool, nil)
	var received int
	consumed := make(chan struct{})
	go func() {
		defer close(consumed)
		for ps := range out {
			received += len(ps)
			pool.PutAll(ps)
		}
	}()
	const producers, each = 4, 500
	var wg sync.WaitGroup
	for range producers {
		wg.Go(func() {
			for range each {
				b.Append(packetWith(pool, "m:1|c"))
			}
		})
	}
	wg.Wait()
	b.Close()
	close(out)
	<-consumed
	s := b.Stats()
	if uint64(received) != s.PacketsSent.Load() || s.PacketsSent.Load()+s.PacketsDropped.Load() != producers*each {
		t.Fatalf("received %d, sent %d, dropped %d; want sent == received and sent+dropped == %d",
			received, s.PacketsSent.Load(), s.PacketsDropped.Load(), producers*each)
	}
}

// TestBufferDrainWaitsForRoom: without BlockWhenFull a full queue drops a batch, but after
// Drain (a listener stopping) the last batch waits for the workers to make room.
func TestBufferDrainWaitsForRoom(t *testing.T) {
	pool := NewPool(64)
	out := make(chan Packets, 1)
	b := NewBuffer(BufferConfig{Size: 8, FlushTimeout: never}, out, pool, nil)
	out <- Packets{packetWith(pool, "queued")} // the queue is full
	b.Append(packetWith(pool, "last"))
	b.Drain()
	closed := make(chan struct{})
	go func() { b.Close(); close(closed) }()
	select {
	case <-closed:
		t.Fatal("Close returned with the queue full: the last batch was dropped")
	case <-time.After(50 * time.Millisecond):
	}
	if got := receive(t, out); string(got[0].Contents) != "queued" {
		t.Fatalf("first batch %q", got[0].Contents)
	}
	<-closed
	if got := receive(t, out); string(got[0].Contents) != "last" {
		t.Fatalf("last batch %q", got[0].Contents)
	}
	if d := b.Stats().PacketsDropped.Load(); d != 0 {
		t.Fatalf("%d packets dropped", d)
	}
}
