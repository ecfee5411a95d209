package loadgen

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock advances only when the pacer sleeps; stallAt/stallFor make one sleep overrun, as a
// descheduled process's does.
type fakeClock struct {
	t                 time.Duration
	stallAt, stallFor time.Duration
	stalled           bool
}

func (c *fakeClock) now() time.Duration               { return c.t }
func (c *fakeClock) deadline(time.Duration) time.Time { return time.Time{} }
func (c *fakeClock) sleepUntil(_ context.Context, t time.Duration) error {
	c.t = t
	if !c.stalled && c.stallFor > 0 && t >= c.stallAt {
		c.stalled = true
		c.t += c.stallFor
	}
	return nil
}

// recordingSender keeps, for every send call, the clock time and the lines written, and fails
// every failEvery-th call.
type recordingSender struct {
	clk       *fakeClock
	failEvery int
	calls     int
	at        []time.Duration
	lines     []int64
}

func (s *recordingSender) send(w *Workload, i, j int, _ time.Time) (int, error) {
	s.calls++
	if s.failEvery > 0 && s.calls%s.failEvery == 0 {
		return 0, errors.New("injected failure")
	}
	var n int64
	for k := i; k < j; k++ {
		n += w.Totals(k).Lines
	}
	s.at = append(s.at, s.clk.t)
	s.lines = append(s.lines, n)
	return j - i, nil
}

func (s *recordingSender) close() error { return nil }

func runFake(t *testing.T, w *Workload, clk *fakeClock, s *recordingSender, rate float64, d time.Duration) Result {
	t.Helper()
	opts := RunOptions{Rate: rate, Duration: d, Tick: time.Millisecond, MaxCatchUp: 20 * time.Millisecond, MaxBatch: 256}
	p := pacer{w: w, s: s, clk: clk, opts: opts, rate: rate}
	return p.run(context.Background())
}

func maxLines(w *Workload) int64 {
	var m int64
	for i := range w.Len() {
		m = max(m, w.Totals(i).Lines)
	}
	return m
}

func TestPacerKeepsToTheSchedule(t *testing.T) {
	for _, packing := range []Packing{Single, Packed} {
		t.Run(packing.String(), func(t *testing.T) {
			w, err := Build(Config{Seed: 5, Contexts: 1000, Lines: 20000, Packing: packing})
			if err != nil {
				t.Fatal(err)
			}
			const rate = 50000.0
			clk := &fakeClock{}
			s := &recordingSender{clk: clk}
			res := runFake(t, w, clk, s, rate, time.Second)
			// Never ahead of rate × elapsed, and after each tick's sends never behind it by more
			// than one datagram.
			var cum int64
			for k, at := range s.at {
				cum += s.lines[k]
				due := int64(rate * at.Seconds())
				if cum > due {
					t.Fatalf("at %v sent %d lines, only %d were due", at, cum, due)
				}
				lastOfTick := k+1 == len(s.at) || s.at[k+1] != at
				if lastOfTick && cum < due-maxLines(w) {
					t.Fatalf("after the tick at %v sent %d lines, %d were due", at, cum, due)
				}
			}
			if res.Sent.Lines != cum || res.Behind != 0 || res.Errors != 0 {
				t.Fatalf("result %+v, recorded %d lines", res, cum)
			}
			if want := int64(rate * 0.999); res.Sent.Lines > want || res.Sent.Lines < want-maxLines(w) {
				t.Fatalf("sent %d lines in 1s at %v/s, want about %d", res.Sent.Lines, rate, want)
			}
			if res.Elapsed != time.Second {
				t.Fatalf("elapsed %v", res.Elapsed)
			}
			// Wrapping around the workload keeps the totals consistent.
			if res.Sent.Lines < w.Total().Lines {
				t.Fatalf("the run did not wrap: %d lines sent of %d built", res.Sent.Lines, w.Total().Lines)
			}
		})
	}
}

func TestPacerSkipsBacklogBeyondCatchUp(t *testing.T) {
	w, err := Build(Config{Seed: 5, Contexts: 1000, Lines: 20000, Packing: Single})
	if err != nil {
		t.Fatal(err)
	}
	const rate = 50000.0
	clk := &fakeClock{stallAt: 300 * time.Millisecond, stallFor: 200 * time.Millisecond}
	s := &recordingSender{clk: clk}
	res := runFake(t, w, clk, s, rate, time.Second)
	// Held up from the send at 299ms to 500ms, 20ms of it made up: 181ms of traffic skipped.
	if want := int64(rate * 0.181); res.Behind < want-2 || res.Behind > want+2 {
		t.Fatalf("behind %d lines, want about %d", res.Behind, want)
	}
	// The catch-up burst is at most 20ms of traffic (plus the tick that was due anyway).
	for k, at := range s.at {
		if s.lines[k] > int64(rate*0.021)+1 {
			t.Fatalf("burst of %d lines at %v", s.lines[k], at)
		}
	}
	if total := res.Sent.Lines + res.Behind; total > int64(rate) || total < int64(rate*0.999)-1 {
		t.Fatalf("sent %d + skipped %d, want about %d", res.Sent.Lines, res.Behind, int64(rate))
	}
}

// TestPacerSendsLargeDatagramsAtLowRates: 1000 lines/s of datagrams holding about 40 lines is
// a datagram every 40ms, longer than MaxCatchUp; the pacer must still send them.
func TestPacerSendsLargeDatagramsAtLowRates(t *testing.T) {
	w, err := Build(Config{Seed: 5, Contexts: 1000, Lines: 20000, Packing: Packed})
	if err != nil {
		t.Fatal(err)
	}
	clk := &fakeClock{}
	s := &recordingSender{clk: clk}
	res := runFake(t, w, clk, s, 1000, 2*time.Second)
	if res.Sent.Lines < 2000-maxLines(w) || res.Sent.Lines > 2000 || res.Behind != 0 {
		t.Fatalf("sent %d lines (behind %d) in 2s at 1000/s", res.Sent.Lines, res.Behind)
	}
}

func TestPacerCountsFailedWrites(t *testing.T) {
	w, err := Build(Config{Seed: 5, Contexts: 1000, Lines: 20000, Packing: Single})
	if err != nil {
		t.Fatal(err)
	}
	clk := &fakeClock{}
	s := &recordingSender{clk: clk, failEvery: 10}
	res := runFake(t, w, clk, s, 20000, 500*time.Millisecond)
	if res.Errors != int64(s.calls/10) || res.LastErr == nil {
		t.Fatalf("errors %d of %d calls, last %v", res.Errors, s.calls, res.LastErr)
	}
	var recorded int64
	for _, n := range s.lines {
		recorded += n
	}
	if res.Sent.Lines != recorded {
		t.Fatalf("result counts %d lines, the sender got %d", res.Sent.Lines, recorded)
	}
}

func TestRunRejectsBadOptions(t *testing.T) {
	w, err := Build(Config{Seed: 1, Contexts: 10, Lines: 100})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), w, Target{UDP, "127.0.0.1:9"}, RunOptions{}); err == nil {
		t.Fatal("a run without a duration was accepted")
	}
	if _, err := Run(context.Background(), w, Target{UDP, "127.0.0.1:9"}, RunOptions{Duration: time.Second, Rate: -1}); err == nil {
		t.Fatal("a negative rate was accepted")
	}
	if _, err := Run(context.Background(), w, Target{"sctp", "x"}, RunOptions{Duration: time.Second}); err == nil {
		t.Fatal("an unknown transport was accepted")
	}
}

// TestRunOverRealSockets sends through each transport to a loopback or temp-dir receiver and
// parses every received line back.
func TestRunOverRealSockets(t *testing.T) {
	w, err := Build(Config{Seed: 9, Contexts: 2000, Lines: 20000, PacketSize: 2048})
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "loadgen-") // short: Unix socket paths are limited to 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	const rate, d = 20000.0, 500 * time.Millisecond

	for _, tr := range []Transport{UDP, UnixGram, UnixStream} {
		t.Run(string(tr), func(t *testing.T) {
			target, stop := listen(t, tr, dir)
			res, err := Run(context.Background(), w, target, RunOptions{Rate: rate, Duration: d, Senders: 2})
			if err != nil {
				t.Fatal(err)
			}
			got := stop(res.Sent.Datagrams)
			if res.Errors != 0 {
				t.Fatalf("%d send errors, last %v", res.Errors, res.LastErr)
			}
			if res.Sent.Lines > int64(rate*d.Seconds()) || res.Sent.Lines < int64(rate*d.Seconds()/2) {
				t.Fatalf("sent %d lines in %v at %v/s", res.Sent.Lines, d, rate)
			}
			var parsedTot Totals
			for _, p := range got {
				for line := range strings.SplitSeq(string(p), "\n") {
					parsedTot.Add(checkLine(t, line).Totals)
				}
			}
			if parsedTot.Lines != res.Sent.Lines || parsedTot.CounterSum != res.Sent.CounterSum || int64(len(got)) != res.Sent.Datagrams {
				t.Fatalf("received %d datagrams, %d lines, counter sum %v; sent %d, %d, %v",
					len(got), parsedTot.Lines, parsedTot.CounterSum, res.Sent.Datagrams, res.Sent.Lines, res.Sent.CounterSum)
			}
		})
	}
}

// listen starts a receiver for tr; stop waits (bounded) for want payloads and returns them.
func listen(t *testing.T, tr Transport, dir string) (Target, func(want int64) [][]byte) {
	t.Helper()
	var mu sync.Mutex
	var got [][]byte
	keep := func(b []byte) {
		mu.Lock()
		got = append(got, append([]byte(nil), b...))
		mu.Unlock()
	}
	count := func() int64 {
		mu.Lock()
		defer mu.Unlock()
		return int64(len(got))
	}
	var closer io.Closer
	var wg sync.WaitGroup
	var target Target
	switch tr {
	case UDP, UnixGram:
		var pc net.PacketConn
		var err error
		if tr == UDP {
			pc, err = net.ListenPacket("udp", "127.0.0.1:0")
			target = Target{UDP, pc.LocalAddr().String()}
		} else {
			path := filepath.Join(dir, "dgram.sock")
			pc, err = net.ListenPacket("unixgram", path)
			target = Target{UnixGram, path}
		}
		if err != nil {
			t.Fatal(err)
		}
		// Large enough for the whole run, so a slow reader loses nothing.
		_ = pc.(interface{ SetReadBuffer(int) error }).SetReadBuffer(8 << 20)
		closer = pc
		wg.Go(func() {
			buf := make([]byte, 65536)
			for {
				n, _, err := pc.ReadFrom(buf)
				if err != nil {
					return
				}
				keep(buf[:n])
			}
		})
	case UnixStream:
		path := filepath.Join(dir, "stream.sock")
		ln, err := net.Listen("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		target = Target{UnixStream, path}
		var conns []net.Conn
		var cmu sync.Mutex
		closer = closerFunc(func() error {
			err := ln.Close()
			cmu.Lock()
			for _, c := range conns {
				c.Close()
			}
			cmu.Unlock()
			return err
		})
		wg.Go(func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				cmu.Lock()
				conns = append(conns, c)
				cmu.Unlock()
				wg.Go(func() {
					var hdr [4]byte
					for {
						if _, err := io.ReadFull(c, hdr[:]); err != nil {
							return
						}
						b := make([]byte, binary.LittleEndian.Uint32(hdr[:]))
						if _, err := io.ReadFull(c, b); err != nil {
							return
						}
						keep(b)
					}
				})
			}
		})
	}
	stop := func(want int64) [][]byte {
		for deadline := time.Now().Add(10 * time.Second); count() < want && time.Now().Before(deadline); {
			time.Sleep(5 * time.Millisecond)
		}
		closer.Close()
		wg.Wait()
		return got
	}
	t.Cleanup(func() { closer.Close(); wg.Wait() })
	return target, stop
}

type closerFunc func() error

func (f closerFunc) Close() error { return f() }
