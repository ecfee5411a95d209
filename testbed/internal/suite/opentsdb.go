package suite

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/doghouse-otel/doghouse/testbed/internal/collector"
	"github.com/doghouse-otel/doghouse/testbed/internal/loadgen"
	"github.com/doghouse-otel/doghouse/testbed/internal/peer"
	"github.com/doghouse-otel/doghouse/testbed/internal/procstat"
)

// Scenario 9: OpenTSDB ingestion, doghouse's dsdb receiver into the chunkfile exporter against
// VictoriaMetrics ingesting into its own storage, side by side.

// tsdbLoad sizes scenario 9: the figures (5,000,000 lines over one connection; 100-point
// arrays), scaled by -duration-scale.
type tsdbLoad struct {
	series    int
	lines     int // telnet: sent as repeats of one formatted block
	block     int // lines in the block
	perBody   int // /api/put points per request
	requests  int
	httpConns int
}

func (e *env) tsdbLoad() tsdbLoad {
	l := tsdbLoad{series: 1000, lines: 5_000_000, block: 1_000_000, perBody: 100, requests: 10_000, httpConns: 4}
	if s := e.o.DurationScale; s > 0 && s != 1 {
		l.lines = max(100_000, int(float64(l.lines)*s)/100_000*100_000)
		l.block = min(l.block, l.lines)
		for l.lines%l.block != 0 {
			l.block /= 2
		}
		l.requests = max(1000, int(float64(l.requests)*s))
	}
	return l
}

// storedPoll is how often a run asks its target how much it stored: a rate is measured to
// within this much time.
const storedPoll = 50 * time.Millisecond

// tsdbTarget is what ran: doghouse or VictoriaMetrics.
type tsdbTarget int

const (
	tsdbDoghouse tsdbTarget = iota
	tsdbVM
)

// tsdbRun is one measurement of one target and protocol.
type tsdbRun struct {
	sent, stored float64       // lines or points
	elapsed      time.Duration // first byte sent to all stored (0: not all were)
	cpu          time.Duration // the target's, from the first byte until it was idle
	genCPU       time.Duration // the testbed's, over the sending
	peakRSS      int64
	failed       int64 // HTTP requests not answered 2xx
	note         string
}

func (r tsdbRun) rate() float64 {
	if r.elapsed <= 0 {
		return math.NaN()
	}
	return r.sent / r.elapsed.Seconds()
}

func (r tsdbRun) cpuPerMillion() float64 {
	if r.stored == 0 {
		return math.NaN()
	}
	return r.cpu.Seconds() / r.stored * 1e6
}

// opentsdbPut is scenario 9.
func (e *env) opentsdbPut(ctx context.Context, r *Report) error {
	sec := Section{Scenario: 9, Title: "OpenTSDB put ingestion: dsdb receiver vs VictoriaMetrics"}
	defer func() { r.Sections = append(r.Sections, sec) }()
	vmBin, err := peer.EnsureVictoriaMetrics(ctx, e.o.Progress)
	if err != nil {
		sec.Failed = append(sec.Failed, err.Error())
		return nil
	}
	vmVersion := peer.VictoriaMetricsVersion(vmBin)
	l := e.tsdbLoad()
	start := time.Now().Add(-time.Hour).Truncate(time.Second)
	block := loadgen.PutLines(l.series, l.block, start)
	bodies := loadgen.PutBodies(l.series, l.perBody, 1000, start)
	runs := map[[2]int][]tsdbRun{} // [target, 0 telnet / 1 http]
	names := [...]string{"doghouse", "VictoriaMetrics"}
	for round := range e.p.runs {
		for _, http := range []bool{false, true} {
			for _, tg := range []tsdbTarget{tsdbDoghouse, tsdbVM} {
				proto := map[bool]string{false: "telnet put", true: "/api/put"}[http]
				e.logf("scenario 9: %s, %s, run %d of %d", names[tg], proto, round+1, e.p.runs)
				res, err := e.tsdbMeasure(ctx, tg, vmBin, http, l, block, bodies)
				if err != nil {
					sec.Failed = append(sec.Failed, fmt.Sprintf("%s, %s, run %d: %v", names[tg], proto, round+1, err))
					continue
				}
				k := [2]int{int(tg), map[bool]int{false: 0, true: 1}[http]}
				runs[k] = append(runs[k], res)
				if res.note != "" {
					sec.Notes = append(sec.Notes, fmt.Sprintf("%s, %s, run %d: %s", names[tg], proto, round+1, res.note))
				}
			}
		}
	}
	sec.Method = fmt.Sprintf("Each run starts the target fresh: otelcol-doghouse with the dsdb receiver feeding the chunkfile exporter, its telemetry at the Collector's default level "+
		"(a new directory each run), or %s (`-opentsdbListenAddr`, its own storage in a new directory), both on loopback ports the OS chose. "+
		"Telnet: %s `put` lines over one TCP connection (%d series: 10 metrics × %d hosts, 3 tags; a block of %s lines formatted before "+
		"sending, sent %d times), written as fast as the connection takes them. /api/put: %s requests of %d-point JSON arrays over %d "+
		"keep-alive connections. A rate is what was sent over the time from the first byte to the moment the target counted all of it "+
		"stored (doghouse: `otelcol_exporter_sent_metric_points{exporter=\"chunkfile\"}`; VictoriaMetrics: `vm_rows_inserted_total` of "+
		"type `opentsdb` or `opentsdbhttp`), polled every %s; CPU is the target's utime + stime from the first byte until it was idle (no CPU for 0.5 s); "+
		"peak RSS is its VmHWM. The load generator shares the machine's cores.",
		vmVersion, formatNum(float64(l.lines)), l.series, l.series/10, formatNum(float64(l.block)), l.lines/l.block,
		formatNum(float64(l.requests)), l.perBody, l.httpConns, storedPoll)
	t := Table{Caption: fmt.Sprintf("median (min–max) of %d run(s)", e.p.runs),
		Columns: []string{"doghouse: dsdb → chunkfile", vmVersion + ": own storage", "doghouse / VictoriaMetrics"}}
	for p, proto := range []string{"telnet put, one connection", "/api/put, 100-point arrays"} {
		unit := map[int]string{0: "lines", 1: "points"}[p]
		d, v := runs[[2]int{0, p}], runs[[2]int{1, p}]
		row := func(name string, f func(tsdbRun) float64) Cell {
			dc, vc := Median(collect(d, f)), Median(collect(v, f))
			t.Rows = append(t.Rows, Row{Figure: proto + ": " + name, Cells: []Cell{dc, vc, Text(Ratio(dc, vc))}})
			return dc
		}
		rate := row(unit+"/s", tsdbRun.rate)
		vmRate := Median(collect(v, tsdbRun.rate))
		cpu := row("CPU s per million "+unit, tsdbRun.cpuPerMillion)
		vmCPU := Median(collect(v, tsdbRun.cpuPerMillion))
		row("peak RSS, MiB", func(r tsdbRun) float64 { return float64(r.peakRSS) / (1 << 20) })
		row(unit+" stored ÷ sent, %", func(r tsdbRun) float64 { return 100 * r.stored / r.sent })
		for i, res := range d {
			if res.stored != res.sent || res.failed > 0 {
				sec.Failed = append(sec.Failed, fmt.Sprintf("doghouse, %s, run %d: stored %s of %s %s (%d requests failed)",
					proto, i+1, formatNum(res.stored), formatNum(res.sent), unit, res.failed))
			}
		}
		switch {
		case p == 0 && rate.OK && vmRate.OK && rate.V < vmRate.V:
			sec.Failed = append(sec.Failed, fmt.Sprintf("telnet put: doghouse took %s lines/s, VictoriaMetrics %s (target: no worse)", rate, vmRate))
		case p == 1 && rate.OK && rate.V < 300_000:
			sec.Failed = append(sec.Failed, fmt.Sprintf("/api/put: doghouse took %s points/s (target: at least 300,000)", rate))
		}
		if p == 0 && cpu.OK && vmCPU.OK && cpu.V > vmCPU.V {
			sec.Failed = append(sec.Failed, fmt.Sprintf("telnet put: doghouse used %s CPU s per million lines, VictoriaMetrics %s (target: no worse)", cpu, vmCPU))
		}
	}
	sec.Tables = append(sec.Tables, t)
	return nil
}

func collect(runs []tsdbRun, f func(tsdbRun) float64) []float64 {
	out := make([]float64, len(runs))
	for i, r := range runs {
		out[i] = f(r)
	}
	return out
}

// tsdbMeasure runs one target through one load. The target never outlives it.
func (e *env) tsdbMeasure(ctx context.Context, tg tsdbTarget, vmBin string, http bool, l tsdbLoad, block []byte, bodies [][]byte) (tsdbRun, error) {
	dir, err := os.MkdirTemp("", "testbed-opentsdb-")
	if err != nil {
		return tsdbRun{}, err
	}
	defer os.RemoveAll(dir)
	var proc *collector.Process
	var addr string
	var stored func() (float64, error)
	switch tg {
	case tsdbDoghouse:
		port, err := freeTCPPort()
		if err != nil {
			return tsdbRun{}, err
		}
		tport, err := freeTCPPort()
		if err != nil {
			return tsdbRun{}, err
		}
		addr = fmt.Sprintf("127.0.0.1:%d", port)
		cfg := filepath.Join(dir, "config.yaml")
		if err := os.WriteFile(cfg, []byte(dsdbConfig(addr, filepath.Join(dir, "chunks"), tport, 0)), 0o600); err != nil {
			return tsdbRun{}, err
		}
		if proc, err = collector.Start(collector.Doghouse, e.o.Paths.Doghouse, cfg); err != nil {
			return tsdbRun{}, err
		}
		url := fmt.Sprintf("http://127.0.0.1:%d/metrics", tport)
		if err := proc.WaitReady(url, time.Minute); err != nil {
			proc.Kill()
			return tsdbRun{}, err
		}
		stored = func() (float64, error) {
			sc, err := collector.ScrapeURL(url, 5*time.Second)
			if err != nil {
				return 0, err
			}
			v, _ := sc.Sum("otelcol_exporter_sent_metric_points", map[string]string{"exporter": "chunkfile"})
			return v, nil
		}
	case tsdbVM:
		vm, err := peer.StartVictoriaMetrics(vmBin, dir)
		if err != nil {
			return tsdbRun{}, err
		}
		proc, addr = vm.Proc, vm.OpenTSDBAddr
		stored = func() (float64, error) {
			sc, err := collector.ScrapeURL(vm.MetricsURL(), 5*time.Second)
			if err != nil {
				return 0, err
			}
			telnet, httpRows := peer.Inserted(sc)
			if http {
				return httpRows, nil
			}
			return telnet, nil
		}
	}
	defer func() {
		if err := proc.Stop(30 * time.Second); err != nil && tg == tsdbDoghouse {
			e.logf("scenario 9: stopping %s: %v", proc.Kind, err)
		}
	}()

	var res tsdbRun
	cpu0, err := procstat.ReadCPU(proc.PID)
	if err != nil {
		return res, err
	}
	gen0, t0 := selfCPU(), time.Now()
	if http {
		res.sent = float64(l.requests * l.perBody)
		hr := loadgen.SendPuts(ctx, "http://"+addr+"/api/put", bodies, l.requests, l.httpConns)
		res.failed = hr.Failed
		if hr.Failed > 0 {
			res.note = fmt.Sprintf("%d requests failed, the first: %s", hr.Failed, hr.FirstError)
		}
	} else {
		res.sent = float64(l.lines)
		if err := loadgen.SendTelnet(ctx, addr, block, l.lines/l.block); err != nil {
			return res, err
		}
	}
	res.genCPU = selfCPU() - gen0
	// All stored: poll until the count reaches what was sent (at most 2 minutes). Every
	// scrape costs the target CPU (about 2 ms for otelcol-doghouse's /metrics), so the poll
	// is not tighter than storedPoll.
	for deadline := time.Now().Add(2 * time.Minute); ; {
		n, err := stored()
		if err == nil {
			res.stored = n
			if n >= res.sent {
				res.elapsed = time.Since(t0)
				break
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			res.note = strings.TrimSpace(res.note + fmt.Sprintf(" stored %s of %s after 2 minutes", formatNum(res.stored), formatNum(res.sent)))
			break
		}
		time.Sleep(storedPoll)
	}
	// Idle: no CPU for 0.5 s (at most 30 s).
	last := cpu0.Total()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		time.Sleep(500 * time.Millisecond)
		c, err := procstat.ReadCPU(proc.PID)
		if err != nil {
			return res, err
		}
		if c.Total()-last < 10*time.Millisecond {
			last = c.Total()
			break
		}
		last = c.Total()
	}
	res.cpu = last - cpu0.Total()
	if m, err := procstat.ReadMemory(proc.PID); err == nil {
		res.peakRSS = m.PeakRSS
	}
	return res, nil
}

// dsdbConfig is doghouse's configuration for scenarios 9 and 10: the dsdb receiver (its
// defaults, TCP only) into the chunkfile exporter and, when queryPort is not 0, the chunkquery
// extension over its directory on that port, all at their defaults.
func dsdbConfig(addr, chunks string, telemetryPort, queryPort int) string {
	ext, uses := "", ""
	if queryPort != 0 {
		ext = fmt.Sprintf("extensions:\n  chunkquery:\n    directory: %s\n    endpoint: 127.0.0.1:%d\n", chunks, queryPort)
		uses = "  extensions: [chunkquery]\n"
	}
	return fmt.Sprintf(`receivers:
  dsdb:
    endpoint: %s
    statshouse:
      udp: false
exporters:
  chunkfile:
    directory: %s
%sservice:
%s  pipelines:
    metrics:
      receivers: [dsdb]
      exporters: [chunkfile]
  telemetry:
    logs:
      level: info
    metrics:
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: %d
`, addr, chunks, ext, uses, telemetryPort)
}
