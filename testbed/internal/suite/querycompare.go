package suite

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/doghouse-otel/doghouse/testbed/internal/collector"
	"github.com/doghouse-otel/doghouse/testbed/internal/loadgen"
	"github.com/doghouse-otel/doghouse/testbed/internal/peer"
)

// Scenario 10: query latency, doghouse's chunkquery extension against VictoriaMetrics, on the
// same data sent to both as OpenTSDB put lines (the read-side issue's comparison).

// queryLoad sizes scenario 10: 1,000 series × 5,000 points at 1 s.
type queryLoad struct {
	series, hosts, passes int
	rounds                int // timed queries per target and query
}

func (e *env) queryLoad() queryLoad {
	l := queryLoad{series: 1000, hosts: 10, passes: 5000, rounds: 15}
	if s := e.o.DurationScale; s > 0 && s < 1 {
		l.passes = max(900, int(float64(l.passes)*s))
		l.rounds = 5
	}
	return l
}

// promQuery is one query both targets answer.
type promQuery struct {
	name   string
	path   string // /api/v1/query_range or /api/v1/query
	params url.Values
}

// queryTarget is one running target: where its query API is.
type queryTarget struct {
	name string
	base string // http://host:port
	proc *collector.Process
}

// queryCompare is scenario 10.
func (e *env) queryCompare(ctx context.Context, r *Report) error {
	sec := Section{Scenario: 10, Title: "Query latency: chunkquery extension vs VictoriaMetrics"}
	defer func() { r.Sections = append(r.Sections, sec) }()
	vmBin, err := peer.EnsureVictoriaMetrics(ctx, e.o.Progress)
	if err != nil {
		sec.Failed = append(sec.Failed, err.Error())
		return nil
	}
	vmVersion := peer.VictoriaMetricsVersion(vmBin)
	l := e.queryLoad()
	start := time.Now().Add(-2 * time.Hour).Truncate(time.Minute)
	dir, err := os.MkdirTemp("", "testbed-query-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	dh, err := e.startQueryDoghouse(ctx, filepath.Join(dir, "doghouse"), l, start)
	if dh.proc != nil {
		defer dh.proc.Stop(30 * time.Second)
	}
	if err != nil {
		sec.Failed = append(sec.Failed, "doghouse: "+err.Error())
		return nil
	}
	vm, err := e.startQueryVM(ctx, vmBin, filepath.Join(dir, "vm"), l, start)
	if vm.proc != nil {
		defer vm.proc.Stop(30 * time.Second)
	}
	if err != nil {
		sec.Failed = append(sec.Failed, "VictoriaMetrics: "+err.Error())
		return nil
	}
	targets := []queryTarget{dh, vm}

	end := start.Add(time.Duration(l.passes-1) * time.Second).Truncate(time.Minute)
	expr := "sum by (host) (rate(req[5m]))"
	queries := []promQuery{
		{name: fmt.Sprintf("query_range `%s`, %s at a 60 s step", expr, end.Sub(start.Add(5*time.Minute))), path: "/api/v1/query_range",
			params: url.Values{"query": {expr}, "start": {unix(start.Add(5 * time.Minute))}, "end": {unix(end)}, "step": {"60"}}},
		{name: fmt.Sprintf("instant query `%s` at the last minute", expr), path: "/api/v1/query",
			params: url.Values{"query": {expr}, "time": {unix(end)}}},
	}
	client := &http.Client{Timeout: time.Minute}
	defer client.CloseIdleConnections()
	t := Table{Caption: fmt.Sprintf("latency in ms, median (min–max) of %d queries after the first", l.rounds),
		Columns: []string{"doghouse: chunkquery", vmVersion, "doghouse / VictoriaMetrics"}}
	for _, q := range queries {
		// The first query of each target, then rounds alternating which goes first.
		first := make([]float64, len(targets))
		answers := make([]promAnswer, len(targets))
		for i, tg := range targets {
			d, a, err := timeQuery(ctx, client, tg.base, q)
			if err != nil {
				sec.Failed = append(sec.Failed, fmt.Sprintf("%s, %s: %v", tg.name, q.name, err))
				return nil
			}
			first[i], answers[i] = d, a
		}
		if msg := compareAnswers(answers[0], answers[1]); msg != "" {
			sec.Failed = append(sec.Failed, fmt.Sprintf("%s: the answers differ: %s", q.name, msg))
		} else {
			sec.Notes = append(sec.Notes, fmt.Sprintf("%s: both answer %d series, %d points in all; the values differ by at most %.2f %% (%s)",
				q.name, len(answers[0]), answers[0].points(), 100*maxRelDiff(answers[0], answers[1]), rateNote))
		}
		lat := make([][]float64, len(targets))
		for round := range l.rounds {
			for k := range targets {
				i := (k + round) % len(targets)
				d, _, err := timeQuery(ctx, client, targets[i].base, q)
				if err != nil {
					sec.Failed = append(sec.Failed, fmt.Sprintf("%s, %s, round %d: %v", targets[i].name, q.name, round+1, err))
					return nil
				}
				lat[i] = append(lat[i], d)
			}
		}
		fd, fv := Num(first[0]), Num(first[1])
		t.Rows = append(t.Rows, Row{Figure: q.name + ": first query", Cells: []Cell{fd, fv, Text(Ratio(fd, fv))}})
		md, mv := Median(lat[0]), Median(lat[1])
		t.Rows = append(t.Rows, Row{Figure: q.name + ": later queries", Cells: []Cell{md, mv, Text(Ratio(md, mv))}})
		if q.path == "/api/v1/query_range" && md.OK && mv.OK && md.V > mv.V {
			sec.Failed = append(sec.Failed, fmt.Sprintf("%s: doghouse %s ms, VictoriaMetrics %s ms (target: no slower)", q.name, md, mv))
		}
	}
	sec.Tables = append(sec.Tables, t)
	sec.Method = fmt.Sprintf("The same OpenTSDB `put` lines go to both targets over one TCP connection each: %d series of `req` "+
		"(%d hosts, a `path` tag each) × %d points at 1 s, cumulative counters rising 1 to 5 a second, stamped from two hours ago. "+
		"doghouse: otelcol-doghouse with the dsdb receiver into the chunkfile exporter and the chunkquery extension over its "+
		"directory, all at their defaults (the data stays in the open segment, which is sealed after an hour, so queries read raw points). "+
		"%s: its own storage, `-search.disableCache` (no result cache), `/internal/force_flush` after the load. "+
		"Queries start once each target counted every point stored; each is timed by the testbed from the request to the "+
		"last byte of the answer over a kept-alive loopback connection; the targets take turns going first.",
		l.series, l.hosts, l.passes, vmVersion)
	return nil
}

// rateNote explains the expected difference between the two rates.
const rateNote = "doghouse's rate is the increase between the points inside the range over its length, without " +
	"extrapolation (299 of 300 one-second increases); VictoriaMetrics also counts the increase from the last point before the range"

func unix(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

func (e *env) startQueryDoghouse(ctx context.Context, dir string, l queryLoad, start time.Time) (queryTarget, error) {
	tg := queryTarget{name: "doghouse"}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return tg, err
	}
	var ports [3]int
	for i := range ports {
		p, err := freeTCPPort()
		if err != nil {
			return tg, err
		}
		ports[i] = p
	}
	putAddr := fmt.Sprintf("127.0.0.1:%d", ports[0])
	tg.base = fmt.Sprintf("http://127.0.0.1:%d", ports[1])
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte(dsdbConfig(putAddr, filepath.Join(dir, "chunks"), ports[2], ports[1])), 0o600); err != nil {
		return tg, err
	}
	var err error
	if tg.proc, err = collector.Start(collector.Doghouse, e.o.Paths.Doghouse, cfg); err != nil {
		return tg, err
	}
	telemetry := fmt.Sprintf("http://127.0.0.1:%d/metrics", ports[2])
	if err := tg.proc.WaitReady(telemetry, time.Minute); err != nil {
		return tg, err
	}
	e.logf("scenario 10: loading %d points into doghouse", l.series*l.passes)
	if err := loadgen.SendCounterPasses(ctx, putAddr, l.series, l.hosts, l.passes, start); err != nil {
		return tg, err
	}
	return tg, waitStored(ctx, float64(l.series*l.passes), func() (float64, error) {
		sc, err := collector.ScrapeURL(telemetry, 5*time.Second)
		if err != nil {
			return 0, err
		}
		v, _ := sc.Sum("otelcol_exporter_sent_metric_points", map[string]string{"exporter": "chunkfile"})
		return v, nil
	})
}

func (e *env) startQueryVM(ctx context.Context, bin, dir string, l queryLoad, start time.Time) (queryTarget, error) {
	tg := queryTarget{name: "VictoriaMetrics"}
	vm, err := peer.StartVictoriaMetrics(bin, dir, "-search.disableCache")
	if err != nil {
		return tg, err
	}
	tg.proc, tg.base = vm.Proc, "http://"+vm.HTTPAddr
	e.logf("scenario 10: loading %d points into VictoriaMetrics", l.series*l.passes)
	if err := loadgen.SendCounterPasses(ctx, vm.OpenTSDBAddr, l.series, l.hosts, l.passes, start); err != nil {
		return tg, err
	}
	err = waitStored(ctx, float64(l.series*l.passes), func() (float64, error) {
		sc, err := collector.ScrapeURL(vm.MetricsURL(), 5*time.Second)
		if err != nil {
			return 0, err
		}
		telnet, _ := peer.Inserted(sc)
		return telnet, nil
	})
	if err != nil {
		return tg, err
	}
	resp, err := http.Get(tg.base + "/internal/force_flush")
	if err != nil {
		return tg, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return tg, fmt.Errorf("/internal/force_flush: %s", resp.Status)
	}
	return tg, nil
}

// waitStored polls stored until it reaches want (at most 2 minutes).
func waitStored(ctx context.Context, want float64, stored func() (float64, error)) error {
	var n float64
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		v, err := stored()
		if err == nil {
			n = v
			if n >= want {
				return nil
			}
		}
	}
	return fmt.Errorf("stored %s of %s points after 2 minutes", formatNum(n), formatNum(want))
}

// promAnswer is a query's answer: per series (its labels as text), its points.
type promAnswer map[string]map[int64]float64

func (a promAnswer) points() int {
	n := 0
	for _, s := range a {
		n += len(s)
	}
	return n
}

// timeQuery runs q against base and returns its latency in milliseconds and its answer.
func timeQuery(ctx context.Context, client *http.Client, base string, q promQuery) (float64, promAnswer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+q.path+"?"+q.params.Encode(), nil)
	if err != nil {
		return 0, nil, err
	}
	t0 := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	d := time.Since(t0)
	if err != nil {
		return 0, nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, nil, fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(body[:min(len(body), 300)])))
	}
	a, err := parsePromAnswer(body)
	return float64(d.Microseconds()) / 1000, a, err
}

// parsePromAnswer reads a Prometheus API vector or matrix answer.
func parsePromAnswer(body []byte) (promAnswer, error) {
	var doc struct {
		Status string `json:"status"`
		Data   struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Metric map[string]string `json:"metric"`
				Value  []any             `json:"value"`
				Values [][]any           `json:"values"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, err
	}
	if doc.Status != "success" {
		return nil, fmt.Errorf("status %q", doc.Status)
	}
	out := promAnswer{}
	for _, s := range doc.Data.Result {
		keys := make([]string, 0, len(s.Metric))
		for k, v := range s.Metric {
			keys = append(keys, k+"="+v)
		}
		slices.Sort(keys)
		pts := map[int64]float64{}
		vals := s.Values
		if s.Value != nil {
			vals = [][]any{s.Value}
		}
		for _, p := range vals {
			if len(p) != 2 {
				return nil, errors.New("a point is not [time, value]")
			}
			ts, ok1 := p[0].(float64)
			vs, ok2 := p[1].(string)
			v, err := strconv.ParseFloat(vs, 64)
			if !ok1 || !ok2 || err != nil {
				return nil, fmt.Errorf("point %v", p)
			}
			pts[int64(math.Round(ts*1000))] = v
		}
		out[strings.Join(keys, ",")] = pts
	}
	return out, nil
}

// compareAnswers checks that a and b have the same series and points at the same times, with
// values within 1 %; it returns what differs, or "".
func compareAnswers(a, b promAnswer) string {
	if len(a) != len(b) {
		return fmt.Sprintf("%d series against %d", len(a), len(b))
	}
	for k, pa := range a {
		pb, ok := b[k]
		if !ok {
			return fmt.Sprintf("series {%s} only in doghouse's", k)
		}
		if len(pa) != len(pb) {
			return fmt.Sprintf("series {%s}: %d points against %d", k, len(pa), len(pb))
		}
		for ts := range pa {
			if _, ok := pb[ts]; !ok {
				return fmt.Sprintf("series {%s}: a point at %d only in doghouse's", k, ts)
			}
		}
	}
	if d := maxRelDiff(a, b); d > 0.01 {
		return fmt.Sprintf("values differ by up to %.2f %%", 100*d)
	}
	return ""
}

// maxRelDiff is the largest relative difference between the values a and b have at the same
// series and time.
func maxRelDiff(a, b promAnswer) float64 {
	var m float64
	for k, pa := range a {
		for ts, va := range pa {
			vb, ok := b[k][ts]
			if !ok {
				continue
			}
			if d := math.Abs(va-vb) / math.Max(math.Abs(vb), 1e-12); d > m || math.IsNaN(d) {
				m = d
			}
		}
	}
	return m
}
