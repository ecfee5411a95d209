package chunkfile

import "math"

// Number is the value of a gauge or sum point: an int64 or a float64, kept exactly.
type Number struct {
	Int   int64
	Float float64
	IsInt bool
}

// IntNumber returns an int Number.
func IntNumber(v int64) Number { return Number{Int: v, IsInt: true} }

// FloatNumber returns a float Number.
func FloatNumber(v float64) Number { return Number{Float: v} }

// Float64 returns the value as a float64.
func (n Number) Float64() float64 {
	if n.IsInt {
		return float64(n.Int)
	}
	return n.Float
}

// Equal reports whether two numbers have the same type and bits (NaN payloads and -0.0 count).
func (n Number) Equal(o Number) bool {
	if n.IsInt != o.IsInt {
		return false
	}
	if n.IsInt {
		return n.Int == o.Int
	}
	return math.Float64bits(n.Float) == math.Float64bits(o.Float)
}

// Histogram is an explicit-bounds histogram point. Counts has one entry per bucket
// (normally len(Bounds)+1). Sum, Min and Max are stored only when their Has flag is set; a
// reader returns 0 otherwise.
type Histogram struct {
	Count          uint64
	Sum            float64
	Min, Max       float64
	HasSum         bool
	HasMin, HasMax bool
	Bounds         []float64
	Counts         []uint64
}

// Buckets is one side of an exponential histogram.
type Buckets struct {
	Offset int32
	Counts []uint64
}

// ExpHistogram is an exponential histogram point.
type ExpHistogram struct {
	Count          uint64
	Sum            float64
	Min, Max       float64
	HasSum         bool
	HasMin, HasMax bool
	Scale          int32
	ZeroCount      uint64
	ZeroThreshold  float64
	Positive       Buckets
	Negative       Buckets
}

// Quantile is one quantile of a summary point.
type Quantile struct {
	Q, V float64
}

// Summary is a summary point.
type Summary struct {
	Count     uint64
	Sum       float64
	Quantiles []Quantile
}

// Point is one point of any kind. T is the timestamp in milliseconds; Start is the start time
// in milliseconds (0: none). Exactly the field that matches the series kind is used: Num for
// gauges and sums, Hist, Exp or Sum for the others.
type Point struct {
	T       int64
	Start   int64
	Num     Number
	Hist    *Histogram
	Exp     *ExpHistogram
	Summary *Summary
}
