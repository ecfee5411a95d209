package exphist

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"go.opentelemetry.io/collector/pdata/pmetric"
)

// benchValues are log-normal over about six decades, one in nine negative.
func benchValues(n int) []float64 {
	rng := rand.New(rand.NewPCG(1, 1))
	values := make([]float64, n)
	for i := range values {
		values[i] = math.Exp(rng.NormFloat64()*2.5) * float64(1-2*(i%9/8))
	}
	return values
}

// BenchmarkIndex is the bucket lookup of one value at the scale a 160-bucket histogram of
// benchValues settles at, and at the finest scale.
func BenchmarkIndex(b *testing.B) {
	values := benchValues(1024)
	for _, scale := range []int32{3, 20} {
		b.Run(fmt.Sprintf("scale=%d", scale), func(b *testing.B) {
			var sink int32
			for i := 0; b.Loop(); i++ {
				sink += index(math.Abs(values[i&1023]), scale)
			}
			if sink == 0 {
				b.Fatal("no index computed")
			}
		})
	}
}

// BenchmarkAdd is the steady state of a histogram that has reached its scale: no allocation.
func BenchmarkAdd(b *testing.B) {
	values := benchValues(4096)
	var h Histogram
	for _, v := range values {
		h.Add(v, 1)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		h.Add(values[i&4095], 2)
	}
	if h.Count() != float64(4096+2*b.N) {
		b.Fatalf("count %v after %d adds", h.Count(), b.N)
	}
}

// BenchmarkFillFromEmpty is an interval of the receiver: Reset, 100 values from the finest
// scale down, and a data point written.
func BenchmarkFillFromEmpty(b *testing.B) {
	values := benchValues(100)
	var h Histogram
	b.ReportAllocs()
	var count uint64
	for b.Loop() {
		h.Reset()
		for _, v := range values {
			h.Add(v, 1)
		}
		dp := pmetric.NewExponentialHistogramDataPoint()
		h.FillDataPoint(dp, 1, nil)
		count = dp.Count()
	}
	if count != 100 {
		b.Fatalf("count %d", count)
	}
}

// BenchmarkMerge folds one histogram of 1,000 values into a reset one, as a flush does.
func BenchmarkMerge(b *testing.B) {
	var src, dst Histogram
	for _, v := range benchValues(1000) {
		src.Add(v, 1)
	}
	b.ReportAllocs()
	for b.Loop() {
		dst.Reset()
		dst.Merge(&src)
	}
	if dst.Count() != 1000 {
		b.Fatalf("count %v", dst.Count())
	}
}

// BenchmarkMergeDataPoint merges eight points of different scales (from producers with
// different bucket limits) into a reset histogram, as the processor does for one row.
func BenchmarkMergeDataPoint(b *testing.B) {
	values := benchValues(800)
	points := make([]pmetric.ExponentialHistogramDataPoint, 8)
	for i := range points {
		h := Histogram{MaxSize: 20 + 20*i}
		for _, v := range values[i*100 : (i+1)*100] {
			h.Add(v, 1)
		}
		points[i] = pmetric.NewExponentialHistogramDataPoint()
		h.FillDataPoint(points[i], 1, nil)
	}
	var h Histogram
	b.ReportAllocs()
	for b.Loop() {
		h.Reset()
		for _, dp := range points {
			h.MergeDataPoint(dp)
		}
	}
	if h.Count() != 800 {
		b.Fatalf("count %v", h.Count())
	}
}

// BenchmarkFillDataPointScaled writes a 160-bucket histogram with a sampling factor, drawing a
// random number per bucket.
func BenchmarkFillDataPointScaled(b *testing.B) {
	var h Histogram
	for _, v := range benchValues(4096) {
		h.Add(v, 3)
	}
	rng := rand.New(rand.NewPCG(2, 2))
	b.ReportAllocs()
	var count uint64
	for b.Loop() {
		dp := pmetric.NewExponentialHistogramDataPoint()
		h.FillDataPoint(dp, 1.7, rng)
		count = dp.Count()
	}
	if count == 0 {
		b.Fatal("empty point")
	}
}
