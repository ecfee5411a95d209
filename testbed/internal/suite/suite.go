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
	// Command is how the run was started ("make bench"), for the report; Args are the suite's
	// arguments.
	Command string
	// Only, when not empty, runs just these scenarios (1-10) of the full suite; the later ones
	// fall back to 50k lines/s where they would use scenario 1's rates.
	Only []int
	// Cardinality overrides the size of the cardinality floods (scenarios 7 and 8), e.g. for a
	// short look; the report states the size used.
	Cardinality Scale
	// Runs overrides how many times scenarios 1-6 measure each configuration (3); every figure
	// is the median of the runs.
	Runs int
	// DurationScale multiplies the load durations of scenarios 1-5 for a short look (0 or 1:
	// the full durations); the report states it.
	DurationScale float64
	Args          []string
}

// plan holds the durations of a suite; the smoke run shortens them.
type plan struct {
	// runs is how many times scenarios 1-6 measure each configuration (searches, in scenario 1),
	// interleaved round by round; their figures are the medians.
	runs        int
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
	runs: 3, step: 6 * time.Second, fixed: 12 * time.Second, memory: 20 * time.Second,
	flood: 30 * time.Second, floodPause: 5 * time.Second, recovery: 10 * time.Second,
	stopAfter: 5 * time.Second, stopLoad: 10 * time.Second,
	searchStart: 25000, maxSteps: 10, precision: 1.2,
	card: Scale{Rate: 100000, Duration: 60 * time.Second, Runs: 3, Count: 1000000},
}

// scaled multiplies the plan's load durations by f.
func (p plan) scaled(f float64) plan {
	for _, d := range []*time.Duration{&p.step, &p.fixed, &p.memory, &p.flood, &p.floodPause, &p.recovery, &p.stopAfter, &p.stopLoad} {
		*d = time.Duration(float64(*d) * f).Round(time.Millisecond)
	}
	return p
}

// smokeCardinality is the cardinality floods' size in the smoke run: a few seconds each.
var smokeCardinality = Scale{Rate: 20000, Duration: 3 * time.Second, Runs: 1, Count: 10000}

// Run runs the suite (or the smoke subset) and returns its report, also when a scenario failed.
func Run(ctx context.Context, o Options) (*Report, error) {
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	if o.Command == "" && o.Smoke && len(o.Args) == 0 {
		o.Command = "make test (DOGHOUSE_TESTBED_SMOKE=1)"
	}
	if _, err := os.Stat(o.Paths.Doghouse); err != nil {
		return nil, fmt.Errorf("otelcol-doghouse is not built (run `make build` at the repository root): %w", err)
	}
	r := &Report{Started: time.Now(), Machine: procstat.ReadMachine(), GoVersion: runtime.Version(), Command: o.Command, Smoke: o.Smoke,
		Args: o.Args, Only: o.Only, RmemDefault: sysctl("net/core/rmem_default")}
	if out, err := exec.Command("git", "-C", o.Paths.Testbed, "rev-parse", "--short", "HEAD").Output(); err == nil {
		r.Commit = strings.TrimSpace(string(out))
		// Tracked files changed since that commit, other than the two files the suite writes.
		st, err := exec.Command("git", "-C", filepath.Join(o.Paths.Testbed, ".."), "status", "--porcelain", "--untracked-files=no", "--",
			".", ":(exclude)README.md", ":(exclude)docs/benchmarks.md").Output()
		r.Dirty = err == nil && len(strings.TrimSpace(string(st))) > 0
	}
	e := &env{o: o, p: fullPlan, rates: map[rateKey][]sustained{}, runs: map[runKey][]RunResult{}, bufs: map[bufKey][]int64{}}
	if o.Smoke {
		e.p.runs = 1
	}
	e.p.runs = cmpOr(o.Runs, e.p.runs)
	if o.DurationScale > 0 && o.DurationScale != 1 {
		e.p = e.p.scaled(o.DurationScale)
		r.DurationScale = o.DurationScale
	}
	r.Runs, r.CardRuns = e.p.runs, o.Cardinality.or(e.p.card).Runs
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
	o  Options
	p  plan
	wl map[string]*loadgen.Workload
	// rates holds scenario 1's searches of each configuration.
	rates map[rateKey][]sustained
	// runs keeps the runs the headlines quote, by scenario and configuration.
	runs map[runKey][]RunResult
	// bufs holds the receive buffers doghouse reported, by transport and setting.
	bufs map[bufKey][]int64
	// cli is the chunkfile CLI once built.
	cli string
}

// runKey names the runs of one configuration in one scenario, for the headlines: scenario 7
// and 8's configurations are cardConfig values, the others a searchCase's doghouse setting.
type runKey struct {
	scenario int
	kind     collector.Kind
	c        searchCase
	card     cardConfig
}

// bufKey is a doghouse listener's transport and its so_rcvbuf setting.
type bufKey struct {
	tr     loadgen.Transport
	rcvbuf int
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
	if res.RcvBuf > 0 {
		k := bufKey{spec.Transport, spec.UDPRcvBuf}
		if !slices.Contains(e.bufs[k], res.RcvBuf) {
			e.bufs[k] = append(e.bufs[k], res.RcvBuf)
		}
	}
	return res, nil
}

// config is one configuration a scenario measures several times.
type config struct {
	name string // for the progress output and failures
	spec RunSpec
}

// repeat measures every configuration the plan's number of times, round by round (each
// configuration once, then each again), so that a change in the machine's load spreads over all
// of them alike. It returns the completed runs of each configuration and what failed.
func (e *env) repeat(ctx context.Context, scenario string, configs []config) ([][]RunResult, []string) {
	out := make([][]RunResult, len(configs))
	var failed []string
	for round := range e.p.runs {
		for i, c := range configs {
			if ctx.Err() != nil {
				return out, append(failed, ctx.Err().Error())
			}
			e.logf("%s: %s, run %d of %d", scenario, c.name, round+1, e.p.runs)
			res, err := e.measure(ctx, c.spec)
			if err != nil {
				failed = append(failed, fmt.Sprintf("%s, run %d: %v", c.name, round+1, err))
				continue
			}
			out[i] = append(out[i], res)
		}
	}
	return out, failed
}

// full runs every scenario against both collectors.
func (e *env) full(ctx context.Context, r *Report) error {
	// Scenarios 9 and 10 compare with VictoriaMetrics only: the contrib build is needed by 1-8.
	if len(e.o.Only) == 0 || slices.ContainsFunc(e.o.Only, func(n int) bool { return n <= 8 }) {
		if err := BuildContrib(ctx, e.o.Paths, e.o.Progress); err != nil {
			return err
		}
	}
	steps := []func(context.Context, *Report) error{
		e.sustainable, e.cpuFixed, e.memory, e.flood, e.gracefulStop, e.killChunkfile, e.uniqueNames, e.tagValues,
		e.opentsdbPut, e.queryCompare,
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

// sustained is what one search of scenario 1 found.
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

// searchRate runs one search of configuration key: the full search from the plan's start, or,
// with local, the short one from start (see refine).
func (e *env) searchRate(ctx context.Context, key rateKey, start float64, local bool) (sustained, error) {
	w := e.mixed(key.c.tr, key.c.packing)
	spec := RunSpec{Kind: key.k, Transport: key.c.tr, UDPRcvBuf: key.c.rcvbuf}
	try := func(rate float64) (stepOutcome, error) {
		spec.Phases = []Phase{{Traffic: w, Rate: rate, Duration: e.p.step}}
		res, err := e.measure(ctx, spec)
		if err != nil {
			return stepOutcome{}, err
		}
		o := stepOutcome{achieved: res.Rate(), loss: res.Loss(), errors: res.Phases[0].Load.Errors}
		if res.Phases[0].Load.Elapsed > 0 {
			o.genShare = res.GenCPU.Seconds() / res.Phases[0].Load.Elapsed.Seconds()
		}
		return o, nil
	}
	if local {
		return refine(e.p, start, try)
	}
	return search(e.p, try)
}

// search doubles the rate from the plan's start until a step fails, then bisects
// (geometrically) until the passing and failing rates are within the plan's precision; it halves
// instead while nothing has passed. A step that fell short of the asked rate without loss while
// the generator was busy all the time (its CPU at least 90% of the wall time) was limited by the
// generator, not the collector: the search stops there with the achieved rate as a lower bound.
func search(p plan, try func(rate float64) (stepOutcome, error)) (sustained, error) {
	return searchFrom(p, p.searchStart, false, try)
}

// refine is the short search that repeats a full one: from start (the full search's rate) it
// steps up by the plan's precision while steps pass, or down while they fail, and stops at the
// first step whose verdict differs from the first's, reporting the highest passing rate. Steps
// pass and fail, and the generator's limit stops it, as in search.
func refine(p plan, start float64, try func(rate float64) (stepOutcome, error)) (sustained, error) {
	return searchFrom(p, start, true, try)
}

func searchFrom(p plan, start float64, local bool, try func(rate float64) (stepOutcome, error)) (sustained, error) {
	var s sustained
	rate, lo, hi := start, 0.0, math.Inf(1)
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
		case local && lo > 0 && !math.IsInf(hi, 1): // the verdict changed
			s.rate = lo
			return s, nil
		case local && ok:
			rate *= p.precision
		case local:
			rate /= p.precision
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

// searchCase is a traffic and transport, and doghouse's UDP so_rcvbuf setting.
type searchCase struct {
	tr      loadgen.Transport
	packing loadgen.Packing
	// rcvbuf is doghouse's udp.so_rcvbuf: 0 leaves it unset (the receiver's default),
	// collector.SystemRcvBuf sets 0 (the system default, as contrib has); contrib has no such
	// setting, and its cases always have 0.
	rcvbuf int
}

func (c searchCase) String() string {
	s := fmt.Sprintf("%s, %s", c.tr, c.packing)
	if c.tr == loadgen.UDP {
		s += ", doghouse " + rcvbufSetting(c.rcvbuf)
	}
	return s
}

// rcvbufSetting names a doghouse so_rcvbuf setting.
func rcvbufSetting(n int) string {
	switch n {
	case 0:
		return "so_rcvbuf unset (the receiver's default)"
	case collector.SystemRcvBuf:
		return "so_rcvbuf: 0 (the system default)"
	}
	return fmt.Sprintf("so_rcvbuf: %d", n)
}

// contribCase is the contrib configuration measured next to doghouse's case c: the same
// traffic and transport; contrib has no buffer setting.
func contribCase(c searchCase) searchCase { return searchCase{tr: c.tr, packing: c.packing} }

// hasContrib says whether the contrib receiver has c's transport.
func hasContrib(c searchCase) bool { return c.tr != loadgen.UnixStream }

var (
	udpPacked       = searchCase{tr: loadgen.UDP, packing: loadgen.Packed}
	udpPackedSystem = searchCase{tr: loadgen.UDP, packing: loadgen.Packed, rcvbuf: collector.SystemRcvBuf}
	udpSingle       = searchCase{tr: loadgen.UDP, packing: loadgen.Single}
	udpSingleSystem = searchCase{tr: loadgen.UDP, packing: loadgen.Single, rcvbuf: collector.SystemRcvBuf}
	unixgramPacked  = searchCase{tr: loadgen.UnixGram, packing: loadgen.Packed}
	unixPacked      = searchCase{tr: loadgen.UnixStream, packing: loadgen.Packed}
)

// caseGroups are scenario 1's and 2's configurations: doghouse's cases of one traffic, whose
// runs alternate with contrib's of the same traffic.
var caseGroups = [][]searchCase{{udpPacked, udpPackedSystem}, {udpSingle, udpSingleSystem}, {unixgramPacked}, {unixPacked}}

// groupKeys are the configurations of a group: doghouse's cases, then contrib's.
func groupKeys(group []searchCase) []rateKey {
	var keys []rateKey
	for _, c := range group {
		keys = append(keys, rateKey{collector.Doghouse, c})
	}
	if hasContrib(group[0]) {
		keys = append(keys, rateKey{collector.Contrib, contribCase(group[0])})
	}
	return keys
}

func (e *env) sustainable(ctx context.Context, r *Report) error {
	sec := Section{
		Scenario: 1, Title: "Maximum sustainable rate",
		Method: fmt.Sprintf("Each figure is the median of %d searches per configuration, with the searches' range in brackets; the "+
			"searches of the configurations of one traffic alternate (doghouse's, then contrib's, then again), so a change in the "+
			"machine's load falls on both. Search 1 doubles the rate from %s lines/s until a step fails, then bisects until "+
			"the passing and failing rates are within %.0f%%. Searches 2 and later start at search 1's rate and step by %.0f%% "+
			"up while steps pass, or down while they fail, until a step's verdict differs from the first's; a search's rate is "+
			"its highest passing step. Each step is a fresh collector fed for %s at a fixed rate; it passes when the counter "+
			"totals in the output miss less than 0.1%% of what was sent and the generator achieved at least 95%% of the asked "+
			"rate (a Unix socket that makes the sender wait fails the step); a failed step is tried once more and passes if "+
			"either try does. A search stops as generator-bound at a step that lost nothing but sent less than 95%% of the asked "+
			"rate while the generator used at least 90%% of a core: its rate is then the higher of the last passing step and "+
			"what that step sent, a lower bound. A search that never failed in %d steps stops at the step limit. Labels count "+
			"the searches they apply to. doghouse's UDP socket buffer runs two ways: so_rcvbuf unset, the receiver's default, "+
			"and so_rcvbuf: 0, the system's default (net.core.rmem_default, %s bytes here), which is what the contrib "+
			"receiver always has (it has no setting); the buffer the kernel reported to doghouse is in each row. Traffic: %s; "+
			"over Unix sockets the same lines packed up to 8192 bytes.",
			e.p.runs, formatNum(e.p.searchStart), 100*(e.p.precision-1), 100*(e.p.precision-1), e.p.step, e.p.maxSteps,
			sysctl("net/core/rmem_default"), describeWorkload(e.mixed(loadgen.UDP, loadgen.Packed))),
	}
	t := Table{Caption: fmt.Sprintf("Highest rate with loss < 0.1%% (lines/s), median (min–max) of %d searches", e.p.runs)}
	for _, group := range caseGroups {
		keys := groupKeys(group)
		first := map[rateKey]float64{}
		broken := map[rateKey]bool{}
		for round := range e.p.runs {
			for _, key := range keys {
				if broken[key] {
					continue
				}
				e.logf("scenario 1: %s, search %d of %d", key, round+1, e.p.runs)
				start, local := e.p.searchStart, round > 0
				if local && first[key] > 0 {
					start = first[key]
				}
				s, err := e.searchRate(ctx, key, start, local)
				if err != nil {
					sec.Failed = append(sec.Failed, fmt.Sprintf("%s, search %d: %v", key, round+1, err))
					broken[key] = true
					continue
				}
				if round == 0 {
					first[key] = s.rate
				}
				e.rates[key] = append(e.rates[key], s)
				sec.Notes = append(sec.Notes, fmt.Sprintf("%s, search %d steps: %s", key, round+1, strings.Join(s.steps, "; ")))
			}
		}
		for _, c := range group {
			row := Row{Figure: c.String() + e.bufNote(collector.Doghouse, c), Doghouse: e.rateCell(collector.Doghouse, c)}
			switch {
			case c.tr == loadgen.UnixStream:
				row.Contrib = NA("no Unix stream transport")
			default:
				row.Contrib = e.rateCell(collector.Contrib, contribCase(c))
			}
			t.Rows = append(t.Rows, row)
		}
	}
	sec.Tables = append(sec.Tables, t)
	r.Sections = append(r.Sections, sec)
	r.RateMethod = fmt.Sprintf("Sustainable rate: the highest rate at which a %s step of a fresh collector lost less than 0.1%% "+
		"of the counter total sent and sent at least 95%% of the asked rate (a failed step is tried once more). A cell is the "+
		"median of %d searches: search 1 doubles from %s lines/s, then bisects to within %.0f%%; the others start at search "+
		"1's rate and step by %.0f%% up while steps pass, or down while they fail, until a step's verdict differs.",
		e.p.step, e.p.runs, formatNum(e.p.searchStart), 100*(e.p.precision-1), 100*(e.p.precision-1))
	return nil
}

// rateCell is the median of a configuration's searches with their range and labels.
func (e *env) rateCell(k collector.Kind, c searchCase) Cell {
	ss, ok := e.rates[rateKey{k, c}]
	if !ok {
		return Text("not run")
	}
	vals := make([]float64, len(ss))
	bounded := map[string]int{}
	for i, s := range ss {
		vals[i] = s.rate
		if s.bounded != "" {
			bounded[s.bounded]++
		}
	}
	cell := Median(vals)
	for _, label := range []string{"generator-bound", "step limit"} {
		cell = cell.withNote(countNote(label, bounded[label], len(ss)))
	}
	return cell
}

// bufNote gives the receive buffer doghouse's listener reported in case c's runs, for a row's
// name: "; kernel reports 8 MiB".
func (e *env) bufNote(k collector.Kind, c searchCase) string {
	if k != collector.Doghouse || c.tr == loadgen.UnixStream {
		return ""
	}
	b := e.bufs[bufKey{c.tr, c.rcvbuf}]
	if len(b) == 0 {
		return ""
	}
	return "; kernel reports " + bufSizes(b)
}

// bufSizes renders receive buffer sizes: "8 MiB", "208 KiB", or several joined with " or ".
func bufSizes(b []int64) string {
	s := slices.Clone(b)
	slices.Sort(s)
	parts := make([]string, len(s))
	for i, n := range s {
		parts[i] = byteSize(n)
	}
	return strings.Join(parts, " or ")
}

// byteSize is n bytes in MiB or KiB when it is a whole number of them.
func byteSize(n int64) string {
	switch {
	case n > 0 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n > 0 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

type rateKey struct {
	k collector.Kind
	c searchCase
}

// String names the configuration: contrib's without doghouse's buffer setting.
func (k rateKey) String() string {
	if k.k == collector.Contrib {
		return fmt.Sprintf("contrib %s, %s", k.c.tr, k.c.packing)
	}
	return fmt.Sprintf("%s %s", k.k, k.c)
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
