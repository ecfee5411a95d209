package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/DataDog/datadog-go/v5/statsd"
	"github.com/stretchr/testify/require"
)

// prometheusBinary finds Debian's prometheus (`make test` installs it when missing).
func prometheusBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("DOGHOUSE_PROMETHEUS"); p != "" {
		return p
	}
	p, err := exec.LookPath("prometheus")
	if err != nil {
		if os.Getenv("DOGHOUSE_E2E") == "require" {
			t.Fatalf("prometheus is not installed (make test installs Debian's package): %v", err)
		}
		t.Skipf("prometheus is not installed (apt-get install prometheus, or run make test): %v", err)
	}
	return p
}

// startPrometheus runs a Prometheus server on a free loopback port with the remote-write
// receiver and native histograms on, scraping nothing, and returns its base URL once ready.
func startPrometheus(t *testing.T, dir string) string {
	t.Helper()
	bin := prometheusBinary(t)
	config := filepath.Join(dir, "prometheus.yml")
	require.NoError(t, os.WriteFile(config, []byte("global:\n  scrape_interval: 1m\n"), 0o600))
	addr := fmt.Sprintf("127.0.0.1:%d", freeTCPPort(t))
	cmd := exec.Command(bin, "--config.file="+config, "--storage.tsdb.path="+filepath.Join(dir, "tsdb"),
		"--web.listen-address="+addr, "--web.enable-remote-write-receiver",
		"--enable-feature=native-histograms", "--log.level=warn")
	logFile, err := os.Create(filepath.Join(dir, "prometheus.log"))
	require.NoError(t, err)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill() // stop what we started, by PID
		<-exited
		logFile.Close()
	})
	base := "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			log, _ := os.ReadFile(logFile.Name())
			t.Fatalf("prometheus exited: %v\n%s", err, log)
		default:
		}
		if resp, err := http.Get(base + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("prometheus not ready on %s after 30s", addr)
	return ""
}

// promQuery runs an instant PromQL query and returns the value of its single sample, or
// ok=false when the result has no sample yet.
func promQuery(t *testing.T, base, query string) (float64, bool) {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/query?query=" + url.QueryEscape(query))
	require.NoError(t, err)
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	require.Equal(t, "success", body.Status, "query %s: %s", query, body.Error)
	if len(body.Data.Result) == 0 {
		return 0, false
	}
	require.Len(t, body.Data.Result, 1, "query %s", query)
	s, _ := body.Data.Result[0].Value[1].(string)
	v, err := strconv.ParseFloat(s, 64)
	require.NoError(t, err)
	return v, true
}

const remoteWriteConfig = `
receivers:
  dogstatsd:
    udp:
      endpoint: 127.0.0.1:0
    aggregation_interval: 1s
processors:
  # A budget far above this test's traffic: every row passes unsampled.
  fairshare:
    budget:
      bytes_per_second: 100000000
  deltatocumulative:
exporters:
  prometheus_remote_write:
    endpoint: %[1]s/api/v1/write
    target_info:
      enabled: false
service:
  pipelines:
    metrics:
      receivers: [dogstatsd]
      processors: [fairshare, deltatocumulative]
      exporters: [prometheus_remote_write]
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

// TestRemoteWriteToPrometheus sends DogStatsD counters, gauges, timers and distributions through
// dogstatsd → fairshare → deltatocumulative → prometheus_remote_write into a real Prometheus,
// over several intervals, and reads back through Prometheus' HTTP API exactly the totals and
// counts that were sent. Without deltatocumulative every counter, timer and distribution would
// be dropped by the exporter (it translates cumulative data only).
func TestRemoteWriteToPrometheus(t *testing.T) {
	dir, err := os.MkdirTemp("", "doghouse-prw-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	base := startPrometheus(t, dir)

	port := freeTCPPort(t)
	config := filepath.Join(dir, "config.yaml")
	require.NoError(t, os.WriteFile(config, fmt.Appendf(nil, remoteWriteConfig, base, port), 0o600))
	c := start(t, config, 1)
	c.telemetry = fmt.Sprintf("http://127.0.0.1:%d/metrics", port)

	client, err := statsd.New(c.addrs["udp"], statsd.WithoutTelemetry(), statsd.WithoutClientSideAggregation(),
		statsd.WithoutOriginDetection())
	require.NoError(t, err)
	tags := []string{"env:e2e"}
	// Three rounds, each in its own aggregation interval: the cumulative totals must add the
	// deltas of every interval, not keep the last one.
	var requests, latencySum, sizeSum float64
	var latencyCount, sizeCount int
	lines := 0
	for round := range 3 {
		for i := range 10 {
			v := int64(round*10 + i + 1)
			require.NoError(t, client.Count("prw.requests", v, tags, 1))
			requests += float64(v)
			require.NoError(t, client.Timing("prw.latency", time.Duration(v)*time.Millisecond, tags, 1))
			latencySum += float64(v)
			latencyCount++
			require.NoError(t, client.Distribution("prw.size", float64(v*100), tags, 1))
			sizeSum += float64(v * 100)
			sizeCount++
			lines += 3
		}
		require.NoError(t, client.Gauge("prw.temperature", 20+float64(round), tags, 1))
		lines++
		require.NoError(t, client.Flush())
		time.Sleep(1100 * time.Millisecond)
	}
	require.NoError(t, client.Close())
	deadline := time.Now().Add(20 * time.Second)
	for c.selfMetric("otelcol_receiver_dogstatsd_lines") < float64(lines) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	require.Equal(t, float64(lines), c.selfMetric("otelcol_receiver_dogstatsd_lines"), "lines read\n%s", c.logs())

	want := []struct {
		query string
		value float64
	}{
		{`sum(prw_requests)`, requests},
		{`prw_temperature`, 22},
		{`histogram_count(prw_latency)`, float64(latencyCount)},
		{`histogram_sum(prw_latency)`, latencySum},
		{`histogram_count(prw_size)`, float64(sizeCount)},
		{`histogram_sum(prw_size)`, sizeSum},
	}
	for _, w := range want {
		var got float64
		var ok bool
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			if got, ok = promQuery(t, base, w.query); ok && got == w.value {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		if !ok || got != w.value {
			var names []string
			resp, err := http.Get(base + "/api/v1/label/__name__/values")
			if err == nil {
				var body struct{ Data []string }
				_ = json.NewDecoder(resp.Body).Decode(&body)
				resp.Body.Close()
				names = body.Data
			}
			t.Fatalf("%s = %v (present %v), want %v; metric names in Prometheus: %v\n%s", w.query, got, ok, w.value, names, c.logs())
		}
	}
	c.stop(t)
}
