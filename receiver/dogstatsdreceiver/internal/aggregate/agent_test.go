package aggregate

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/parse"
)

func agentConfig(percentiles ...int) Config {
	cfg := testConfig()
	cfg.TimerMapping = MappingAgentAggregates
	cfg.HistogramAggregates = AgentAggregates
	cfg.HistogramPercentiles = percentiles
	cfg.MaxHistogramValues = 1000
	return cfg
}

func rated(s parse.Sample, rate float64) parse.Sample {
	s.SampleRate = rate
	return s
}

// gauges returns the value of every gauge named prefix+suffix, checking that each has one data
// point stamped with the interval's end and no start time, carrying attrs.
func gauges(t *testing.T, md pmetric.Metrics, prefix string, attrs map[string]any) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for key, m := range points(t, md) {
		if m.Type() != pmetric.MetricTypeGauge {
			t.Errorf("%s: not a gauge", key)
			continue
		}
		name := m.Name()
		if len(name) < len(prefix) || name[:len(prefix)] != prefix {
			continue
		}
		dps := m.Gauge().DataPoints()
		if dps.Len() != 1 {
			t.Fatalf("%s: %d points, want 1", name, dps.Len())
		}
		dp := dps.At(0)
		if dp.StartTimestamp() != 0 || !dp.Timestamp().AsTime().Equal(t1) {
			t.Errorf("%s: start %v time %v, want no start and %v", name, dp.StartTimestamp(), dp.Timestamp(), t1)
		}
		if fmt.Sprint(dp.Attributes().AsRaw()) != fmt.Sprint(attrs) {
			t.Errorf("%s: attributes %v, want %v", name, dp.Attributes().AsRaw(), attrs)
		}
		out[name[len(prefix):]] = dp.DoubleValue()
	}
	return out
}

// The Agent's TestHistogramSampleRate (pkg/metrics/histogram_test.go): 1, 2@0.5, 3@0.2, 10@0.5
// weigh 1, 2, 5 and 2. Its count is 10 values per interval (the Agent divides by its 10 s
// bucket and sends 1 as a rate).
func TestAgentAggregatesWithSampleRates(t *testing.T) {
	for _, typ := range []parse.MetricType{parse.Histogram, parse.Timer} {
		a := New(agentConfig(95, 20, 80), 1)
		a.NewFeeder(1).Add([]parse.Sample{
			smp("req", typ, 1, "env:prod"),
			rated(smp("req", typ, 2, "env:prod"), 0.5),
			rated(smp("req", typ, 3, "env:prod"), 0.2),
			rated(smp("req", typ, 10, "env:prod"), 0.5),
		}, 1)
		got := gauges(t, a.Flush(t0, t1), "req", map[string]any{"env": "prod"})
		want := map[string]float64{
			".max": 10, ".min": 1, ".median": 3, ".avg": 4, ".sum": 40, ".count": 10,
			".20percentile": 2, ".80percentile": 3, ".95percentile": 10,
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%v: got %v\nwant %v", typ, got, want)
		}
	}
}

// A rate whose inverse is not whole weighs its truncation, as in the Agent (int64(1/rate)), in
// the count and the ranks; the sum adds value/rate.
func TestAgentAggregatesTruncateWeights(t *testing.T) {
	a := New(agentConfig(25, 50, 75, 80, 95, 99), 1)
	a.NewFeeder(1).Add([]parse.Sample{
		smp("h", parse.Histogram, 5),
		rated(smp("h", parse.Histogram, 1), 0.5),  // weight 2, sum 2
		smp("h", parse.Histogram, 9),              // 1
		rated(smp("h", parse.Histogram, 3), 0.25), // 4, sum 12
		smp("h", parse.Histogram, 7),              // 1
		rated(smp("h", parse.Histogram, 2), 0.3),  // ⌊3.33⌋ = 3, sum 2/0.3
	}, 1)
	got := gauges(t, a.Flush(t0, t1), "h", map[string]any{})
	// Sorted: 1×2, 2×3, 3×4, 5, 7, 9: cumulative weights 2, 5, 9, 10, 11, 12.
	rate := 0.3
	sum := 35 + 2*(1/rate)
	want := map[string]float64{
		".max": 9, ".min": 1, ".count": 12, ".sum": sum, ".avg": sum / 12,
		".median":       3, // rank ⌊(12-1)/2⌋ = 5: the first cumulative weight above 5 is 9
		".25percentile": 2, // ⌊(25·12-1)/100⌋ = 2
		".50percentile": 3, // 5
		".75percentile": 3, // 8
		".80percentile": 5, // 9
		".95percentile": 9, // 11
		".99percentile": 9, // 11
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
}

// The Agent's TestDefaultHistogramSampling with the default outputs; an interval later the
// context starts afresh.
func TestAgentAggregatesDefaultsAndReset(t *testing.T) {
	cfg := agentConfig(95)
	cfg.HistogramAggregates = []string{"max", "median", "avg", "count"}
	a := New(cfg, 1)
	f := a.NewFeeder(1)
	for _, v := range []float64{1, 10, 4, 5, 2, 2} {
		f.Add([]parse.Sample{smp("h", parse.Histogram, v)}, 1)
	}
	got := gauges(t, a.Flush(t0, t1), "h", map[string]any{})
	want := map[string]float64{".max": 10, ".median": 2, ".avg": 4, ".count": 6, ".95percentile": 10}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v, want %v", got, want)
	}
	f.Add([]parse.Sample{smp("h", parse.Histogram, 7)}, 2)
	got = gauges(t, a.Flush(t0, t1), "h", map[string]any{})
	want = map[string]float64{".max": 7, ".median": 7, ".avg": 7, ".count": 1, ".95percentile": 7}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("second interval: got %v, want %v", got, want)
	}
}

// Distributions keep their exponential histogram; counters and gauges are untouched; with no
// aggregate and no percentile a histogram emits nothing.
func TestAgentAggregatesLeaveOtherTypes(t *testing.T) {
	cfg := agentConfig()
	cfg.HistogramAggregates = nil
	a := New(cfg, 1)
	a.NewFeeder(1).Add([]parse.Sample{
		smp("d", parse.Distribution, 3), smp("h", parse.Histogram, 3), smp("c", parse.Counter, 3),
	}, 1)
	got := points(t, a.Flush(t0, t1))
	if len(got) != 2 || got["d/ExponentialHistogram"].ExponentialHistogram().DataPoints().At(0).Count() != 1 ||
		got["c/Sum"].Sum().DataPoints().At(0).DoubleValue() != 3 {
		t.Fatalf("got %v", got)
	}
}

// agentReference is the Agent's computation with every value kept: the rank rule over the
// sorted values.
func agentReference(values, weights []float64, percentile float64) float64 {
	idx := make([]int, len(values))
	var count float64
	for i := range idx {
		idx[i] = i
		count += weights[i]
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmpFloat(values[a], values[b]) })
	target := math.Trunc((percentile*count - 1) / 100)
	var seen float64
	for _, i := range idx {
		if seen += weights[i]; seen > target {
			return values[i]
		}
	}
	return math.NaN()
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Up to the limit the percentiles are the Agent's exactly; beyond it they are within half a
// bucket of the exponential histogram the values moved into, and max, min, sum, avg and count
// stay exact.
func TestAgentHistBeyondTheLimit(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	for _, n := range []int{1, 7, 64, 65, 5000} {
		const limit = 64
		var h agentHist
		values, weights := make([]float64, n), make([]float64, n)
		var sum, count float64
		for i := range values {
			values[i] = math.Round(math.Exp(rng.NormFloat64()*1.5)*1000) / 1000
			rate := []float64{1, 1, 0.5, 0.2}[i%4]
			weights[i] = math.Trunc(1 / rate)
			sum += values[i] * (1 / rate)
			count += weights[i]
			h.add(values[i], rate, limit, 160)
		}
		if h.approx != (n > limit) {
			t.Fatalf("n=%d: approx %v", n, h.approx)
		}
		h.sortValues()
		maxRel := 0.0
		if h.approx {
			maxRel = math.Exp2(math.Exp2(-float64(h.hist.Scale()))/2) - 1 // half a bucket
		}
		for _, p := range []int{0, 1, 50, 95, 99, 100} {
			o := agentOutput{percentile: p}
			got, want := h.value(&o), agentReference(values, weights, float64(p))
			if rel := math.Abs(got-want) / want; rel > maxRel*(1+1e-9) {
				t.Errorf("n=%d p%d = %v, want %v (relative error %.3g, bound %.3g)", n, p, got, want, rel, maxRel)
			}
		}
		for agg, want := range map[string]float64{
			AggregateMax: slices.Max(values), AggregateMin: slices.Min(values),
			AggregateSum: sum, AggregateCount: count, AggregateAvg: sum / count,
		} {
			if got := h.value(&agentOutput{aggregate: agg}); got != want {
				t.Errorf("n=%d %s = %v, want %v", n, agg, got, want)
			}
		}
		h.reset()
		h.add(2, 1, limit, 160)
		if h.approx || h.value(&agentOutput{aggregate: AggregateMedian}) != 2 || h.count != 1 {
			t.Errorf("n=%d: after reset approx %v count %v", n, h.approx, h.count)
		}
	}
}

// A limit of 0 estimates from the first value.
func TestAgentHistZeroLimit(t *testing.T) {
	var h agentHist
	h.add(10, 1, 0, 160)
	h.add(20, 1, 0, 160)
	if !h.approx || len(h.values) != 0 || h.hist.Count() != 2 {
		t.Fatalf("approx %v, %d values, histogram count %v", h.approx, len(h.values), h.hist.Count())
	}
}

// Merging the overflow contexts of two shards equals adding all their values to one, whether
// both are exact, the sum outgrows the limit, or one is already estimated.
func TestAgentHistMerge(t *testing.T) {
	for _, tc := range []struct{ left, right, limit int }{{3, 4, 10}, {6, 6, 10}, {20, 3, 10}, {3, 20, 10}, {0, 5, 10}} {
		var l, r, all agentHist
		for i := range tc.left {
			v := float64(i*7%11 + 1)
			l.add(v, 0.5, tc.limit, 160)
			all.add(v, 0.5, 1<<20, 160)
		}
		for i := range tc.right {
			v := float64(i*5%13 + 1)
			r.add(v, 1, tc.limit, 160)
			all.add(v, 1, 1<<20, 160)
		}
		l.merge(&r, tc.limit, 160)
		if l.approx != (tc.left+tc.right > tc.limit) {
			t.Errorf("%+v: approx %v", tc, l.approx)
		}
		l.sortValues()
		all.sortValues()
		for _, o := range agentOutputs(&Config{HistogramAggregates: AgentAggregates, HistogramPercentiles: []int{50, 95}}) {
			got, want := l.value(&o), all.value(&o)
			if l.approx && (o.aggregate == "" || o.aggregate == AggregateMedian) {
				halfBucket := math.Exp2(math.Exp2(-float64(l.hist.Scale()))/2) - 1
				if math.Abs(got-want)/want > halfBucket*(1+1e-9) {
					t.Errorf("%+v %s = %v, want about %v", tc, o.suffix, got, want)
				}
				continue
			}
			if got != want {
				t.Errorf("%+v %s = %v, want %v", tc, o.suffix, got, want)
			}
		}
	}
}

// Beyond max_contexts, timers of many contexts from two shards fold into one overflow context
// whose gauges keep the total count.
func TestAgentAggregatesOverflow(t *testing.T) {
	cfg := agentConfig(95)
	cfg.MaxContexts = 1
	a := New(cfg, 2)
	for w := range 2 {
		f := a.NewFeeder(1)
		for i := range 50 {
			f.Add([]parse.Sample{smp(fmt.Sprintf("t%d", i), parse.Timer, float64(i+1))}, int64(w))
		}
	}
	md := a.Flush(t0, t1)
	var total float64
	var overflowMax float64
	for _, m := range points(t, md) {
		dp := m.Gauge().DataPoints().At(0)
		switch {
		case m.Name() == "dogstatsd.overflow.timer.count":
			total += dp.DoubleValue()
			if v, ok := dp.Attributes().Get(OverflowAttribute); !ok || !v.Bool() {
				t.Errorf("overflow gauge without %s: %v", OverflowAttribute, dp.Attributes().AsRaw())
			}
		case m.Name() == "dogstatsd.overflow.timer.max":
			overflowMax = dp.DoubleValue()
		case len(m.Name()) > 6 && m.Name()[len(m.Name())-6:] == ".count":
			total += dp.DoubleValue()
		}
	}
	if total != 100 || overflowMax != 50 {
		t.Errorf("count total %v (want 100), overflow max %v (want 50)", total, overflowMax)
	}
}
