package dsdbreceiver

import (
	"io"
	"net"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doghouse-otel/doghouse/receiver/dsdbreceiver/internal/statshouse"
)

// The examples of StatsHouse's docs, with timestamps so the points are exact.
const (
	shCounter = `{"metrics":[ {"name": "toy_packets_count", "tags":{"format": "JSON", "status": "ok"}, "counter": 1, "ts": 1670673392}] }`
	shSampled = `{"metrics":[{"name":"my_metric","tags":{},"counter":6, "value":[1, 2, 3], "ts": 1670673392}]}`
	shUnique  = `{"metrics":[ {"name": "toy_packets_user", "tags":{"format": "JSON"}, "unique": [17, 19, 17, 13], "ts": 1670673392} ]}`
	shTwo     = `{"metrics":[
{"name":"rpc_call_latency", "tags":{"protocol": "tcp"}, "value": [15, 18, 60], "ts": 1670673392},
{"name": "rpc_call_errors", "tags":{"protocol": "udp","error_code": "-3000"}, "counter": 5, "ts": 1670673392}
]}`
)

var shWant = []point{
	{"my_metric", "exp_histogram", "count=6 sum=12 min=1 max=3", "", 1670673392000},
	{"rpc_call_errors", "delta_sum", "double:5", "protocol=udp,error_code=-3000", 1670673392000},
	{"rpc_call_latency", "exp_histogram", "count=3 sum=93 min=15 max=60", "protocol=tcp", 1670673392000},
	{"toy_packets_count", "delta_sum", "double:1", "format=JSON,status=ok", 1670673392000},
	{"toy_packets_user", "gauge", "int:3", "format=JSON", 1670673392000},
}

func sorted(ps []point) []point {
	sort.Slice(ps, func(i, j int) bool { return ps[i].Name < ps[j].Name })
	return ps
}

// TestStatsHouseTCP: batches one after another on a connection (first byte '{'): counter is a
// delta sum, value an exponential histogram weighted counter/len(value), unique the number of
// distinct values.
func TestStatsHouseTCP(t *testing.T) {
	r, sink := start(t, testConfig(), nil)
	c := dial(t, r)
	_, err := io.WriteString(c, shCounter+"\n"+shSampled+shUnique+"\n\n"+shTwo+
		`{"metrics":[{"name":"bad name","counter":1},{"name":"neg","counter":-1}]}`)
	require.NoError(t, err)
	require.NoError(t, c.Close())
	waitPoints(t, sink, 5)
	assert.Equal(t, shWant, sorted(points(sink)))
	assert.EqualValues(t, 1, r.stats.shouseRejected[0][statshouse.ReasonInvalidName].Load())
	assert.EqualValues(t, 1, r.stats.shouseRejected[0][statshouse.ReasonNegativeCounter].Load())
}

// TestStatsHouseUDP: one batch a datagram on the same port number; other formats are counted.
func TestStatsHouseUDP(t *testing.T) {
	r, sink := start(t, testConfig(), nil)
	u, err := net.Dial("udp", r.udp.LocalAddr().String())
	require.NoError(t, err)
	defer u.Close()
	assert.Equal(t, r.Addr().(*net.TCPAddr).Port, u.RemoteAddr().(*net.UDPAddr).Port)
	for _, d := range []string{shCounter, shSampled, shUnique, shTwo, "\x39\x02\x58\x56tl", `{"metrics":[`} {
		_, err := io.WriteString(u, d)
		require.NoError(t, err)
	}
	waitPoints(t, sink, 5)
	assert.Equal(t, shWant, sorted(points(sink)))
	require.Eventually(t, func() bool {
		return r.stats.shouseRejected[1][statshouse.ReasonUnsupportedFormat].Load() == 1 &&
			r.stats.shouseRejected[1][statshouse.ReasonInvalidJSON].Load() == 1
	}, 5*time.Second, 5*time.Millisecond)
	assert.EqualValues(t, 6, r.stats.datagrams.Load())
}

// TestStatsHouseWithoutTimestamp: a metric without ts is the second that ends when it came.
func TestStatsHouseWithoutTimestamp(t *testing.T) {
	r, sink := start(t, testConfig(), nil)
	c := dial(t, r)
	before := time.Now()
	_, err := io.WriteString(c, `{"metrics":[{"name":"my_metric","tags":{},"counter":1000}]}`)
	require.NoError(t, err)
	waitPoints(t, sink, 1)
	p := points(sink)[0]
	assert.Equal(t, "double:1000", p.Value)
	assert.GreaterOrEqual(t, p.Millis, before.UnixMilli())
	assert.LessOrEqual(t, p.Millis, time.Now().UnixMilli())
}

// TestStatsHouseTooLong: a batch beyond max_message_size is counted and skipped when it came
// whole, and ends its connection when its end is not in sight.
func TestStatsHouseTooLong(t *testing.T) {
	cfg := testConfig()
	cfg.StatsHouse.MaxMessageSize = 1024
	r, sink := start(t, cfg, nil)
	c := dial(t, r)
	long := `{"metrics":[{"name":"a","counter":1,"tags":{"k":"` + strings.Repeat("x", 2000)
	_, err := io.WriteString(c, shCounter+long+`"}}]}`+shUnique)
	require.NoError(t, err)
	waitPoints(t, sink, 2)
	_, err = io.WriteString(c, long)
	require.NoError(t, err)
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = c.Read(make([]byte, 1))
	assert.ErrorIs(t, err, io.EOF)
	assert.EqualValues(t, 2, r.stats.shouseRejected[0][statshouse.ReasonMessageTooLong].Load())
}
