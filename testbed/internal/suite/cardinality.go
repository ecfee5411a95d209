package suite

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/doghouse-otel/doghouse/testbed/internal/collector"
	"github.com/doghouse-otel/doghouse/testbed/internal/loadgen"
)

// Scale sizes the cardinality floods (scenarios 7 and 8); a zero field keeps the plan's value.
type Scale struct {
	Rate     float64       // lines per second
	Duration time.Duration // of each run's load
	Runs     int           // runs per configuration; figures are their medians
	// Count is the number of distinct metric names (scenario 7) or tag sets (scenario 8); a
	// multiple of 1000.
	Count int
}

func (s Scale) or(d Scale) Scale {
	return Scale{Rate: cmpOr(s.Rate, d.Rate), Duration: cmpOr(s.Duration, d.Duration), Runs: cmpOr(s.Runs, d.Runs), Count: cmpOr(s.Count, d.Count)}
}

// cardinalityCase is one cardinality flood.
type cardinalityCase struct {
	scenario      int
	title, prefix string
	short         string // for the headlines
	// flood sizes the traffic for a count of distinct names or tag sets.
	flood func(count int) loadgen.FloodConfig
}

var (
	uniqueNames = cardinalityCase{scenario: 7, title: "Cardinality flood: unique metric names", short: "unique metric names", prefix: "un",
		flood: func(n int) loadgen.FloodConfig { return loadgen.FloodConfig{Names: n, TagSets: 1000, Prefix: "un"} }}
	tagValues = cardinalityCase{scenario: 8, title: "Cardinality flood: unique tag values", short: "unique tag values", prefix: "tv",
		flood: func(n int) loadgen.FloodConfig { return loadgen.FloodConfig{Names: 100, TagSets: n, Prefix: "tv"} }}
)

// cardinalityRSSLimit kills a collector that passes it: the issue measured multi-GB RSS with
// these floods, and the machine is shared.
const cardinalityRSSLimit = 6 << 30

// The configurations a cardinality flood runs, in the table's column order.
type cardConfig int

const (
	cardPipeline cardConfig = iota // doghouse, config/default.yaml: dogstatsd → fairshare → chunkfile
	cardDoghouse                   // doghouse, dogstatsd → file, as in the other scenarios
	cardContrib                    // contrib statsd → file
)

// Targets of the issue, checked on the default pipeline.
const (
	targetRSS        = 256 << 20 // bytes
	targetCores      = 1.0
	targetCounterPct = 1.0 // |stored/sent − 1| in percent
)

func (e *env) uniqueNames(ctx context.Context, r *Report) error {
	return e.cardinality(ctx, r, uniqueNames, e.p.card, []cardConfig{cardPipeline, cardDoghouse, cardContrib}, false)
}

func (e *env) tagValues(ctx context.Context, r *Report) error {
	return e.cardinality(ctx, r, tagValues, e.p.card, []cardConfig{cardPipeline, cardDoghouse, cardContrib}, false)
}

// cardinality runs one flood against each configuration, interleaving the runs so that a change
// in the machine's load spreads over all of them, and reports the medians per configuration.
func (e *env) cardinality(ctx context.Context, r *Report, c cardinalityCase, sc Scale, configs []cardConfig, smoke bool) error {
	sc = e.o.Cardinality.or(sc)
	fc := c.flood(sc.Count)
	f, err := loadgen.NewFlood(fc)
	if err != nil {
		return err
	}
	fc = f.Config()
	sec := Section{Title: c.title}
	if !smoke {
		sec.Scenario = c.scenario
	}
	defer func() { r.Sections = append(r.Sections, sec) }()
	cli, err := e.chunkfileCLI(ctx)
	if err != nil {
		sec.Failed = append(sec.Failed, err.Error())
		return nil
	}
	runs := map[cardConfig][]RunResult{}
	// Rendered once here only to name the pipeline in the table; each run renders its own.
	pc, err := collector.Pipeline{Source: e.o.Paths.Config, UDPAddr: "127.0.0.1:0", Dir: os.TempDir()}.Render()
	if err != nil {
		sec.Failed = append(sec.Failed, err.Error())
		return nil
	}
	pipeline := pc.Metrics
	for i := range sc.Runs {
		for _, cfg := range configs {
			spec := RunSpec{Kind: collector.Doghouse, Transport: loadgen.UDP, MaxRSS: cardinalityRSSLimit, Overload: true,
				Phases: []Phase{{Traffic: f, Rate: sc.Rate, Duration: sc.Duration}}}
			switch cfg {
			case cardPipeline:
				spec.Pipeline, spec.ChunkfileCLI = e.o.Paths.Config, cli
			case cardContrib:
				spec.Kind = collector.Contrib
			}
			e.logf("%s: %s, run %d of %d", c.title, cardColumn(cfg, pipeline), i+1, sc.Runs)
			res, err := e.measure(ctx, spec)
			if err != nil {
				sec.Failed = append(sec.Failed, fmt.Sprintf("%s, run %d: %v", cardColumn(cfg, pipeline), i+1, err))
				continue
			}
			runs[cfg] = append(runs[cfg], res)
		}
	}
	for _, cfg := range configs {
		kind := collector.Doghouse
		if cfg == cardContrib {
			kind = collector.Contrib
		}
		e.runs[runKey{scenario: c.scenario, kind: kind, card: cfg}] = runs[cfg]
	}
	config := e.o.Paths.Config
	if rel, err := filepath.Rel(filepath.Join(e.o.Paths.Testbed, ".."), config); err == nil && !strings.HasPrefix(rel, "..") {
		config = rel
	}
	sec.Method = cardinalityMethod(f, sc, pipeline, config)
	t := Table{Caption: fmt.Sprintf("UDP, %s lines/s for %s, median (min–max) of %d run(s)", formatNum(sc.Rate), sc.Duration, sc.Runs),
		Columns: []string{"target"}}
	for _, cfg := range configs {
		t.Columns = append(t.Columns, cardColumn(cfg, pipeline))
	}
	for _, fig := range cardFigures {
		row := Row{Figure: fig.name, Cells: []Cell{Text(cmpOr(fig.target, "—"))}}
		for _, cfg := range configs {
			row.Cells = append(row.Cells, fig.cell(cfg, runs[cfg]))
		}
		t.Rows = append(t.Rows, row)
	}
	done := Row{Figure: "runs completed", Cells: []Cell{Text("—")}}
	for _, cfg := range configs {
		done.Cells = append(done.Cells, Text(fmt.Sprintf("%d of %d", len(runs[cfg]), sc.Runs)))
	}
	t.Rows = append(t.Rows, done)
	sec.Tables = append(sec.Tables, t)
	for _, cfg := range configs {
		for i, res := range runs[cfg] {
			if generatorBound(res.Rate(), sc.Rate, res.GenShare()) {
				sec.Notes = append(sec.Notes, fmt.Sprintf("%s, run %d: generator-bound (sent %s lines/s using %.0f%% of a core)",
					cardColumn(cfg, pipeline), i+1, formatNum(res.Rate()), 100*res.GenShare()))
			}
		}
	}
	sec.Failed = append(sec.Failed, checkTargets(runs[cardPipeline], smoke)...)
	return nil
}

func cardColumn(cfg cardConfig, pipeline string) string {
	switch cfg {
	case cardPipeline:
		return "doghouse: " + pipeline + " (config/default.yaml)"
	case cardDoghouse:
		return "doghouse: dogstatsd → file"
	}
	return "contrib: statsd → file"
}

func cardinalityMethod(f *loadgen.Flood, sc Scale, pipeline, config string) string {
	fc := f.Config()
	var bytes int
	var line []byte
	const sample = 3000
	for k := range int64(sample) {
		line, _ = f.AppendLine(line[:0], k)
		bytes += len(line)
	}
	return fmt.Sprintf("UDP from one socket, %s lines/s for %s, %d run(s) of each configuration interleaved; every figure is "+
		"the median of its runs. Traffic: DogStatsD counters (values 1-5) with 3 tags, %s metric names × %s tag sets "+
		"(`env`, `service`, `user_id`: the id), %d lines (about %.0f bytes each) a datagram, formatted while they are "+
		"sent; each pass of %s lines gives every line a new %s, and names shift against tag sets by one each pass, so no "+
		"context repeats in the run. The first column runs %s as it is (%s) with its addresses on loopback ports the OS "+
		"chose and its paths in a temporary directory; its counters are read back from the chunkfile segments with "+
		"`chunkfile dump` (cmd/chunkfile). fairshare scales the rows it keeps by their sampling factor, so the stored "+
		"counter total estimates the total sent. The other columns are the receiver → file exporter configuration of "+
		"the other scenarios. Collector CPU in cores is its CPU time from the first line until it is idle, over the "+
		"%s of load. Late points: the clients send no timestamps (the receiver stamps every point), so every point "+
		"fairshare counts late comes from the collector's own backlog. A collector that cannot keep up is measured as it "+
		"is: a run waits at most 60 s after the load for it to go idle and 2 min after SIGTERM for it to exit (then it "+
		"is killed and its output read as it was left); one passing %d GiB of RSS is killed and its run fails.",
		formatNum(sc.Rate), sc.Duration, sc.Runs, formatNum(float64(fc.Names)), formatNum(float64(fc.TagSets)),
		fc.LinesPerDatagram, float64(bytes)/sample, formatNum(float64(f.PassLines())),
		map[bool]string{true: "name", false: "tag set"}[fc.Names >= fc.TagSets], config, pipeline, sc.Duration, cardinalityRSSLimit>>30)
}

// cardFigure is one row of a cardinality table.
type cardFigure struct {
	name, target string
	// only, when set, limits the figure to these configurations; others are n/a with why.
	only []cardConfig
	why  string
	// value is a run's figure; text, when set, renders the runs instead of a median.
	value func(RunResult) float64
	text  func([]RunResult) string
}

func (f cardFigure) cell(cfg cardConfig, runs []RunResult) Cell {
	if len(f.only) > 0 && !slices.Contains(f.only, cfg) {
		return NA(f.why)
	}
	if len(runs) == 0 {
		return Text("no run completed")
	}
	if f.text != nil {
		return Text(f.text(runs))
	}
	vals := make([]float64, len(runs))
	for i, r := range runs {
		vals[i] = f.value(r)
	}
	return Median(vals)
}

var (
	doghouseOnly = []cardConfig{cardPipeline, cardDoghouse}
	pipelineOnly = []cardConfig{cardPipeline}
)

func storedPct(r RunResult) float64 { return 100 * r.Phases[0].Delivered() }

var cardFigures = []cardFigure{
	{name: "lines sent", value: func(r RunResult) float64 { return float64(r.Phases[0].Load.Sent.Lines) }},
	{name: "achieved send rate (lines/s)", value: RunResult.Rate},
	{name: "lines the generator skipped, held off the CPU for over 5 ms", value: func(r RunResult) float64 { return float64(r.Phases[0].Load.Behind) }},
	{name: "load generator CPU (cores)", value: RunResult.GenShare},
	{name: "lines accepted (collector's own telemetry)", value: func(r RunResult) float64 { return r.Accepted }},
	{name: "kernel drops (datagrams, /proc/net/udp)", value: func(r RunResult) float64 { return float64(r.KernelDrops) }},
	{name: "queue drops (packets)", only: doghouseOnly, why: "no queue", value: func(r RunResult) float64 { return r.QueueDrops }},
	{name: "samples sent to the overflow contexts at max_contexts (otelcol_receiver_dogstatsd_contexts_overflow)", only: doghouseOnly, why: "no limit", value: func(r RunResult) float64 { return r.ContextsOverflow }},
	{name: "counter total stored ÷ sent (%)", target: "99 – 101", value: storedPct},
	{name: "peak RSS, VmHWM (MiB)", target: "≤ 256", value: func(r RunResult) float64 { return float64(r.PeakRSS) / (1 << 20) }},
	{name: "collector CPU (cores)", target: "≤ 1.0", value: RunResult.Cores},
	{name: "fairshare: points late, aggregated into a later window (otelcol_processor_fairshare_points_late)", target: "0",
		only: pipelineOnly, why: "no fairshare", value: func(r RunResult) float64 { return r.Fairshare.Late }},
	{name: "fairshare: points dropped as too late (otelcol_processor_fairshare_points_dropped{reason=\"too_late\"})",
		only: pipelineOnly, why: "no fairshare", value: func(r RunResult) float64 { return r.Fairshare.TooLate }},
	{name: "fairshare: points folded into overflow rows (otelcol_processor_fairshare_points_overflow)",
		only: pipelineOnly, why: "no fairshare", value: func(r RunResult) float64 { return r.Fairshare.Overflow }},
	{name: "fairshare: rows kept at flush (otelcol_processor_fairshare_flush_rows{outcome=\"kept\"})",
		only: pipelineOnly, why: "no fairshare", value: func(r RunResult) float64 { return r.Fairshare.RowsKept }},
	{name: "fairshare: rows dropped at flush (otelcol_processor_fairshare_flush_rows{outcome=\"dropped\"})",
		only: pipelineOnly, why: "no fairshare", value: func(r RunResult) float64 { return r.Fairshare.RowsDropped }},
	{name: "fairshare: points of metrics beyond max_metrics, in fairshare.overflow.* (otelcol_processor_fairshare_points_metric_overflow)",
		only: pipelineOnly, why: "no fairshare", value: func(r RunResult) float64 { return r.Fairshare.MetricOverflow }},
	{name: "fairshare: flushes over budget, strict mode (otelcol_processor_fairshare_flushes_over_budget)", target: "0",
		only: pipelineOnly, why: "no fairshare", value: func(r RunResult) float64 { return r.Fairshare.OverBudget }},
	{name: "fairshare: flushes over budget, strict mode (stored metametrics: fairshare.bytes kept > fairshare.budget), each run", target: "0",
		only: pipelineOnly, why: "no fairshare", text: eachRun(func(r RunResult) string {
			return fmt.Sprintf("%d of %d", r.Output.Flushes.OverBudget, r.Output.Flushes.Count)
		})},
	{name: "fairshare: budget use, % (otelcol_processor_fairshare_flush_bytes{outcome=\"kept\"} ÷ …_budget_bytes)",
		only: pipelineOnly, why: "no fairshare", value: func(r RunResult) float64 {
			if r.Fairshare.BudgetBytes == 0 {
				return 0
			}
			return 100 * r.Fairshare.KeptBytes / r.Fairshare.BudgetBytes
		}},
	{name: "fairshare: budget use, % (stored metametrics: Σ fairshare.bytes kept ÷ Σ fairshare.budget)",
		only: pipelineOnly, why: "no fairshare", value: func(r RunResult) float64 { return budgetPct(r.Output.Flushes.Kept, r) }},
	{name: "fairshare: demand, % of the budget (stored metametrics: Σ fairshare.bytes offered ÷ Σ fairshare.budget)",
		only: pipelineOnly, why: "no fairshare", value: func(r RunResult) float64 { return budgetPct(r.Output.Flushes.Offered, r) }},
	{name: "chunkfile: points failed or refused (otelcol_exporter_send_failed/enqueue_failed_metric_points, otelcol_exporter_chunkfile_points_rejected)",
		only: pipelineOnly, why: "file exporter", value: func(r RunResult) float64 { return r.Fairshare.ExportFailed }},
	{name: "data points stored", value: func(r RunResult) float64 { return float64(r.Output.Points) }},
	{name: "still busy 60 s after the load, each run", text: eachRun(func(r RunResult) string { return plainYesNo(r.StillBusy) })},
	{name: "exited within 2 min of SIGTERM (else killed, its output read as left), each run",
		text: eachRun(func(r RunResult) string { return plainYesNo(r.StopErr == nil) })},
}

func eachRun(f func(RunResult) string) func([]RunResult) string {
	return func(runs []RunResult) string {
		parts := make([]string, len(runs))
		for i, r := range runs {
			parts[i] = f(r)
		}
		return strings.Join(parts, "; ")
	}
}

func plainYesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func budgetPct(bytes float64, r RunResult) float64 {
	if r.Output.Flushes.Budget == 0 {
		return math.NaN()
	}
	return 100 * bytes / r.Output.Flushes.Budget
}

// checkTargets lists the default pipeline's misses of the targets, for every run. The
// smoke run checks only what does not depend on the machine: the counter total, the flushes'
// metametrics being there and within budget, nothing late, nothing failed in the exporter.
func checkTargets(runs []RunResult, smoke bool) []string {
	var failed []string
	miss := func(i int, format string, args ...any) {
		failed = append(failed, fmt.Sprintf("default pipeline, run %d: "+format, append([]any{i + 1}, args...)...))
	}
	for i, r := range runs {
		if d := storedPct(r); !(math.Abs(d-100) <= targetCounterPct) {
			miss(i, "counter total stored is %.2f%% of what was sent (target 99-101%%)", d)
		}
		if r.Fairshare.Late > 0 {
			miss(i, "fairshare counted %s points late (target 0)", formatNum(r.Fairshare.Late))
		}
		if fl := r.Output.Flushes; fl.Count == 0 || fl.OverBudget > 0 {
			miss(i, "%d of %d flushes over budget in the stored metametrics (target 0 of at least 1)", fl.OverBudget, fl.Count)
		}
		if r.Fairshare.OverBudget > 0 {
			miss(i, "fairshare counted %s flushes over budget (target 0)", formatNum(r.Fairshare.OverBudget))
		}
		if r.Fairshare.ExportFailed > 0 {
			miss(i, "the chunkfile exporter failed or refused %s points", formatNum(r.Fairshare.ExportFailed))
		}
		if smoke {
			continue
		}
		if r.PeakRSS > targetRSS {
			miss(i, "peak RSS %s (target ≤ %s)", mib(r.PeakRSS), mib(targetRSS))
		}
		if c := r.Cores(); !(c <= targetCores) {
			miss(i, "collector CPU %.2f cores (target ≤ %.1f)", c, targetCores)
		}
	}
	return failed
}
