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
	var api string
	for deadline := time.Now().Add(10 * time.Second); api == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := queryEndpointLine.FindStringSubmatch(c.logs()); m != nil {
			api = "http://" + m[1]
		}
	}
	require.NotEmpty(t, api, "the chunkquery extension did not log its endpoint\n%s", c.logs())

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

	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	query := func(q string) map[string]string {
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
			out[s.Metric["page"]+s.Metric["queue"]] = s.Value[1].(string)
		}
		return out
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
