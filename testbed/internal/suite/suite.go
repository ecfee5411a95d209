package suite

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/doghouse-otel/doghouse/testbed/internal/collector"
	"github.com/doghouse-otel/doghouse/testbed/internal/loadgen"
	"github.com/doghouse-otel/doghouse/testbed/internal/procstat"
)

// Options selects what Run measures.
type Options struct {
	Paths Paths
	// Smoke runs the short doghouse-only subset (under 2 minutes): exact delivery over every
	// transport at a low rate and a graceful stop under load.
	Smoke    bool
	Progress io.Writer
	// Command is how the run was started, for the report.
	Command string
	// Only, when not empty, runs just these scenarios (1-8) of the full suite; the later ones
	// fall back to 50k lines/s where they would use scenario 1's rates.
	Only []int
	// Cardinality overrides the size of the cardinality floods (scenarios 7 and 8), e.g. for a
	// short look; the report states the size used.
	Cardinality Scale
}

// plan holds the durations of a suite; the smoke run shortens them.
type plan struct {
	step        time.Duration // one step of the sustainable-rate search
	fixed       time.Duration // the fixed-rate CPU runs
	memory      time.Duration
	flood       time.Duration
	floodPause  time.Duration
	recovery    time.Duration
	stopAfter   time.Duration // graceful stop / kill -9 this far into the load
	stopLoad    time.Duration
	searchStart float64
	maxSteps    int
	precision   float64 // the search stops when fail/pass rates are within this factor
	card        Scale   // the cardinality floods
}

var fullPlan = plan{
	step: 6 * time.Second, fixed: 12 * time.Second, memory: 20 * time.Second,
	flood: 30 * time.Second, floodPause: 5 * time.Second, recovery: 10 * time.Second,
	stopAfter: 5 * time.Second, stopLoad: 10 * time.Second,
	searchStart: 25000, maxSteps: 10, precision: 1.2,
	card: Scale{Rate: 100000, Duration: 60 * time.Second, Runs: 3, Count: 1000000},
}

// smokeCardinality is the cardinality floods' size in the smoke run: a few seconds each.
var smokeCardinality = Scale{Rate: 20000, Duration: 3 * time.Second, Runs: 1, Count: 10000}

// Run runs the suite (or the smoke subset) and returns its report, also when a scenario failed.
func Run(ctx context.Context, o Options) (*Report, error) {
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	if o.Command == "" {
		o.Command = "make bench"
		if o.Smoke {
			o.Command = "make test (DOGHOUSE_TESTBED_SMOKE=1)"
		}
	}
	if _, err := os.Stat(o.Paths.Doghouse); err != nil {
		return nil, fmt.Errorf("otelcol-doghouse is not built (run `make build` at the repository root): %w", err)
	}
	r := &Report{Started: time.Now(), Machine: procstat.ReadMachine(), GoVersion: runtime.Version(), Command: o.Command, Smoke: o.Smoke}
	if out, err := exec.Command("git", "-C", o.Paths.Testbed, "rev-parse", "--short", "HEAD").Output(); err == nil {
		r.Commit = strings.TrimSpace(string(out))
	}
	e := &env{o: o, p: fullPlan, rates: map[rateKey]sustained{}, fixed: map[collector.Kind]RunResult{}, mem: map[collector.Kind]RunResult{}}
	if n, err := strconv.Atoi(sysctl("net/core/rmem_default")); err == nil && n > 0 {
		t := e.mixed(loadgen.UDP, loadgen.Packed).Total()
		perLine := float64(t.Bytes) / float64(t.Lines)
		r.BufferNote = fmt.Sprintf("UDP figures at the system's default socket buffer are the noisiest: %d bytes hold at most "+
			"%.0f ms of these lines (%.0f bytes a line) at 100k lines/s, so a reader held off the CPU for longer loses datagrams.",
			n, float64(n)/(100000*perLine)*1000, perLine)
	}
	var err error
	if o.Smoke {
		err = e.smoke(ctx, r)
	} else {
		err = e.full(ctx, r)
	}
	r.Finished, r.LoadAfter = time.Now(), procstat.LoadAvg()
	if err == nil {
		if f := r.Failures(); len(f) > 0 {
			err = fmt.Errorf("%d checks failed:\n  %s", len(f), strings.Join(f, "\n  "))
		}
	}
	return r, err
}

type env struct {
	o     Options
	p     plan
	wl    map[string]*loadgen.Workload
	rates map[rateKey]sustained
	// fixed keeps scenario 2's UDP packed runs for the headline.
	fixed map[collector.Kind]RunResult
	mem   map[collector.Kind]RunResult
	// cli is the chunkfile CLI once built.
	cli string
}

// chunkfileCLI builds the project's chunkfile CLI once per suite.
func (e *env) chunkfileCLI(ctx context.Context) (string, error) {
	if e.cli != "" {
		return e.cli, nil
	}
	cli, err := BuildChunkfileCLI(ctx, e.o.Paths)
	e.cli = cli
	return cli, err
}

// BuildChunkfileCLI builds the project's cmd/chunkfile into the testbed's build/bin and returns
// its path. Bounded to 10 minutes.
func BuildChunkfileCLI(ctx context.Context, p Paths) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	cli := filepath.Join(p.Testbed, "build", "bin", "chunkfile")
	build := exec.CommandContext(ctx, "go", "build", "-C", filepath.Join(p.Testbed, ".."), "-o", cli, "./cmd/chunkfile")
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building cmd/chunkfile: %v\n%s", err, out)
	}
	return cli, nil
}

func (e *env) logf(format string, args ...any) {
	fmt.Fprintf(e.o.Progress, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

func (e *env) binary(k collector.Kind) string {
	if k == collector.Contrib {
		return e.o.Paths.Contrib
	}
	return e.o.Paths.Doghouse
}

// workload builds (once) the traffic named by key.
func (e *env) workload(key string, cfg loadgen.Config) *loadgen.Workload {
	if e.wl == nil {
		e.wl = map[string]*loadgen.Workload{}
	}
	if w, ok := e.wl[key]; ok {
		return w
	}
	w, err := loadgen.Build(cfg)
	if err != nil {
		panic(fmt.Sprintf("suite: workload %s: %v", key, err)) // the configs are fixed in code
	}
	e.wl[key] = w
	return w
}

// PacketSize is what the official DogStatsD client (datadog-go) packs a datagram up to by
// default: 1432 bytes over UDP (fits a 1500-byte MTU), 8192 over Unix sockets.
func PacketSize(tr loadgen.Transport) int {
	if tr == loadgen.UDP {
		return 1432
	}
	return 8192
}

func (e *env) mixed(tr loadgen.Transport, p loadgen.Packing) *loadgen.Workload {
	size := PacketSize(tr)
	return e.workload(fmt.Sprintf("mixed-%s-%d", p, size), loadgen.Config{Seed: 1, Contexts: 1000, Packing: p, PacketSize: size})
}

// measure runs one spec, logging what it saw; a run that could not complete is an error.
func (e *env) measure(ctx context.Context, spec RunSpec) (RunResult, error) {
	spec.Binary = e.binary(spec.Kind)
	res, err := Measure(ctx, spec)
	if err != nil {
		e.logf("FAILED %s/%s: %v\n%s", spec.Kind, spec.Transport, err, res.Log)
		return res, err
	}
	e.logf("%s", Describe(res))
	return res, nil
}

// full runs every scenario against both collectors.
func (e *env) full(ctx context.Context, r *Report) error {
	if err := BuildContrib(ctx, e.o.Paths, e.o.Progress); err != nil {
		return err
	}
	steps := []func(context.Context, *Report) error{
		e.sustainable, e.cpuFixed, e.memory, e.flood, e.gracefulStop, e.killChunkfile, e.uniqueNames, e.tagValues,
	}
	for i, step := range steps {
		if len(e.o.Only) > 0 && !slices.Contains(e.o.Only, i+1) {
			continue
		}
		if err := step(ctx, r); err != nil {
			return err
		}
	}
	e.headlines(r)
	return nil
}

// sustained is what scenario 1 found, used to size the later scenarios.
type sustained struct {
	rate    float64
	bounded string // why the search stopped short of a failing rate, if it did
	steps   []string
}

// stepOutcome is what one step of the search measured.
type stepOutcome struct {
	achieved, loss float64
	errors         int64
	// genShare is the generator's CPU over the step's wall time, per sender socket: near 1
	// means the generator itself could go no faster.
	genShare float64
}

// searchRate finds the highest rate with loss under 0.1% and at least 95% of the asked rate
// achieved.
func (e *env) searchRate(ctx context.Context, kind collector.Kind, tr loadgen.Transport, rcvbuf int, w *loadgen.Workload) (sustained, error) {
	return search(e.p, func(rate float64) (stepOutcome, error) {
		res, err := e.measure(ctx, RunSpec{Kind: kind, Transport: tr, UDPRcvBuf: rcvbuf, Phases: []Phase{{Traffic: w, Rate: rate, Duration: e.p.step}}})
		if err != nil {
			return stepOutcome{}, err
		}
		o := stepOutcome{achieved: res.Rate(), loss: res.Loss(), errors: res.Phases[0].Load.Errors}
		if res.Phases[0].Load.Elapsed > 0 {
			o.genShare = res.GenCPU.Seconds() / res.Phases[0].Load.Elapsed.Seconds()
		}
		return o, nil
	})
}

// search doubles the rate from the plan's start until a step fails, then bisects
// (geometrically) until the passing and failing rates are within the plan's precision; it halves
// instead while nothing has passed. A step that fell short of the asked rate without loss while
// the generator was busy all the time (its CPU at least 90% of the wall time) was limited by the
// generator, not the collector: the search stops there with the achieved rate as a lower bound.
func search(p plan, try func(rate float64) (stepOutcome, error)) (sustained, error) {
	var s sustained
	rate, lo, hi := p.searchStart, 0.0, math.Inf(1)
	for i := 0; i < p.maxSteps; i++ {
		// A failed step is tried once more: on a shared machine one descheduled reader can lose
		// a burst; the rate counts as sustained if either try holds.
		var o stepOutcome
		ok := false
		var tries []string
		for try1 := 0; try1 < 2 && !ok; try1++ {
			var err error
			if o, err = try(rate); err != nil {
				return s, err
			}
			ok = o.loss < 0.001 && o.achieved >= 0.95*rate && o.errors == 0
			tries = append(tries, fmt.Sprintf("sent %s/s, loss %.3f%%, generator %.0f%% of a core", formatNum(o.achieved), 100*o.loss, 100*o.genShare))
		}
		verdict := "ok"
		if !ok {
			verdict = "fail"
		}
		s.steps = append(s.steps, fmt.Sprintf("%s/s: %s → %s", formatNum(rate), strings.Join(tries, ", then "), verdict))
		if ok {
			lo = rate
		} else {
			hi = rate
			if o.loss < 0.001 && o.errors == 0 && generatorBound(o.achieved, rate, o.genShare) {
				s.rate, s.bounded = math.Max(lo, o.achieved), "generator-bound"
				return s, nil
			}
		}
		switch {
		case math.IsInf(hi, 1):
			rate *= 2
		case lo == 0:
			rate /= 2
		case hi/lo <= p.precision:
			s.rate = lo
			return s, nil
		default:
			rate = math.Sqrt(lo * hi)
		}
	}
	s.rate = lo
	if math.IsInf(hi, 1) {
		s.bounded = "step limit"
	}
	return s, nil
}

// generatorBound says that a run sent less than 95% of the asked rate while the generator was
// busy all the time (its CPU at least 90% of the wall time): the generator, not the collector,
// set the rate.
func generatorBound(achieved, asked, genShare float64) bool {
	return achieved < 0.95*asked && genShare >= 0.9
}

type searchCase struct {
	tr      loadgen.Transport
	packing loadgen.Packing
	rcvbuf  int // doghouse udp.so_rcvbuf; the contrib receiver cannot set it
}

func (c searchCase) String() string {
	s := fmt.Sprintf("%s, %s", c.tr, c.packing)
	if c.rcvbuf > 0 {
		s += fmt.Sprintf(", doghouse so_rcvbuf %d MiB", c.rcvbuf>>20)
	}
	return s
}

// bigRcvbuf is net.core.rmem_max on the testbed's machine: the most so_rcvbuf gets without
// privileges.
const bigRcvbuf = 4 << 20

func (e *env) sustainable(ctx context.Context, r *Report) error {
	sec := Section{
		Title: "Maximum sustainable rate",
		Method: fmt.Sprintf("Stepwise search per transport: each step is a fresh collector fed for %s at a fixed rate; "+
			"a step passes when the counter totals in the output miss less than 0.1%% of what was sent and the "+
			"generator achieved at least 95%% of the asked rate (a Unix socket that makes the sender wait fails the "+
			"step); a failed step is tried once more and passes if either try does. Both receivers keep the "+
			"system's default socket buffers (net.core.rmem_default, %s bytes here), except in the row where doghouse "+
			"sets `udp.so_rcvbuf` to 4 MiB (net.core.rmem_max here), which the contrib receiver has no setting for. "+
			"Rates double from %s lines/s "+
			"until a step fails, then bisect until within %.0f%%. Traffic: %s; over Unix sockets the same lines "+
			"packed up to 8192 bytes.",
			e.p.step, sysctl("net/core/rmem_default"), formatNum(e.p.searchStart), 100*(e.p.precision-1), describeWorkload(e.mixed(loadgen.UDP, loadgen.Packed))),
	}
	t := Table{Caption: "Highest rate with loss < 0.1% (lines/s)"}
	for _, c := range []searchCase{{tr: loadgen.UDP, packing: loadgen.Packed}, {tr: loadgen.UDP, packing: loadgen.Single},
		{tr: loadgen.UDP, packing: loadgen.Packed, rcvbuf: bigRcvbuf}, {tr: loadgen.UnixGram, packing: loadgen.Packed}, {tr: loadgen.UnixStream, packing: loadgen.Packed}} {
		row := Row{Figure: c.String()}
		for _, k := range []collector.Kind{collector.Doghouse, collector.Contrib} {
			if k == collector.Contrib && c.tr == loadgen.UnixStream {
				row.Contrib = NA("no Unix stream transport")
				continue
			}
			if k == collector.Contrib && c.rcvbuf > 0 {
				row.Contrib = NA("no UDP so_rcvbuf setting")
				continue
			}
			e.logf("scenario 1: %s %s", k, c)
			s, err := e.searchRate(ctx, k, c.tr, c.rcvbuf, e.mixed(c.tr, c.packing))
			if err != nil {
				sec.Failed = append(sec.Failed, fmt.Sprintf("%s %s: %v", k, c, err))
				continue
			}
			cell := Num(s.rate)
			if s.bounded != "" {
				cell.Note = "(" + s.bounded + ")"
			}
			if k == collector.Doghouse {
				row.Doghouse = cell
			} else {
				row.Contrib = cell
			}
			sec.Notes = append(sec.Notes, fmt.Sprintf("%s %s steps: %s", k, c, strings.Join(s.steps, "; ")))
			e.rates[rateKey{k, c}] = s
		}
		t.Rows = append(t.Rows, row)
	}
	sec.Tables = append(sec.Tables, t)
	r.Sections = append(r.Sections, sec)
	return nil
}

type rateKey struct {
	k collector.Kind
	c searchCase
}

func sysctl(name string) string {
	b, err := os.ReadFile("/proc/sys/" + name)
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(b))
}

func describeWorkload(w *loadgen.Workload) string {
	c, t := w.Config(), w.Total()
	packing := fmt.Sprintf("lines packed into datagrams of up to %d bytes", c.PacketSize)
	if c.Packing == loadgen.Single {
		packing = "one line per datagram"
	}
	return fmt.Sprintf("%d contexts (%s), %d–%d tags a line, %.0f%% packed values, an event and a service check every %d lines, "+
		"%s (%.0f bytes and %.1f lines a datagram on average, %.0f bytes a line)",
		c.Contexts, kindMix(w), c.MinTags, c.MaxTags, 100*c.PackedFraction, c.EventEvery, packing,
		float64(t.Bytes)/float64(t.Datagrams), float64(t.Lines)/float64(t.Datagrams), float64(t.Bytes)/float64(t.Lines))
}

func kindMix(w *loadgen.Workload) string {
	var parts []string
	for _, k := range []string{"c", "g", "d", "h", "ms", "s"} {
		parts = append(parts, fmt.Sprintf("%s %d", k, w.Contexts()[k]))
	}
	return strings.Join(parts, ", ")
}
