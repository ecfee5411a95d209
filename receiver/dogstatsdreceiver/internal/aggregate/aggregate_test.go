package aggregate

import (
	"fmt"
	"math"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.uber.org/goleak"

	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/parse"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var (
	t0 = time.Unix(1_700_000_000, 0)
	t1 = t0.Add(time.Second)
)

func testConfig() Config {
	return Config{
		MaxContexts: 1000, MaxTimestamped: 100, MaxBuckets: 160,
		ExplicitBounds:   []float64{10, 100},
		SummaryQuantiles: []float64{0.5, 0.99},
		ScopeName:        "test", ScopeVersion: "v1",
	}
}

func smp(name string, typ parse.MetricType, v float64, tags ...string) parse.Sample {
	return parse.Sample{Name: name, Type: typ, Value: v, SampleRate: 1, Tags: tags}
}

// points indexes the flushed output by metric name and rendered attributes.
func points(t *testing.T, md pmetric.Metrics) map[string]pmetric.Metric {
	t.Helper()
	out := map[string]pmetric.Metric{}
	rms := md.ResourceMetrics()
	for i := range rms.Len() {
		sms := rms.At(i).ScopeMetrics()
		for j := range sms.Len() {
			ms := sms.At(j).Metrics()
			for k := range ms.Len() {
				m := ms.At(k)
				if _, dup := out[m.Name()+"/"+m.Type().String()]; dup {
					t.Fatalf("metric %s emitted twice in one resource scope", m.Name())
				}
				out[m.Name()+"/"+m.Type().String()] = m
			}
		}
	}
	return out
}

func TestCountersGaugesSets(t *testing.T) {
	a := New(testConfig(), 1)
	s := a.NewFeeder(1)
	c := smp("hits", parse.Counter, 2, "env:prod")
	c.SampleRate = 0.5
	batch := []parse.Sample{
		c, smp("hits", parse.Counter, 1, "env:prod"),
		smp("temp", parse.Gauge, 1), smp("temp", parse.Gauge, 7),
		{Name: "users", Type: parse.Set, SetValue: "a", SampleRate: 1},
		{Name: "users", Type: parse.Set, SetValue: "b", SampleRate: 1},
		{Name: "users", Type: parse.Set, SetValue: "a", SampleRate: 1},
	}
	s.Add(batch, 1)
	got := points(t, a.Flush(t0, t1))
	if len(got) != 3 {
		t.Fatalf("got %d metrics, want 3", len(got))
	}
	sum := got["hits/Sum"].Sum()
	if sum.AggregationTemporality() != pmetric.AggregationTemporalityDelta || sum.DataPoints().Len() != 1 {
		t.Fatalf("hits: %v temporality, %d points", sum.AggregationTemporality(), sum.DataPoints().Len())
	}
	dp := sum.DataPoints().At(0)
	if dp.DoubleValue() != 5 { // 2/0.5 + 1
		t.Errorf("hits = %v, want 5", dp.DoubleValue())
	}
	if dp.StartTimestamp() != pcommon.NewTimestampFromTime(t0) || dp.Timestamp() != pcommon.NewTimestampFromTime(t1) {
		t.Errorf("hits interval (%v, %v]", dp.StartTimestamp(), dp.Timestamp())
	}
	if v, _ := dp.Attributes().Get("env"); v.Str() != "prod" {
		t.Errorf("hits attributes %v", dp.Attributes().AsRaw())
	}
	if v := got["temp/Gauge"].Gauge().DataPoints().At(0).DoubleValue(); v != 7 {
		t.Errorf("temp = %v, want the last value 7", v)
	}
	if v := got["users/Gauge"].Gauge().DataPoints().At(0).IntValue(); v != 2 {
		t.Errorf("users = %v distinct, want 2", v)
	}
}

func TestTagOrderAndDuplicatesNameOneContext(t *testing.T) {
	// Several shards and two workers: every form of a context must route to the same shard.
	a := New(testConfig(), 4)
	a.NewFeeder(1).Add([]parse.Sample{
		smp("x", parse.Counter, 1, "b:2", "a:1"),
		smp("x", parse.Counter, 1, "a:1", "b:2", "a:1"),
		smp("x", parse.Counter, 1, "team:web", "team:api", "bare"),
	}, 1)
	a.NewFeeder(1).Add([]parse.Sample{
		smp("x", parse.Counter, 1, "b:2", "a:1", "b:2", "a:1"),
		smp("x", parse.Counter, 1, "a:1", "b:2"),
	}, 1)
	if n := a.Stats.Contexts.Load(); n != 2 {
		t.Fatalf("%d contexts, want 2", n)
	}
	dps := points(t, a.Flush(t0, t1))["x/Sum"].Sum().DataPoints()
	if dps.Len() != 2 {
		t.Fatalf("%d points, want 2", dps.Len())
	}
	for i := range dps.Len() {
		dp := dps.At(i)
		raw := dp.Attributes().AsRaw()
		switch _, isTeam := raw["team"]; {
		case !isTeam: // a:1,b:2 seen four times, in three forms
			if dp.DoubleValue() != 4 || raw["a"] != "1" || raw["b"] != "2" || len(raw) != 2 {
				t.Errorf("got %v = %v", raw, dp.DoubleValue())
			}
		default:
			team, _ := dp.Attributes().Get("team")
			bare, ok := dp.Attributes().Get("bare")
			if team.Type() != pcommon.ValueTypeSlice || team.Slice().Len() != 2 ||
				team.Slice().At(0).Str() != "api" || !ok || bare.Str() != "" {
				t.Errorf("repeated key and bare tag: %v", raw)
			}
		}
	}
}

func TestHostAndContainerBecomeResources(t *testing.T) {
	a := New(testConfig(), 1)
	x := smp("m", parse.Gauge, 1)
	x.Host, x.ContainerID = "web-1", "abc"
	y := smp("m", parse.Gauge, 2)
	a.NewFeeder(1).Add([]parse.Sample{x, y}, 1)
	md := a.Flush(t0, t1)
	if md.ResourceMetrics().Len() != 2 {
		t.Fatalf("%d resources, want 2", md.ResourceMetrics().Len())
	}
	found := false
	for i := range md.ResourceMetrics().Len() {
		attrs := md.ResourceMetrics().At(i).Resource().Attributes().AsRaw()
		if attrs["host.name"] == "web-1" && attrs["container.id"] == "abc" {
			found = true
		}
	}
	if !found {
		t.Fatal("no resource with host.name=web-1 and container.id=abc")
	}
}

func TestEachContextLivesInOneShard(t *testing.T) {
	a := New(testConfig(), 2)
	const contexts = 500
	// Two workers send the same contexts: each context is created once, whatever its shard.
	for w := range 2 {
		f := a.NewFeeder(1)
		for i := range contexts {
			f.Add([]parse.Sample{
				smp(fmt.Sprintf("c%d", i), parse.Counter, 3), smp("g", parse.Gauge, float64(w)),
				smp("d", parse.Distribution, float64(1+99*w)),
				{Name: "s", Type: parse.Set, SetValue: fmt.Sprint(w), SampleRate: 1},
			}, 1)
		}
	}
	if n, want := a.Stats.Contexts.Load(), int64(contexts+3); n != want {
		t.Fatalf("%d contexts tracked, want %d: a context seen by two workers must be held once", n, want)
	}
	for _, s := range a.shards {
		if s.n == 0 || s.n == contexts+3 {
			t.Fatalf("shard holds %d of %d contexts: the hash does not spread them", s.n, contexts+3)
		}
	}
	got := points(t, a.Flush(t0, t1))
	if v := got["c7/Sum"].Sum().DataPoints().At(0).DoubleValue(); v != 6 {
		t.Errorf("c7 = %v, want 6", v)
	}
	if v := got["g/Gauge"].Gauge().DataPoints().At(0).DoubleValue(); v != 1 {
		t.Errorf("g = %v, want 1 (the last write)", v)
	}
	if v := got["s/Gauge"].Gauge().DataPoints().At(0).IntValue(); v != 2 {
		t.Errorf("s = %v, want 2", v)
	}
	h := got["d/ExponentialHistogram"].ExponentialHistogram().DataPoints().At(0)
	if h.Count() != 2*contexts || h.Sum() != 101*contexts || h.Min() != 1 || h.Max() != 100 {
		t.Errorf("d: count %d sum %v min %v max %v", h.Count(), h.Sum(), h.Min(), h.Max())
	}
}

func TestIdleContextsAreForgotten(t *testing.T) {
	a := New(testConfig(), 2)
	f := a.NewFeeder(1)
	f.Add([]parse.Sample{smp("a", parse.Counter, 1), smp("b", parse.Counter, 1)}, 1)
	a.Flush(t0, t1)
	f.Add([]parse.Sample{smp("a", parse.Counter, 1)}, 2)
	md := a.Flush(t1, t1.Add(time.Second))
	if md.MetricCount() != 1 {
		t.Fatalf("second interval: %d metrics, want only a", md.MetricCount())
	}
	a.Flush(t1, t1.Add(2*time.Second))
	if n := a.Stats.Contexts.Load(); n != 0 {
		t.Fatalf("%d contexts tracked after everything went idle, want 0", n)
	}
	if md := a.Flush(t1, t1.Add(3*time.Second)); md.MetricCount() != 0 {
		t.Fatalf("empty interval produced %d metrics", md.MetricCount())
	}
}

func TestExpiryEmitsZerosForIdleCounters(t *testing.T) {
	cfg := testConfig()
	cfg.ExpiryIntervals = 2
	a := New(cfg, 2)
	a.NewFeeder(1).Add([]parse.Sample{smp("hits", parse.Counter, 5, "env:a"), smp("temp", parse.Gauge, 3)}, 1)
	a.Flush(t0, t1)
	for i := range 2 {
		got := points(t, a.Flush(t0, t1))
		if len(got) != 1 {
			t.Fatalf("idle interval %d: %d metrics, want the counter only", i+1, len(got))
		}
		dp := got["hits/Sum"].Sum().DataPoints().At(0)
		if v, _ := dp.Attributes().Get("env"); dp.DoubleValue() != 0 || v.Str() != "a" {
			t.Fatalf("idle interval %d: %v %v, want 0 with its tags", i+1, dp.DoubleValue(), dp.Attributes().AsRaw())
		}
	}
	if md := a.Flush(t0, t1); md.DataPointCount() != 0 {
		t.Fatalf("after the expiry: %d points, want none", md.DataPointCount())
	}
	if n := a.Stats.Contexts.Load(); n != 0 {
		t.Fatalf("%d contexts after the expiry, want 0", n)
	}
}

func TestMaxContextsOverflowKeepsTotals(t *testing.T) {
	cfg := testConfig()
	cfg.MaxContexts = 10
	a := New(cfg, 2)
	// 100 counters and 100 distributions from two workers; only 10 contexts fit.
	var sent float64
	for w := range 2 {
		f := a.NewFeeder(1)
		for i := range 100 {
			v := float64(i + 1)
			sent += v
			f.Add([]parse.Sample{smp(fmt.Sprintf("c%d", i), parse.Counter, v), smp(fmt.Sprintf("d%d", i), parse.Distribution, v)}, int64(w))
		}
	}
	if n := a.Stats.Contexts.Load(); n != 10 {
		t.Fatalf("%d contexts, want max_contexts (10) over all shards", n)
	}
	if got := a.Stats.Overflowed.Load(); got != 400-20 {
		t.Fatalf("%d samples overflowed, want 380", got)
	}
	md := a.Flush(t0, t1)
	var counterTotal float64
	var histCount uint64
	overflowPoints := 0
	ms := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()
	for i := range ms.Len() {
		m := ms.At(i)
		var attrs pcommon.Map
		switch m.Type() {
		case pmetric.MetricTypeSum:
			counterTotal += m.Sum().DataPoints().At(0).DoubleValue()
			attrs = m.Sum().DataPoints().At(0).Attributes()
		case pmetric.MetricTypeExponentialHistogram:
			histCount += m.ExponentialHistogram().DataPoints().At(0).Count()
			attrs = m.ExponentialHistogram().DataPoints().At(0).Attributes()
		}
		if v, ok := attrs.Get(OverflowAttribute); ok {
			overflowPoints++
			if !v.Bool() || (m.Name() != "dogstatsd.overflow.count" && m.Name() != "dogstatsd.overflow.distribution") {
				t.Errorf("overflow point %s with %v", m.Name(), attrs.AsRaw())
			}
		}
	}
	if counterTotal != sent {
		t.Errorf("counter total %v, want %v: overflow must keep it", counterTotal, sent)
	}
	if histCount != 200 {
		t.Errorf("histogram count %d, want 200", histCount)
	}
	if overflowPoints != 2 {
		t.Errorf("%d overflow points, want one per type (counter, distribution)", overflowPoints)
	}
	// Idle contexts are forgotten and there is room again.
	a.Flush(t1, t1.Add(time.Second))
	a.NewFeeder(1).Add([]parse.Sample{smp("new", parse.Counter, 1)}, 2)
	if got := a.Stats.Overflowed.Load(); got != 380 {
		t.Fatalf("overflowed %d after the contexts were released, want still 380", got)
	}
}

func TestTimestampedSamplesKeepTheirTime(t *testing.T) {
	a := New(testConfig(), 1)
	c := smp("jobs", parse.Counter, 5)
	c.Timestamp, c.SampleRate = 1_600_000_000, 0.5
	g := smp("jobs", parse.Counter, 1) // same name, aggregated
	a.NewFeeder(1).Add([]parse.Sample{c, g}, 1)
	md := a.Flush(t0, t1)
	if md.DataPointCount() != 2 {
		t.Fatalf("%d points, want 2", md.DataPointCount())
	}
	var sawTS bool
	ms := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()
	for i := range ms.Len() {
		dp := ms.At(i).Sum().DataPoints().At(0)
		if dp.Timestamp() == pcommon.Timestamp(1_600_000_000*uint64(time.Second)) {
			sawTS = true
			if dp.DoubleValue() != 10 {
				t.Errorf("timestamped counter = %v, want 10", dp.DoubleValue())
			}
		}
	}
	if !sawTS {
		t.Fatal("timestamped point lost its timestamp")
	}
}

func TestTimerMappings(t *testing.T) {
	for _, tc := range []struct {
		mapping Mapping
		want    pmetric.MetricType
	}{
		{MappingExponentialHistogram, pmetric.MetricTypeExponentialHistogram},
		{MappingHistogram, pmetric.MetricTypeHistogram},
		{MappingSummary, pmetric.MetricTypeSummary},
	} {
		cfg := testConfig()
		cfg.TimerMapping = tc.mapping
		a := New(cfg, 1)
		batch := []parse.Sample{smp("lat", parse.Timer, 5), smp("lat", parse.Timer, 50)}
		batch[1].SampleRate = 0.25 // weighs 4
		a.NewFeeder(1).Add(batch, 1)
		m := points(t, a.Flush(t0, t1))["lat/"+tc.want.String()]
		if m.Type() != tc.want {
			t.Fatalf("mapping %v: got type %v", tc.mapping, m.Type())
		}
		switch tc.want {
		case pmetric.MetricTypeHistogram:
			dp := m.Histogram().DataPoints().At(0)
			if dp.Count() != 5 || dp.Sum() != 205 || dp.BucketCounts().AsRaw()[0] != 1 || dp.BucketCounts().AsRaw()[1] != 4 {
				t.Errorf("histogram count %d sum %v buckets %v", dp.Count(), dp.Sum(), dp.BucketCounts().AsRaw())
			}
		case pmetric.MetricTypeSummary:
			dp := m.Summary().DataPoints().At(0)
			if dp.Count() != 5 || dp.Sum() != 205 || dp.QuantileValues().Len() != 2 {
				t.Errorf("summary count %d sum %v", dp.Count(), dp.Sum())
			}
			if q := dp.QuantileValues().At(0).Value(); q < 49 || q > 50 {
				t.Errorf("median %v, want about 50 (4 of 5 weights are 50)", q)
			}
		default:
			dp := m.ExponentialHistogram().DataPoints().At(0)
			if dp.Count() != 5 || dp.Sum() != 205 {
				t.Errorf("exponential histogram count %d sum %v", dp.Count(), dp.Sum())
			}
		}
	}
}

func TestLargeSetsSwitchToASketchAndStayAccurate(t *testing.T) {
	a := New(testConfig(), 2)
	feeders := []*Feeder{a.NewFeeder(1), a.NewFeeder(1)}
	const n = 50_000
	for i := range n {
		// Every member twice, half of them through the other shard.
		for shard := range 2 {
			m := fmt.Sprintf("user-%d", i)
			feeders[(i+shard)%2].Add([]parse.Sample{{Name: "u", Type: parse.Set, SetValue: m, SampleRate: 1}}, 1)
		}
	}
	got := points(t, a.Flush(t0, t1))["u/Gauge"].Gauge().DataPoints().At(0).IntValue()
	// Precision 14 has a 0.8% standard error; 4 standard errors is 3.3%.
	if diff := math.Abs(float64(got-n)) / n; diff > 0.033 {
		t.Fatalf("estimated %d distinct members, want %d within 3.3%%", got, n)
	}
	// The next interval counts from zero, exactly again below the limit.
	a.NewFeeder(1).Add([]parse.Sample{{Name: "u", Type: parse.Set, SetValue: "x", SampleRate: 1}}, 2)
	if got := points(t, a.Flush(t1, t1.Add(time.Second)))["u/Gauge"].Gauge().DataPoints().At(0).IntValue(); got != 1 {
		t.Fatalf("next interval: %d members, want 1", got)
	}
}

// TestOneOffContextsMakeRoomForTheNextInterval: a flood of one-off contexts, each interval a
// new set as large as max_contexts. The contexts of the previous interval have had no sample
// since it was emitted, so they give way to the new ones: nothing goes to the overflow
// contexts, every interval is emitted by name, and the count never exceeds max_contexts.
func TestOneOffContextsMakeRoomForTheNextInterval(t *testing.T) {
	cfg := testConfig()
	cfg.MaxContexts = 100
	a := New(cfg, 2)
	f := a.NewFeeder(1)
	for interval := range 5 {
		for i := range 90 { // 90 per interval: shards fill unevenly, so stay a little below
			f.Add([]parse.Sample{smp(fmt.Sprintf("id.%d.%d", interval, i), parse.Counter, 1)}, 1)
		}
		if n := a.Stats.Contexts.Load(); n > 100 {
			t.Fatalf("interval %d: %d contexts, over max_contexts", interval, n)
		}
		if md := a.Flush(t0, t1); md.DataPointCount() != 90 {
			t.Fatalf("interval %d: %d points, want 90", interval, md.DataPointCount())
		}
		// Seen once, released at once: nothing of the flood is held into the next interval
		// but the doorkeeper's false hits (about 1 in 70; 9 of 90 is far beyond chance).
		if n := a.Stats.Contexts.Load(); n > 9 {
			t.Fatalf("interval %d: %d contexts held after the flush, want about 0", interval, n)
		}
	}
	if got := a.Stats.Overflowed.Load(); got != 0 {
		t.Fatalf("%d samples overflowed: one-off contexts should have made room", got)
	}
}

func TestRecurringContextsStayAndIdleOnesMakeRoom(t *testing.T) {
	cfg := testConfig()
	cfg.MaxContexts = 100
	a := New(cfg, 2)
	f := a.NewFeeder(1)
	send := func(prefix string) {
		for i := range 90 {
			f.Add([]parse.Sample{smp(fmt.Sprintf("%s.%d", prefix, i), parse.Counter, 1)}, 1)
		}
	}
	send("a")
	a.Flush(t0, t1)
	send("a") // back in the next interval: kept from now on
	created := a.Stats.Created.Load()
	a.Flush(t0, t1)
	if n := a.Stats.Contexts.Load(); n != 90 {
		t.Fatalf("%d contexts after the second interval, want the 90 recurring ones", n)
	}
	send("a")
	if a.Stats.Created.Load() != created {
		t.Fatalf("recurring contexts were created again: %d -> %d", created, a.Stats.Created.Load())
	}
	a.Flush(t0, t1)
	// Now 90 new contexts while the 90 of "a" are idle: they must give way, not overflow.
	send("b")
	if got := a.Stats.Overflowed.Load(); got != 0 {
		t.Fatalf("%d samples overflowed: idle contexts should have made room", got)
	}
	if a.Stats.Evicted.Load() == 0 {
		t.Fatal("no idle context was evicted")
	}
	if md := a.Flush(t0, t1); md.DataPointCount() != 90 {
		t.Fatalf("%d points, want 90", md.DataPointCount())
	}
}

func TestCountersWithExpiryAreNotOnProbation(t *testing.T) {
	cfg := testConfig()
	cfg.ExpiryIntervals = 2
	a := New(cfg, 1)
	f := a.NewFeeder(1)
	f.Add([]parse.Sample{smp("c", parse.Counter, 3), smp("g", parse.Gauge, 1)}, 1)
	a.Flush(t0, t1)
	// The counter emits zeros for its expiry; the gauge, seen once, is released.
	if md := a.Flush(t0, t1); md.DataPointCount() != 1 || md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().At(0).Name() != "c" {
		t.Fatalf("second flush: %d points, want the idle counter's zero only", md.DataPointCount())
	}
}

func TestFlushToEmitsInParts(t *testing.T) {
	a := New(testConfig(), 2)
	f := a.NewFeeder(1)
	var sent float64
	for i := range 250 {
		f.Add([]parse.Sample{smp(fmt.Sprintf("c%d", i%100), parse.Counter, float64(i)), smp("g", parse.Gauge, 1, fmt.Sprintf("id:%d", i))}, 1)
		sent += float64(i)
	}
	var parts, points int
	var total float64
	a.FlushTo(t0, t1, 64, func(md pmetric.Metrics) {
		parts++
		n := md.DataPointCount()
		if n > 64 {
			t.Fatalf("part of %d points, want at most 64", n)
		}
		points += n
		ms := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()
		for i := range ms.Len() {
			if ms.At(i).Type() == pmetric.MetricTypeSum {
				total += ms.At(i).Sum().DataPoints().At(0).DoubleValue()
			}
		}
	})
	if points != 350 || parts != 6 || total != sent {
		t.Fatalf("%d points in %d parts, counter total %v; want 350 in 6, %v", points, parts, total, sent)
	}
	called := false
	a.FlushTo(t0, t1, 64, func(pmetric.Metrics) { called = true })
	if called {
		t.Fatal("an empty interval was emitted")
	}
}

// Extra tags land on every context; a sample that already carries one of them, or carries the
// same tags in another order, is the same context.
func TestExtraTagsOnEveryContext(t *testing.T) {
	cfg := testConfig()
	cfg.ExtraTags = []string{"dc:eu", "env:prod"}
	a := New(cfg, 2)
	f := a.NewFeeder(1)
	f.Add([]parse.Sample{
		smp("hits", parse.Counter, 1, "route:a", "env:prod"),
		smp("hits", parse.Counter, 2, "env:prod", "route:a"),
		smp("hits", parse.Counter, 4, "route:a"),
		smp("temp", parse.Gauge, 7),
	}, 1)
	f.Drain(1)
	md := a.Flush(t0, t1)
	if md.DataPointCount() != 2 {
		t.Fatalf("%d points, want one context per metric", md.DataPointCount())
	}
	ms := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()
	for i := range ms.Len() {
		m := ms.At(i)
		var attrs pcommon.Map
		if m.Type() == pmetric.MetricTypeSum {
			dp := m.Sum().DataPoints().At(0)
			if dp.DoubleValue() != 7 {
				t.Errorf("hits = %v, want 7", dp.DoubleValue())
			}
			attrs = dp.Attributes()
		} else {
			attrs = m.Gauge().DataPoints().At(0).Attributes()
		}
		for _, kv := range [][2]string{{"dc", "eu"}, {"env", "prod"}} {
			if v, ok := attrs.Get(kv[0]); !ok || v.AsString() != kv[1] {
				t.Errorf("%s on %s: %v, want %s", kv[0], m.Name(), v.AsRaw(), kv[1])
			}
		}
	}
}

// More tags than hashSample compares pairwise: a line with 40 distinct tags and a repeated one
// is one context, and the samples of a packed line, which share one tag slice, all land in it.
func TestManyTagsOnPackedSamples(t *testing.T) {
	a := New(testConfig(), 2)
	var tags []string
	for i := range 40 {
		tags = append(tags, fmt.Sprintf("k%02d:v", 39-i))
	}
	tags = append(tags, "k07:v")
	batch := []parse.Sample{
		{Name: "d", Type: parse.Distribution, Value: 1, SampleRate: 1, Tags: tags},
		{Name: "d", Type: parse.Distribution, Value: 2, SampleRate: 1, Tags: tags},
		{Name: "d", Type: parse.Distribution, Value: 3, SampleRate: 1, Tags: tags},
	}
	f := a.NewFeeder(32)
	f.Add(batch, 1)
	f.Drain(1)
	if n := a.Stats.Contexts.Load(); n != 1 {
		t.Fatalf("%d contexts, want 1", n)
	}
	dps := points(t, a.Flush(t0, t1))["d/ExponentialHistogram"].ExponentialHistogram().DataPoints()
	if dps.Len() != 1 || dps.At(0).Count() != 3 || dps.At(0).Attributes().Len() != 40 {
		t.Fatalf("%d points, first %d values with %d attributes; want 1 point of 3 values with 40", dps.Len(), dps.At(0).Count(), dps.At(0).Attributes().Len())
	}
}
