package aggregate

import (
	"regexp"
	"slices"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/parse"
)

// Each of `ms`, `h` and `d` follows its own entry of Types: here a timer becomes a summary of
// its own quantiles, a histogram an exponential histogram of its own size, and a distribution
// an explicit histogram, while the shared fields still serve a type without an entry.
func TestTypesEachTheirOwnMapping(t *testing.T) {
	cfg := testConfig()
	cfg.Types[parse.Timer] = &TypeConfig{Mapping: MappingSummary, Quantiles: []float64{0, 1}}
	cfg.Types[parse.Histogram] = &TypeConfig{Mapping: MappingExponentialHistogram, MaxBuckets: 2}
	cfg.Types[parse.Distribution] = &TypeConfig{Mapping: MappingHistogram, ExplicitBounds: []float64{5}}
	a := New(cfg, 1)
	var batch []parse.Sample
	for _, v := range []float64{1, 3, 1000, 1e6} {
		batch = append(batch, smp("lat", parse.Timer, v), smp("lat", parse.Histogram, v), smp("lat", parse.Distribution, v))
	}
	a.NewFeeder(1).Add(batch, 1)
	got := points(t, a.Flush(t0, t1))
	if len(got) != 3 {
		t.Fatalf("metrics %v, want a summary, an exponential histogram and a histogram", keys(got))
	}
	sum := got["lat/Summary"].Summary().DataPoints().At(0)
	if qs := sum.QuantileValues(); qs.Len() != 2 || qs.At(0).Quantile() != 0 || qs.At(1).Quantile() != 1 || sum.Count() != 4 {
		t.Errorf("timer summary: count %d, %d quantiles", sum.Count(), qs.Len())
	}
	exp := got["lat/ExponentialHistogram"].ExponentialHistogram().DataPoints().At(0)
	if exp.Positive().BucketCounts().Len() > 2 || exp.Count() != 4 {
		t.Errorf("histogram: %d buckets (max 2), count %d", exp.Positive().BucketCounts().Len(), exp.Count())
	}
	h := got["lat/Histogram"].Histogram().DataPoints().At(0)
	if !slices.Equal(h.ExplicitBounds().AsRaw(), []float64{5}) || !slices.Equal(h.BucketCounts().AsRaw(), []uint64{2, 2}) {
		t.Errorf("distribution: bounds %v counts %v, want [5] [2 2]", h.ExplicitBounds().AsRaw(), h.BucketCounts().AsRaw())
	}
}

// Without Types, `ms` and `h` follow TimerMapping and `d` stays an exponential histogram: the
// defaults do not move.
func TestTypesDefaultKeepsTimerMapping(t *testing.T) {
	cfg := testConfig()
	cfg.TimerMapping = MappingHistogram
	a := New(cfg, 1)
	a.NewFeeder(1).Add([]parse.Sample{
		smp("t", parse.Timer, 50), smp("h", parse.Histogram, 50), smp("d", parse.Distribution, 50),
	}, 1)
	got := points(t, a.Flush(t0, t1))
	for _, k := range []string{"t/Histogram", "h/Histogram", "d/ExponentialHistogram"} {
		if _, ok := got[k]; !ok {
			t.Errorf("no %s in %v", k, keys(got))
		}
	}
}

// MappingGauge: every value is a gauge point of its own with the context's attributes, stamped
// with its arrival and not aggregated; the sample rate does not scale it (as in contrib).
func TestGaugeMappingEmitsEveryValue(t *testing.T) {
	cfg := testConfig()
	cfg.Types[parse.Histogram] = &TypeConfig{Mapping: MappingGauge}
	a := New(cfg, 2)
	before := time.Now()
	f := a.NewFeeder(1)
	sampled := smp("size", parse.Histogram, 7, "env:prod")
	sampled.SampleRate = 0.5
	f.Add([]parse.Sample{smp("size", parse.Histogram, 3, "env:prod"), sampled, smp("size", parse.Histogram, 3, "env:prod")}, 1)
	after := time.Now()
	got := points(t, a.Flush(t0, t1))
	m, ok := got["size/Gauge"]
	if !ok || len(got) != 1 {
		t.Fatalf("metrics %v, want one gauge", keys(got))
	}
	dps := m.Gauge().DataPoints()
	var values []float64
	for i := range dps.Len() {
		dp := dps.At(i)
		values = append(values, dp.DoubleValue())
		if ts := dp.Timestamp().AsTime(); ts.Before(before) || ts.After(after) {
			t.Errorf("point %d stamped %v, want its arrival in [%v, %v]", i, ts, before, after)
		}
		if dp.StartTimestamp() != 0 {
			t.Errorf("point %d has a start time", i)
		}
		if v, _ := dp.Attributes().Get("env"); v.Str() != "prod" || dp.Attributes().Len() != 1 {
			t.Errorf("point %d attributes %v", i, dp.Attributes().AsRaw())
		}
	}
	if !slices.Equal(values, []float64{3, 7, 3}) {
		t.Errorf("values %v, want every value as sent: [3 7 3]", values)
	}
	if got := points(t, a.Flush(t1, t1.Add(time.Second))); len(got) != 0 {
		t.Errorf("the next interval repeats %v", keys(got))
	}
}

// The values a gauge mapping holds count against MaxTimestamped with the timestamped samples;
// beyond it they are dropped and counted, and the next interval has the room again.
func TestGaugeMappingBounded(t *testing.T) {
	cfg := testConfig()
	cfg.MaxTimestamped = 5
	cfg.Types[parse.Timer] = &TypeConfig{Mapping: MappingGauge}
	a := New(cfg, 1)
	f := a.NewFeeder(1)
	stamped := smp("c", parse.Counter, 1)
	stamped.Timestamp = 1_700_000_000
	batch := []parse.Sample{stamped, stamped}
	for i := range 6 {
		batch = append(batch, smp("t", parse.Timer, float64(i)))
	}
	f.Add(batch, 1)
	if n := a.Stats.TimestampedDropped.Load(); n != 3 {
		t.Fatalf("%d dropped, want 3 (2 timestamped + 3 values fill the 5)", n)
	}
	got := points(t, a.Flush(t0, t1))
	if n := got["t/Gauge"].Gauge().DataPoints().Len(); n != 3 {
		t.Errorf("%d timer points, want 3", n)
	}
	f.Add([]parse.Sample{smp("t", parse.Timer, 1), smp("t", parse.Timer, 2)}, 2)
	if n := points(t, a.Flush(t1, t1.Add(time.Second)))["t/Gauge"].Gauge().DataPoints().Len(); n != 2 || a.Stats.TimestampedDropped.Load() != 3 {
		t.Errorf("next interval: %d points, %d dropped; want 2 and still 3", n, a.Stats.TimestampedDropped.Load())
	}
}

// Beyond max_contexts the values of new contexts go to the overflow context, still one point
// each, merged over the shards.
func TestGaugeMappingOverflow(t *testing.T) {
	cfg := testConfig()
	cfg.MaxContexts = 1
	cfg.Types[parse.Distribution] = &TypeConfig{Mapping: MappingGauge}
	a := New(cfg, 3)
	a.NewFeeder(1).Add([]parse.Sample{
		smp("a", parse.Distribution, 1), smp("b", parse.Distribution, 2), smp("c", parse.Distribution, 3), smp("d", parse.Distribution, 4),
	}, 1)
	got := points(t, a.Flush(t0, t1))
	total := 0
	for _, m := range got {
		total += m.Gauge().DataPoints().Len()
	}
	over, ok := got["dogstatsd.overflow.distribution/Gauge"]
	if !ok || total != 4 || over.Gauge().DataPoints().Len() != 3 {
		t.Fatalf("metrics %v with %d points, want 4 points, 3 of them in the overflow context", keys(got), total)
	}
	if v, _ := over.Gauge().DataPoints().At(0).Attributes().Get(OverflowAttribute); !v.Bool() {
		t.Errorf("overflow point without %s", OverflowAttribute)
	}
}

// MappingDisabled drops the type's samples before they are routed and counts them; other types
// are untouched, and no context is created for the dropped ones.
func TestDisabledMappingDrops(t *testing.T) {
	cfg := testConfig()
	cfg.Types[parse.Histogram] = &TypeConfig{Mapping: MappingDisabled}
	a := New(cfg, 2)
	a.NewFeeder(1).Add([]parse.Sample{
		smp("h", parse.Histogram, 1), smp("t", parse.Timer, 1), smp("h", parse.Histogram, 2, "x:y"),
	}, 1)
	if n := a.Stats.Disabled.Load(); n != 2 {
		t.Errorf("%d disabled, want 2", n)
	}
	if n := a.Stats.Contexts.Load(); n != 1 {
		t.Errorf("%d contexts, want 1 (the timer's)", n)
	}
	got := points(t, a.Flush(t0, t1))
	if _, ok := got["t/ExponentialHistogram"]; !ok || len(got) != 1 {
		t.Errorf("metrics %v, want only the timer", keys(got))
	}
}

// Named bounds: under the exponential histogram mapping, names a pattern matches (anywhere in
// the name, the first pattern winning) get an explicit histogram of its bounds; the others stay
// exponential histograms, and a reused state of the other kind is not handed to them.
func TestNamedBounds(t *testing.T) {
	cfg := testConfig()
	cfg.Types[parse.Timer] = &TypeConfig{Mapping: MappingExponentialHistogram, Named: []NamedBounds{
		{Match: regexp.MustCompile(`^api\.`), Bounds: []float64{10, 100}},
		{Match: regexp.MustCompile(`latency`), Bounds: []float64{1}},
	}}
	a := New(cfg, 1)
	f := a.NewFeeder(1)
	for interval := range 3 {
		// The same contexts in every interval: their states are recycled through the spares.
		f.Add([]parse.Sample{
			smp("db.query", parse.Timer, 5), smp("api.latency", parse.Timer, 50), smp("web.latency", parse.Timer, 0.5),
		}, int64(interval))
		start := t0.Add(time.Duration(interval) * time.Second)
		got := points(t, a.Flush(start, start.Add(time.Second)))
		hs := got["api.latency/Histogram"]
		if hs.Type() != pmetric.MetricTypeHistogram || !slices.Equal(hs.Histogram().DataPoints().At(0).ExplicitBounds().AsRaw(), []float64{10, 100}) {
			t.Fatalf("interval %d: api.latency not a histogram of [10 100]: %v", interval, keys(got))
		}
		if c := hs.Histogram().DataPoints().At(0).BucketCounts().AsRaw(); !slices.Equal(c, []uint64{0, 1, 0}) {
			t.Errorf("interval %d: api.latency counts %v", interval, c)
		}
		if b := got["web.latency/Histogram"].Histogram().DataPoints().At(0).ExplicitBounds().AsRaw(); !slices.Equal(b, []float64{1}) {
			t.Errorf("interval %d: web.latency bounds %v, want [1]", interval, b)
		}
		if _, ok := got["db.query/ExponentialHistogram"]; !ok {
			t.Errorf("interval %d: db.query not an exponential histogram: %v", interval, keys(got))
		}
	}
}

// MaxScale caps the scale of the type's exponential histograms.
func TestMaxScale(t *testing.T) {
	cfg := testConfig()
	cfg.Types[parse.Distribution] = &TypeConfig{Mapping: MappingExponentialHistogram, MaxScale: 2, HasMaxScale: true}
	a := New(cfg, 1)
	a.NewFeeder(1).Add([]parse.Sample{smp("d", parse.Distribution, 1.5), smp("t", parse.Timer, 1.5)}, 1)
	got := points(t, a.Flush(t0, t1))
	if s := got["d/ExponentialHistogram"].ExponentialHistogram().DataPoints().At(0).Scale(); s != 2 {
		t.Errorf("distribution scale %d, want the cap 2", s)
	}
	if s := got["t/ExponentialHistogram"].ExponentialHistogram().DataPoints().At(0).Scale(); s != 20 {
		t.Errorf("timer scale %d, want 20 (no cap)", s)
	}
}

// MetricTypeAttribute puts metric_type on every point, named as contrib names the types, over a
// client's tag of that key; off, nothing is added.
func TestMetricTypeAttribute(t *testing.T) {
	for _, on := range []bool{true, false} {
		cfg := testConfig()
		cfg.MetricTypeAttribute = on
		cfg.TimerMapping = MappingAgentAggregates
		cfg.HistogramAggregates = []string{"max"}
		cfg.Types[parse.Histogram] = &TypeConfig{Mapping: MappingGauge}
		a := New(cfg, 1)
		stamped := smp("g", parse.Gauge, 1)
		stamped.Timestamp = 1_700_000_000
		a.NewFeeder(1).Add([]parse.Sample{
			smp("c", parse.Counter, 1, "metric_type:mine"), smp("g", parse.Gauge, 1), stamped,
			smp("t", parse.Timer, 1), smp("h", parse.Histogram, 1), smp("d", parse.Distribution, 1),
			{Name: "s", Type: parse.Set, SetValue: "x", SampleRate: 1},
		}, 1)
		want := map[string]string{"c": "counter", "g": "gauge", "t.max": "timing", "h": "histogram", "d": "distribution", "s": "set"}
		seen := 0
		md := a.Flush(t0, t1)
		forEachPoint(md, func(name string, attrs pcommon.Map) {
			seen++
			v, ok := attrs.Get(MetricTypeAttribute)
			switch {
			case on && (!ok || v.Str() != want[name]):
				t.Errorf("%s: metric_type %v, want %q", name, v.AsString(), want[name])
			case !on && name == "c" && v.Str() != "mine":
				t.Errorf("off: the client's metric_type tag became %q", v.AsString())
			case !on && name != "c" && ok:
				t.Errorf("off: %s has metric_type %q", name, v.Str())
			}
		})
		if seen != 7 {
			t.Errorf("on=%v: %d points, want 7", on, seen)
		}
	}
}

func forEachPoint(md pmetric.Metrics, f func(name string, attrs pcommon.Map)) {
	rms := md.ResourceMetrics()
	for i := range rms.Len() {
		sms := rms.At(i).ScopeMetrics()
		for j := range sms.Len() {
			ms := sms.At(j).Metrics()
			for k := range ms.Len() {
				m := ms.At(k)
				switch m.Type() {
				case pmetric.MetricTypeSum:
					for p := range m.Sum().DataPoints().Len() {
						f(m.Name(), m.Sum().DataPoints().At(p).Attributes())
					}
				case pmetric.MetricTypeGauge:
					for p := range m.Gauge().DataPoints().Len() {
						f(m.Name(), m.Gauge().DataPoints().At(p).Attributes())
					}
				case pmetric.MetricTypeExponentialHistogram:
					for p := range m.ExponentialHistogram().DataPoints().Len() {
						f(m.Name(), m.ExponentialHistogram().DataPoints().At(p).Attributes())
					}
				case pmetric.MetricTypeHistogram:
					for p := range m.Histogram().DataPoints().Len() {
						f(m.Name(), m.Histogram().DataPoints().At(p).Attributes())
					}
				case pmetric.MetricTypeSummary:
					for p := range m.Summary().DataPoints().Len() {
						f(m.Name(), m.Summary().DataPoints().At(p).Attributes())
					}
				}
			}
		}
	}
}

func keys(m map[string]pmetric.Metric) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
