package aggregate

import (
	"math/rand/v2"
	"testing"

	"go.opentelemetry.io/collector/pdata/pmetric"
)

// fineScale is the scale test values are drawn at; a point at scale s puts a value of fine index
// i in bucket i >> (fineScale - s), exactly what a producer at scale s would do.
const fineScale = 4

type sample struct {
	idx int32
	neg bool
}

func pointOf(samples []sample, scale int32) pmetric.ExponentialHistogramDataPoint {
	dp := pmetric.NewExponentialHistogramDataPoint()
	dp.SetScale(scale)
	fill := func(b pmetric.ExponentialHistogramDataPointBuckets, neg bool) {
		lo, hi, any := int32(0), int32(0), false
		for _, s := range samples {
			if s.neg == neg {
				i := s.idx >> (fineScale - scale)
				if !any {
					lo, hi, any = i, i, true
				}
				lo, hi = min(lo, i), max(hi, i)
			}
		}
		if !any {
			return
		}
		counts := make([]uint64, hi-lo+1)
		for _, s := range samples {
			if s.neg == neg {
				counts[s.idx>>(fineScale-scale)-lo]++
			}
		}
		b.SetOffset(lo)
		b.BucketCounts().FromRaw(counts)
	}
	fill(dp.Positive(), false)
	fill(dp.Negative(), true)
	dp.SetCount(uint64(len(samples)))
	return dp
}

// TestExpHistogramMerge merges points of random scales and ranges and compares every bucket with
// the histogram built directly from all samples at the merged scale.
func TestExpHistogramMerge(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	checked := 0
	for trial := range 500 {
		var e expState
		var all []sample
		limit := maxExpBuckets
		minScale := int32(fineScale)
		width := int32(1 + rng.IntN(4000)) // wide ranges force downscaling below the inputs' scales
		for p := range 1 + rng.IntN(5) {
			scale := int32(2 + rng.IntN(fineScale-1))
			minScale = min(minScale, scale)
			samples := make([]sample, 1+rng.IntN(50))
			base := int32(rng.IntN(int(width))) - width/2
			for i := range samples {
				samples[i] = sample{idx: base + int32(rng.IntN(min(int(width)/8, 150)+1)), neg: rng.IntN(3) == 0}
			}
			all = append(all, samples...)
			dp := pointOf(samples, scale)
			limit = max(limit, dp.Positive().BucketCounts().Len(), dp.Negative().BucketCounts().Len())
			e.add(dp, p == 0)
		}
		// The merged histogram never needs more buckets than the limit or its widest input.
		if len(e.pos.counts) > limit || len(e.neg.counts) > limit {
			t.Fatalf("trial %d: %d/%d buckets, limit %d", trial, len(e.pos.counts), len(e.neg.counts), limit)
		}
		// ... and is not downscaled further than that requires (when the limit did not grow
		// with a wide input half way through).
		if e.scale < minScale && limit == maxExpBuckets {
			checked++
			finer := pointOf(all, e.scale+1)
			if finer.Positive().BucketCounts().Len() <= limit && finer.Negative().BucketCounts().Len() <= limit {
				t.Fatalf("trial %d: merged at scale %d although scale %d fits", trial, e.scale, e.scale+1)
			}
		}
		want := pointOf(all, e.scale)
		if e.count != uint64(len(all)) {
			t.Fatalf("trial %d: count %d, want %d", trial, e.count, len(all))
		}
		for _, side := range []struct {
			got  *expBuckets
			want pmetric.ExponentialHistogramDataPointBuckets
		}{{&e.pos, want.Positive()}, {&e.neg, want.Negative()}} {
			wc := side.want.BucketCounts()
			for i, c := range side.got.counts {
				j := int(side.got.offset+int32(i)) - int(side.want.Offset())
				var w uint64
				if j >= 0 && j < wc.Len() {
					w = wc.At(j)
				}
				if c != w {
					t.Fatalf("trial %d scale %d: bucket %d = %d, want %d", trial, e.scale, side.got.offset+int32(i), c, w)
				}
			}
			var total uint64
			for _, c := range side.got.counts {
				total += c
			}
			var wantTotal uint64
			for i := range wc.Len() {
				wantTotal += wc.At(i)
			}
			if total != wantTotal {
				t.Fatalf("trial %d: %d values in buckets, want %d", trial, total, wantTotal)
			}
		}
	}
	if checked < 100 {
		t.Fatalf("only %d trials downscaled below their inputs within the default limit", checked)
	}
}

// TestExpHistogramKeepsScaleWhenItFits: equal scales within the bucket limit merge losslessly.
func TestExpHistogramKeepsScaleWhenItFits(t *testing.T) {
	var e expState
	e.add(pointOf([]sample{{idx: 10}, {idx: 12}}, 3), true)
	e.add(pointOf([]sample{{idx: 40}}, 3), false)
	if e.scale != 3 || e.pos.offset != 5 || len(e.pos.counts) != 16 {
		t.Fatalf("scale %d offset %d len %d, want 3, 5, 16", e.scale, e.pos.offset, len(e.pos.counts))
	}
}
