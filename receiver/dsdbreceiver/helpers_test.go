package dsdbreceiver

import (
	"bufio"
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/doghouse-otel/doghouse/receiver/dsdbreceiver/internal/metadata"
)

// testConfig is the default configuration on a loopback port the OS chooses, with short
// timeouts so that tests do not wait.
func testConfig() *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.Endpoint = "127.0.0.1:0"
	cfg.FlushTimeout = 20 * time.Millisecond
	cfg.IdleTimeout = 5 * time.Second
	return cfg
}

// start runs a receiver into a sink; it is shut down when the test ends.
func start(t testing.TB, cfg *Config, host component.Host) (*dsdbReceiver, *consumertest.MetricsSink) {
	t.Helper()
	sink := new(consumertest.MetricsSink)
	if host == nil {
		host = componenttest.NewNopHost()
	}
	r := newReceiver(cfg, receivertest.NewNopSettings(metadata.Type), sink)
	require.NoError(t, r.Start(context.Background(), host))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, r.Shutdown(ctx))
	})
	return r, sink
}

func dial(t testing.TB, r *dsdbReceiver) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", r.Addr().String(), 5*time.Second)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// waitPoints waits until the sink holds n data points (at most 10 s).
func waitPoints(t testing.TB, sink *consumertest.MetricsSink, n int) {
	t.Helper()
	require.Eventually(t, func() bool { return sink.DataPointCount() >= n }, 10*time.Second, 5*time.Millisecond,
		"want %d data points", n)
	require.Equal(t, n, sink.DataPointCount())
}

// readReplies reads n lines from c (at most 5 s).
func readReplies(t testing.TB, c net.Conn, n int) []string {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(c)
	var out []string
	for range n {
		line, err := br.ReadString('\n')
		require.NoError(t, err, "after %q", out)
		out = append(out, line)
	}
	return out
}

// point is a flattened data point for comparisons: "name kind value attrs ts".
type point struct {
	Name, Kind, Value, Attrs string
	Millis                   int64
}

func points(sink *consumertest.MetricsSink) []point {
	var out []point
	for _, md := range sink.AllMetrics() {
		rms := md.ResourceMetrics()
		for i := range rms.Len() {
			sms := rms.At(i).ScopeMetrics()
			for j := range sms.Len() {
				ms := sms.At(j).Metrics()
				for k := range ms.Len() {
					out = append(out, flatten(ms.At(k))...)
				}
			}
		}
	}
	return out
}

func attrs(m pcommon.Map) string {
	var parts []string
	m.Range(func(k string, v pcommon.Value) bool {
		parts = append(parts, k+"="+v.AsString())
		return true
	})
	return strings.Join(parts, ",")
}

func flatten(m pmetric.Metric) []point {
	var out []point
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		dps := m.Gauge().DataPoints()
		for i := range dps.Len() {
			dp := dps.At(i)
			out = append(out, point{m.Name(), "gauge", numberValue(dp), attrs(dp.Attributes()), dp.Timestamp().AsTime().UnixMilli()})
		}
	case pmetric.MetricTypeSum:
		dps := m.Sum().DataPoints()
		kind := "sum"
		if m.Sum().AggregationTemporality() == pmetric.AggregationTemporalityDelta {
			kind = "delta_sum"
		}
		for i := range dps.Len() {
			dp := dps.At(i)
			out = append(out, point{m.Name(), kind, numberValue(dp), attrs(dp.Attributes()), dp.Timestamp().AsTime().UnixMilli()})
		}
	case pmetric.MetricTypeExponentialHistogram:
		dps := m.ExponentialHistogram().DataPoints()
		for i := range dps.Len() {
			dp := dps.At(i)
			v := "count=" + pcommon.NewValueInt(int64(dp.Count())).AsString() + " sum=" + pcommon.NewValueDouble(dp.Sum()).AsString() +
				" min=" + pcommon.NewValueDouble(dp.Min()).AsString() + " max=" + pcommon.NewValueDouble(dp.Max()).AsString()
			out = append(out, point{m.Name(), "exp_histogram", v, attrs(dp.Attributes()), dp.Timestamp().AsTime().UnixMilli()})
		}
	}
	return out
}

func numberValue(dp pmetric.NumberDataPoint) string {
	if dp.ValueType() == pmetric.NumberDataPointValueTypeInt {
		return "int:" + pcommon.NewValueInt(dp.IntValue()).AsString()
	}
	return "double:" + pcommon.NewValueDouble(dp.DoubleValue()).AsString()
}

func nopSettings() receiver.Settings { return receivertest.NewNopSettings(metadata.Type) }
