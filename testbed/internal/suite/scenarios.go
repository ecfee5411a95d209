package suite

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/doghouse-otel/doghouse/testbed/internal/collector"
	"github.com/doghouse-otel/doghouse/testbed/internal/loadgen"
	"github.com/doghouse-otel/doghouse/testbed/internal/procstat"
)

var kinds = []collector.Kind{collector.Doghouse, collector.Contrib}

// udpPacket is the datagram size of every UDP workload.
var udpPacket = PacketSize(loadgen.UDP)

// figure is one row of a run table: a value of each run, shown as the median (min–max) of the
// runs, or a text of each run.
type figure struct {
	name  string
	value func(RunResult) float64
	text  func(RunResult) string
	// na, when it gives a reason for the runs' configuration, makes the figure n/a.
	na func(RunResult) string
}

func (f figure) cell(runs []RunResult) Cell {
	if len(runs) == 0 {
		return Text("no run completed")
	}
	if f.na != nil {
		if why := f.na(runs[0]); why != "" {
			return NA(why)
		}
	}
	if f.text != nil {
		return Text(eachRun(f.text)(runs))
	}
	vals := make([]float64, len(runs))
	for i, r := range runs {
		vals[i] = f.value(r)
	}
	return Median(vals)
}

// figureTable puts doghouse's and contrib's runs of one configuration each side by side, with
// how many of the planned runs completed.
func figureTable(caption string, figs []figure, dh, co []RunResult, planned int) Table {
	t := Table{Caption: caption}
	for _, f := range figs {
		t.Rows = append(t.Rows, Row{Figure: f.name, Doghouse: f.cell(dh), Contrib: f.cell(co)})
	}
	done := func(runs []RunResult) Cell { return Text(fmt.Sprintf("%d of %d", len(runs), planned)) }
	t.Rows = append(t.Rows, Row{Figure: "runs completed", Doghouse: done(dh), Contrib: done(co)})
	return t
}

func sentLines(r RunResult) float64 {
	var t loadgen.Totals
	for _, p := range r.Phases {
		t.Add(p.Load.Sent)
	}
	return float64(t.Lines)
}

func contribNA(why string) func(RunResult) string {
	return func(r RunResult) string {
		if r.Spec.Kind == collector.Contrib {
			return why
		}
		return ""
	}
}

func mibOf(b int64) float64 { return float64(b) / (1 << 20) }

// generatorRule is the testbed's rule for the generator-bound label.
const generatorRule = "sent < 95% of the asked rate while the load generator used ≥ 90% of a core"

// runFigures are the standard rows of a run table.
var runFigures = []figure{
	{name: "lines sent", value: sentLines},
	{name: "achieved send rate (lines/s)", value: RunResult.Rate},
	{name: "generator-bound (" + generatorRule + "), each run", text: func(r RunResult) string { return plainYesNo(r.GeneratorBound()) }},
	{name: "lines accepted (collector's own telemetry)", value: func(r RunResult) float64 { return r.Accepted }},
	{name: "kernel drops (datagrams, /proc/net/udp)", value: func(r RunResult) float64 { return float64(r.KernelDrops) },
		na: func(r RunResult) string {
			if r.KernelDrops < 0 {
				return "not UDP"
			}
			return ""
		}},
	{name: "socket receive buffer the kernel reported to doghouse (bytes)", value: func(r RunResult) float64 { return float64(r.RcvBuf) },
		na: func(r RunResult) string {
			switch {
			case r.Spec.Kind == collector.Contrib:
				return "no setting: the system default"
			case r.RcvBuf == 0:
				return "not reported"
			}
			return ""
		}},
	{name: "queue drops (packets)", value: func(r RunResult) float64 { return r.QueueDrops }, na: contribNA("no queue")},
	{name: "samples sent to the overflow contexts at max_contexts", value: func(r RunResult) float64 { return r.ContextsOverflow }, na: contribNA("no limit")},
	{name: "loss, end to end (% of the counter total sent missing from the output)", value: func(r RunResult) float64 { return 100 * r.Loss() }},
	{name: "collector CPU, user+system (s)", value: func(r RunResult) float64 { return r.CPU.Seconds() }},
	{name: "collector CPU per million lines received (s)", value: RunResult.CPUPerMillion},
	{name: "load generator CPU (s)", value: func(r RunResult) float64 { return r.GenCPU.Seconds() }},
	{name: "RSS before load (MiB)", value: func(r RunResult) float64 { return mibOf(r.BaseRSS) }},
	{name: "peak RSS, VmHWM (MiB)", value: func(r RunResult) float64 { return mibOf(r.PeakRSS) }},
	{name: "data points written", value: func(r RunResult) float64 { return float64(r.Output.Points) }},
}

// keyConfigs are the run configurations of rate keys, all fed phase.
func keyConfigs(keys []rateKey, phase func(rateKey) Phase, extra func(*RunSpec)) []config {
	var cs []config
	for _, key := range keys {
		spec := RunSpec{Kind: key.k, Transport: key.c.tr, UDPRcvBuf: key.c.rcvbuf, Phases: []Phase{phase(key)}}
		if extra != nil {
			extra(&spec)
		}
		cs = append(cs, config{name: key.String(), spec: spec})
	}
	return cs
}

// cpuFixed is scenario 2: CPU per million lines at a fixed 100k lines/s.
func (e *env) cpuFixed(ctx context.Context, r *Report) error {
	const rate = 100000
	sec := Section{
		Scenario: 2, Title: "CPU per million lines at 100k lines/s",
		Method: fmt.Sprintf("Each collector is fed %s lines/s for %s per configuration, %d runs each, interleaved (every "+
			"configuration once, then again); every figure is the median of the runs with their range in brackets. CPU is "+
			"the collector process's user+system time (/proc/<pid>/stat) from the first line until it has processed everything "+
			"(its line counter still for 1.5 s), divided by the lines that reached it (sent × counter total out/in). "+
			"doghouse's UDP socket buffer runs unset (the receiver's default) and at the system default, as in scenario 1.",
			formatNum(rate), e.p.fixed, e.p.runs),
	}
	var keys []rateKey
	for _, g := range caseGroups {
		keys = append(keys, groupKeys(g)...)
	}
	runs, failed := e.repeat(ctx, "scenario 2", keyConfigs(keys, func(k rateKey) Phase {
		return Phase{Traffic: e.mixed(k.c.tr, k.c.packing), Rate: rate, Duration: e.p.fixed}
	}, nil))
	sec.Failed = append(sec.Failed, failed...)
	byKey := map[rateKey][]RunResult{}
	for i, k := range keys {
		byKey[k] = runs[i]
		e.runs[runKey{scenario: 2, kind: k.k, c: k.c}] = runs[i]
	}
	for _, g := range caseGroups {
		for _, c := range g {
			t := figureTable(fmt.Sprintf("%s at %s lines/s", c, formatNum(rate)), runFigures,
				byKey[rateKey{collector.Doghouse, c}], byKey[rateKey{collector.Contrib, contribCase(c)}], e.p.runs)
			if !hasContrib(c) {
				for i := range t.Rows {
					t.Rows[i].Contrib = NA("no Unix stream transport")
				}
			}
			sec.Tables = append(sec.Tables, t)
		}
	}
	r.Sections = append(r.Sections, sec)
	return nil
}

// memory is scenario 3: 100k distinct contexts.
func (e *env) memory(ctx context.Context, r *Report) error {
	const rate = 100000
	w := e.workload("100k", loadgen.Config{Seed: 2, Contexts: 100000, Lines: 200000, PacketSize: udpPacket})
	sec := Section{
		Scenario: 3, Title: "Memory with 100k contexts",
		Method: fmt.Sprintf("UDP, %s lines/s for %s over 100,000 distinct contexts, with a 10 s aggregation interval for "+
			"both receivers (the Datadog Agent's flush period), so every interval holds all 100,000 contexts about ten "+
			"times each while emitting 10,000 points a second rather than 100,000. %d runs of each configuration, "+
			"interleaved; every figure is the median of the runs with their range in brackets. Traffic: %s.",
			formatNum(rate), e.p.memory, e.p.runs, describeWorkload(w)),
	}
	keys := groupKeys([]searchCase{udpPacked, udpPackedSystem})
	runs, failed := e.repeat(ctx, "scenario 3", keyConfigs(keys, func(rateKey) Phase {
		return Phase{Traffic: w, Rate: rate, Duration: e.p.memory}
	}, func(s *RunSpec) { s.Interval = 10 * time.Second }))
	sec.Failed = append(sec.Failed, failed...)
	co := runs[len(keys)-1]
	series := figure{name: "counter series out (of " + formatNum(float64(w.Contexts()["c"])) + " sent)",
		value: func(r RunResult) float64 { return float64(r.Phases[0].OutContexts) }}
	for i, c := range []searchCase{udpPacked, udpPackedSystem} {
		e.runs[runKey{scenario: 3, kind: collector.Doghouse, c: c}] = runs[i]
		sec.Tables = append(sec.Tables, figureTable(fmt.Sprintf("UDP, packed, 100k contexts, doghouse %s", rcvbufSetting(c.rcvbuf)), append(slices.Clone(runFigures), series), runs[i], co, e.p.runs))
	}
	e.runs[runKey{scenario: 3, kind: collector.Contrib, c: udpPacked}] = co
	r.Sections = append(r.Sections, sec)
	return nil
}

// rateOf is the median of scenario 1's searches of a configuration, the rate the later
// scenarios are sized by.
func (e *env) rateOf(k collector.Kind, c searchCase) float64 {
	if c := e.rateCell(k, c); c.OK && c.V > 0 {
		return c.V
	}
	return 50000 // scenario 1 failed for this collector: a rate both handle on this machine
}

// queueBound is doghouse's documented worst case for the receiver's queue at the defaults:
// queue_size × packet_buffer_size × buffer_size (receiver/dogstatsdreceiver/README.md).
const queueBound = 1024 * 32 * 8192

// floodBound is doghouse's memory bound in the flood: the RSS before load, the queue's worst
// case and 1000 contexts.
func floodBound(r RunResult) float64 { return float64(r.BaseRSS+queueBound) + 1000*2.6e3*2 }

// flood is scenario 4: 10× the sustainable rate for 30 s, then a normal rate again.
func (e *env) flood(ctx context.Context, r *Report) error {
	fl := e.workload("flood", loadgen.Config{Seed: 3, Contexts: 1000, Prefix: "fl", PacketSize: udpPacket})
	rec := e.workload("recovery", loadgen.Config{Seed: 4, Contexts: 1000, Prefix: "rec", PacketSize: udpPacket})
	sec := Section{
		Scenario: 4, Title: "Flood at 10× the sustainable rate",
		Method: fmt.Sprintf("UDP, packed. Each collector is sent 10× its own sustainable rate from scenario 1 (the median, "+
			"of its configuration with so_rcvbuf unset) for %s by two sender sockets (as much of it as the generator manages), then "+
			"nothing for %s, then half its sustainable rate (at most 50k lines/s) for %s with other metric names, whose "+
			"counter totals must come out whole. %d runs of each collector, interleaved; every figure is the median of "+
			"the runs with their range in brackets, and the checks hold for every run. doghouse runs with its defaults; "+
			"its memory bound is the RSS before load plus the documented worst case of its queue (queue_size × "+
			"packet_buffer_size × buffer_size = 256 MiB) and of 1000 contexts.",
			e.p.flood, e.p.floodPause, e.p.recovery, e.p.runs),
	}
	var configs []config
	for _, k := range kinds {
		sus := e.rateOf(k, udpPacked)
		configs = append(configs, config{name: fmt.Sprintf("%s flood at %s lines/s", k, formatNum(10*sus)), spec: RunSpec{Kind: k, Transport: loadgen.UDP, Phases: []Phase{
			{Traffic: fl, Rate: 10 * sus, Duration: e.p.flood, Senders: 2, PauseAfter: e.p.floodPause},
			{Traffic: rec, Rate: math.Min(50000, sus/2), Duration: e.p.recovery},
		}}})
	}
	runs, failed := e.repeat(ctx, "scenario 4", configs)
	sec.Failed = append(sec.Failed, failed...)
	noBound := contribNA("none configured")
	figs := []figure{
		{name: "flood: asked rate (lines/s)", value: func(r RunResult) float64 { return r.Spec.Phases[0].Rate }},
		{name: "flood: achieved send rate (lines/s)", value: func(r RunResult) float64 { return r.Phases[0].Load.Rate() }},
		{name: "flood: lines sent", value: func(r RunResult) float64 { return float64(r.Phases[0].Load.Sent.Lines) }},
		{name: "flood: lines accepted (own telemetry, whole run)", value: func(r RunResult) float64 { return r.Accepted }},
		{name: "flood: loss (%)", value: func(r RunResult) float64 { return 100 * (1 - r.Phases[0].Delivered()) }},
		{name: "kernel drops (datagrams)", value: func(r RunResult) float64 { return float64(r.KernelDrops) }},
		{name: "queue drops (packets)", value: func(r RunResult) float64 { return r.QueueDrops }, na: contribNA("no queue")},
		{name: "peak RSS (MiB)", value: func(r RunResult) float64 { return mibOf(r.PeakRSS) }},
		{name: "memory bound (MiB)", value: func(r RunResult) float64 { return floodBound(r) / (1 << 20) }, na: noBound},
		{name: "peak RSS under the bound, each run", text: func(r RunResult) string { return yesNo(float64(r.PeakRSS) <= floodBound(r)) }, na: noBound},
		{name: "recovery: rate (lines/s)", value: func(r RunResult) float64 { return r.Phases[1].Load.Rate() }},
		{name: "recovery: loss (%)", value: func(r RunResult) float64 { return 100 * (1 - r.Phases[1].Delivered()) }},
		{name: "recovered (recovery loss < 0.1%), each run", text: func(r RunResult) string { return yesNo(1-r.Phases[1].Delivered() < 0.001) }},
		{name: "collector CPU (s)", value: func(r RunResult) float64 { return r.CPU.Seconds() }},
	}
	for i, d := range runs[0] {
		if float64(d.PeakRSS) > floodBound(d) {
			sec.Failed = append(sec.Failed, fmt.Sprintf("doghouse run %d: peak RSS %s over its bound %s", i+1, mib(d.PeakRSS), mib(int64(floodBound(d)))))
		}
		if 1-d.Phases[1].Delivered() >= 0.001 {
			sec.Failed = append(sec.Failed, fmt.Sprintf("doghouse run %d lost %.3f%% after the flood", i+1, 100*(1-d.Phases[1].Delivered())))
		}
	}
	sec.Tables = append(sec.Tables, figureTable("UDP flood, then recovery", figs, runs[0], runs[1], e.p.runs))
	r.Sections = append(r.Sections, sec)
	return nil
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "**no**"
}

// gracefulStop is scenario 5: SIGTERM during load.
func (e *env) gracefulStop(ctx context.Context, r *Report) error {
	sec := Section{
		Scenario: 5, Title: "Graceful stop during load",
		Method: fmt.Sprintf("UDP, counters only, one line a datagram (each line adds 1, so datagrams, lines and counter "+
			"totals are the same number), half the collector's sustainable rate for one line a datagram (scenario 1's median). "+
			"%s into the load the collector gets SIGTERM while the generator keeps sending; the testbed polls its telemetry "+
			"every millisecond while it stops and keeps the last count of accepted lines it saw (doghouse: lines read less "+
			"rejected; contrib: its parsed-lines counter, which it updates every 100 lines). Everything accepted must be in "+
			"the output. The kernel's own account comes from its UDP counters (/proc/net/snmp and /proc/net/snmp6, "+
			"system-wide, read before the load and once the collector is gone and the load has ended): datagrams it refused "+
			"(NoPorts: no socket took them, as after the socket closed, or once doghouse's stopping socket refuses new ones) "+
			"and dropped on arrival (InErrors: receive buffer full). Lines the kernel accepted = lines sent − refused − "+
			"dropped; every one of them must be in the output. %d runs of each collector, interleaved; "+
			"every figure is the median of the runs with their range in brackets, and the check holds for every run.",
			e.p.stopAfter, e.p.runs),
	}
	runs, failed := e.stopRuns(ctx, false)
	sec.Failed = append(sec.Failed, failed...)
	sec.Tables = append(sec.Tables, figureTable("SIGTERM during load (UDP, counters)", stopFigures, runs[collector.Doghouse], runs[collector.Contrib], e.p.runs))
	for i, d := range runs[collector.Doghouse] {
		if d.Phases[0].OutCounters < d.LastAccepted {
			sec.Failed = append(sec.Failed, fmt.Sprintf("doghouse run %d: output holds %.0f of the %.0f lines it had accepted", i+1, d.Phases[0].OutCounters, d.LastAccepted))
		}
		if m := kernelMissing(d); m > 0 {
			sec.Failed = append(sec.Failed, fmt.Sprintf("doghouse run %d: %.0f lines the kernel accepted are missing from the output", i+1, m))
		}
	}
	for _, k := range kinds {
		e.runs[runKey{scenario: 5, kind: k, c: udpSingle}] = runs[k]
	}
	r.Sections = append(r.Sections, sec)
	return nil
}

func (e *env) stopRuns(ctx context.Context, smoke bool) (map[collector.Kind][]RunResult, []string) {
	w := e.workload("counters", loadgen.Config{Seed: 5, Contexts: 1000, CountersOnly: true, EventEvery: -1, ServiceCheckEvery: -1, Prefix: "gs", Packing: loadgen.Single})
	ks := kinds
	if smoke {
		ks = []collector.Kind{collector.Doghouse}
	}
	var configs []config
	for _, k := range ks {
		rate := e.rateOf(k, udpSingle) / 2
		if smoke {
			rate = 20000
		}
		configs = append(configs, config{name: fmt.Sprintf("%s graceful stop at %s lines/s", k, formatNum(rate)),
			spec: RunSpec{Kind: k, Transport: loadgen.UDP, UDPRcvBuf: smokeRcvBuf(smoke, k),
				Phases:    []Phase{{Traffic: w, Rate: rate, Duration: e.p.stopLoad}},
				Interrupt: &Interrupt{After: e.p.stopAfter}}})
	}
	runs, failed := e.repeat(ctx, "scenario 5", configs)
	out := map[collector.Kind][]RunResult{}
	for i, k := range ks {
		out[k] = runs[i]
	}
	return out, failed
}

// smokeRcvBuf gives doghouse a 4 MiB UDP buffer in the smoke run: a loaded CI machine can hold
// the reader off for longer than the system's default buffer lasts, and the smoke run checks
// exactness.
func smokeRcvBuf(smoke bool, k collector.Kind) int {
	if smoke && k == collector.Doghouse {
		return 4 << 20
	}
	return 0
}

// missing is what a graceful stop lost after accepting it.
func missing(r RunResult) float64 { return math.Max(0, r.LastAccepted-r.Phases[0].OutCounters) }

// kernelAccepted is the lines (one a datagram) the kernel took into the socket: sent, less
// what it refused and dropped; NaN without the kernel's counters.
func kernelAccepted(r RunResult) float64 {
	if r.UDPKernel == nil {
		return math.NaN()
	}
	return float64(r.Phases[0].Load.Sent.Lines) - float64(r.UDPKernel.NoPorts) - float64(r.UDPKernel.InErrors)
}

// kernelMissing is what the kernel accepted but the output lacks.
func kernelMissing(r RunResult) float64 {
	a := kernelAccepted(r)
	if math.IsNaN(a) {
		return math.NaN()
	}
	return math.Max(0, a-r.Phases[0].OutCounters)
}

// noKernelCounters marks the kernel's figures of a run without its UDP counters.
func noKernelCounters(r RunResult) string {
	if r.UDPKernel == nil {
		return "n/a (no /proc/net/snmp)"
	}
	return ""
}

func kernelCounter(get func(procstat.UDPCounters) uint64) func(RunResult) float64 {
	return func(r RunResult) float64 {
		if r.UDPKernel == nil {
			return math.NaN()
		}
		return float64(get(*r.UDPKernel))
	}
}

var stopFigures = []figure{
	{name: "rate (lines/s)", value: func(r RunResult) float64 { return r.Spec.Phases[0].Rate }},
	{name: "lines sent before the collector was gone", value: func(r RunResult) float64 { return float64(r.Phases[0].Load.Sent.Lines) }},
	{name: "last accepted-lines count seen while stopping", value: func(r RunResult) float64 { return r.LastAccepted }},
	{name: "counter total in the output", value: func(r RunResult) float64 { return r.Phases[0].OutCounters }},
	{name: "accepted but missing from the output", value: missing},
	{name: "every accepted line in the output, each run", text: func(r RunResult) string { return yesNo(r.Phases[0].OutCounters >= r.LastAccepted) }},
	{name: "datagrams the kernel refused (UDP NoPorts)", value: kernelCounter(func(c procstat.UDPCounters) uint64 { return c.NoPorts }), na: noKernelCounters},
	{name: "datagrams the kernel dropped on arrival (UDP InErrors)", value: kernelCounter(func(c procstat.UDPCounters) uint64 { return c.InErrors }), na: noKernelCounters},
	{name: "lines the kernel accepted (sent − refused − dropped)", value: kernelAccepted, na: noKernelCounters},
	{name: "accepted by the kernel but missing from the output", value: kernelMissing, na: noKernelCounters},
	{name: "every line the kernel accepted in the output, each run", text: func(r RunResult) string {
		if r.UDPKernel == nil {
			return "n/a"
		}
		return yesNo(kernelMissing(r) == 0)
	}},
	{name: "exited cleanly after SIGTERM, each run", text: func(r RunResult) string { return yesNo(r.StopErr == nil) }},
}

// killOutcome is one run of scenario 6.
type killOutcome struct {
	sealedBefore, intact, segmentsAfter, bad int
	pointsBefore, pointsAfter                int64
	restarted                                bool
}

// killChunkfile is scenario 6: kill -9 during load with the chunkfile exporter, then restart.
func (e *env) killChunkfile(ctx context.Context, r *Report) error {
	sec := Section{Scenario: 6, Title: "kill -9 during load with the chunkfile exporter (doghouse only)"}
	defer func() { r.Sections = append(r.Sections, sec) }()
	comps, err := collector.Components(e.o.Paths.Doghouse)
	if err != nil || !hasExporter(comps, "chunkfile") {
		sec.Method = "Skipped: this otelcol-doghouse build has no `chunkfile` exporter (`otelcol-doghouse components` " +
			"does not list it). The scenario runs once the exporter is in builder-config.yaml."
		e.logf("scenario 6: skipped, no chunkfile exporter in %s", e.o.Paths.Doghouse)
		return nil
	}
	cli, err := e.chunkfileCLI(ctx)
	if err != nil {
		sec.Failed = append(sec.Failed, err.Error())
		return nil
	}
	rate := e.rateOf(collector.Doghouse, udpPacked) / 2
	sec.Method = fmt.Sprintf("Unix datagram socket (no loss in the kernel, so every figure is exact), packed, half doghouse's "+
		"sustainable UDP rate (scenario 1's median), with the chunkfile exporter (segments sealed every 2 s) next to the file "+
		"exporter. %s into the load the collector gets SIGKILL; its socket file stays behind. The testbed lists the sealed "+
		"segments and verifies each with `chunkfile verify` (cmd/chunkfile) before the restart, restarts the "+
		"collector on the same directory, sends again, stops it gracefully, and verifies every segment again: each "+
		"segment sealed before the kill must read back with the same points; the restarted collector must accept "+
		"its new load whole. %d runs, each on a new directory; every figure is the median of the runs with their range "+
		"in brackets, and the checks hold for every run.", killAfter, e.p.runs)
	var outs []killOutcome
	for i := range e.p.runs {
		e.logf("scenario 6: kill -9 at %s lines/s, run %d of %d", formatNum(rate), i+1, e.p.runs)
		o, failed, err := e.killOnce(ctx, cli, rate)
		if err != nil {
			return err
		}
		for _, f := range failed {
			sec.Failed = append(sec.Failed, fmt.Sprintf("run %d: %s", i+1, f))
		}
		outs = append(outs, o)
	}
	num := func(f func(killOutcome) float64) Cell {
		vals := make([]float64, len(outs))
		for i, o := range outs {
			vals[i] = f(o)
		}
		return Median(vals)
	}
	each := func(f func(killOutcome) string) Cell {
		parts := make([]string, len(outs))
		for i, o := range outs {
			parts[i] = f(o)
		}
		return Text(strings.Join(parts, "; "))
	}
	na := NA("no chunkfile exporter")
	sec.Tables = append(sec.Tables, Table{Caption: "kill -9, restart, read back", Rows: []Row{
		{Figure: "segments sealed before the kill", Doghouse: num(func(o killOutcome) float64 { return float64(o.sealedBefore) }), Contrib: na},
		{Figure: "points in them", Doghouse: num(func(o killOutcome) float64 { return float64(o.pointsBefore) }), Contrib: na},
		{Figure: "of those segments, read back whole after the restart", Doghouse: num(func(o killOutcome) float64 { return float64(o.intact) }), Contrib: na},
		{Figure: "restart recovered (ready, load accepted, clean stop), each run", Doghouse: each(func(o killOutcome) string { return yesNo(o.restarted) }), Contrib: na},
		{Figure: "segments after the restart / failing verify, each run", Doghouse: each(func(o killOutcome) string { return fmt.Sprintf("%d / %d", o.segmentsAfter, o.bad) }), Contrib: na},
		{Figure: "points in all segments after the restart", Doghouse: num(func(o killOutcome) float64 { return float64(o.pointsAfter) }), Contrib: na},
		{Figure: "runs completed", Doghouse: Text(fmt.Sprintf("%d of %d", len(outs), e.p.runs)), Contrib: na},
	}})
	return nil
}

// killAfter is long enough for several segments to be sealed before the kill.
const killAfter = 8 * time.Second

// killOnce runs scenario 6 once on a new directory; failed lists the checks that did not hold.
func (e *env) killOnce(ctx context.Context, cli string, rate float64) (o killOutcome, failed []string, err error) {
	dir, err := os.MkdirTemp("", "tb-kill-")
	if err != nil {
		return o, nil, err
	}
	defer os.RemoveAll(dir)
	chunks := filepath.Join(dir, "chunks")
	w := e.workload("chunk", loadgen.Config{Seed: 6, Contexts: 1000, Prefix: "ck"})
	spec := RunSpec{Kind: collector.Doghouse, Transport: loadgen.UnixGram, Chunkfile: chunks, ChunkfileOptions: []string{"max_segment_age: 2s"}, Dir: dir,
		Phases: []Phase{{Traffic: w, Rate: rate, Duration: killAfter + 4*time.Second}}, Interrupt: &Interrupt{After: killAfter, Kill: true}}
	if _, err := e.measure(ctx, spec); err != nil {
		return o, []string{fmt.Sprintf("run before the kill: %v", err)}, nil
	}
	before, err := verifySegments(ctx, cli, chunks)
	if err != nil {
		failed = append(failed, fmt.Sprintf("verifying after the kill: %v", err))
	}
	spec.Phases = []Phase{{Traffic: e.workload("chunk-after", loadgen.Config{Seed: 7, Contexts: 1000, Prefix: "after"}), Rate: rate, Duration: 4 * time.Second}}
	spec.Interrupt = nil
	restart, err := e.measure(ctx, spec)
	o.restarted = err == nil && restart.Loss() < 0.001
	if err != nil {
		failed = append(failed, fmt.Sprintf("restart after the kill: %v", err))
	} else if !o.restarted {
		failed = append(failed, fmt.Sprintf("the restarted collector lost %.3f%% of its load", 100*restart.Loss()))
	}
	after, err := verifySegments(ctx, cli, chunks)
	if err != nil {
		failed = append(failed, fmt.Sprintf("verifying after the restart: %v", err))
	}
	for name, v := range before {
		if !v.sealed {
			continue
		}
		o.sealedBefore++
		o.pointsBefore += v.points
		if a, ok := after[name]; ok && a.ok && a.points == v.points {
			o.intact++
		}
	}
	o.segmentsAfter = len(after)
	for _, v := range after {
		o.pointsAfter += v.points
		if !v.ok {
			o.bad++
		}
	}
	if o.sealedBefore == 0 {
		failed = append(failed, "no segment was sealed before the kill")
	}
	if o.intact != o.sealedBefore {
		failed = append(failed, fmt.Sprintf("%d of %d segments sealed before the kill read back whole", o.intact, o.sealedBefore))
	}
	if o.bad > 0 {
		failed = append(failed, fmt.Sprintf("%d segments fail `chunkfile verify` after the restart", o.bad))
	}
	return o, failed, nil
}

func hasExporter(components, name string) bool {
	section := ""
	for _, line := range strings.Split(components, "\n") {
		if !strings.HasPrefix(line, " ") && strings.HasSuffix(strings.TrimSpace(line), ":") {
			section = strings.TrimSuffix(strings.TrimSpace(line), ":")
			continue
		}
		if section == "exporters" && strings.TrimSpace(line) == "- name: "+name {
			return true
		}
	}
	return false
}

type segment struct {
	sealed, ok bool
	points     int64
}

// verifySegments runs `chunkfile verify` on every segment file in dir (bounded to 2 minutes).
func verifySegments(ctx context.Context, cli, dir string) (map[string]segment, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	out := map[string]segment{}
	var errs []string
	for _, ent := range entries {
		name := ent.Name()
		if !strings.HasSuffix(name, ".chunk") && !strings.HasSuffix(name, ".chunk.open") {
			continue
		}
		b, err := exec.CommandContext(ctx, cli, "verify", filepath.Join(dir, name)).Output()
		s := segment{sealed: strings.HasSuffix(name, ".chunk"), ok: err == nil}
		if _, perr := fmt.Sscanf(pointsField(string(b)), "%d", &s.points); perr != nil && err == nil {
			s.ok = false
		}
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v %s", name, err, strings.TrimSpace(string(b))))
		}
		out[strings.TrimSuffix(name, ".open")] = s
	}
	if len(errs) > 0 {
		return out, fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return out, nil
}

// pointsField picks "<n>" out of verify's "…, <n> points, …".
func pointsField(s string) string {
	f := strings.Fields(s)
	for i := 1; i < len(f); i++ {
		if strings.HasPrefix(f[i], "points") {
			return f[i-1]
		}
	}
	return ""
}

// bufLabel compares the receive buffers: doghouse's as its kernel reported them in the run
// (getsockopt SO_RCVBUF), contrib's the system default, rmem bytes (net.core.rmem_default), since
// its receiver has no setting for it. "equal" only when every doghouse run reported rmem.
func bufLabel(dh []int64, rmem int64) string {
	co := fmt.Sprintf("contrib %s (system default)", byteSize(rmem))
	switch {
	case len(dh) == 0:
		return "doghouse's buffer not reported, " + co
	case len(dh) == 1 && dh[0] == rmem:
		return fmt.Sprintf("equal buffers: doghouse %s, %s", byteSize(dh[0]), co)
	}
	return fmt.Sprintf("unequal buffers: doghouse %s, %s", bufSizes(dh), co)
}

// runBufs are the receive buffers doghouse reported in runs.
func runBufs(runs []RunResult) []int64 {
	var b []int64
	for _, r := range runs {
		if r.RcvBuf > 0 && !slices.Contains(b, r.RcvBuf) {
			b = append(b, r.RcvBuf)
		}
	}
	return b
}

// caseSettings names doghouse's setting in case c and what it came to.
func (e *env) caseSettings(c searchCase, rmem int64) string {
	set := "defaults (doghouse so_rcvbuf unset)"
	if c.rcvbuf == collector.SystemRcvBuf {
		set = "doghouse so_rcvbuf: 0"
	}
	return set + "; " + bufLabel(e.bufs[bufKey{c.tr, c.rcvbuf}], rmem)
}

// medianOf is the median (min–max) of f over runs, labelled with how many were generator-bound.
func medianOf(runs []RunResult, f func(RunResult) float64) Cell {
	if len(runs) == 0 {
		return Text("not run")
	}
	vals := make([]float64, len(runs))
	bound := 0
	for i, r := range runs {
		vals[i] = f(r)
		if r.GeneratorBound() {
			bound++
		}
	}
	return Median(vals).withNote(countNote("generator-bound", bound, len(runs)))
}

// headlines picks the figures the README quotes, each with the settings it was measured with,
// and checks the design goals.
func (e *env) headlines(r *Report) {
	rmem, _ := strconv.ParseInt(r.RmemDefault, 10, 64)
	runsOf := func(scenario int, k collector.Kind, c searchCase) []RunResult {
		return e.runs[runKey{scenario: scenario, kind: k, c: c}]
	}
	cpu := func(r RunResult) float64 { return r.CPUPerMillion() }
	peak := func(r RunResult) float64 { return mibOf(r.PeakRSS) }
	var h []Headline
	for _, c := range []searchCase{udpPacked, udpPackedSystem, udpSingle, udpSingleSystem, unixgramPacked} {
		h = append(h, Headline{Scenario: 1, Name: fmt.Sprintf("sustainable rate, %s, %s, lines/s", trName(c.tr), c.packing), Settings: e.caseSettings(c, rmem),
			Doghouse: e.rateCell(collector.Doghouse, c), Contrib: e.rateCell(collector.Contrib, contribCase(c))})
	}
	for _, c := range []searchCase{udpPacked, udpPackedSystem, unixgramPacked} {
		h = append(h, Headline{Scenario: 2, Name: fmt.Sprintf("CPU s per million lines at 100k lines/s, %s, %s", trName(c.tr), c.packing), Settings: e.caseSettings(c, rmem),
			Doghouse: medianOf(runsOf(2, collector.Doghouse, c), cpu), Contrib: medianOf(runsOf(2, collector.Contrib, contribCase(c)), cpu)})
	}
	for _, c := range []searchCase{udpPacked, udpPackedSystem} {
		h = append(h, Headline{Scenario: 3, Name: "peak RSS with 100k contexts, UDP, MiB", Settings: e.caseSettings(c, rmem),
			Doghouse: medianOf(runsOf(3, collector.Doghouse, c), peak), Contrib: medianOf(runsOf(3, collector.Contrib, udpPacked), peak)})
	}
	h = append(h, Headline{Scenario: 5, Name: "graceful stop under load, UDP, 1 line/datagram: lines the kernel accepted but missing from the output", Settings: e.caseSettings(udpSingle, rmem),
		Doghouse: medianOf(runsOf(5, collector.Doghouse, udpSingle), kernelMissing), Contrib: medianOf(runsOf(5, collector.Contrib, udpSingle), kernelMissing), NoRatio: true})
	sc := e.o.Cardinality.or(e.p.card)
	for _, cc := range []cardinalityCase{uniqueNames, tagValues} {
		fc := cc.flood(sc.Count)
		what := fmt.Sprintf("%s (%s names × %s tag sets, %s lines/s for %s)", cc.short, formatNum(float64(fc.Names)), formatNum(float64(fc.TagSets)), formatNum(sc.Rate), sc.Duration)
		co := e.runs[runKey{scenario: cc.scenario, kind: collector.Contrib, card: cardContrib}]
		for _, fig := range []struct {
			name    string
			f       func(RunResult) float64
			noRatio bool
		}{{"counter total stored ÷ sent, %", storedPct, true}, {"peak RSS, MiB", peak, false}} {
			for _, cfg := range []cardConfig{cardPipeline, cardDoghouse} {
				dh := e.runs[runKey{scenario: cc.scenario, kind: collector.Doghouse, card: cfg}]
				pipeline := "its configured pipeline"
				if len(dh) > 0 && dh[0].Pipeline != "" {
					pipeline = dh[0].Pipeline
				}
				h = append(h, Headline{Scenario: cc.scenario, Name: what + ": " + fig.name,
					Settings: fmt.Sprintf("%s vs %s, defaults; %s", cardColumn(cfg, pipeline), cardColumn(cardContrib, ""), bufLabel(runBufs(dh), rmem)),
					Doghouse: medianOf(dh, fig.f), Contrib: medianOf(co, fig.f), NoRatio: fig.noRatio})
			}
		}
	}
	r.Headlines = h
	goal := func(x Headline, ok func(float64) bool, want string) string {
		name := fmt.Sprintf("%s, doghouse / contrib, %s", x.Name, x.Settings)
		d, c := x.Doghouse, x.Contrib
		if !d.OK || !c.OK || c.V == 0 {
			return fmt.Sprintf("%s: not measured", name)
		}
		verdict := "met"
		if !ok(d.V / c.V) {
			verdict = "**not met**"
		}
		return fmt.Sprintf("%s (goal %s): %s, measured %s (ratio of the medians)", name, want, verdict, Ratio(d, c))
	}
	atLeast10 := func(x float64) bool { return x >= 10 }
	r.Goals = nil
	if r.ran(1) {
		for _, x := range h[:4] {
			r.Goals = append(r.Goals, goal(x, atLeast10, "≥ 10×"))
		}
	}
	if r.ran(2) {
		for _, x := range h[5:7] {
			r.Goals = append(r.Goals, goal(x, func(x float64) bool { return x <= 0.2 }, "≤ 0.2×"))
		}
	}
}

// trName names a transport for the headlines.
func trName(tr loadgen.Transport) string {
	switch tr {
	case loadgen.UDP:
		return "UDP"
	case loadgen.UnixGram:
		return "Unix datagram"
	case loadgen.UnixStream:
		return "Unix stream"
	}
	return string(tr)
}

// smoke is the short doghouse-only run for `make test`: exact delivery at a low rate over
// every transport, then a graceful stop under load.
func (e *env) smoke(ctx context.Context, r *Report) error {
	e.p.stopAfter, e.p.stopLoad = 3*time.Second, 6*time.Second
	sec := Section{
		Title: "Exact delivery over every transport",
		Method: "otelcol-doghouse, 20k lines/s for 4 s of the mixed traffic; with nothing dropped the output's counter totals, " +
			"counter series and log records (events and service checks) must equal what was sent.",
	}
	for _, tr := range []loadgen.Transport{loadgen.UDP, loadgen.UnixGram, loadgen.UnixStream} {
		w := e.mixed(tr, loadgen.Packed)
		e.logf("smoke: %s", tr)
		res, err := e.measure(ctx, RunSpec{Kind: collector.Doghouse, Transport: tr, UDPRcvBuf: smokeRcvBuf(tr == loadgen.UDP, collector.Doghouse),
			Phases: []Phase{{Traffic: w, Rate: 20000, Duration: 4 * time.Second}}})
		if err != nil {
			sec.Failed = append(sec.Failed, fmt.Sprintf("%s: %v", tr, err))
			continue
		}
		t := figureTable(string(tr), runFigures, []RunResult{res}, nil, 1)
		for i := range t.Rows {
			t.Rows[i].Contrib = Text("not run (smoke)")
		}
		sec.Tables = append(sec.Tables, t)
		p := res.Phases[0]
		sent := p.Load.Sent
		checks := []struct {
			ok   bool
			what string
		}{
			{p.OutCounters == sent.CounterSum, fmt.Sprintf("counter total out %.0f, sent %.0f", p.OutCounters, sent.CounterSum)},
			{res.Accepted == float64(sent.Lines), fmt.Sprintf("lines accepted %.0f, sent %d", res.Accepted, sent.Lines)},
			{p.OutContexts == w.Contexts()["c"], fmt.Sprintf("counter series out %d, sent %d", p.OutContexts, w.Contexts()["c"])},
			{res.LogRecords == sent.Events+sent.ServiceChecks, fmt.Sprintf("log records out %d, events and service checks sent %d", res.LogRecords, sent.Events+sent.ServiceChecks)},
			{p.Load.Errors == 0, fmt.Sprintf("%d send errors (last: %v)", p.Load.Errors, p.Load.LastErr)},
		}
		for _, c := range checks {
			if !c.ok {
				sec.Failed = append(sec.Failed, fmt.Sprintf("%s: %s", tr, c.what))
			}
		}
	}
	r.Sections = append(r.Sections, sec)

	stop := Section{Title: "Graceful stop during load", Method: "UDP counters, one line a datagram, at 20k lines/s; SIGTERM 3 s in while the generator keeps sending. " +
		"Every line the kernel accepted (sent − UDP NoPorts − UDP InErrors, system-wide counters: other traffic can only lower it) must be in the output."}
	runs, failed := e.stopRuns(ctx, true)
	stop.Failed = append(stop.Failed, failed...)
	if dh := runs[collector.Doghouse]; len(dh) > 0 {
		t := figureTable("SIGTERM during load (UDP, counters)", stopFigures, dh, nil, 1)
		for i := range t.Rows {
			t.Rows[i].Contrib = Text("not run (smoke)")
		}
		stop.Tables = append(stop.Tables, t)
		if d := dh[0]; d.Phases[0].OutCounters < d.LastAccepted || d.LastAccepted == 0 {
			stop.Failed = append(stop.Failed, fmt.Sprintf("output holds %.0f lines, %.0f were accepted", d.Phases[0].OutCounters, d.LastAccepted))
		}
		if m := kernelMissing(dh[0]); m > 0 {
			stop.Failed = append(stop.Failed, fmt.Sprintf("%.0f lines the kernel accepted are missing from the output", m))
		}
	}
	r.Sections = append(r.Sections, stop)

	// The cardinality floods, small: the default pipeline for both, and the receiver -> file
	// configuration once, so the scenarios' code runs against the real binary.
	if err := e.cardinality(ctx, r, uniqueNames, smokeCardinality, []cardConfig{cardPipeline, cardDoghouse}, true); err != nil {
		return err
	}
	return e.cardinality(ctx, r, tagValues, smokeCardinality, []cardConfig{cardPipeline}, true)
}
