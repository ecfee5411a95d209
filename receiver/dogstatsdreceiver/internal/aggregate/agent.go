package aggregate

import (
	"math"
	"slices"
	"sort"
	"strconv"

	"github.com/doghouse-otel/doghouse/internal/exphist"
)

// The aggregates of MappingAgentAggregates, named as the Datadog Agent's histogram_aggregates.
const (
	AggregateMax    = "max"
	AggregateMin    = "min"
	AggregateMedian = "median"
	AggregateAvg    = "avg"
	AggregateSum    = "sum"
	AggregateCount  = "count"
)

// AgentAggregates lists the aggregate names MappingAgentAggregates accepts.
var AgentAggregates = []string{AggregateMax, AggregateMin, AggregateMedian, AggregateAvg, AggregateSum, AggregateCount}

// agentOutput is one gauge a timer or histogram context emits under MappingAgentAggregates.
type agentOutput struct {
	suffix     string // appended to the context's name: ".max", ".95percentile"
	aggregate  string // one of AgentAggregates, or "" for a percentile
	percentile int    // whole percent, for a percentile
}

// agentOutputs lists the gauges of cfg in the Agent's order: the aggregates as configured, then
// the percentiles in ascending order.
func agentOutputs(cfg *Config) []agentOutput {
	out := make([]agentOutput, 0, len(cfg.HistogramAggregates)+len(cfg.HistogramPercentiles))
	for _, a := range cfg.HistogramAggregates {
		out = append(out, agentOutput{suffix: "." + a, aggregate: a})
	}
	ps := slices.Clone(cfg.HistogramPercentiles)
	slices.Sort(ps)
	for _, p := range ps {
		out = append(out, agentOutput{suffix: "." + strconv.Itoa(p) + "percentile", percentile: p})
	}
	return out
}

// agentHist accumulates one timer or histogram context over an interval as the Datadog Agent's
// histogram does (pkg/metrics/histogram.go): a sample of rate r weighs ⌊1/r⌋ in the count, the
// median and the percentiles, and v/r in the sum; the median and percentiles are values of the
// interval, picked by rank from the sorted values.
//
// The Agent keeps every value of the interval. Here a context keeps up to limit values (8 bytes
// each, 16 once a sample rate below 1 gives a weight other than 1); beyond that its values move
// into an exponential histogram, and the median and percentiles become the middle of the bucket
// holding the rank (relative error under half a bucket). Max, min, avg, sum and count stay
// exact whatever the number of values.
type agentHist struct {
	count, sum float64 // Σ ⌊1/rate⌋, Σ value/rate
	min, max   float64
	values     []float64 // the interval's values while exact, capacity at most the limit
	weights    []float64 // their weights; empty while every weight is 1
	// approx is set once the values outgrew the limit: the interval's values are then in hist.
	approx bool
	hist   *exphist.Histogram // kept across intervals once allocated
}

// add folds in one value v sampled at rate (in (0, 1]); limit bounds the exact values and
// maxBuckets the histogram they move into beyond it.
func (a *agentHist) add(v, rate float64, limit, maxBuckets int) {
	w := math.Trunc(1 / rate) // the Agent's int64(1 / rate)
	if a.count == 0 {
		a.min, a.max = v, v
	} else {
		a.min, a.max = math.Min(a.min, v), math.Max(a.max, v)
	}
	a.count += w
	a.sum += v * (1 / rate)
	if !a.approx && len(a.values) >= limit {
		a.toHist(maxBuckets)
	}
	if a.approx {
		a.hist.Add(v, w)
		return
	}
	a.appendValue(v, w, limit)
}

// appendValue keeps v of weight w among the exact values, growing the slices no further than
// limit.
func (a *agentHist) appendValue(v, w float64, limit int) {
	a.values = appendCapped(a.values, v, limit)
	switch {
	case len(a.weights) > 0:
		a.weights = appendCapped(a.weights, w, limit)
	case w != 1:
		// The first weight other than 1: the earlier values all weigh 1.
		if cap(a.weights) < len(a.values) {
			a.weights = make([]float64, 0, min(max(2*len(a.values), 8), limit))
		}
		a.weights = a.weights[:len(a.values)]
		for i := range a.weights {
			a.weights[i] = 1
		}
		a.weights[len(a.weights)-1] = w
	}
}

// appendCapped appends v to s, doubling its capacity when full but never beyond limit.
func appendCapped(s []float64, v float64, limit int) []float64 {
	if len(s) == cap(s) {
		grown := make([]float64, len(s), min(max(2*cap(s), 8), limit))
		copy(grown, s)
		s = grown
	}
	return append(s, v)
}

// weight returns the weight of the i-th exact value.
func (a *agentHist) weight(i int) float64 {
	if len(a.weights) == 0 {
		return 1
	}
	return a.weights[i]
}

// toHist moves the exact values into the histogram; the values that follow go there too.
func (a *agentHist) toHist(maxBuckets int) {
	if a.hist == nil {
		a.hist = &exphist.Histogram{MaxSize: maxBuckets}
	}
	for i, v := range a.values {
		a.hist.Add(v, a.weight(i))
	}
	a.values, a.weights = a.values[:0], a.weights[:0]
	a.approx = true
}

// merge folds o (an overflow context of another shard) into a.
func (a *agentHist) merge(o *agentHist, limit, maxBuckets int) {
	if o.count == 0 {
		return
	}
	if a.count == 0 {
		a.min, a.max = o.min, o.max
	} else {
		a.min, a.max = math.Min(a.min, o.min), math.Max(a.max, o.max)
	}
	a.count += o.count
	a.sum += o.sum
	if !a.approx && !o.approx && len(a.values)+len(o.values) <= limit {
		for i, v := range o.values {
			a.appendValue(v, o.weight(i), limit)
		}
		return
	}
	if !a.approx {
		a.toHist(maxBuckets)
	}
	if o.approx {
		a.hist.Merge(o.hist)
	}
	for i, v := range o.values {
		a.hist.Add(v, o.weight(i))
	}
}

// reset empties a for the next interval, keeping its allocations.
func (a *agentHist) reset() {
	a.count, a.sum, a.min, a.max = 0, 0, 0, 0
	a.values, a.weights = a.values[:0], a.weights[:0]
	if a.approx {
		a.hist.Reset()
		a.approx = false
	}
}

// byValue sorts exact values with their weights.
type byValue struct{ a *agentHist }

func (s byValue) Len() int           { return len(s.a.values) }
func (s byValue) Less(i, j int) bool { return s.a.values[i] < s.a.values[j] }
func (s byValue) Swap(i, j int) {
	v := s.a.values
	v[i], v[j] = v[j], v[i]
	w := s.a.weights
	w[i], w[j] = w[j], w[i]
}

// sortValues puts the exact values in ascending order; outputs read them sorted.
func (a *agentHist) sortValues() {
	if len(a.weights) == 0 {
		slices.Sort(a.values)
		return
	}
	sort.Sort(byValue{a})
}

// atRank returns the value the Agent reports for a target rank: the first value, in ascending
// order, whose cumulative weight exceeds target. The exact values must be sorted.
func (a *agentHist) atRank(target float64) float64 {
	if a.approx {
		// The bucket holding rank target+1 of count, clamped to [min, max].
		return a.hist.Quantile(math.Min((target+1)/a.count, 1))
	}
	var seen float64
	for i, v := range a.values {
		seen += a.weight(i)
		if seen > target {
			return v
		}
	}
	return a.max
}

// value returns the output o of the interval; sortValues must have been called.
func (a *agentHist) value(o *agentOutput) float64 {
	switch o.aggregate {
	case AggregateMax:
		return a.max
	case AggregateMin:
		return a.min
	case AggregateMedian:
		return a.atRank(math.Trunc((a.count - 1) / 2))
	case AggregateAvg:
		return a.sum / a.count
	case AggregateSum:
		return a.sum
	case AggregateCount:
		return a.count
	}
	// The Agent's integer division truncates towards zero: percentile 0 targets rank 0.
	return a.atRank(math.Trunc((float64(o.percentile)*a.count - 1) / 100))
}
