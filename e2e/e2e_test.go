// Package e2e runs the built otelcol-doghouse binary as a user would and checks what comes out.
// It builds nothing: `make test` builds the distribution first and points DOGHOUSE_OTELCOL at
// it. Run alone, the test skips with a message when the binary is missing, unless
// DOGHOUSE_E2E=require.
package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/DataDog/datadog-go/v5/statsd"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.uber.org/goleak"

	"github.com/doghouse-otel/doghouse/chunkfile"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func binary(t *testing.T) string {
	t.Helper()
	path := os.Getenv("DOGHOUSE_OTELCOL")
	if path == "" {
		path = filepath.Join("..", "build", "otelcol-doghouse", "otelcol-doghouse")
	}
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("DOGHOUSE_E2E") == "require" {
			t.Fatalf("built collector %s is missing: %v", path, err)
		}
		t.Skipf("built collector %s is missing (run `make build`, or `make test` which builds it): %v", path, err)
	}
	return path
}

// freeTCPPort asks the OS for a free loopback port for the collector's own telemetry endpoint,
// whose bound address the collector does not log.
func freeTCPPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

type collector struct {
	cmd       *exec.Cmd
	telemetry string
	mu        sync.Mutex
	log       bytes.Buffer
	addrs     map[string]string // transport -> address, from the receiver's start log lines
	exited    chan error
}

var (
	listenerLine = regexp.MustCompile(`DogStatsD listener started.*"transport": "(\w+)", "address": "([^"]+)"`)
	// dsdbLine is the dsdb receiver's start line; its TCP address is addrs["dsdb"].
	dsdbLine = regexp.MustCompile(`dsdb receiver listening.*"tcp": "([^"]+)"`)
)

// start runs the binary on config and waits (bounded) until every expected listener is bound.
func start(t *testing.T, config string, transports int) *collector {
	t.Helper()
	c := &collector{addrs: map[string]string{}, exited: make(chan error, 1)}
	c.cmd = exec.Command(binary(t), "--config", config)
	stderr, err := c.cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, c.cmd.Start())
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			c.mu.Lock()
			c.log.WriteString(sc.Text() + "\n")
			m := listenerLine.FindStringSubmatch(sc.Text())
			if d := dsdbLine.FindStringSubmatch(sc.Text()); d != nil {
				m = []string{d[0], "dsdb", d[1]}
			}
			if m != nil {
				c.addrs[m[1]] = m[2]
				if len(c.addrs) == transports {
					close(ready)
				}
			}
			c.mu.Unlock()
		}
		c.exited <- c.cmd.Wait()
	}()
	t.Cleanup(func() {
		if c.cmd.ProcessState == nil {
			_ = c.cmd.Process.Kill() // stop what we started, by PID
			<-c.exited
		}
	})
	select {
	case <-ready:
	case err := <-c.exited:
		t.Fatalf("collector exited before its listeners were up: %v\n%s", err, c.logs())
	case <-time.After(30 * time.Second):
		t.Fatalf("listeners not up after 30s\n%s", c.logs())
	}
	return c
}

func (c *collector) logs() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.log.String()
}

// selfMetric reads one counter of the collector's own telemetry, 0 when absent.
func (c *collector) selfMetric(name string) float64 {
	resp, err := http.Get(c.telemetry)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for line := range strings.SplitSeq(string(body), "\n") {
		if strings.HasPrefix(line, name+" ") || strings.HasPrefix(line, name+"{") {
			f := strings.Fields(line)
			v, _ := strconv.ParseFloat(f[len(f)-1], 64)
			return v
		}
	}
	return 0
}

// stop sends SIGTERM by PID and waits (bounded) for a clean exit.
func (c *collector) stop(t *testing.T) {
	t.Helper()
	require.NoError(t, c.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-c.exited:
		require.NoError(t, err, "collector did not exit cleanly\n%s", c.logs())
	case <-time.After(30 * time.Second):
		t.Fatalf("collector still running 30s after SIGTERM\n%s", c.logs())
	}
}

const configTemplate = `
receivers:
  dogstatsd:
    udp:
      endpoint: 127.0.0.1:0
    unixgram:
      path: %[1]s/dsd.sock
    unix:
      path: %[1]s/dsd-stream.sock
    # Long enough that only the graceful stop flushes: every context then has exactly one point.
    aggregation_interval: 1h
processors:
  # A budget far above this test's traffic: every row passes unsampled.
  fairshare:
    budget:
      bytes_per_second: 100000000
exporters:
  chunkfile:
    directory: %[1]s/chunks
  file/metrics:
    path: %[1]s/metrics.jsonl
  file/logs:
    path: %[1]s/logs.jsonl
service:
  pipelines:
    metrics:
      receivers: [dogstatsd]
      processors: [fairshare]
      exporters: [file/metrics, chunkfile]
    logs:
      receivers: [dogstatsd]
      exporters: [file/logs]
  telemetry:
    metrics:
      level: detailed
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: %[2]d
`

// send uses the official client to send one of every kind, names prefixed by the transport.
func send(t *testing.T, addr, prefix string) {
	t.Helper()
	c, err := statsd.New(addr, statsd.WithoutTelemetry(), statsd.WithoutClientSideAggregation(),
		statsd.WithoutOriginDetection(), statsd.WithNamespace(prefix+"."), statsd.WithTags([]string{"transport:" + prefix}))
	require.NoError(t, err)
	tags := []string{"env:e2e", "team:a", "team:b", "host:web-1"}
	for range 5 {
		require.NoError(t, c.Incr("requests", tags, 1))
	}
	require.NoError(t, c.Count("bytes", 1500, tags, 1))
	require.NoError(t, c.Gauge("temperature", 21.5, tags, 1))
	require.NoError(t, c.Gauge("temperature", 23.25, tags, 1))
	for _, v := range []float64{10, 20, 30, 40} {
		require.NoError(t, c.Histogram("payload", v, tags, 1))
		require.NoError(t, c.Distribution("latency", v/10, tags, 1))
	}
	require.NoError(t, c.Timing("render", 250*time.Millisecond, tags, 1))
	for _, u := range []string{"ann", "bob", "ann", "cid"} {
		require.NoError(t, c.Set("visitors", u, tags, 1))
	}
	require.NoError(t, c.Event(&statsd.Event{Title: prefix + " deploy", Text: "line one\nline two", Tags: tags, AlertType: statsd.Error, Priority: statsd.Low}))
	require.NoError(t, c.ServiceCheck(&statsd.ServiceCheck{Name: prefix + ".db", Status: statsd.Warn, Message: "slow", Tags: tags}))
	require.NoError(t, c.Close())
}

// linesPerTransport is what send writes: 5+1+2+4+4+1+4 metric lines, an event, a service check.
const linesPerTransport = 23

func TestDogStatsDThroughTheBuiltCollector(t *testing.T) {
	dir, err := os.MkdirTemp("", "doghouse-e2e-") // short path: Unix socket paths are limited to 108 bytes
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	port := freeTCPPort(t)
	config := filepath.Join(dir, "config.yaml")
	require.NoError(t, os.WriteFile(config, fmt.Appendf(nil, configTemplate, dir, port), 0o600))

	c := start(t, config, 3)
	c.telemetry = fmt.Sprintf("http://127.0.0.1:%d/metrics", port)
	send(t, c.addrs["udp"], "udp")
	send(t, "unixgram://"+c.addrs["unixgram"], "uds")
	send(t, "unixstream://"+c.addrs["unix"], "stream")
	want := float64(3 * linesPerTransport)
	deadline := time.Now().Add(20 * time.Second)
	for c.selfMetric("otelcol_receiver_dogstatsd_lines") < want && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	require.Equal(t, want, c.selfMetric("otelcol_receiver_dogstatsd_lines"), "lines read by the collector\n%s", c.logs())
	c.stop(t)

	metrics := readMetrics(t, filepath.Join(dir, "metrics.jsonl"))
	for _, prefix := range []string{"udp", "uds", "stream"} {
		t.Run(prefix, func(t *testing.T) { checkMetrics(t, metrics, prefix) })
	}
	t.Run("fairshare", func(t *testing.T) {
		// Under budget nothing is sampled: no sampling factor is reported, and the
		// cardinality metametric counts the one row of each metric.
		assert.Empty(t, metrics["fairshare.sampling.factor"])
		var seen bool
		for _, p := range metrics["fairshare.cardinality"] {
			if p.attrs["metric.name"] == "udp.requests" {
				seen = true
				assert.Equal(t, 1.0, numberValue(p))
			}
		}
		assert.True(t, seen, "fairshare.cardinality of udp.requests")
	})
	checkLogs(t, readLogs(t, filepath.Join(dir, "logs.jsonl")))
	t.Run("chunkfiles", func(t *testing.T) { checkChunks(t, metrics, filepath.Join(dir, "chunks")) })
}

// checkChunks reads the chunk files the run left (all sealed by the graceful stop) and checks
// they hold exactly what the file exporter got.
func checkChunks(t *testing.T, metrics map[string][]point, dir string) {
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.NotEmpty(t, entries)
	got := map[string][]chunkfile.Point{}
	for _, e := range entries {
		if e.Name() == "LOCK" || e.IsDir() { // the exporter's directory lock, its rollup tiers
			continue
		}
		require.True(t, strings.HasSuffix(e.Name(), ".chunk"), "segment %s sealed by the graceful stop", e.Name())
		r, err := chunkfile.OpenFile(filepath.Join(dir, e.Name()), chunkfile.ReaderOptions{})
		require.NoError(t, err)
		for r.Next() {
			b := r.Batch().Clone()
			for i := range b.Len() {
				got[b.Series.Name] = append(got[b.Series.Name], b.Point(i))
			}
		}
		require.NoError(t, r.Err())
		require.True(t, r.Sealed(), "%s has its footer", e.Name())
		require.NoError(t, r.Close())
	}
	require.Len(t, got, len(metrics), "metric names in chunk files")
	for name, pts := range metrics {
		require.Len(t, got[name], len(pts), name)
		if len(pts) != 1 {
			continue // this run sends one point per metric; more would be compared by attributes
		}
		want, cp := pts[0].metric, got[name][0]
		switch want.Type() {
		case pmetric.MetricTypeSum, pmetric.MetricTypeGauge:
			var dps pmetric.NumberDataPointSlice
			if want.Type() == pmetric.MetricTypeSum {
				dps = want.Sum().DataPoints()
			} else {
				dps = want.Gauge().DataPoints()
			}
			dp := dps.At(0)
			wantNum := chunkfile.FloatNumber(dp.DoubleValue())
			if dp.ValueType() == pmetric.NumberDataPointValueTypeInt {
				wantNum = chunkfile.IntNumber(dp.IntValue())
			}
			assert.True(t, cp.Num.Equal(wantNum), "%s: %v in chunks, %v in OTLP", name, cp.Num, wantNum)
			assert.Equal(t, int64(dp.Timestamp())/1e6, cp.T, name)
			assert.Equal(t, int64(dp.StartTimestamp())/1e6, cp.Start, name)
		case pmetric.MetricTypeExponentialHistogram:
			dp := want.ExponentialHistogram().DataPoints().At(0)
			assert.Equal(t, [4]float64{float64(dp.Count()), dp.Sum(), dp.Min(), dp.Max()},
				[4]float64{float64(cp.Exp.Count), cp.Exp.Sum, cp.Exp.Min, cp.Exp.Max}, name)
			assert.Equal(t, dp.Scale(), cp.Exp.Scale, name)
			assert.Equal(t, dp.Positive().Offset(), cp.Exp.Positive.Offset, name)
			assert.Equal(t, dp.Positive().BucketCounts().AsRaw(), cp.Exp.Positive.Counts, name)
		}
	}
}

type point struct {
	resource, attrs map[string]any
	metric          pmetric.Metric
	index           int
}

func readMetrics(t *testing.T, path string) map[string][]point {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	out := map[string][]point{}
	var u pmetric.JSONUnmarshaler
	for line := range bytes.SplitSeq(bytes.TrimSpace(data), []byte("\n")) {
		md, err := u.UnmarshalMetrics(line)
		require.NoError(t, err)
		for i := range md.ResourceMetrics().Len() {
			rm := md.ResourceMetrics().At(i)
			for j := range rm.ScopeMetrics().Len() {
				ms := rm.ScopeMetrics().At(j).Metrics()
				for k := range ms.Len() {
					m := ms.At(k)
					n := dataPoints(m)
					for p := range n {
						out[m.Name()] = append(out[m.Name()], point{rm.Resource().Attributes().AsRaw(), attrsOf(m, p), m, p})
					}
				}
			}
		}
	}
	return out
}

func dataPoints(m pmetric.Metric) int {
	switch m.Type() {
	case pmetric.MetricTypeSum:
		return m.Sum().DataPoints().Len()
	case pmetric.MetricTypeGauge:
		return m.Gauge().DataPoints().Len()
	case pmetric.MetricTypeExponentialHistogram:
		return m.ExponentialHistogram().DataPoints().Len()
	}
	return 0
}

func attrsOf(m pmetric.Metric, i int) map[string]any {
	switch m.Type() {
	case pmetric.MetricTypeSum:
		return m.Sum().DataPoints().At(i).Attributes().AsRaw()
	case pmetric.MetricTypeGauge:
		return m.Gauge().DataPoints().At(i).Attributes().AsRaw()
	case pmetric.MetricTypeExponentialHistogram:
		return m.ExponentialHistogram().DataPoints().At(i).Attributes().AsRaw()
	}
	return nil
}

func numberValue(p point) float64 {
	var dp pmetric.NumberDataPoint
	if p.metric.Type() == pmetric.MetricTypeSum {
		dp = p.metric.Sum().DataPoints().At(p.index)
	} else {
		dp = p.metric.Gauge().DataPoints().At(p.index)
	}
	if dp.ValueType() == pmetric.NumberDataPointValueTypeInt {
		return float64(dp.IntValue())
	}
	return dp.DoubleValue()
}

func only(t *testing.T, metrics map[string][]point, name string) point {
	t.Helper()
	require.Len(t, metrics[name], 1, "points of %s", name)
	return metrics[name][0]
}

func checkMetrics(t *testing.T, metrics map[string][]point, prefix string) {
	wantAttrs := map[string]any{"env": "e2e", "team": []any{"a", "b"}, "transport": prefix}
	wantResource := map[string]any{"host.name": "web-1"}

	p := only(t, metrics, prefix+".requests")
	assert.Equal(t, pmetric.MetricTypeSum, p.metric.Type())
	assert.Equal(t, pmetric.AggregationTemporalityDelta, p.metric.Sum().AggregationTemporality())
	assert.Equal(t, 5.0, p.metric.Sum().DataPoints().At(0).DoubleValue())
	assert.Equal(t, wantAttrs, p.attrs)
	assert.Equal(t, wantResource, p.resource)

	assert.Equal(t, 1500.0, only(t, metrics, prefix+".bytes").metric.Sum().DataPoints().At(0).DoubleValue())
	assert.Equal(t, 23.25, only(t, metrics, prefix+".temperature").metric.Gauge().DataPoints().At(0).DoubleValue())
	assert.Equal(t, int64(3), only(t, metrics, prefix+".visitors").metric.Gauge().DataPoints().At(0).IntValue())

	for name, want := range map[string][4]float64{ // count, sum, min, max
		prefix + ".payload": {4, 100, 10, 40},
		prefix + ".latency": {4, 10, 1, 4},
		prefix + ".render":  {1, 250, 250, 250},
	} {
		dp := only(t, metrics, name).metric.ExponentialHistogram().DataPoints().At(0)
		assert.Equal(t, want, [4]float64{float64(dp.Count()), dp.Sum(), dp.Min(), dp.Max()}, name)
		var buckets uint64
		for _, n := range dp.Positive().BucketCounts().AsRaw() {
			buckets += n
		}
		assert.Equal(t, dp.Count(), buckets+dp.ZeroCount(), "%s: bucket counts add up to the count", name)
	}
}

func readLogs(t *testing.T, path string) []plog.LogRecord {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var out []plog.LogRecord
	var u plog.JSONUnmarshaler
	for line := range bytes.SplitSeq(bytes.TrimSpace(data), []byte("\n")) {
		ld, err := u.UnmarshalLogs(line)
		require.NoError(t, err)
		for i := range ld.ResourceLogs().Len() {
			sls := ld.ResourceLogs().At(i).ScopeLogs()
			for j := range sls.Len() {
				for k := range sls.At(j).LogRecords().Len() {
					out = append(out, sls.At(j).LogRecords().At(k))
				}
			}
		}
	}
	return out
}

func checkLogs(t *testing.T, recs []plog.LogRecord) {
	t.Helper()
	got := map[string]string{}
	for _, lr := range recs {
		raw, _ := json.Marshal(lr.Attributes().AsRaw())
		got[lr.Body().Str()] = lr.SeverityText() + " " + string(raw)
	}
	for _, prefix := range []string{"udp", "uds", "stream"} {
		ev, ok := got[prefix+" deploy\nline one\nline two"]
		if assert.True(t, ok, "event of %s in %v", prefix, got) {
			assert.Contains(t, ev, "ERROR ")
			assert.Contains(t, ev, `"dogstatsd.event.priority":"low"`)
		}
		sc, ok := got[prefix+".db: WARNING slow"]
		if assert.True(t, ok, "service check of %s in %v", prefix, got) {
			assert.Contains(t, sc, `"dogstatsd.service_check.status":1`)
		}
	}
	assert.Len(t, recs, 6)
}
