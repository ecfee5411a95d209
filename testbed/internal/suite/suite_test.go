package suite

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/doghouse-otel/doghouse/testbed/internal/collector"
	"github.com/doghouse-otel/doghouse/testbed/internal/loadgen"
)

// hogEnv makes the test binary a collector stand-in that takes hogEnv's value in MiB of memory
// and waits to be killed.
const hogEnv = "TESTBED_FAKE_HOG"

func TestMain(m *testing.M) {
	if mib, err := strconv.Atoi(os.Getenv(hogEnv)); err == nil {
		b := make([]byte, mib<<20)
		for i := range b {
			b[i] = byte(i)
		}
		time.Sleep(30 * time.Second) // never outlive a broken test
		fmt.Println(len(b))
		return
	}
	goleak.VerifyTestMain(m)
}

func TestGuardRSSKillsARunawayCollector(t *testing.T) {
	t.Setenv(hogEnv, "200")
	p, err := collector.Start(collector.Doghouse, os.Args[0], "unused.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Kill()
	ctx, cancel := context.WithCancel(context.Background())
	stop := guardRSS(p, 64<<20, cancel)
	select {
	case <-ctx.Done():
	case <-time.After(20 * time.Second):
	}
	if rss := stop(); rss <= 64<<20 {
		t.Fatalf("not killed: RSS seen %d", rss)
	}
	select {
	case <-p.Exited():
	case <-time.After(10 * time.Second):
		t.Fatal("the process is still running")
	}

	// A collector that stays under the limit is left alone.
	t.Setenv(hogEnv, "1")
	q, err := collector.Start(collector.Doghouse, os.Args[0], "unused.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer q.Kill()
	stop = guardRSS(q, 1<<30, func() { t.Error("cancelled") })
	time.Sleep(300 * time.Millisecond)
	if rss := stop(); rss != 0 {
		t.Fatalf("killed at %d", rss)
	}
}

func TestCardinalityTableAndTargets(t *testing.T) {
	if m := median([]float64{5, 1, 3}); m != 3 {
		t.Errorf("median %v", m)
	}
	if m := median([]float64{4, 1, 3, 2}); m != 2.5 {
		t.Errorf("median %v", m)
	}
	if !generatorBound(80000, 100000, 0.95) || generatorBound(80000, 100000, 0.5) || generatorBound(99000, 100000, 1) {
		t.Error("generatorBound")
	}
	run := func(stored float64, rss int64, late float64, over int) RunResult {
		r := RunResult{PeakRSS: rss, CPU: 5 * time.Second, Fairshare: FairshareTelemetry{Late: late}}
		r.Phases = []PhaseResult{{Prefix: "un", OutCounters: stored, Load: loadgen.Result{Elapsed: 10 * time.Second, Sent: loadgen.Totals{Lines: 100, CounterSum: 1000}}}}
		r.Output.Flushes = collector.Flushes{Count: 10, OverBudget: over, Budget: 100, Kept: 90, Offered: 300}
		return r
	}
	good := run(1005, 100<<20, 0, 0)
	if f := checkTargets([]RunResult{good}, false); len(f) != 0 {
		t.Errorf("good run failed %v", f)
	}
	bad := run(30, 3<<30, 7, 2)
	if f := checkTargets([]RunResult{bad}, false); len(f) != 4 {
		t.Errorf("bad run: %v", f)
	}
	if f := checkTargets([]RunResult{bad}, true); len(f) != 3 {
		t.Errorf("bad run, smoke (no RSS or CPU targets): %v", f)
	}
	runs := []RunResult{good, bad, run(990, 200<<20, 0, 0)}
	for _, fig := range cardFigures {
		if c := fig.cell(cardPipeline, runs); c.String() == "n/a" {
			t.Errorf("%s: n/a for the pipeline", fig.name)
		}
	}
	for _, fig := range cardFigures {
		if strings.HasPrefix(fig.name, "counter total stored") {
			if c := fig.cell(cardPipeline, runs); c.V != 99 {
				t.Errorf("%s: %v, want the median 99", fig.name, c)
			}
		}
	}
	tb := Table{Columns: []string{"target", "a", "b"}, Rows: []Row{{Figure: "x", Cells: []Cell{Text("0"), Num(1)}}}}
	if md := tb.Markdown(); !strings.Contains(md, "| figure | target | a | b |\n|---|---:|---:|---:|\n| x | 0 | 1 |  |\n") {
		t.Errorf("markdown:\n%s", md)
	}
}

// model is a collector that loses data above its capacity, sent by a generator that cannot
// exceed genMax.
// A collector that blocks its sender (a Unix socket) at blockAt passes achieved = blockAt with
// an idle generator.
func model(capacity, genMax float64) func(float64) (stepOutcome, error) {
	return func(rate float64) (stepOutcome, error) {
		achieved := math.Min(rate, genMax)
		loss := 0.0
		if achieved > capacity {
			loss = 1 - capacity/achieved
		}
		share := 0.5
		if rate >= genMax {
			share = 1
		}
		return stepOutcome{achieved: achieved, loss: loss, genShare: share}, nil
	}
}

func blocking(blockAt float64) func(float64) (stepOutcome, error) {
	return func(rate float64) (stepOutcome, error) {
		return stepOutcome{achieved: math.Min(rate, blockAt), genShare: 0.3}, nil
	}
}

func TestSearchFindsTheCapacityWithinPrecision(t *testing.T) {
	for _, capacity := range []float64{7000, 25000, 97500, 137000, 1.3e6} {
		s, err := search(fullPlan, model(capacity, 1e9))
		if err != nil {
			t.Fatal(err)
		}
		if s.rate > capacity || s.rate < capacity/fullPlan.precision || s.bounded != "" {
			t.Errorf("capacity %v: found %v (%s) after %v", capacity, s.rate, s.bounded, s.steps)
		}
		if len(s.steps) > fullPlan.maxSteps {
			t.Errorf("capacity %v: %d steps", capacity, len(s.steps))
		}
	}
}

func TestSearchRetriesAFailedStepOnce(t *testing.T) {
	// Every rate fails its first try; the second try behaves as a 100k collector.
	calls := map[float64]int{}
	m := model(100000, 1e9)
	s, err := search(fullPlan, func(rate float64) (stepOutcome, error) {
		calls[rate]++
		if calls[rate] == 1 {
			return stepOutcome{achieved: rate, loss: 0.01}, nil
		}
		return m(rate)
	})
	if err != nil {
		t.Fatal(err)
	}
	if s.rate > 100000 || s.rate < 100000/fullPlan.precision {
		t.Fatalf("found %v after %v", s.rate, s.steps)
	}
	for rate, n := range calls {
		if n != 2 {
			t.Errorf("rate %v tried %d times, want 2", rate, n)
		}
	}
}

func TestSearchStopsAtTheGeneratorLimit(t *testing.T) {
	s, err := search(fullPlan, model(1e9, 300000))
	if err != nil {
		t.Fatal(err)
	}
	if s.bounded != "generator-bound" || s.rate != 300000 {
		t.Fatalf("got %v (%s), want 300000 generator-bound; steps %v", s.rate, s.bounded, s.steps)
	}
	// A Unix socket that makes the sender wait is the collector's limit, not the generator's.
	s, err = search(fullPlan, blocking(300000))
	if err != nil {
		t.Fatal(err)
	}
	if s.bounded != "" || s.rate > 300000 || s.rate < 300000/fullPlan.precision {
		t.Fatalf("blocking transport: got %v (%s); steps %v", s.rate, s.bounded, s.steps)
	}
}

func TestSearchReportsStepErrors(t *testing.T) {
	boom := errors.New("collector crashed")
	_, err := search(fullPlan, func(float64) (stepOutcome, error) { return stepOutcome{}, boom })
	if !errors.Is(err, boom) {
		t.Fatalf("got %v", err)
	}
	// Send errors fail a step even without loss.
	s, err := search(fullPlan, func(rate float64) (stepOutcome, error) { return stepOutcome{achieved: rate, errors: 1}, nil })
	if err != nil || s.rate != 0 {
		t.Fatalf("got %v, %v", s.rate, err)
	}
}

func TestFormatAndRatio(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 1234567: "1,234,567", -4321: "-4,321", 512: "512", 42.42: "42.4", 3.14159: "3.14", 0.0123: "0.0123", 0.00001: "1.00e-05"} {
		if got := formatNum(v); got != want {
			t.Errorf("formatNum(%v) = %q, want %q", v, got, want)
		}
	}
	if got := Ratio(Num(1e6), Num(97500)); got != "10.3×" {
		t.Errorf("ratio %q", got)
	}
	if got := Ratio(Num(2), Num(10)); got != "0.20×" {
		t.Errorf("ratio %q", got)
	}
	for _, c := range [][2]Cell{{Num(1), Num(0)}, {Num(1), NA("x")}, {Text("yes"), Num(1)}, {Num(math.NaN()), Num(1)}} {
		if got := Ratio(c[0], c[1]); got != "n/a" {
			t.Errorf("Ratio(%v, %v) = %q", c[0], c[1], got)
		}
	}
	if got := (Cell{V: 5e5, OK: true, Note: "(generator-bound)"}).String(); got != "500,000 (generator-bound)" {
		t.Errorf("cell %q", got)
	}
}

func TestMarkdownHasEveryRowAndRatio(t *testing.T) {
	r := &Report{Sections: []Section{{
		Title: "x", Method: "how",
		Tables: []Table{{Caption: "cap", Rows: []Row{{Figure: "rate", Doghouse: Num(200), Contrib: Num(100)}, {Figure: "stream", Doghouse: Num(5), Contrib: NA("no stream")}}}},
		Failed: []string{"something"},
	}}}
	md := r.Markdown()
	for _, want := range []string{"## 1. x", "| rate | 200 | 100 | 2.00× |", "| stream | 5 | n/a (no stream) | n/a |", "**check failed:** something", "load average"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	if f := r.Failures(); len(f) != 1 || f[0] != "x: something" {
		t.Errorf("failures %v", f)
	}
}

func TestComponentsAndVerifyParsing(t *testing.T) {
	comps := "receivers:\n    - name: chunkfile\nexporters:\n    - name: chunkfilex\n    - name: debug\n"
	if hasExporter(comps, "chunkfile") {
		t.Error("matched a receiver or a longer name")
	}
	if !hasExporter(comps+"    - name: chunkfile\n", "chunkfile") {
		t.Error("missed the exporter")
	}
	if got := pointsField("/tmp/a.chunk: ok, sealed, 12 series, 3456 points, 789 bytes\n"); got != "3456" {
		t.Errorf("points %q", got)
	}
}
