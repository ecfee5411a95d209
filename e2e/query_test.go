package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/DataDog/datadog-go/v5/statsd"
	"github.com/stretchr/testify/require"
)

const queryConfig = `
receivers:
  dogstatsd:
    udp:
      endpoint: 127.0.0.1:0
    aggregation_interval: 1s
processors:
  fairshare:
    merge_attributes: [host.name]
exporters:
  chunkfile:
    directory: %[1]s/chunks
extensions:
  chunkquery:
    directory: %[1]s/chunks
    endpoint: 127.0.0.1:0
service:
  extensions: [chunkquery]
  pipelines:
    metrics:
      receivers: [dogstatsd]
      processors: [fairshare]
      exporters: [chunkfile]
  telemetry:
    metrics:
      level: none
`

var queryEndpointLine = regexp.MustCompile(`Serving the chunk store.*"endpoint": "([^"]+)"`)

// TestSentLinesAreQueryable: DogStatsD lines sent to the built collector's default-style
// pipeline can be read back through the chunkquery extension's Prometheus API of the same
// collector, a second or two later, with the values sent.
func TestSentLinesAreQueryable(t *testing.T) {
	dir, err := os.MkdirTemp("", "doghouse-e2e-q-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	config := filepath.Join(dir, "config.yaml")
	require.NoError(t, os.WriteFile(config, fmt.Appendf(nil, queryConfig, dir), 0o600))
	c := start(t, config, 1)
	api := queryAPI(t, c)

	cl, err := statsd.New(c.addrs["udp"], statsd.WithoutTelemetry(), statsd.WithoutClientSideAggregation(), statsd.WithoutOriginDetection())
	require.NoError(t, err)
	for range 7 {
		require.NoError(t, cl.Incr("e2e.page.views", []string{"env:prod", "page:home"}, 1))
	}
	for range 3 {
		require.NoError(t, cl.Incr("e2e.page.views", []string{"env:prod", "page:cart"}, 1))
	}
	require.NoError(t, cl.Gauge("e2e.queue.depth", 42, []string{"queue:orders"}, 1))
	require.NoError(t, cl.Close())

	query := func(q string) map[string]string {
		return instantQuery(t, api, q, func(m map[string]string) string { return m["page"] + m["queue"] })
	}
	want := map[string]string{"home": "7", "cart": "3"}
	var got map[string]string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if got = query(`sum by (page) (increase({"e2e.page.views", env="prod"}[5m]))`); fmt.Sprint(got) == fmt.Sprint(want) {
			break
		}
	}
	require.Equal(t, want, got, "counts read back\n%s", c.logs())
	require.Equal(t, map[string]string{"orders": "42"}, query(`{"e2e.queue.depth"}`))
	c.stop(t)
}

// queryAPI returns the base URL of the chunkquery extension of c, from its start log line.
func queryAPI(t *testing.T, c *collector) string {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := queryEndpointLine.FindStringSubmatch(c.logs()); m != nil {
			return "http://" + m[1]
		}
	}
	t.Fatalf("the chunkquery extension did not log its endpoint\n%s", c.logs())
	return ""
}

// instantQuery runs an instant query and returns its values by key(labels).
func instantQuery(t *testing.T, api, q string, key func(map[string]string) string) map[string]string {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get(api + "/api/v1/query?query=" + url.QueryEscape(q))
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	var r struct {
		Data struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Value  []any             `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal(body, &r))
	out := map[string]string{}
	for _, s := range r.Data.Result {
		out[key(s.Metric)] = s.Value[1].(string)
	}
	return out
}

// TestRestartStoresEachLineOnce: the collector is stopped (SIGTERM) right after a burst of
// DogStatsD counter lines and started again on the same directory (its open segment recovered
// and sealed, a new one begun), then gets a second burst. Read back through the API, each
// burst's count is exactly what was sent: nothing lost at the stop, nothing stored twice by
// the flush at shutdown, the recovery or the restart.
func TestRestartStoresEachLineOnce(t *testing.T) {
	dir, err := os.MkdirTemp("", "doghouse-e2e-r-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	config := filepath.Join(dir, "config.yaml")
	require.NoError(t, os.WriteFile(config, fmt.Appendf(nil, queryConfig, dir), 0o600))
	burst := func(c *collector, run string, n int) {
		cl, err := statsd.New(c.addrs["udp"], statsd.WithoutTelemetry(), statsd.WithoutClientSideAggregation(), statsd.WithoutOriginDetection())
		require.NoError(t, err)
		for i := range n {
			require.NoError(t, cl.Incr("e2e.restart.lines", []string{"run:" + run}, 1))
			if i%50 == 49 {
				time.Sleep(100 * time.Millisecond) // spread over several aggregation windows
			}
		}
		require.NoError(t, cl.Close())
	}
	const q = `sum by (run) (increase({"e2e.restart.lines"}[10m]))`
	run := func(m map[string]string) string { return m["run"] }
	wait := func(api string, want map[string]string) map[string]string {
		var got map[string]string
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			if got = instantQuery(t, api, q, run); fmt.Sprint(got) == fmt.Sprint(want) {
				break
			}
		}
		return got
	}

	c := start(t, config, 1)
	burst(c, "1", 400)
	require.Equal(t, map[string]string{"1": "400"}, wait(queryAPI(t, c), map[string]string{"1": "400"}), "first run\n%s", c.logs())
	burst(c, "1", 100)                // then stop at once: these are flushed by the shutdown
	time.Sleep(50 * time.Millisecond) // read by the receiver (loopback UDP, well within its buffer)
	c.stop(t)

	c = start(t, config, 1)
	api := queryAPI(t, c)
	burst(c, "2", 300)
	want := map[string]string{"1": "500", "2": "300"}
	wait(api, want)
	// A little longer: a point stored twice could show up after the counts first match.
	time.Sleep(2 * time.Second)
	got := instantQuery(t, api, q, run)
	require.Equal(t, want, got, "after the restart\n%s", c.logs())
	c.stop(t)
}
