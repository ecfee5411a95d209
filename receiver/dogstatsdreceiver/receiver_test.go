package dogstatsdreceiver

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/DataDog/datadog-go/v5/statsd"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/metadata"
)

type harness struct {
	r       *dogstatsdReceiver
	metrics *consumertest.MetricsSink
	logs    *consumertest.LogsSink
}

// startReceiver starts a receiver on loopback with an OS-chosen port, sockets under a temp dir,
// and an aggregation interval long enough that only Shutdown flushes.
func startReceiver(t *testing.T, mutate func(*Config)) *harness {
	t.Helper()
	cfg := createDefaultConfig().(*Config)
	cfg.UDP.Endpoint = "127.0.0.1:0"
	cfg.AggregationInterval = time.Hour
	cfg.Workers = 2
	if mutate != nil {
		mutate(cfg)
	}
	require.NoError(t, cfg.Validate())
	h := &harness{metrics: new(consumertest.MetricsSink), logs: new(consumertest.LogsSink)}
	f := NewFactory()
	set := receivertest.NewNopSettings(metadata.Type)
	mr, err := f.CreateMetrics(context.Background(), set, cfg, h.metrics)
	require.NoError(t, err)
	lr, err := f.CreateLogs(context.Background(), set, cfg, h.logs)
	require.NoError(t, err)
	require.Same(t, mr, lr, "metrics and logs pipelines must share one receiver")
	require.NoError(t, mr.Start(context.Background(), componenttest.NewNopHost()))
	h.r = mr.(*dogstatsdReceiver)
	t.Cleanup(func() { _ = h.r.Shutdown(context.Background()) })
	return h
}

func (h *harness) addr(transport string) string {
	for _, l := range h.r.listeners {
		if l.Stats().Transport.String() == transport {
			return l.Addr().String()
		}
	}
	panic("no listener for " + transport)
}

// waitLines waits (bounded) until the workers have read n lines.
func (h *harness) waitLines(t *testing.T, n uint64) {
	t.Helper()
	if !assert.Eventually(t, func() bool { return h.r.workerStats.Lines.Load() >= n }, 10*time.Second, 5*time.Millisecond) {
		t.Fatalf("workers read %d of %d lines", h.r.workerStats.Lines.Load(), n)
	}
}

func (h *harness) shutdown(t *testing.T) {
	t.Helper()
	require.NoError(t, h.r.Shutdown(context.Background()))
}

// metricsByName flattens everything the sink got.
func (h *harness) metricsByName() map[string][]pmetric.Metric {
	out := map[string][]pmetric.Metric{}
	for _, md := range h.metrics.AllMetrics() {
		rms := md.ResourceMetrics()
		for i := range rms.Len() {
			sms := rms.At(i).ScopeMetrics()
			for j := range sms.Len() {
				ms := sms.At(j).Metrics()
				for k := range ms.Len() {
					out[ms.At(k).Name()] = append(out[ms.At(k).Name()], ms.At(k))
				}
			}
		}
	}
	return out
}

func (h *harness) logRecords() []plog.LogRecord {
	var out []plog.LogRecord
	for _, ld := range h.logs.AllLogs() {
		for i := range ld.ResourceLogs().Len() {
			rl := ld.ResourceLogs().At(i)
			for j := range rl.ScopeLogs().Len() {
				recs := rl.ScopeLogs().At(j).LogRecords()
				for k := range recs.Len() {
					out = append(out, recs.At(k))
				}
			}
		}
	}
	return out
}

// sendAll sends one of every DogStatsD kind through the official client: 8 lines.
func sendAll(t *testing.T, addr string) {
	t.Helper()
	c, err := statsd.New(addr, statsd.WithoutTelemetry(), statsd.WithoutClientSideAggregation(),
		statsd.WithoutOriginDetection(), statsd.WithNamespace("app."))
	require.NoError(t, err)
	tags := []string{"env:test", "service:web"}
	require.NoError(t, c.Count("requests", 3, tags, 1))
	// The client samples rates below 1 itself (randomly), so rates are tested with raw lines.
	require.NoError(t, c.Count("requests", 4, tags, 1))
	require.NoError(t, c.Gauge("queue.depth", 42.5, tags, 1))
	require.NoError(t, c.Histogram("payload.bytes", 512, tags, 1))
	require.NoError(t, c.Distribution("latency", 12.5, tags, 1))
	require.NoError(t, c.Set("users", "alice", tags, 1))
	require.NoError(t, c.Event(&statsd.Event{Title: "deploy", Text: "v1.2 → v1.3", Tags: tags, AlertType: statsd.Warning}))
	require.NoError(t, c.ServiceCheck(&statsd.ServiceCheck{Name: "db.up", Status: statsd.Critical, Message: "timeout", Tags: tags}))
	require.NoError(t, c.Close())
}

func assertAllKinds(t *testing.T, h *harness) {
	t.Helper()
	ms := h.metricsByName()
	require.Len(t, ms["app.requests"], 1)
	sum := ms["app.requests"][0].Sum()
	require.Equal(t, 1, sum.DataPoints().Len())
	assert.Equal(t, 7.0, sum.DataPoints().At(0).DoubleValue())
	assert.Equal(t, map[string]any{"env": "test", "service": "web"}, sum.DataPoints().At(0).Attributes().AsRaw())
	assert.Equal(t, 42.5, ms["app.queue.depth"][0].Gauge().DataPoints().At(0).DoubleValue())
	hist := ms["app.payload.bytes"][0].ExponentialHistogram().DataPoints().At(0)
	assert.Equal(t, uint64(1), hist.Count())
	assert.Equal(t, 512.0, hist.Sum())
	dist := ms["app.latency"][0].ExponentialHistogram().DataPoints().At(0)
	assert.Equal(t, 12.5, dist.Max())
	assert.Equal(t, int64(1), ms["app.users"][0].Gauge().DataPoints().At(0).IntValue())

	recs := h.logRecords()
	require.Len(t, recs, 2)
	for _, lr := range recs {
		typ, _ := lr.Attributes().Get("dogstatsd.type")
		switch typ.Str() {
		case "event":
			assert.Equal(t, "deploy\nv1.2 → v1.3", lr.Body().Str())
			assert.Equal(t, plog.SeverityNumberWarn, lr.SeverityNumber())
		case "service_check":
			assert.Equal(t, "db.up: CRITICAL timeout", lr.Body().Str())
			st, _ := lr.Attributes().Get("dogstatsd.service_check.status")
			assert.Equal(t, int64(2), st.Int())
		default:
			t.Errorf("unexpected record %v", lr.Attributes().AsRaw())
		}
	}
}

func TestDatadogClientOverUDP(t *testing.T) {
	h := startReceiver(t, nil)
	sendAll(t, h.addr("udp"))
	h.waitLines(t, 8)
	h.shutdown(t)
	assertAllKinds(t, h)
}

func TestDatadogClientOverUnixDatagram(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dsd.sock")
	h := startReceiver(t, func(c *Config) { c.UDP.Endpoint = ""; c.UnixDatagram.Path = path })
	sendAll(t, "unixgram://"+path)
	h.waitLines(t, 8)
	h.shutdown(t)
	assertAllKinds(t, h)
}

func TestDatadogClientOverUnixStream(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dsd-stream.sock")
	h := startReceiver(t, func(c *Config) { c.UDP.Endpoint = ""; c.UnixStream.Path = path })
	sendAll(t, "unixstream://"+path)
	h.waitLines(t, 8)
	h.shutdown(t)
	assertAllKinds(t, h)
}

func TestTCPLines(t *testing.T) {
	h := startReceiver(t, func(c *Config) { c.UDP.Endpoint = ""; c.TCP.Endpoint = "127.0.0.1:0" })
	conn, err := net.Dial("tcp", h.addr("tcp"))
	require.NoError(t, err)
	_, err = fmt.Fprint(conn, "app.requests:3|c|#env:test,service:web\r\napp.requests:2|c|@0.5|#service:web,env:test\nbroken\n")
	require.NoError(t, err)
	require.NoError(t, conn.Close())
	h.waitLines(t, 3)
	h.shutdown(t)
	ms := h.metricsByName()
	require.Len(t, ms["app.requests"], 1)
	assert.Equal(t, 7.0, ms["app.requests"][0].Sum().DataPoints().At(0).DoubleValue())
	assert.Equal(t, uint64(1), h.r.workerStats.Rejected[2].Load()+h.r.workerStats.Rejected[1].Load()+h.r.workerStats.Rejected[3].Load())
}

func TestUnixStreamOversizedFrameClosesConnection(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.sock")
	h := startReceiver(t, func(c *Config) { c.UDP.Endpoint = ""; c.UnixStream.Path = path; c.BufferSize = 1024 })
	conn, err := net.Dial("unix", path)
	require.NoError(t, err)
	defer conn.Close()
	frame := func(payload string) []byte {
		return binary.LittleEndian.AppendUint32(nil, uint32(len(payload)))
	}
	_, err = conn.Write(append(frame("ok:1|c"), "ok:1|c"...))
	require.NoError(t, err)
	_, err = conn.Write(binary.LittleEndian.AppendUint32(nil, 4096)) // larger than buffer_size
	require.NoError(t, err)
	h.waitLines(t, 1)
	st := h.r.listeners[0].Stats()
	require.Eventually(t, func() bool { return st.Oversized.Load() == 1 }, 5*time.Second, 5*time.Millisecond)
	// The server closed the connection: a read sees EOF (or a reset) within the deadline.
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(5*time.Second)))
	_, err = conn.Read(make([]byte, 1))
	require.Error(t, err)
	h.shutdown(t)
	assert.Equal(t, 1.0, h.metricsByName()["ok"][0].Sum().DataPoints().At(0).DoubleValue())
}

// TestShutdownMidFloodLosesNothingRead floods UDP and shuts down while datagrams still arrive:
// with a blocking queue, every datagram the listener read must be in the emitted counter.
func TestShutdownMidFloodLosesNothingRead(t *testing.T) {
	h := startReceiver(t, func(c *Config) { c.BlockWhenQueueFull = true; c.QueueSize = 4 })
	conn, err := net.Dial("udp", h.addr("udp"))
	require.NoError(t, err)
	defer conn.Close()
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		line := []byte("flood:1|c|#k:v")
		for range 2_000_000 { // bounded: the shutdown below ends it much sooner
			select {
			case <-stop:
				return
			default:
			}
			_, _ = conn.Write(line)
		}
	}()
	h.waitLines(t, 20_000)
	h.shutdown(t)
	close(stop)
	<-done
	read := h.r.listeners[0].Stats().Packets.Load()
	ms := h.metricsByName()["flood"]
	var total float64
	for _, m := range ms {
		total += m.Sum().DataPoints().At(0).DoubleValue()
	}
	assert.Equal(t, float64(read), total, "datagrams read vs counted after shutdown")
	assert.GreaterOrEqual(t, total, 20_000.0)
}

func TestFlushesEveryInterval(t *testing.T) {
	h := startReceiver(t, func(c *Config) { c.AggregationInterval = 50 * time.Millisecond })
	conn, err := net.Dial("udp", h.addr("udp"))
	require.NoError(t, err)
	defer conn.Close()
	_, err = conn.Write([]byte("tick:1|c"))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return h.metrics.DataPointCount() == 1 }, 5*time.Second, 5*time.Millisecond,
		"the point must be emitted by the interval flush, before Shutdown")
	// Stamped with the interval's nominal end, a multiple of the interval, not the timer's
	// firing moment a little after it.
	dp := h.metrics.AllMetrics()[0].ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().At(0).Sum().DataPoints().At(0)
	const iv = int64(50 * time.Millisecond)
	assert.Zero(t, int64(dp.Timestamp())%iv, "timestamp %v", dp.Timestamp())
}

func TestStartFailsOnBusyAddress(t *testing.T) {
	busy, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	cfg := createDefaultConfig().(*Config)
	cfg.UDP.Endpoint = busy.LocalAddr().String()
	r, err := NewFactory().CreateMetrics(context.Background(), receivertest.NewNopSettings(metadata.Type), cfg, consumertest.NewNop())
	require.NoError(t, err)
	require.Error(t, r.Start(context.Background(), componenttest.NewNopHost()))
	require.NoError(t, r.Shutdown(context.Background()))
}

// sendLines writes each line as one UDP datagram.
func sendLines(t *testing.T, addr string, lines ...string) {
	t.Helper()
	conn, err := net.Dial("udp", addr)
	require.NoError(t, err)
	defer conn.Close()
	for _, l := range lines {
		_, err = conn.Write([]byte(l))
		require.NoError(t, err)
	}
}

// gaugeValues returns the value and attributes of every single-point gauge the sink got.
func (h *harness) gaugeValues(t *testing.T) (map[string]float64, map[string]map[string]any) {
	t.Helper()
	values, attrs := map[string]float64{}, map[string]map[string]any{}
	for name, ms := range h.metricsByName() {
		require.Len(t, ms, 1, name)
		if ms[0].Type() != pmetric.MetricTypeGauge {
			continue
		}
		require.Equal(t, 1, ms[0].Gauge().DataPoints().Len(), name)
		dp := ms[0].Gauge().DataPoints().At(0)
		values[name], attrs[name] = dp.DoubleValue(), dp.Attributes().AsRaw()
	}
	return values, attrs
}

// With timer_histogram_mapping agent_aggregates, timers and histograms become the Agent's
// gauges, sample rates and packed values included; distributions stay histograms.
func TestAgentAggregatesOverUDP(t *testing.T) {
	h := startReceiver(t, func(c *Config) {
		c.TimerHistogramMapping = "agent_aggregates"
		c.HistogramAggregates = []string{"max", "min", "median", "avg", "sum", "count"}
		c.HistogramPercentiles = []Percentile{0.95, 0.2, 0.8}
	})
	sendLines(t, h.addr("udp"),
		"api.latency:1|ms|#env:test",
		"api.latency:2|ms|@0.5|#env:test",
		"api.latency:3|ms|@0.2|#env:test",
		"api.latency:10|ms|@0.5|#env:test",
		"api.payload:40:10:30:20|h|#env:test,service:web",
		"api.dist:5|d",
	)
	h.waitLines(t, 6)
	h.shutdown(t)
	values, attrs := h.gaugeValues(t)
	assert.Equal(t, map[string]float64{
		// Weights 1, 2, 5, 2 (1/rate): the Agent's own TestHistogramSampleRate.
		"api.latency.max": 10, "api.latency.min": 1, "api.latency.median": 3, "api.latency.avg": 4,
		"api.latency.sum": 40, "api.latency.count": 10,
		"api.latency.20percentile": 2, "api.latency.80percentile": 3, "api.latency.95percentile": 10,
		// One packed line: 10, 20, 30, 40.
		"api.payload.max": 40, "api.payload.min": 10, "api.payload.median": 20, "api.payload.avg": 25,
		"api.payload.sum": 100, "api.payload.count": 4,
		"api.payload.20percentile": 10, "api.payload.80percentile": 40, "api.payload.95percentile": 40,
	}, values)
	assert.Equal(t, map[string]any{"env": "test"}, attrs["api.latency.95percentile"])
	assert.Equal(t, map[string]any{"env": "test", "service": "web"}, attrs["api.payload.count"])
	ms := h.metricsByName()
	assert.NotContains(t, ms, "api.latency")
	require.Len(t, ms["api.dist"], 1)
	assert.Equal(t, uint64(1), ms["api.dist"][0].ExponentialHistogram().DataPoints().At(0).Count())
}

// With histogram_copy_to_distribution each `h` and `ms` sample also arrives as a distribution
// named with the prefix, with the same count, sum, attributes and resource.
func TestHistogramCopyToDistributionOverUDP(t *testing.T) {
	h := startReceiver(t, func(c *Config) {
		c.HistogramCopyToDistribution = true
		c.HistogramCopyToDistributionPrefix = "dist."
	})
	sendLines(t, h.addr("udp"),
		"api.payload:100:200|h|@0.5|#env:test,host:web-1",
		"api.payload:300|h|#env:test,host:web-1",
		"api.latency:7|ms|#env:test",
		"api.depth:3|g|#env:test",
	)
	h.waitLines(t, 4)
	h.shutdown(t)
	ms := h.metricsByName()
	for _, name := range []string{"api.payload", "api.latency"} {
		require.Len(t, ms[name], 1, name)
		require.Len(t, ms["dist."+name], 1, "dist."+name)
		orig := ms[name][0].ExponentialHistogram().DataPoints().At(0)
		dist := ms["dist."+name][0].ExponentialHistogram().DataPoints().At(0)
		assert.Equal(t, orig.Count(), dist.Count(), name)
		assert.Equal(t, orig.Sum(), dist.Sum(), name)
		assert.Equal(t, orig.Attributes().AsRaw(), dist.Attributes().AsRaw(), name)
	}
	assert.Equal(t, uint64(5), ms["dist.api.payload"][0].ExponentialHistogram().DataPoints().At(0).Count(), "2 values at rate 0.5 and 1 at rate 1")
	assert.Equal(t, 900.0, ms["dist.api.payload"][0].ExponentialHistogram().DataPoints().At(0).Sum())
	assert.NotContains(t, ms, "dist.api.depth")
	// The copy comes from the same origin: the host tag is its resource too.
	for _, md := range h.metrics.AllMetrics() {
		for i := range md.ResourceMetrics().Len() {
			rm := md.ResourceMetrics().At(i)
			host, _ := rm.Resource().Attributes().Get("host.name")
			names := rm.ScopeMetrics().At(0).Metrics()
			for j := range names.Len() {
				if n := names.At(j).Name(); n == "api.payload" || n == "dist.api.payload" {
					assert.Equal(t, "web-1", host.Str(), n)
				}
			}
		}
	}
}
