package suite

import (
	"errors"
	"math"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

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
		Tables: []Table{{Caption: "cap", Rows: []Row{{"rate", Num(200), Num(100)}, {"stream", Num(5), NA("no stream")}}}},
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
