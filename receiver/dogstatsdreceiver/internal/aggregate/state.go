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
	// *explicitHist for a Timer or Histogram in explicit mode, *agentHist in agent_aggregates
	// mode. One field for the three keeps a state in 48 bytes.
	acc any
}

// explicitHist is a histogram with fixed upper-inclusive bounds, weighted by 1/rate.
type explicitHist struct {
	counts   []float64 // len(bounds)+1
	count    float64
	sum      float64
	min, max float64
}

func (e *explicitHist) add(bounds []float64, v, w float64) {
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

// newState prepares the accumulator a context of type t needs under cfg.
func newState(t parse.MetricType, cfg *Config) *state {
	st := &state{}
	switch {
	case t == parse.Set:
		st.acc = newDistinct()
	case t == parse.Distribution:
		st.hist = &exphist.Histogram{MaxSize: cfg.MaxBuckets}
	case t == parse.Timer || t == parse.Histogram:
		switch cfg.TimerMapping {
		case MappingHistogram:
			st.acc = &explicitHist{counts: make([]float64, len(cfg.ExplicitBounds)+1)}
		case MappingAgentAggregates:
			st.acc = &agentHist{}
		default:
			st.hist = &exphist.Histogram{MaxSize: cfg.MaxBuckets}
		}
	}
	return st
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
			acc.add(s.Value, s.SampleRate, cfg.MaxHistogramValues, cfg.MaxBuckets)
		case *explicitHist:
			acc.add(cfg.ExplicitBounds, s.Value, w)
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
			acc.merge(o.acc.(*agentHist), cfg.MaxHistogramValues, cfg.MaxBuckets)
		case *explicitHist:
			acc.merge(o.acc.(*explicitHist))
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
	}
}
