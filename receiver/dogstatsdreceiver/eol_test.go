package dogstatsdreceiver

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/metadatatest"
)

// With udp.eol_required the last line of a datagram without '\n' is dropped and counted in
// otelcol_receiver_dogstatsd_lines_rejected{reason="no_eol"}; the other lines of the datagram are kept.
func TestUDPEOLRequiredDropsAndCounts(t *testing.T) {
	tt := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tt.Shutdown(context.Background())) })
	cfg := createDefaultConfig().(*Config)
	cfg.UDP.Endpoint = "127.0.0.1:0"
	cfg.UDP.EOLRequired = true
	cfg.AggregationInterval = time.Hour
	cfg.Workers = 2
	require.NoError(t, cfg.Validate())
	sink := new(consumertest.MetricsSink)
	r, err := NewFactory().CreateMetrics(context.Background(), metadatatest.NewSettings(tt), cfg, sink)
	require.NoError(t, err)
	require.NoError(t, r.Start(context.Background(), componenttest.NewNopHost()))
	recv := r.(*dogstatsdReceiver)
	t.Cleanup(func() { _ = recv.Shutdown(context.Background()) })

	c, err := net.Dial("udp", recv.listeners[0].Addr().String())
	require.NoError(t, err)
	defer c.Close()
	for _, d := range []string{"kept.a:1|c\ncut.b:1|c", "cut.c:1|c", "kept.d:1|c\n"} {
		_, err := c.Write([]byte(d))
		require.NoError(t, err)
	}
	require.Eventually(t, func() bool { return recv.workerStats.Lines.Load() == 2 }, 10*time.Second, 5*time.Millisecond)

	got, err := tt.GetMetric("otelcol_receiver_dogstatsd_lines_rejected")
	require.NoError(t, err)
	noEOL := int64(-1)
	for _, dp := range got.Data.(metricdata.Sum[int64]).DataPoints {
		if v, _ := dp.Attributes.Value("reason"); v.AsString() == "no_eol" {
			noEOL = dp.Value
		}
	}
	assert.Equal(t, int64(2), noEOL, "lines_rejected{reason=no_eol}")

	require.NoError(t, recv.Shutdown(context.Background()))
	names := map[string]bool{}
	for _, md := range sink.AllMetrics() {
		for i := range md.ResourceMetrics().Len() {
			ms := md.ResourceMetrics().At(i).ScopeMetrics().At(0).Metrics()
			for j := range ms.Len() {
				names[ms.At(j).Name()] = true
			}
		}
	}
	assert.Equal(t, map[string]bool{"kept.a": true, "kept.d": true}, names)
}
