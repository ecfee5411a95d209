package listener

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/packets"
)

const never = time.Hour // a flush timeout that does not fire during a test

type received struct {
	contents string
	origin   string
	source   packets.Source
}

// collector plays the workers: it drains the queue, keeps copies of the packets and gives them
// back to the pool.
type collector struct {
	pool *packets.Pool
	out  chan packets.Packets
	done chan struct{}
	wg   sync.WaitGroup

	mu   sync.Mutex
	pkts []received
}

func newCollector(t *testing.T, pool *packets.Pool, queue int) *collector {
	c := &collector{pool: pool, out: make(chan packets.Packets, queue), done: make(chan struct{})}
	c.wg.Go(c.run)
	t.Cleanup(c.stop)
	return c
}

func (c *collector) run() {
	for {
		select {
		case ps := <-c.out:
			c.record(ps)
		case <-c.done:
			for {
				select {
				case ps := <-c.out:
					c.record(ps)
				default:
					return
				}
			}
		}
	}
}

func (c *collector) record(ps packets.Packets) {
	c.mu.Lock()
	for _, p := range ps {
		c.pkts = append(c.pkts, received{string(p.Contents), p.Origin, p.Source})
	}
	c.mu.Unlock()
	c.pool.PutAll(ps)
}

// stop drains what is queued and ends the goroutine; it is idempotent.
func (c *collector) stop() {
	select {
	case <-c.done:
	default:
		close(c.done)
	}
	c.wg.Wait()
}

func (c *collector) packets() []received {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.pkts)
}

// lines returns every non-empty line received, in order.
func (c *collector) lines() []string {
	var out []string
	for _, p := range c.packets() {
		for l := range strings.SplitSeq(p.contents, "\n") {
			if l != "" {
				out = append(out, l)
			}
		}
	}
	return out
}

// waitLines waits up to 5 s for n lines.
func (c *collector) waitLines(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := c.lines()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out with %d of %d lines", len(got), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// eventually polls cond for up to 5 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func settings(pool *packets.Pool, c *collector, flush time.Duration) Settings {
	return Settings{
		Pool:   pool,
		Out:    c.out,
		Buffer: packets.BufferConfig{Size: 4, FlushTimeout: flush},
	}
}

func sortedCopy(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func mustStart(t *testing.T, l Listener) Listener {
	t.Helper()
	if err := l.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Stop)
	return l
}
