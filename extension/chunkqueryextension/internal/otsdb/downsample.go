package otsdb

import (
	"math"
	"strings"
)

// Fill is what a downsampled series holds in a bucket without points.
type Fill uint8

const (
	FillNone Fill = iota // no point: aggregation interpolates across the gap
	FillNaN              // NaN, written "NaN"; aggregators skip it
	FillNull             // NaN, written null
	FillZero             // 0
)

var fillNames = map[string]Fill{"none": FillNone, "nan": FillNaN, "null": FillNull, "zero": FillZero}

// Downsample is a parsed "<interval>-<function>[-<fill>]": each series' points are merged by
// Function in buckets of Interval ms aligned on multiples of it since the Unix epoch (a
// bucket's timestamp is its start), or in one bucket over the whole query ("0all") when
// Interval is 0.
type Downsample struct {
	Spec     string // as given
	Interval int64
	Function *Aggregator
	Fill     Fill
}

// ParseDownsample reads a downsampling specification.
func ParseDownsample(spec string) (*Downsample, error) {
	parts := strings.Split(spec, "-")
	switch {
	case len(parts) < 2:
		return nil, badRequest("Invalid downsampling specifier '%s': must provide at least interval and function", spec)
	case len(parts) > 3:
		return nil, badRequest("Invalid downsampling specifier '%s': must consist of interval, function, and optional fill policy", spec)
	}
	ds := &Downsample{Spec: spec}
	iv := parts[0]
	switch {
	case strings.HasSuffix(iv, "all") && (iv == "all" || allDigits(iv[:len(iv)-3])):
		// one bucket over the whole query (the number is required by OpenTSDB but unused)
	case strings.HasSuffix(iv, "c"):
		return nil, badRequest("Invalid downsampling specifier '%s': calendar intervals (%s) are not supported", spec, iv)
	default:
		d, err := ParseDuration(iv)
		if err != nil {
			return nil, err
		}
		if d > MaxTime {
			return nil, badRequest("Invalid downsampling specifier '%s': the interval is longer than the time this API can represent", spec)
		}
		ds.Interval = d
	}
	fn, ok := LookupAggregator(parts[1])
	if !ok {
		return nil, badRequest("No such downsampling function: %s", parts[1])
	}
	if fn.Name == "none" {
		return nil, badRequest("cannot use the NONE aggregator for downsampling")
	}
	ds.Function = fn
	if len(parts) == 3 {
		f, ok := fillNames[strings.ToLower(parts[2])]
		if !ok {
			if strings.EqualFold(parts[2], "scalar") {
				return nil, badRequest("Invalid downsampling specifier '%s': the scalar fill policy is not supported", spec)
			}
			return nil, badRequest("Unrecognized fill policy: %s", parts[2])
		}
		ds.Fill = f
	}
	return ds, nil
}

// align returns the start of the bucket holding t.
func (ds *Downsample) align(t int64) int64 {
	r := t % ds.Interval
	if r < 0 {
		r += ds.Interval
	}
	return t - r
}

// Buckets returns how many buckets the query range [start, end] spans.
func (ds *Downsample) Buckets(start, end int64) int64 {
	if ds.Interval == 0 {
		return 1
	}
	return (ds.align(end)-ds.align(start))/ds.Interval + 1
}

// apply downsamples one series' points (in time order, read from the start of the first
// bucket) over the query range [start, end]. With a fill policy, every bucket of the range
// gets a point.
func (ds *Downsample) apply(s series, start, end int64, scratch *[]float64) series {
	run := func(vs []float64) float64 {
		*scratch = append((*scratch)[:0], vs...)
		return ds.Function.run(*scratch)
	}
	if ds.Interval == 0 {
		if len(s.t) == 0 {
			return series{}
		}
		return series{t: []int64{start}, v: []float64{run(s.v)}}
	}
	var out series
	if ds.Fill != FillNone {
		n := ds.Buckets(start, end)
		out.t, out.v = make([]int64, 0, n), make([]float64, 0, n)
	}
	fill := 0.0
	if ds.Fill == FillNaN || ds.Fill == FillNull {
		fill = math.NaN()
	}
	next := ds.align(start) // the first bucket not yet written, with a fill policy
	for i := 0; i < len(s.t); {
		b := ds.align(s.t[i])
		j := i
		for j < len(s.t) && s.t[j] < b+ds.Interval {
			j++
		}
		if ds.Fill != FillNone {
			for ; next < b; next += ds.Interval {
				out.t, out.v = append(out.t, next), append(out.v, fill)
			}
			next = b + ds.Interval
		}
		out.t, out.v = append(out.t, b), append(out.v, run(s.v[i:j]))
		i = j
	}
	if ds.Fill != FillNone {
		for last := ds.align(end); next <= last; next += ds.Interval {
			out.t, out.v = append(out.t, next), append(out.v, fill)
		}
	}
	return out
}
