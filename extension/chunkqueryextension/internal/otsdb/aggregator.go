package otsdb

import (
	"math"
	"slices"
	"sort"
)

// interpolation is what a series without a point at a timestamp contributes to an aggregation
// there, between its first and last points (outside them it contributes nothing).
type interpolation uint8

const (
	lerp     interpolation = iota // the straight line between its neighbouring points
	zim                           // zero
	maxValue                      // the largest float: never the minimum (mimmin)
	minValue                      // the smallest float: never the maximum (mimmax)
)

// Aggregator merges values: those of the series of a group at one timestamp, or the points of
// one series in one downsampling bucket. Like OpenTSDB's, every function ignores NaN values
// (from a nan or null fill) except first and last, and answers NaN when nothing is left.
type Aggregator struct {
	Name   string
	interp interpolation
	// run computes the aggregate of vs, which it may reorder; vs is never empty.
	run func(vs []float64) float64
}

// aggregators are the functions of this API, by the names OpenTSDB 2.4 gives them.
var aggregators = map[string]*Aggregator{}

func init() {
	for _, a := range []*Aggregator{
		{Name: "sum", interp: lerp, run: sum},
		{Name: "zimsum", interp: zim, run: sum},
		{Name: "min", interp: lerp, run: minimum},
		{Name: "mimmin", interp: maxValue, run: minimum},
		{Name: "max", interp: lerp, run: maximum},
		{Name: "mimmax", interp: minValue, run: maximum},
		{Name: "avg", interp: lerp, run: mean},
		{Name: "dev", interp: lerp, run: stddev},
		{Name: "count", interp: zim, run: count},
		{Name: "first", interp: zim, run: func(vs []float64) float64 { return vs[0] }},
		{Name: "last", interp: zim, run: func(vs []float64) float64 { return vs[len(vs)-1] }},
		{Name: "median", interp: lerp, run: median},
		// none: every series is a group of its own, so there is one value to keep.
		{Name: "none", interp: zim, run: func(vs []float64) float64 { return vs[0] }},
	} {
		aggregators[a.Name] = a
	}
	// The percentiles: pNN by Apache Commons Math's default (legacy) estimation, epNNr3 and
	// epNNr7 by the definitions of Hyndman and Fan.
	for _, p := range []struct {
		name string
		q    float64
	}{{"50", 50}, {"75", 75}, {"90", 90}, {"95", 95}, {"99", 99}, {"999", 99.9}} {
		q := p.q
		aggregators["p"+p.name] = &Aggregator{Name: "p" + p.name, interp: lerp, run: func(vs []float64) float64 { return percentile(vs, q, legacy) }}
		aggregators["ep"+p.name+"r3"] = &Aggregator{Name: "ep" + p.name + "r3", interp: lerp, run: func(vs []float64) float64 { return percentile(vs, q, r3) }}
		aggregators["ep"+p.name+"r7"] = &Aggregator{Name: "ep" + p.name + "r7", interp: lerp, run: func(vs []float64) float64 { return percentile(vs, q, r7) }}
	}
}

// LookupAggregator returns the aggregator called name (names are case-sensitive, as in
// OpenTSDB).
func LookupAggregator(name string) (*Aggregator, bool) {
	a, ok := aggregators[name]
	return a, ok
}

// AggregatorNames lists the aggregators, sorted.
func AggregatorNames() []string {
	names := make([]string, 0, len(aggregators))
	for n := range aggregators {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func sum(vs []float64) float64 {
	s, n := 0.0, 0
	for _, v := range vs {
		if !math.IsNaN(v) {
			s += v
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return s
}

func minimum(vs []float64) float64 {
	m := math.NaN()
	for _, v := range vs {
		if v < m || math.IsNaN(m) {
			m = v
		}
	}
	return m
}

func maximum(vs []float64) float64 {
	m := math.NaN()
	for _, v := range vs {
		if v > m || math.IsNaN(m) {
			m = v
		}
	}
	return m
}

func mean(vs []float64) float64 {
	s, n := 0.0, 0
	for _, v := range vs {
		if !math.IsNaN(v) {
			s += v
			n++
		}
	}
	return s / float64(n) // 0/0 is NaN
}

func count(vs []float64) float64 {
	n := 0
	for _, v := range vs {
		if !math.IsNaN(v) {
			n++
		}
	}
	return float64(n)
}

// stddev is the population standard deviation (OpenTSDB's dev), by Welford's method.
func stddev(vs []float64) float64 {
	var mean, m2 float64
	n := 0
	for _, v := range vs {
		if math.IsNaN(v) {
			continue
		}
		n++
		d := v - mean
		mean += d / float64(n)
		m2 += d * (v - mean)
	}
	if n == 0 {
		return math.NaN()
	}
	return math.Sqrt(m2 / float64(n))
}

// sorted drops the NaNs of vs and sorts the rest, in place.
func sorted(vs []float64) []float64 {
	out := vs[:0]
	for _, v := range vs {
		if !math.IsNaN(v) {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out
}

// median is OpenTSDB's: the upper of the two middle values when there is an even number.
func median(vs []float64) float64 {
	s := sorted(vs)
	if len(s) == 0 {
		return math.NaN()
	}
	return s[len(s)/2]
}

type estimation uint8

const (
	legacy estimation = iota // position p(n+1)/100, linear between neighbours
	r3                       // the order statistic nearest to np/100, ties to even
	r7                       // position (n-1)p/100 + 1, linear between neighbours
)

// percentile returns the q-th percentile (0 < q <= 100) of vs.
func percentile(vs []float64, q float64, est estimation) float64 {
	s := sorted(vs)
	n := float64(len(s))
	switch {
	case len(s) == 0:
		return math.NaN()
	case len(s) == 1:
		return s[0]
	}
	var pos float64 // 1-based
	switch est {
	case r3:
		// The nearest order statistic to np; 0.5 goes to the even one.
		h := math.RoundToEven(n * q / 100)
		return s[int(min(max(h, 1), n))-1]
	case r7:
		pos = (n-1)*q/100 + 1
	default:
		pos = (n + 1) * q / 100
	}
	if pos < 1 {
		return s[0]
	}
	if pos >= n {
		return s[len(s)-1]
	}
	lo := math.Floor(pos)
	a, b := s[int(lo)-1], s[int(lo)]
	return a + (pos-lo)*(b-a)
}
