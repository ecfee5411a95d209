package suite

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/doghouse-otel/doghouse/testbed/internal/collector"
	"github.com/doghouse-otel/doghouse/testbed/internal/loadgen"
	"github.com/doghouse-otel/doghouse/testbed/internal/procstat"
)

const readmeBefore = "# doghouse\n\nintro\n\n## How it compares\n\nhand-written line\n"
const readmeAfter = "\n\n## Architecture\n\nmore text\n"

func readmeDoc(inside string) string {
	return readmeBefore + ReadmeBegin + inside + ReadmeEnd + readmeAfter
}

func TestReplaceBenchKeepsEverythingOutsideTheMarkers(t *testing.T) {
	doc := readmeDoc("\n| old | table |\nprose the generator cannot back\n")
	got, err := ReplaceBench(doc, "| new | table |\n")
	if err != nil {
		t.Fatal(err)
	}
	if want := readmeDoc("\n| new | table |\n"); got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	if !strings.HasPrefix(got, readmeBefore+ReadmeBegin) || !strings.HasSuffix(got, ReadmeEnd+readmeAfter) {
		t.Errorf("content outside the markers changed:\n%s", got)
	}
	if strings.Contains(got, "prose the generator") {
		t.Error("old content between the markers survived")
	}
	// Idempotent: the same block again changes nothing, also with surrounding newlines.
	for _, block := range []string{"| new | table |\n", "\n\n| new | table |", "| new | table |"} {
		again, err := ReplaceBench(got, block)
		if err != nil {
			t.Fatal(err)
		}
		if again != got {
			t.Errorf("block %q: not idempotent:\n%s", block, again)
		}
	}
	// Markers on one line, nothing between them.
	got, err = ReplaceBench(readmeBefore+ReadmeBegin+ReadmeEnd+readmeAfter, "x")
	if err != nil || got != readmeDoc("\nx\n") {
		t.Errorf("empty section: %q, %v", got, err)
	}
}

func TestReplaceBenchRefusesBrokenMarkers(t *testing.T) {
	for name, doc := range map[string]string{
		"no markers":        readmeBefore + readmeAfter,
		"no begin marker":   readmeBefore + "table\n" + ReadmeEnd + readmeAfter,
		"no end marker":     readmeBefore + ReadmeBegin + "\ntable\n" + readmeAfter,
		"end before begin":  readmeBefore + ReadmeEnd + "\ntable\n" + ReadmeBegin + readmeAfter,
		"two begin markers": readmeDoc("\n" + ReadmeBegin + "\n"),
		"two end markers":   readmeDoc("\n" + ReadmeEnd + "\n"),
	} {
		_, err := ReplaceBench(doc, "table")
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		if !strings.Contains(err.Error(), "marker") {
			t.Errorf("%s: unclear error %q", name, err)
		}
	}
	_, err := ReplaceBench(readmeBefore+ReadmeEnd+readmeAfter, "table")
	if err == nil || !strings.Contains(err.Error(), ReadmeBegin+" is missing") {
		t.Errorf("missing begin marker: %v", err)
	}
}

func TestWriteReadme(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "README.md")
	if err := os.WriteFile(path, []byte(readmeDoc("\nold\n")), 0o640); err != nil {
		t.Fatal(err)
	}
	r := sampleReport()
	if err := r.WriteReadme(path, filepath.Join(dir, "docs", "benchmarks.md")); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got := string(b)
	for _, want := range []string{"[docs/benchmarks.md](docs/benchmarks.md)", "| sustainable rate, UDP, packed, lines/s (1) |", readmeBefore + ReadmeBegin, ReadmeEnd + readmeAfter} {
		if !strings.Contains(got, want) {
			t.Errorf("README lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "\nold\n") {
		t.Error("old table kept")
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, %v", st.Mode(), err)
	}
	// Again: nothing changes.
	if err := r.WriteReadme(path, filepath.Join(dir, "docs", "benchmarks.md")); err != nil {
		t.Fatal(err)
	}
	if b2, _ := os.ReadFile(path); string(b2) != got {
		t.Error("a second rewrite changed the README")
	}
	// Without markers the file stays as it was and the error says why.
	bad := filepath.Join(dir, "bad.md")
	if err := os.WriteFile(bad, []byte(readmeBefore), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteReadme(bad, ""); err == nil || !strings.Contains(err.Error(), "marker") {
		t.Errorf("no markers: %v", err)
	}
	if b, _ := os.ReadFile(bad); string(b) != readmeBefore {
		t.Error("the file without markers was changed")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("left files behind: %v", entries)
	}
}

// sampleReport is a report as the suite renders it, with one scenario 1 headline pair and a
// scenario that did not run.
func sampleReport() *Report {
	rate := Median([]float64{400000, 475683, 336359})
	co := Median([]float64{35355, 35355, 42045})
	return &Report{
		Started: time.Date(2026, 11, 29, 3, 30, 0, 0, time.UTC), Commit: "abc1234", Command: "make bench",
		Args:    []string{"suite", "-command", "make bench", "-out", "../docs/benchmarks.md", "-readme", "../README.md"},
		Machine: procstat.Machine{CPUs: 2, Model: "AMD EPYC", LoadAvg: "1.00 1.00 1.00"}, Runs: 3, CardRuns: 3,
		Headlines: []Headline{
			{Scenario: 1, Name: "sustainable rate, UDP, packed, lines/s", Settings: "defaults", Doghouse: rate, Contrib: co},
			{Scenario: 1, Name: "sustainable rate, UDP, packed, lines/s", Settings: "equal buffers", Doghouse: rate.withNote(countNote("generator-bound", 1, 3)), Contrib: co},
			{Scenario: 5, Name: "graceful stop: accepted but missing", Settings: "defaults", Doghouse: Median([]float64{0, 0, 0}), Contrib: Median([]float64{17502, 12000, 9000}), NoRatio: true},
		},
		Sections: []Section{{Title: "x", Failed: []string{"one check"}}},
	}
}

func TestReadmeBlock(t *testing.T) {
	r := sampleReport()
	block := r.ReadmeBlock("docs/benchmarks.md")
	for _, want := range []string{
		"Measured by `make bench`, which runs `cd testbed && go run ./cmd/testbed suite -command 'make bench' -out ../docs/benchmarks.md -readme ../README.md` on commit abc1234, 2026-11-29 03:30 UTC, on a 2-CPU machine",
		"each configuration 3 times",
		"| figure (scenario) | settings | doghouse | contrib statsd | doghouse / contrib |",
		"| sustainable rate, UDP, packed, lines/s (1) | defaults | 400,000 (336,359–475,683) | 35,355 (35,355–42,045) | 11.3× |",
		"| sustainable rate, UDP, packed, lines/s (1) | equal buffers | 400,000 (336,359–475,683) (generator-bound in 1 of 3 runs) | 35,355 (35,355–42,045) | 11.3× |",
		"| graceful stop: accepted but missing (5) | defaults | 0 (0–0) | 12,000 (9,000–17,502) | — |",
		"generator-bound, a run or search step that " + generatorRule,
		"Checks that failed in this run: 1, listed in [docs/benchmarks.md](docs/benchmarks.md).",
	} {
		if !strings.Contains(block, want) {
			t.Errorf("block lacks %q:\n%s", want, block)
		}
	}
	// Rows of scenarios that did not run are left out, and the text says which ran.
	r.Only, r.Dirty, r.Sections = []int{5}, true, nil
	block = r.ReadmeBlock("")
	if strings.Contains(block, "sustainable rate") || !strings.Contains(block, "Only scenario 5 ran") {
		t.Errorf("-only 5:\n%s", block)
	}
	for _, want := range []string{"abc1234 with uncommitted changes", "Every check of the run held.", "the suite's report"} {
		if !strings.Contains(block, want) {
			t.Errorf("block lacks %q:\n%s", want, block)
		}
	}
}

func TestMedianCells(t *testing.T) {
	for _, c := range []struct {
		vals []float64
		want string
	}{
		{[]float64{3, 1, 2}, "2 (1–3)"},
		{[]float64{475683, 336359, 400000}, "400,000 (336,359–475,683)"},
		{[]float64{4, 1, 3, 2}, "2.50 (1–4)"},
		{[]float64{3.11, 3.3, 2.9}, "3.11 (2.90–3.30)"},
		{[]float64{5}, "5"},
		{[]float64{7, 7, 7}, "7 (7–7)"},
		{[]float64{math.NaN(), 2, 4}, "3 (2–4)"},
		{[]float64{math.NaN()}, "n/a"},
		{nil, "n/a"},
	} {
		if got := Median(c.vals).String(); got != c.want {
			t.Errorf("Median(%v) = %q, want %q", c.vals, got, c.want)
		}
	}
	if c := Median([]float64{1, 2, 3}); c.Runs != 3 || c.Min != 1 || c.Max != 3 || !c.OK {
		t.Errorf("cell %+v", c)
	}
	// A ratio is of the medians.
	if got := Ratio(Median([]float64{10, 20, 30}), Median([]float64{1, 2, 100})); got != "10.0×" {
		t.Errorf("ratio %q", got)
	}
	if got := Median([]float64{1, 2, 3}).withNote(countNote("step limit", 1, 3)).withNote(countNote("generator-bound", 0, 3)).String(); got != "2 (1–3) (step limit in 1 of 3 runs)" {
		t.Errorf("note %q", got)
	}
	for _, c := range []struct {
		k, n int
		want string
	}{{0, 3, ""}, {1, 1, "(generator-bound)"}, {2, 3, "(generator-bound in 2 of 3 runs)"}, {3, 3, "(generator-bound in 3 of 3 runs)"}} {
		if got := countNote("generator-bound", c.k, c.n); got != c.want {
			t.Errorf("countNote(%d, %d) = %q", c.k, c.n, got)
		}
	}
}

func TestGeneratorBoundRule(t *testing.T) {
	for _, c := range []struct {
		achieved, asked, share float64
		want                   bool
	}{
		{94999, 100000, 0.9, true},  // short of 95% with the generator at 90% of a core
		{95000, 100000, 1.0, false}, // 95% achieved: the collector kept up with what was asked
		{50000, 100000, 0.89, false},
		{50000, 100000, 1.7, true}, // two senders
	} {
		if got := generatorBound(c.achieved, c.asked, c.share); got != c.want {
			t.Errorf("generatorBound(%v, %v, %v) = %v", c.achieved, c.asked, c.share, got)
		}
	}
	run := func(asked float64, sent int64, gen time.Duration) RunResult {
		return RunResult{Spec: RunSpec{Phases: []Phase{{Rate: asked}}}, GenCPU: gen,
			Phases: []PhaseResult{{Load: loadgen.Result{Elapsed: 10 * time.Second, Sent: loadgen.Totals{Lines: sent}}}}}
	}
	if !run(100000, 800000, 9500*time.Millisecond).GeneratorBound() {
		t.Error("80% sent at 95% of a core is generator-bound")
	}
	if run(100000, 800000, 5*time.Second).GeneratorBound() || run(100000, 990000, 10*time.Second).GeneratorBound() || run(0, 10, 10*time.Second).GeneratorBound() {
		t.Error("labelled a run the rule does not")
	}
	// Table cells and headlines count the runs the rule labels; the search's labels likewise.
	runs := []RunResult{run(100000, 800000, 10*time.Second), run(100000, 1000000, time.Second), run(100000, 1000000, time.Second)}
	if got := medianOf(runs, func(r RunResult) float64 { return r.Rate() }).String(); got != "100,000 (80,000–100,000) (generator-bound in 1 of 3 runs)" {
		t.Errorf("medianOf %q", got)
	}
	if got := (figure{text: func(r RunResult) string { return plainYesNo(r.GeneratorBound()) }}).cell(runs).String(); got != "yes; no; no" {
		t.Errorf("each run %q", got)
	}
	e := &env{rates: map[rateKey][]sustained{{collector.Doghouse, udpPacked}: {{rate: 400000, bounded: "generator-bound"}, {rate: 480000}, {rate: 336000, bounded: "step limit"}}}}
	if got := e.rateCell(collector.Doghouse, udpPacked).String(); got != "400,000 (336,000–480,000) (generator-bound in 1 of 3 runs) (step limit in 1 of 3 runs)" {
		t.Errorf("rate cell %q", got)
	}
	if got := e.rateCell(collector.Contrib, udpPacked).String(); got != "not run" {
		t.Errorf("rate cell %q", got)
	}
	if got := e.rateOf(collector.Doghouse, udpPacked); got != 400000 {
		t.Errorf("rateOf %v: the median sizes the later scenarios", got)
	}
}

func TestBufferLabels(t *testing.T) {
	const rmem = 212992
	for _, c := range []struct {
		dh   []int64
		want string
	}{
		{[]int64{rmem}, "equal buffers: doghouse 208 KiB, contrib 208 KiB (system default)"},
		{[]int64{8 << 20}, "unequal buffers: doghouse 8 MiB, contrib 208 KiB (system default)"},
		{[]int64{8 << 20, rmem}, "unequal buffers: doghouse 208 KiB or 8 MiB, contrib 208 KiB (system default)"},
		{nil, "doghouse's buffer not reported, contrib 208 KiB (system default)"},
	} {
		if got := bufLabel(c.dh, rmem); got != c.want {
			t.Errorf("bufLabel(%v) = %q, want %q", c.dh, got, c.want)
		}
	}
	if got := byteSize(1000); got != "1000 bytes" {
		t.Error(got)
	}
	log := `2026-11-29T04:35:14.239Z	info	dogstatsdreceiver/receiver.go:121	DogStatsD listener started	{"resource": {"service.name": "otelcol-doghouse"}, "otelcol.signal": "logs", "transport": "udp", "address": "127.0.0.1:59816", "receive_buffer_bytes": 8388608}
2026-11-29T04:35:14.240Z	info	dogstatsdreceiver/receiver.go:121	DogStatsD listener started	{"transport": "unixgram", "address": "/tmp/x.sock", "receive_buffer_bytes": 212992}
2026-11-29T04:35:14.241Z	info	dogstatsdreceiver/receiver.go:121	DogStatsD listener started	{"transport": "unix", "address": "/tmp/y.sock"}
`
	for tr, want := range map[loadgen.Transport]int64{loadgen.UDP: 8 << 20, loadgen.UnixGram: 212992, loadgen.UnixStream: 0} {
		if got := loggedRcvBuf(log, tr); got != want {
			t.Errorf("%s: %d, want %d", tr, got, want)
		}
	}
}

func TestRefineStepsFromTheFirstSearch(t *testing.T) {
	m := model(100000, 1e9)
	var asked []float64
	try := func(rate float64) (stepOutcome, error) {
		asked = append(asked, rate)
		return m(rate)
	}
	// From a passing rate: up by the precision until a step fails.
	s, err := refine(fullPlan, 70000, try)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(s.rate-84000) > 1e-6 || s.bounded != "" {
		t.Errorf("from below: %v (%s) after %v", s.rate, s.bounded, s.steps)
	}
	// From a failing rate: down until a step passes (each failed step tried twice).
	asked = nil
	if s, err = refine(fullPlan, 130000, try); err != nil {
		t.Fatal(err)
	}
	if math.Abs(s.rate-130000/1.44) > 1e-6 || len(s.steps) != 3 || len(asked) != 5 {
		t.Errorf("from above: %v after %v (%d tries)", s.rate, s.steps, len(asked))
	}
	// The generator's limit stops it as in the full search.
	if s, err = refine(fullPlan, 250000, model(1e9, 280000)); err != nil {
		t.Fatal(err)
	}
	if s.bounded != "generator-bound" || s.rate != 280000 {
		t.Errorf("generator: %v (%s) after %v", s.rate, s.bounded, s.steps)
	}
	// Passing every step: the step limit.
	if s, err = refine(fullPlan, 1000, model(1e12, 1e12)); err != nil {
		t.Fatal(err)
	}
	if s.bounded != "step limit" || len(s.steps) != fullPlan.maxSteps {
		t.Errorf("limit: %v (%s) after %d steps", s.rate, s.bounded, len(s.steps))
	}
}

func TestPlanScaledAndShellJoin(t *testing.T) {
	p := fullPlan.scaled(0.25)
	if p.step != 1500*time.Millisecond || p.fixed != 3*time.Second || p.memory != 5*time.Second || p.runs != fullPlan.runs || p.card != fullPlan.card {
		t.Errorf("scaled plan %+v", p)
	}
	if got := shellJoin([]string{"suite", "-only", "2,3", "-command", "make bench", "-x", "it's", ""}); got != `suite -only 2,3 -command 'make bench' -x 'it'\''s' ''` {
		t.Errorf("shellJoin %s", got)
	}
}
