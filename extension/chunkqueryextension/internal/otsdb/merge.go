package otsdb

import (
	"context"
	"math"
	"slices"
)

// unionTimes returns every timestamp of ss once, ascending.
func unionTimes(ss []series) []int64 {
	if len(ss) == 1 {
		return ss[0].t
	}
	n := 0
	for _, s := range ss {
		n += len(s.t)
	}
	ts := make([]int64, 0, n)
	for _, s := range ss {
		ts = append(ts, s.t...)
	}
	slices.Sort(ts)
	return slices.Compact(ts)
}

// ctxCheckEvery is how many timestamps aggregate merges between looks at the context; each
// timestamp visits every series of the group.
const ctxCheckEvery = 1024

// aggregate merges the series of a group into one at every timestamp of times (their union),
// as OpenTSDB does: a series with a point there gives its value; one between two of its
// points gives the aggregator's interpolation (linear, or zero, or a value min or max
// ignores); one before its first point or after its last gives nothing.
func aggregate(ctx context.Context, agg *Aggregator, ss []series, times []int64) (series, error) {
	out := series{t: times, v: make([]float64, len(times))}
	next := make([]int, len(ss)) // per series, its first point at or after the timestamp
	vals := make([]float64, 0, len(ss))
	for n, x := range times {
		if n%ctxCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return series{}, err
			}
		}
		vals = vals[:0]
		for i, s := range ss {
			j := next[i]
			for j < len(s.t) && s.t[j] < x {
				j++
			}
			next[i] = j
			switch {
			case j < len(s.t) && s.t[j] == x:
				vals = append(vals, s.v[j])
			case j == 0 || j == len(s.t):
			default:
				vals = append(vals, agg.interp.at(x, s.t[j-1], s.v[j-1], s.t[j], s.v[j]))
			}
		}
		out.v[n] = agg.run(vals)
	}
	return out, nil
}

// at returns the value a series with points (x0, y0) and (x1, y1) contributes at x0 < x < x1.
func (ip interpolation) at(x, x0 int64, y0 float64, x1 int64, y1 float64) float64 {
	switch ip {
	case zim:
		return 0
	case maxValue:
		return math.MaxFloat64
	case minValue:
		return -math.MaxFloat64
	}
	return y0 + float64(x-x0)*(y1-y0)/float64(x1-x0)
}

// rate is the derivative of s per second, at each point after the first, as OpenTSDB computes
// it: with the counter option a drop is a counter that wrapped at CounterMax.
func rate(s series, o RateOptions) series {
	var out series
	for i := 1; i < len(s.t); i++ {
		dt := float64(s.t[i]-s.t[i-1]) / 1000
		d := s.v[i] - s.v[i-1]
		r := d / dt
		if o.Counter && d < 0 {
			if o.DropResets {
				continue
			}
			r = (o.CounterMax - s.v[i-1] + s.v[i]) / dt
			if o.ResetValue > 0 && r > o.ResetValue {
				r = 0
			}
		}
		out.t, out.v = append(out.t, s.t[i]), append(out.v, r)
	}
	return out
}
