package dogstatsdreceiver

import (
	"context"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/metadatatest"
)

// startContrib loads a contrib statsd receiver's configuration as this receiver does, moves its
// endpoint to a free loopback port and starts the receiver with telemetry.
func startContrib(t *testing.T, conf *confmap.Conf) (*harness, *componenttest.Telemetry) {
	t.Helper()
	require.NoError(t, conf.Merge(confmap.NewFromStringMap(map[string]any{"endpoint": "127.0.0.1:0"})))
	cfg, err := unmarshal(conf)
	require.NoError(t, err)
	cfg.Workers = 2
	tt := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tt.Shutdown(context.Background())) })
	h := &harness{metrics: new(consumertest.MetricsSink), logs: new(consumertest.LogsSink)}
	mr, err := NewFactory().CreateMetrics(context.Background(), metadatatest.NewSettings(tt), cfg, h.metrics)
	require.NoError(t, err)
	require.NoError(t, mr.Start(context.Background(), componenttest.NewNopHost()))
	h.r = mr.(*dogstatsdReceiver)
	t.Cleanup(func() { _ = h.r.Shutdown(context.Background()) })
	return h, tt
}

// sendAndWait sends the lines in one datagram and waits until the workers have read them.
func sendAndWait(t *testing.T, h *harness, lines ...string) {
	t.Helper()
	conn, err := net.Dial("udp", h.addr("udp"))
	require.NoError(t, err)
	defer conn.Close()
	_, err = conn.Write([]byte(strings.Join(lines, "\n")))
	require.NoError(t, err)
	h.waitLines(t, uint64(len(lines)))
}

// only returns the one metric named name.
func only(t *testing.T, got map[string][]pmetric.Metric, name string) pmetric.Metric {
	t.Helper()
	require.Len(t, got[name], 1, "metric %s", name)
	return got[name][0]
}

func metricType(t *testing.T, attrs pcommon.Map) string {
	t.Helper()
	v, ok := attrs.Get("metric_type")
	require.True(t, ok, "no metric_type in %v", attrs.AsRaw())
	return v.Str()
}

// Contrib's README example (statsd/2) runs unchanged: `ms` becomes an exponential histogram of
// at most 100 buckets, `h` and `d` summaries of contrib's default percentiles (its distribution
// entry overrides its histogram entry, as in contrib), and every point carries metric_type.
func TestContribReadmeExampleOverUDP(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "contrib", "statsd_readme_example.yaml"))
	require.NoError(t, err)
	conf, err := cm.Sub("receivers::statsd/2")
	require.NoError(t, err)
	h, _ := startContrib(t, conf)
	var lines []string
	for i := 1; i <= 200; i++ { // a wide range: 100 buckets are not enough at the finest scale
		lines = append(lines, "latency:"+strconv.Itoa(i*i)+"|ms|#env:a")
	}
	lines = append(lines, "size:7|h|#env:a", "size:9|h|#env:a", "size:8|h|#env:a", "dist:1|d", "dist:3|d", "hits:2|c")
	sendAndWait(t, h, lines...)
	h.shutdown(t)
	got := h.metricsByName()

	lat := only(t, got, "latency")
	require.Equal(t, pmetric.MetricTypeExponentialHistogram, lat.Type())
	ldp := lat.ExponentialHistogram().DataPoints().At(0)
	assert.EqualValues(t, 200, ldp.Count())
	assert.LessOrEqual(t, ldp.Positive().BucketCounts().Len(), 100, "max_size 100")
	assert.Equal(t, "timing", metricType(t, ldp.Attributes()))

	for name, count := range map[string]uint64{"size": 3, "dist": 2} {
		m := only(t, got, name)
		require.Equal(t, pmetric.MetricTypeSummary, m.Type(), name)
		dp := m.Summary().DataPoints().At(0)
		assert.Equal(t, count, dp.Count(), name)
		var qs []float64
		for i := range dp.QuantileValues().Len() {
			qs = append(qs, dp.QuantileValues().At(i).Quantile())
		}
		assert.Equal(t, contribDefaultQuantiles, qs, name)
		want := map[string]string{"size": "histogram", "dist": "distribution"}[name]
		assert.Equal(t, want, metricType(t, dp.Attributes()), name)
	}
	size := only(t, got, "size").Summary().DataPoints().At(0).QuantileValues()
	assert.InDelta(t, 7, size.At(0).Value(), 0.05, "the 0 quantile is the min")
	assert.InDelta(t, 9, size.At(size.Len()-1).Value(), 0.05, "the 1 quantile is the max")

	hits := only(t, got, "hits")
	require.Equal(t, pmetric.MetricTypeSum, hits.Type())
	assert.Equal(t, "counter", metricType(t, hits.Sum().DataPoints().At(0).Attributes()))
}

// Contrib's own default mapping written out (timer and histogram as gauges): every value is a
// gauge point of its own, `d` follows the histogram entry; a list that does not name a type
// drops it and counts it.
func TestContribGaugeAndDisabledOverUDP(t *testing.T) {
	h, tt := startContrib(t, confmap.NewFromStringMap(map[string]any{
		"timer_histogram_mapping": []any{
			map[string]any{"statsd_type": "timer", "observer_type": "gauge"},
			map[string]any{"statsd_type": "histogram", "observer_type": "gauge"},
		},
	}))
	before := time.Now()
	sendAndWait(t, h, "latency:5|ms|#env:a", "latency:6|ms|@0.5|#env:a", "size:7|h", "dist:3:4|d", "hits:1|c")
	metadatatest.AssertEqualReceiverDogstatsdSamplesDisabled(t, tt, []metricdata.DataPoint[int64]{{Value: 0}}, metricdatatest.IgnoreTimestamp())
	h.shutdown(t)
	got := h.metricsByName()
	for name, want := range map[string][]float64{"latency": {5, 6}, "size": {7}, "dist": {3, 4}} {
		m := only(t, got, name)
		require.Equal(t, pmetric.MetricTypeGauge, m.Type(), name)
		var values []float64
		for i := range m.Gauge().DataPoints().Len() {
			dp := m.Gauge().DataPoints().At(i)
			values = append(values, dp.DoubleValue())
			assert.False(t, dp.Timestamp().AsTime().Before(before.Truncate(time.Millisecond)), "%s stamped before it was sent", name)
			if name == "latency" {
				v, _ := dp.Attributes().Get("env")
				assert.Equal(t, "a", v.Str())
			}
			_, hasType := dp.Attributes().Get("metric_type")
			assert.False(t, hasType, "enable_metric_type is off")
		}
		slices.Sort(values)
		assert.Equal(t, want, values, name)
	}

	h2, tt2 := startContrib(t, confmap.NewFromStringMap(map[string]any{
		"timer_histogram_mapping": []any{map[string]any{"statsd_type": "timing", "observer_type": "histogram"}},
	}))
	sendAndWait(t, h2, "latency:5|ms", "size:7|h", "dist:1:2|d")
	require.Eventually(t, func() bool { return h2.r.agg.Stats.Disabled.Load() == 3 }, 5*time.Second, 5*time.Millisecond)
	metadatatest.AssertEqualReceiverDogstatsdSamplesDisabled(t, tt2, []metricdata.DataPoint[int64]{{Value: 3}}, metricdatatest.IgnoreTimestamp())
	h2.shutdown(t)
	got2 := h2.metricsByName()
	assert.Len(t, got2["size"], 0, "h is not named: dropped")
	assert.Len(t, got2["dist"], 0, "d is not named: dropped")
	assert.Equal(t, pmetric.MetricTypeExponentialHistogram, only(t, got2, "latency").Type())
}
