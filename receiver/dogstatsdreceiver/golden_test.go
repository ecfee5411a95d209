package dogstatsdreceiver

import (
	"flag"
	"path/filepath"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/golden"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/pdatatest/pmetrictest"
	"github.com/stretchr/testify/require"

	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/aggregate"
	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/intern"
	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/packets"
	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/worker"
)

var update = flag.Bool("update", false, "rewrite the golden files from the current output")

// mixedPacket exercises every metric kind, sample rates, packed values, tags in any order,
// repeated keys, bare tags, colons in values, host tags, timestamps, `\r\n` and bad lines.
const mixedPacket = "" +
	"web.requests:1|c|#env:prod,route:/api\r\n" +
	"web.requests:2|c|@0.5|#route:/api,env:prod\n" +
	"web.requests:1|c|#env:prod,route:/health,host:web-2\n" +
	"web.inflight:3|g|#env:prod\n" +
	"web.inflight:+7|g|#env:prod\n" +
	"web.latency:12|ms|#env:prod\n" +
	"web.latency:48|ms|@0.25|#env:prod\n" +
	"web.payload:100:200:400|h|#env:prod\n" +
	"db.query:0.5:1.5:-2|d|#db:orders,team:a,team:b,canary\n" +
	"web.users:alice|s|#env:prod\n" +
	"web.users:bob|s|#env:prod\n" +
	"web.users:alice|s|#env:prod\n" +
	"web.url:1|c|#url:http://example.com:8080/x\n" +
	"batch.processed:42|c|T1700000000|#job:nightly\n" +
	"not a metric\n" +
	"web.bad:NaN|g\n" +
	"\n"

func TestGoldenMixedPacket(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	agg := aggregate.New(aggregateConfig(cfg, "test"), 1)
	pool := packets.NewPool(cfg.BufferSize)
	stats := &worker.Stats{}
	w := worker.New(worker.Config{BatchSize: 4, InternerSize: 64, InternerMaxLen: intern.DefaultMaxLen},
		pool, agg, discardLogs{}, stats, time.Now())
	p := pool.Get()
	p.SetLen(copy(p.Buffer(), mixedPacket))
	w.Process(packets.Packets{p})
	got := agg.Flush(time.Unix(1_700_000_000, 0), time.Unix(1_700_000_001, 0))
	require.Equal(t, uint64(2), stats.Rejected[1].Load()+stats.Rejected[2].Load()+stats.Rejected[3].Load()+stats.Rejected[4].Load(),
		"the two bad lines are rejected and counted")

	path := filepath.Join("testdata", "golden", "mixed.yaml")
	if *update {
		require.NoError(t, golden.WriteMetrics(t, path, got, golden.SkipMetricTimestampNormalization()))
	}
	want, err := golden.ReadMetrics(path)
	require.NoError(t, err)
	require.NoError(t, pmetrictest.CompareMetrics(want, got,
		pmetrictest.IgnoreResourceMetricsOrder(), pmetrictest.IgnoreMetricsOrder(),
		pmetrictest.IgnoreMetricDataPointsOrder()))
}
