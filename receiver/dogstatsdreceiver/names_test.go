package dogstatsdreceiver

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/metadatatest"
)

// TestMetricNamesOverUDP sends lines over UDP to a receiver with mapper profiles, a namespace
// and a blocklist, and checks what comes out: mapped names and tags under the namespace,
// excluded prefixes without it, blocked samples absent and counted in the receiver's
// telemetry, events and service checks untouched.
func TestMetricNamesOverUDP(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.UDP.Endpoint = "127.0.0.1:0"
	cfg.AggregationInterval = time.Hour
	cfg.Workers = 2
	cfg.MapperProfiles = []MapperProfile{{Name: "etl", Prefix: "etl.", Mappings: []MapperMapping{
		{Match: "etl.job.duration.*.*", Name: "etl.job.duration", Tags: map[string]string{"job_type": "$1", "job_name": "$2"}},
	}}}
	cfg.MetricNamespace = "team" // the '.' is added
	cfg.MetricBlocklist = []string{"team.debug."}
	cfg.MetricBlocklistMatchPrefix = true
	require.NoError(t, cfg.Validate())

	tt := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tt.Shutdown(context.Background())) })
	h := &harness{metrics: new(consumertest.MetricsSink), logs: new(consumertest.LogsSink)}
	f := NewFactory()
	mr, err := f.CreateMetrics(context.Background(), metadatatest.NewSettings(tt), cfg, h.metrics)
	require.NoError(t, err)
	_, err = f.CreateLogs(context.Background(), metadatatest.NewSettings(tt), cfg, h.logs)
	require.NoError(t, err)
	require.NoError(t, mr.Start(context.Background(), componenttest.NewNopHost()))
	h.r = mr.(*dogstatsdReceiver)
	t.Cleanup(func() { _ = h.r.Shutdown(context.Background()) })

	conn, err := net.Dial("udp", h.addr("udp"))
	require.NoError(t, err)
	defer conn.Close()
	lines := []string{
		"etl.job.duration.batch.load:5|c|#env:prod",
		"requests:1|c|#env:prod",
		"jvm.heap.used:100|g",       // the Agent's default exclusions: no namespace
		"debug.sql.queries:1:2:3|d", // team.debug.sql.queries is blocked: 3 samples
		"etl.dag.unmapped:1|c",      // selected by the profile, no mapping matches
		"_sc|debug.sql|1|m:slow",    // service checks are neither renamed nor blocked
		"_e{6,4}:deploy|done|#env:prod",
	}
	_, err = conn.Write([]byte(strings.Join(lines, "\n")))
	require.NoError(t, err)
	h.waitLines(t, uint64(len(lines)))
	require.Eventually(t, func() bool { return h.r.workerStats.Blocked.Load() == 3 }, 5*time.Second, 5*time.Millisecond)
	metadatatest.AssertEqualReceiverDogstatsdSamplesBlocked(t, tt, []metricdata.DataPoint[int64]{{Value: 3}}, metricdatatest.IgnoreTimestamp())
	h.shutdown(t)

	ms := h.metricsByName()
	names := make([]string, 0, len(ms))
	for name := range ms {
		names = append(names, name)
	}
	assert.ElementsMatch(t, []string{"team.etl.job.duration", "team.requests", "jvm.heap.used", "team.etl.dag.unmapped"}, names)
	require.Len(t, ms["team.etl.job.duration"], 1)
	dp := ms["team.etl.job.duration"][0].Sum().DataPoints().At(0)
	assert.Equal(t, 5.0, dp.DoubleValue())
	assert.Equal(t, map[string]any{"env": "prod", "job_type": "batch", "job_name": "load"}, dp.Attributes().AsRaw())
	assert.Equal(t, 100.0, ms["jvm.heap.used"][0].Gauge().DataPoints().At(0).DoubleValue())
	assert.Equal(t, uint64(4), h.r.workerStats.Samples.Load(), "blocked samples are not handed to the aggregator")

	recs := h.logRecords()
	require.Len(t, recs, 2)
	for _, lr := range recs {
		if name, ok := lr.Attributes().Get("dogstatsd.service_check.name"); ok {
			assert.Equal(t, "debug.sql", name.Str())
		}
	}
}
