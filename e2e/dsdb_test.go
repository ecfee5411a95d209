package e2e

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const dsdbConfig = `
receivers:
  dsdb:
    endpoint: 127.0.0.1:0
    http_handler_extension: chunkquery
    flush_timeout: 50ms
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
      receivers: [dsdb]
      exporters: [chunkfile]
  telemetry:
    metrics:
      level: none
`

// TestOpenTSDBOnOnePort: telnet puts, /api/put and a StatsHouse datagram sent to the dsdb
// receiver's port of the built collector are read back through the Prometheus API on that same
// port (the chunkquery extension's handler), as an OpenTSDB daemon serves ingestion and queries
// on one port.
func TestOpenTSDBOnOnePort(t *testing.T) {
	dir, err := os.MkdirTemp("", "doghouse-e2e-dsdb-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	config := filepath.Join(dir, "config.yaml")
	require.NoError(t, os.WriteFile(config, fmt.Appendf(nil, dsdbConfig, dir), 0o600))
	c := start(t, config, 1)
	addr := c.addrs["dsdb"]
	now := time.Now().Unix()

	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	require.NoError(t, err)
	_, err = fmt.Fprintf(conn, "put e2e.cpu.user %d 42.5 host=web01 cpu=0\nput e2e.cpu.user %d 7 host=web02 cpu=0\nput e2e.bad\nexit\n", now, now)
	require.NoError(t, err)
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(5*time.Second)))
	reply, _ := io.ReadAll(conn)
	require.Equal(t, "put: illegal argument: not enough arguments (need least 4, got 1)\n", string(reply))
	conn.Close()

	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Post("http://"+addr+"/api/put?summary", "application/json",
		strings.NewReader(fmt.Sprintf(`{"metric":"e2e.cpu.nice","timestamp":%d,"value":18,"tags":{"host":"web01"}}`, now)))
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.JSONEq(t, `{"failed":0,"success":1}`, string(body))

	u, err := net.Dial("udp", addr)
	require.NoError(t, err)
	_, err = fmt.Fprintf(u, `{"metrics":[{"name":"e2e_requests","tags":{"env":"prod"},"counter":5,"ts":%d}]}`, now)
	require.NoError(t, err)
	u.Close()

	query := func(q string) map[string]string {
		return instantQuery(t, "http://"+addr, q, func(m map[string]string) string { return m["__name__"] + "/" + m["host"] + m["env"] })
	}
	want := map[string]string{"e2e.cpu.user/web01": "42.5", "e2e.cpu.user/web02": "7", "e2e.cpu.nice/web01": "18", "e2e_requests/prod": "5"}
	var got map[string]string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if got = query(`{__name__=~"e2e.*"}`); fmt.Sprint(got) == fmt.Sprint(want) {
			break
		}
	}
	require.Equal(t, want, got, "points read back through the dsdb port\n%s", c.logs())
	c.stop(t)
}
