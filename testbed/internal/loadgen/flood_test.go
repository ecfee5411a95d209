package loadgen

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

// TestFloodContextsAreNew checks the flood's promise: within min(Names, TagSets) passes no
// context repeats, every name and tag set is used, and each line parses with a known value.
func TestFloodContextsAreNew(t *testing.T) {
	for _, c := range []struct{ names, tagSets int }{{200, 10}, {10, 200}, {50, 50}, {1, 7}} {
		f, err := NewFlood(FloodConfig{Names: c.names, TagSets: c.tagSets, Prefix: "fx"})
		if err != nil {
			t.Fatal(err)
		}
		passes := int64(min(c.names, c.tagSets))
		seen := map[string]bool{}
		names, tagSets := map[string]bool{}, map[string]bool{}
		var want, sum float64
		var line []byte
		for k := range passes * f.PassLines() {
			var tot Totals
			line, tot = f.AppendLine(line[:0], k)
			p := checkLine(t, string(line))
			if p.Totals != tot || p.Counters != 1 || p.tags != 3 {
				t.Fatalf("line %d %q: parsed %+v, generator says %+v", k, line, p.Totals, tot)
			}
			if seen[p.context] {
				t.Fatalf("%+v: line %d repeats context %s", c, k, p.context)
			}
			seen[p.context] = true
			name, rest, _ := strings.Cut(string(line), ":")
			_, tags, _ := strings.Cut(rest, "#")
			names[name], tagSets[tags] = true, true
			want += float64(1 + k%5)
			sum += tot.CounterSum
		}
		if len(names) != c.names || len(tagSets) != c.tagSets || sum != want {
			t.Errorf("%+v: %d names, %d tag sets, counter sum %v (want %v)", c, len(names), len(tagSets), sum, want)
		}
		if !strings.HasPrefix(string(line), "fx.u") {
			t.Errorf("prefix missing in %q", line)
		}
	}
}

func TestFloodRejectsBadConfigs(t *testing.T) {
	for _, c := range []FloodConfig{
		{Names: 0, TagSets: 5}, {Names: 5, TagSets: 0}, {Names: 300, TagSets: 7},
		{Names: 10, TagSets: 10, LinesPerDatagram: -1}, {Names: 10, TagSets: 10, PacketSize: 100},
		{Names: 10, TagSets: 10, Prefix: strings.Repeat("x", 65)},
	} {
		if _, err := NewFlood(c); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}

// TestFloodThroughThePacer sends a flood through the pacer with a fake clock and checks that
// the datagrams hold the lines in order, at most 30 a datagram and within the packet size, and
// that the counted totals are what was formatted.
func TestFloodThroughThePacer(t *testing.T) {
	f, err := NewFlood(FloodConfig{Names: 100000, TagSets: 1000, PacketSize: 1432})
	if err != nil {
		t.Fatal(err)
	}
	s := &keepingSender{}
	w, pos, next := f.start(0, 1)
	opts := RunOptions{Rate: 100000, Duration: 500 * time.Millisecond, Tick: time.Millisecond, MaxCatchUp: 5 * time.Millisecond, MaxBatch: 256}
	p := pacer{w: w, pos: pos, next: next, s: s, clk: &fakeClock{}, opts: opts, rate: opts.Rate}
	res := p.run(context.Background())
	if res.Sent.Lines < 49000 || res.Sent.Lines > 50000 || res.Behind != 0 {
		t.Fatalf("sent %d lines (behind %d) in 0.5 s at 100k lines/s", res.Sent.Lines, res.Behind)
	}
	var k int64
	var want Totals
	var line []byte
	for _, d := range s.datagrams {
		lines := strings.Split(d, "\n")
		if len(lines) > 30 || len(d) > 1432 {
			t.Fatalf("datagram of %d lines, %d bytes", len(lines), len(d))
		}
		for _, got := range lines {
			var tot Totals
			line, tot = f.AppendLine(line[:0], k)
			if got != string(line) {
				t.Fatalf("line %d is %q, want %q", k, got, line)
			}
			want.Add(tot)
			k++
		}
	}
	if want.Lines != res.Sent.Lines || want.CounterSum != res.Sent.CounterSum || int64(len(s.datagrams)) != res.Sent.Datagrams {
		t.Fatalf("received %d lines, counter sum %v, %d datagrams; sent %+v", want.Lines, want.CounterSum, len(s.datagrams), res.Sent)
	}
}

// keepingSender keeps a copy of every datagram.
type keepingSender struct{ datagrams []string }

func (s *keepingSender) send(w *Workload, i, j int, _ time.Time) (int, error) {
	for k := i; k < j; k++ {
		s.datagrams = append(s.datagrams, string(w.Datagram(k)))
	}
	return j - i, nil
}

func (s *keepingSender) close() error { return nil }

// TestFloodOverRealSockets sends a flood from two senders over every transport and parses
// every line back: the counter total received is the one counted as sent.
func TestFloodOverRealSockets(t *testing.T) {
	f, err := NewFlood(FloodConfig{Names: 100, TagSets: 100000, Prefix: "tv"})
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "loadgen-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	for _, tr := range []Transport{UDP, UnixGram, UnixStream} {
		t.Run(string(tr), func(t *testing.T) {
			target, stop := listen(t, tr, dir)
			res, err := Run(context.Background(), f, target, RunOptions{Rate: 40000, Duration: 300 * time.Millisecond, Senders: 2})
			if err != nil {
				t.Fatal(err)
			}
			got := stop(res.Sent.Datagrams)
			if res.Errors != 0 || res.Sent.Lines < 6000 {
				t.Fatalf("sent %d lines, %d errors (last %v)", res.Sent.Lines, res.Errors, res.LastErr)
			}
			var parsedTot Totals
			for _, p := range got {
				for line := range strings.SplitSeq(string(p), "\n") {
					parsedTot.Add(checkLine(t, line).Totals)
				}
			}
			if parsedTot.Lines != res.Sent.Lines || parsedTot.CounterSum != res.Sent.CounterSum {
				t.Fatalf("received %d lines, counter sum %v; sent %d, %v", parsedTot.Lines, parsedTot.CounterSum, res.Sent.Lines, res.Sent.CounterSum)
			}
		})
	}
}
