package fairshareprocessor

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/doghouse-otel/doghouse/processor/fairshareprocessor/internal/metadata"
	"github.com/doghouse-otel/doghouse/processor/fairshareprocessor/internal/metadatatest"
)

// t0 is a whole minute, so windows of every resolution start on it.
var t0 = time.Unix(1699999980, 0)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

func newTestProcessor(t *testing.T, cfg *Config, next *consumertest.MetricsSink, clock *fakeClock) *fairshareProcessor {
	t.Helper()
	require.NoError(t, cfg.Validate())
	p, err := newProcessor(processortest.NewNopSettings(metadata.Type), cfg, next)
	require.NoError(t, err)
	if clock != nil {
		p.now = clock.Now
	}
	return p
}

// held returns the rows held and the metrics tracked by all of p's shards.
func held(p *fairshareProcessor) (rows, metrics int) {
	for _, sh := range p.engine.shards {
		sh.mu.Lock()
		rows += sh.store.Rows()
		metrics += sh.store.Metrics()
		sh.mu.Unlock()
	}
	return rows, metrics
}

// counters builds delta int sums: for each name, n points with attribute id=0..n-1 and value v(i).
func counters(ts time.Time, n int, v func(i int) int64, names ...string) pmetric.Metrics {
	md := pmetric.NewMetrics()
	sm := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty()
	for _, name := range names {
		m := sm.Metrics().AppendEmpty()
		m.SetName(name)
		s := m.SetEmptySum()
		s.SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
		s.SetIsMonotonic(true)
		for i := range n {
			dp := s.DataPoints().AppendEmpty()
			dp.SetTimestamp(pcommon.NewTimestampFromTime(ts))
			dp.SetIntValue(v(i))
			dp.Attributes().PutInt("id", int64(i))
		}
	}
	return md
}

// collected sums the int points of each metric over everything the sink received, and returns
// the metametric points by name (with their metric.name attribute).
func collected(sink *consumertest.MetricsSink) (sums map[string]float64, rows map[string]int, meta map[string]map[string]float64) {
	sums, rows, meta = map[string]float64{}, map[string]int{}, map[string]map[string]float64{}
	for _, md := range sink.AllMetrics() {
		rms := md.ResourceMetrics()
		for i := range rms.Len() {
			sms := rms.At(i).ScopeMetrics()
			for j := range sms.Len() {
				ms := sms.At(j).Metrics()
				for k := range ms.Len() {
					m := ms.At(k)
					var dps pmetric.NumberDataPointSlice
					switch m.Type() {
					case pmetric.MetricTypeSum:
						dps = m.Sum().DataPoints()
					case pmetric.MetricTypeGauge:
						dps = m.Gauge().DataPoints()
					default:
						continue
					}
					for d := range dps.Len() {
						dp := dps.At(d)
						v := float64(dp.IntValue()) + dp.DoubleValue()
						if sms.At(j).Scope().Name() == metadata.ScopeName {
							if meta[m.Name()] == nil {
								meta[m.Name()] = map[string]float64{}
							}
							key := ""
							if n, ok := dp.Attributes().Get("metric.name"); ok {
								key = n.Str()
							}
							if o, ok := dp.Attributes().Get("fairshare.outcome"); ok {
								key += "/" + o.Str()
							}
							meta[m.Name()][key] += v
							continue
						}
						sums[m.Name()] += v
						rows[m.Name()]++
					}
				}
			}
		}
	}
	return sums, rows, meta
}

func TestShutdownWithoutStartFlushes(t *testing.T) {
	sink := new(consumertest.MetricsSink)
	clock := &fakeClock{t: t0.Add(500 * time.Millisecond)}
	p := newTestProcessor(t, createDefaultConfig().(*Config), sink, clock)
	require.NoError(t, p.ConsumeMetrics(context.Background(), counters(clock.Now(), 3, func(int) int64 { return 2 }, "hits")))
	assert.Empty(t, sink.AllMetrics(), "aggregated points must wait for their window")
	require.NoError(t, p.Shutdown(context.Background()))
	sums, rows, _ := collected(sink)
	assert.Equal(t, 6.0, sums["hits"])
	assert.Equal(t, 3, rows["hits"])
	require.NoError(t, p.Shutdown(context.Background()), "a second Shutdown is a no-op")
}

func TestShutdownFlushesOpenWindows(t *testing.T) {
	sink := new(consumertest.MetricsSink)
	cfg := createDefaultConfig().(*Config)
	cfg.Resolution = time.Minute // the window cannot close on its own during the test
	p := newTestProcessor(t, cfg, sink, nil)
	require.NoError(t, p.Start(context.Background(), componenttest.NewNopHost()))
	require.NoError(t, p.ConsumeMetrics(context.Background(), counters(time.Now(), 10, func(i int) int64 { return int64(i) }, "jobs")))
	require.NoError(t, p.Shutdown(context.Background()))
	sums, rows, _ := collected(sink)
	assert.Equal(t, 45.0, sums["jobs"])
	assert.Equal(t, 10, rows["jobs"])
}

// TestTickerFlushes runs on the real clock: a point of the current second must come out within
// a few seconds (window end + 1 s grace + the tick).
func TestTickerFlushes(t *testing.T) {
	sink := new(consumertest.MetricsSink)
	p := newTestProcessor(t, createDefaultConfig().(*Config), sink, nil)
	require.NoError(t, p.Start(context.Background(), componenttest.NewNopHost()))
	defer func() { require.NoError(t, p.Shutdown(context.Background())) }()
	require.NoError(t, p.ConsumeMetrics(context.Background(), counters(time.Now(), 1, func(int) int64 { return 7 }, "tick")))
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if sums, _, _ := collected(sink); sums["tick"] == 7 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the point was not flushed within 5 s")
}

func TestForwardsCumulativeAtOnce(t *testing.T) {
	sink := new(consumertest.MetricsSink)
	tt := componenttest.NewTelemetry()
	defer func() { require.NoError(t, tt.Shutdown(context.Background())) }()
	p, err := newProcessor(metadatatest.NewSettings(tt), createDefaultConfig().(*Config), sink)
	require.NoError(t, err)
	md := counters(time.Now(), 2, func(int) int64 { return 1 }, "total")
	md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().At(0).Sum().SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	require.NoError(t, p.ConsumeMetrics(context.Background(), md))
	require.Len(t, sink.AllMetrics(), 1)
	assert.Equal(t, 2, sink.AllMetrics()[0].DataPointCount())
	metadatatest.AssertEqualProcessorFairsharePointsForwarded(t, tt, []metricdata.DataPoint[int64]{
		{Value: 2, Attributes: attribute.NewSet(attribute.String("reason", "cumulative"))},
	}, metricdatatest.IgnoreTimestamp())
	require.NoError(t, p.Shutdown(context.Background()))
}

func TestTelemetryCountsPoints(t *testing.T) {
	sink := new(consumertest.MetricsSink)
	tt := componenttest.NewTelemetry()
	defer func() { require.NoError(t, tt.Shutdown(context.Background())) }()
	p, err := newProcessor(metadatatest.NewSettings(tt), createDefaultConfig().(*Config), sink)
	require.NoError(t, err)
	clock := &fakeClock{t: t0.Add(40 * time.Second)}
	p.now = clock.Now
	ctx := context.Background()
	require.NoError(t, p.ConsumeMetrics(ctx, counters(t0.Add(39500*time.Millisecond), 4, func(int) int64 { return 1 }, "ok")))
	require.NoError(t, p.ConsumeMetrics(ctx, counters(t0.Add(20*time.Second), 1, func(int) int64 { return 1 }, "late")))
	require.NoError(t, p.ConsumeMetrics(ctx, counters(t0, 2, func(int) int64 { return 1 }, "stale")))
	require.NoError(t, p.ConsumeMetrics(ctx, counters(t0.Add(time.Hour), 1, func(int) int64 { return 1 }, "future")))
	ignore := metricdatatest.IgnoreTimestamp()
	metadatatest.AssertEqualProcessorFairsharePointsAggregated(t, tt, []metricdata.DataPoint[int64]{{Value: 6}}, ignore)
	metadatatest.AssertEqualProcessorFairsharePointsLate(t, tt, []metricdata.DataPoint[int64]{{Value: 1}}, ignore)
	metadatatest.AssertEqualProcessorFairsharePointsClamped(t, tt, []metricdata.DataPoint[int64]{{Value: 1}}, ignore)
	metadatatest.AssertEqualProcessorFairsharePointsDropped(t, tt, []metricdata.DataPoint[int64]{
		{Value: 2, Attributes: attribute.NewSet(attribute.String("reason", "too_late"))},
	}, ignore)
	metadatatest.AssertEqualProcessorFairshareRows(t, tt, []metricdata.DataPoint[int64]{{Value: 6}}, ignore)

	clock.Set(t0.Add(45 * time.Second))
	require.NoError(t, p.flush(ctx, false))
	metadatatest.AssertEqualProcessorFairshareRows(t, tt, []metricdata.DataPoint[int64]{{Value: 0}}, ignore)
	metadatatest.AssertEqualProcessorFairshareFlushRows(t, tt, []metricdata.DataPoint[int64]{
		{Value: 6, Attributes: attribute.NewSet(attribute.String("outcome", "kept"))},
	}, ignore)
	require.NoError(t, p.Shutdown(ctx))
}

// TestFitsBudgetPassesUnchanged: below the budget every row comes out with its exact value and
// no metric is reported as sampled.
func TestFitsBudgetPassesUnchanged(t *testing.T) {
	sink := new(consumertest.MetricsSink)
	clock := &fakeClock{t: t0.Add(500 * time.Millisecond)}
	p := newTestProcessor(t, createDefaultConfig().(*Config), sink, clock)
	ctx := context.Background()
	require.NoError(t, p.ConsumeMetrics(ctx, counters(clock.Now(), 500, func(i int) int64 { return int64(i) }, "a", "b")))
	clock.Set(t0.Add(2100 * time.Millisecond))
	require.NoError(t, p.flush(ctx, false))
	sums, rows, meta := collected(sink)
	assert.Equal(t, map[string]float64{"a": 124750, "b": 124750}, sums)
	assert.Equal(t, map[string]int{"a": 500, "b": 500}, rows)
	assert.Empty(t, meta["fairshare.sampling.factor"])
	assert.Equal(t, 1000.0, meta["fairshare.rows"]["/kept"])
	assert.Equal(t, 0.0, meta["fairshare.rows"]["/dropped"])
	assert.Equal(t, float64(1<<20), meta["fairshare.budget"][""])
	assert.Equal(t, 500.0, meta["fairshare.cardinality"]["a"])
	require.NoError(t, p.Shutdown(ctx))
}

// TestFloodIsolationEndToEnd: metrics a and b with 10 rows and c with 100,000 rows of equal size
// (29 bytes: 8 timestamp + 1 name + 12 key + 8 value) and a budget of 1,000 rows. a and b come
// out whole; c's sampling factor is 100000/980 = 102.04 and strict mode keeps exactly 980 of its
// rows, which also shows on the metametrics.
func TestFloodIsolationEndToEnd(t *testing.T) {
	const rowSize = 29
	sink := new(consumertest.MetricsSink)
	cfg := createDefaultConfig().(*Config)
	cfg.Budget.BytesPerSecond = 1000 * rowSize
	clock := &fakeClock{t: t0.Add(500 * time.Millisecond)}
	p := newTestProcessor(t, cfg, sink, clock)
	ctx := context.Background()
	one := func(int) int64 { return 1 }
	require.NoError(t, p.ConsumeMetrics(ctx, counters(clock.Now(), 10, one, "a", "b")))
	require.NoError(t, p.ConsumeMetrics(ctx, counters(clock.Now(), 100000, one, "c")))
	clock.Set(t0.Add(2100 * time.Millisecond))
	require.NoError(t, p.flush(ctx, false))
	sums, rows, meta := collected(sink)
	assert.Equal(t, 10, rows["a"])
	assert.Equal(t, 10, rows["b"])
	assert.Equal(t, 10.0, sums["a"])
	assert.Equal(t, 980, rows["c"])
	assert.InDelta(t, 100000.0/980, meta["fairshare.sampling.factor"]["c"], 1e-9)
	assert.NotContains(t, meta["fairshare.sampling.factor"], "a")
	assert.Equal(t, 980.0, meta["fairshare.sampled.rows"]["c/kept"])
	assert.Equal(t, 99020.0, meta["fairshare.sampled.rows"]["c/dropped"])
	assert.Equal(t, 1000.0*rowSize, meta["fairshare.rows"]["/kept"]*rowSize)
	assert.Equal(t, 1000.0*rowSize, meta["fairshare.bytes"]["/kept"])
	// All of c's counts are 1: mainstays keep 490 rows at factor 1, the other 490 stand for
	// 99,510 rows at factor 99510/490 each, so the total is exact in strict mode.
	assert.InDelta(t, 100000, sums["c"], 1e-6)
	require.NoError(t, p.Shutdown(ctx))
}

// TestStrictNeverExceedsBudgetEndToEnd: across many flushes of a random mix, the estimated bytes
// kept never exceed budget.bytes_per_second, and at least 95% of it is used when demand is
// more than twice the budget (the sampler tests derive the bound: budget minus one row).
func TestStrictNeverExceedsBudgetEndToEnd(t *testing.T) {
	sink := new(consumertest.MetricsSink)
	cfg := createDefaultConfig().(*Config)
	cfg.Budget.BytesPerSecond = 20000
	cfg.FairShare.Levels = []string{"metric", "attribute.tenant"}
	cfg.Metametrics = true
	clock := &fakeClock{t: t0}
	p := newTestProcessor(t, cfg, sink, clock)
	ctx := context.Background()
	for sec := range 30 {
		now := t0.Add(time.Duration(sec)*time.Second + 500*time.Millisecond)
		clock.Set(now)
		md := counters(now, 300+sec*40, func(i int) int64 { return int64(i%17 + 1) }, "x", "y.longer.name")
		ms := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()
		for m := range ms.Len() {
			dps := ms.At(m).Sum().DataPoints()
			for i := range dps.Len() {
				dps.At(i).Attributes().PutStr("tenant", []string{"a", "bb", "ccc"}[i%3])
			}
		}
		require.NoError(t, p.ConsumeMetrics(ctx, md))
		clock.Set(now.Add(1600 * time.Millisecond))
		sink.Reset()
		require.NoError(t, p.flush(ctx, false))
		_, _, meta := collected(sink)
		kept, dropped := meta["fairshare.bytes"]["/kept"], meta["fairshare.bytes"]["/dropped"]
		require.LessOrEqual(t, kept, 20000.0, "second %d", sec)
		if kept+dropped >= 2*20000 {
			require.GreaterOrEqual(t, kept, 0.95*20000, "second %d", sec)
		}
	}
	require.NoError(t, p.Shutdown(ctx))
}

func TestUntilTick(t *testing.T) {
	now := time.Unix(100, 300*int64(time.Millisecond))
	assert.Equal(t, 705*time.Millisecond, untilTick(now, time.Second))
	assert.Equal(t, tickOffset, untilTick(time.Unix(100, 0), time.Second))
	// The default grace puts the tick 805 ms after the whole second.
	assert.Equal(t, 505*time.Millisecond, untilTick(now, 800*time.Millisecond))
	assert.Equal(t, 805*time.Millisecond, untilTick(time.Unix(100, 0), 800*time.Millisecond))
	assert.Equal(t, time.Second, untilTick(time.Unix(100, 505*int64(time.Millisecond)), 2500*time.Millisecond))
}

// TestOneWindowPerShardBehindAReceiver: a receiver with a 1 s interval (dogstatsd) emits each
// interval right after it ends, over a few hundred milliseconds, stamped with the interval's
// end. With the default grace the window it fills is flushed, and recycled, before the next
// interval arrives, so each shard holds the rows of one window at a time, not two: under a
// flood of new series that is half the windows' memory. Ticks come at the times untilTick gives.
func TestOneWindowPerShardBehindAReceiver(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	clock := &fakeClock{t: t0}
	p := newTestProcessor(t, cfg, new(consumertest.MetricsSink), clock)
	type event struct {
		at   time.Time
		tick bool
	}
	var evs []event
	for sec := 1; sec <= 10; sec++ {
		end := t0.Add(time.Duration(sec) * time.Second)
		for part := range 5 { // the emission takes 200 ms
			evs = append(evs, event{at: end.Add(time.Duration(part) * 50 * time.Millisecond)})
		}
	}
	for at := t0; at.Before(t0.Add(11 * time.Second)); {
		at = at.Add(untilTick(at, cfg.Grace))
		evs = append(evs, event{at: at, tick: true})
	}
	slices.SortStableFunc(evs, func(a, b event) int { return a.at.Compare(b.at) })
	ctx := context.Background()
	for _, ev := range evs {
		clock.Set(ev.at)
		if ev.tick {
			require.NoError(t, p.flush(ctx, false))
			continue
		}
		stamp := ev.at.Truncate(time.Second) // the interval's end
		require.NoError(t, p.ConsumeMetrics(ctx, counters(stamp, 200, func(int) int64 { return 1 }, "a", "b", "c", "d")))
	}
	for i, sh := range p.engine.shards {
		assert.LessOrEqual(t, sh.store.Windows(), 1, "shard %d made more than one window", i)
	}
	require.NoError(t, p.Shutdown(ctx))
}

// TestRefusedForwardIsNotRetriedWhenPartWasAggregated: a request with aggregated (delta) and
// forwarded (cumulative) points whose forwarded part the next consumer refuses must not be
// retried, or its aggregated part would be counted twice: the error is permanent. A request
// that was forwarded whole keeps the consumer's retryable error.
func TestRefusedForwardIsNotRetriedWhenPartWasAggregated(t *testing.T) {
	sink := new(consumertest.MetricsSink)
	refuse := true
	next, err := consumer.NewMetrics(func(ctx context.Context, md pmetric.Metrics) error {
		if refuse {
			return errors.New("downstream unavailable")
		}
		return sink.ConsumeMetrics(ctx, md)
	})
	require.NoError(t, err)
	p, err := newProcessor(processortest.NewNopSettings(metadata.Type), createDefaultConfig().(*Config), next)
	require.NoError(t, err)

	md := counters(time.Now(), 2, func(int) int64 { return 5 }, "hits", "total")
	md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().At(1).Sum().SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	err = p.ConsumeMetrics(context.Background(), md)
	require.Error(t, err)
	assert.True(t, consumererror.IsPermanent(err), "part of the request is aggregated: a retry would count it twice")

	cumulative := counters(time.Now(), 1, func(int) int64 { return 1 }, "total")
	cumulative.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().At(0).Sum().SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	err = p.ConsumeMetrics(context.Background(), cumulative)
	require.Error(t, err)
	assert.False(t, consumererror.IsPermanent(err), "nothing was aggregated: the caller may retry")

	refuse = false
	require.NoError(t, p.Shutdown(context.Background()))
	sums, _, _ := collected(sink)
	assert.Equal(t, 10.0, sums["hits"], "the aggregated part is sent once")
}

// TestShutdownFlushesWhenTheContextIsDone: a shutdown context that is already done still gets
// the open windows out, through a context the next consumer accepts.
func TestShutdownFlushesWhenTheContextIsDone(t *testing.T) {
	sink := new(consumertest.MetricsSink)
	next, err := consumer.NewMetrics(func(ctx context.Context, md pmetric.Metrics) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return sink.ConsumeMetrics(ctx, md)
	})
	require.NoError(t, err)
	cfg := createDefaultConfig().(*Config)
	cfg.Resolution = time.Minute
	p, err := newProcessor(processortest.NewNopSettings(metadata.Type), cfg, next)
	require.NoError(t, err)
	require.NoError(t, p.Start(context.Background(), componenttest.NewNopHost()))
	require.NoError(t, p.ConsumeMetrics(context.Background(), counters(time.Now(), 4, func(int) int64 { return 3 }, "jobs")))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = p.Shutdown(ctx) // may report that the ticker did not stop within ctx
	sums, _, _ := collected(sink)
	assert.Equal(t, 12.0, sums["jobs"])
}

// TestNameFloodKeepsMetametricsBounded: 2,000 new metric names in one second, each one row,
// with metametrics_top_n 5 and a budget of about 100 rows. Every per-metric metametric has at
// most 6 points (the top 5 and "(others)"), fairshare.metrics.new names the flooding prefix
// with all 2,000 names, and the pooled sampling keeps the counter total unbiased: over 40
// processors (each seeded from the clock) the mean total is within 4 standard errors of what
// was sent (exceeded by chance with probability 6e-5).
func TestNameFloodKeepsMetametricsBounded(t *testing.T) {
	const names, trials = 2000, 40
	var totals []float64
	for trial := range trials {
		sink := new(consumertest.MetricsSink)
		cfg := createDefaultConfig().(*Config)
		cfg.MetametricsTopN = 5
		cfg.Budget.BytesPerSecond = 100 * 40
		clock := &fakeClock{t: t0.Add(time.Duration(trial)*time.Minute + 500*time.Millisecond)}
		p := newTestProcessor(t, cfg, sink, clock)
		ctx := context.Background()
		list := make([]string, names)
		for i := range list {
			list[i] = fmt.Sprintf("signup.user%d", i)
		}
		require.NoError(t, p.ConsumeMetrics(ctx, counters(clock.Now(), 1, func(int) int64 { return 3 }, list...)))
		clock.Set(clock.Now().Add(1600 * time.Millisecond))
		require.NoError(t, p.flush(ctx, false))
		var total float64
		perMetric := map[string]int{}
		for _, md := range sink.AllMetrics() {
			rms := md.ResourceMetrics()
			for i := range rms.Len() {
				sm := rms.At(i).ScopeMetrics().At(0)
				ms := sm.Metrics()
				for j := range ms.Len() {
					m := ms.At(j)
					if sm.Scope().Name() != metadata.ScopeName {
						total += float64(m.Sum().DataPoints().At(0).IntValue()) + m.Sum().DataPoints().At(0).DoubleValue()
						continue
					}
					var dps pmetric.NumberDataPointSlice
					if m.Type() == pmetric.MetricTypeSum {
						dps = m.Sum().DataPoints()
					} else {
						dps = m.Gauge().DataPoints()
					}
					perMetric[m.Name()] = dps.Len()
					if m.Name() == "fairshare.metrics.new" {
						require.Equal(t, 1, dps.Len())
						v, _ := dps.At(0).Attributes().Get("metric.prefix")
						assert.Equal(t, "signup", v.Str())
						assert.Equal(t, int64(names), dps.At(0).IntValue())
					}
				}
			}
		}
		for name, n := range perMetric {
			limit := 6
			if name == "fairshare.sampled.rows" || name == "fairshare.sampled.bytes" {
				limit = 12 // kept and dropped
			}
			assert.LessOrEqual(t, n, limit, "%s has %d points", name, n)
		}
		assert.Contains(t, perMetric, "fairshare.cardinality")
		totals = append(totals, total)
		require.NoError(t, p.Shutdown(ctx))
	}
	var mean, sd float64
	for _, x := range totals {
		mean += x
	}
	mean /= trials
	for _, x := range totals {
		sd += (x - mean) * (x - mean)
	}
	se := math.Sqrt(sd/(trials-1)) / math.Sqrt(trials)
	assert.InDelta(t, 3*names, mean, 4*se+1e-9, "mean total over %d trials", trials)
	assert.Less(t, 4*se, 0.2*3*names, "the check must be able to see a 20%% bias")
}

// TestFlushSendsLargeFlushesInParts: a flush of more rows than flushPartPoints reaches the next
// consumer in several requests of at most that many points, whole, with the metametrics last.
func TestFlushSendsLargeFlushesInParts(t *testing.T) {
	sink := new(consumertest.MetricsSink)
	clock := &fakeClock{t: t0.Add(500 * time.Millisecond)}
	cfg := createDefaultConfig().(*Config)
	cfg.Budget.BytesPerSecond = 1 << 40 // everything fits: every row comes out exactly
	cfg.Shards = 2
	p := newTestProcessor(t, cfg, sink, clock)
	ctx := context.Background()
	names := []string{"a", "b", "c", "d", "e"}
	require.NoError(t, p.ConsumeMetrics(ctx, counters(clock.Now(), 4000, func(i int) int64 { return int64(i) }, names...)))
	clock.Set(t0.Add(2100 * time.Millisecond))
	require.NoError(t, p.flush(ctx, false))

	parts := sink.AllMetrics()
	require.GreaterOrEqual(t, len(parts), 3, "20,000 rows in parts of at most %d points", flushPartPoints)
	for i, md := range parts {
		assert.LessOrEqual(t, md.DataPointCount(), flushPartPoints+200, "part %d", i)
	}
	sums, rows, meta := collected(sink)
	for _, n := range names {
		assert.Equal(t, float64(4000*3999/2), sums[n], n)
		assert.Equal(t, 4000, rows[n], n)
	}
	assert.NotEmpty(t, meta, "metametrics")
	last := parts[len(parts)-1]
	assert.Equal(t, metadata.ScopeName, last.ResourceMetrics().At(last.ResourceMetrics().Len()-1).ScopeMetrics().At(0).Scope().Name(),
		"the metametrics come with the last part")
	require.NoError(t, p.Shutdown(ctx))
}
