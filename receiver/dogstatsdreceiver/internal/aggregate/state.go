package aggregate

import (
	"math"

	"github.com/doghouse-otel/doghouse/internal/exphist"
	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/parse"
)

// state is what one context accumulates during an interval.
type state struct {
	samples float64 // samples seen this interval (unweighted)

	// Counter: sum of value/rate. Gauge: last value and the arrival stamp that picks the last
	// write when the overflow contexts of several shards are merged.
	value float64
	stamp int64

	hist *exphist.Histogram // Timer, Histogram, Distribution in exponential/summary mode
	// acc is the accumulator of the other kinds, which exclude each other: *distinct for a Set,
	// *explicitHist for a Timer, Histogram or Distribution with explicit bounds, *agentHist in
	// agent_aggregates mode, *rawValues in gauge mode. One field for them keeps a state in 48
	// bytes.
	acc any
}

// rawValues are the values of a context under MappingGauge, each with the wall-clock time (unix
// nanoseconds) it reached the aggregator.
type rawValues struct {
	values []float64
	times  []int64
}

// keptRawValues is the capacity a reset rawValues keeps: a context that held more in a burst
// gives the room back instead of holding it while idle.
const keptRawValues = 16

func (r *rawValues) reset() {
	if cap(r.values) > keptRawValues {
		r.values, r.times = nil, nil
		return
	}
	r.values, r.times = r.values[:0], r.times[:0]
}

// explicitHist is a histogram with fixed upper-inclusive bounds, weighted by 1/rate.
type explicitHist struct {
	bounds   []float64 // shared with the configuration
	counts   []float64 // len(bounds)+1
	count    float64
	sum      float64
	min, max float64
}

func newExplicitHist(bounds []float64) *explicitHist {
	return &explicitHist{bounds: bounds, counts: make([]float64, len(bounds)+1)}
}

func (e *explicitHist) add(v, w float64) {
	bounds := e.bounds
	i := 0
	for i < len(bounds) && v > bounds[i] {
		i++
	}
	if e.count == 0 {
		e.min, e.max = v, v
	} else {
		e.min, e.max = math.Min(e.min, v), math.Max(e.max, v)
	}
	e.counts[i] += w
	e.count += w
	e.sum += v * w
}

func (e *explicitHist) merge(o *explicitHist) {
	if o.count == 0 {
		return
	}
	if e.count == 0 {
		e.min, e.max = o.min, o.max
	} else {
		e.min, e.max = math.Min(e.min, o.min), math.Max(e.max, o.max)
	}
	for i, c := range o.counts {
		e.counts[i] += c
	}
	e.count += o.count
	e.sum += o.sum
}

func (e *explicitHist) reset() {
	clear(e.counts)
	e.count, e.sum, e.min, e.max = 0, 0, 0, 0
}

// newState prepares the accumulator a context of type t named name needs under cfg.
func newState(t parse.MetricType, name string, cfg *Config) *state {
	st := &state{}
	switch t {
	case parse.Set:
		st.acc = newDistinct()
	case parse.Timer, parse.Histogram, parse.Distribution:
		tc := cfg.typ(t)
		if bounds := tc.boundsFor(name); bounds != nil {
			st.acc = newExplicitHist(bounds)
			break
		}
		switch tc.Mapping {
		case MappingAgentAggregates:
			st.acc = &agentHist{}
		case MappingGauge:
			st.acc = &rawValues{}
		default:
			st.hist = &exphist.Histogram{MaxSize: tc.MaxBuckets}
			if tc.HasMaxScale {
				st.hist.SetMaxScale(tc.MaxScale)
			}
		}
	}
	return st
}

// fits reports whether st, a spare state of a type with per-name bounds, has the accumulator a
// context with those explicit bounds (nil: an exponential histogram) needs.
func (st *state) fits(bounds []float64) bool {
	e, ok := st.acc.(*explicitHist)
	if bounds == nil {
		return !ok
	}
	return ok && len(e.bounds) == len(bounds) && &e.bounds[0] == &bounds[0]
}

// add folds one sample in. stamp orders gauge writes.
func (st *state) add(s *parse.Sample, stamp int64, cfg *Config) {
	w := 1 / s.SampleRate
	st.samples++
	switch s.Type {
	case parse.Counter:
		st.value += s.Value * w
	case parse.Gauge:
		st.value, st.stamp = s.Value, stamp
	case parse.Set:
		st.acc.(*distinct).add(s.SetValue)
	default:
		switch acc := st.acc.(type) {
		case *agentHist:
			acc.add(s.Value, s.SampleRate, cfg.MaxHistogramValues, cfg.typ(s.Type).MaxBuckets)
		case *explicitHist:
			acc.add(s.Value, w)
		default:
			st.hist.Add(s.Value, w)
		}
	}
}

// merge folds o (the overflow context of the same type in another shard) into st.
func (st *state) merge(t parse.MetricType, o *state, cfg *Config) {
	if o.samples == 0 {
		return
	}
	switch t {
	case parse.Counter:
		st.value += o.value
	case parse.Gauge:
		if st.samples == 0 || o.stamp >= st.stamp {
			st.value, st.stamp = o.value, o.stamp
		}
	case parse.Set:
		st.acc.(*distinct).merge(o.acc.(*distinct))
	default:
		switch acc := st.acc.(type) {
		case *agentHist:
			acc.merge(o.acc.(*agentHist), cfg.MaxHistogramValues, cfg.typ(t).MaxBuckets)
		case *explicitHist:
			acc.merge(o.acc.(*explicitHist))
		case *rawValues:
			or := o.acc.(*rawValues)
			acc.values = append(acc.values, or.values...)
			acc.times = append(acc.times, or.times...)
		default:
			st.hist.Merge(o.hist)
		}
	}
	st.samples += o.samples
}

// reset empties st for the next interval, keeping its allocations.
func (st *state) reset() {
	st.samples, st.value, st.stamp = 0, 0, 0
	if st.hist != nil {
		st.hist.Reset()
	}
	switch acc := st.acc.(type) {
	case *distinct:
		acc.reset()
	case *explicitHist:
		acc.reset()
	case *agentHist:
		acc.reset()
	case *rawValues:
		acc.reset()
	}
}
