package exphist

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"go.opentelemetry.io/collector/pdata/pmetric"
)

func newPoint(scale int32) pmetric.ExponentialHistogramDataPoint {
	dp := pmetric.NewExponentialHistogramDataPoint()
	dp.SetScale(scale)
	return dp
}

// pointOfValues is the data point an exact producer at scale would report for values with
// whole weights.
func pointOfValues(values, ws []float64, scale int32) pmetric.ExponentialHistogramDataPoint {
	dp := newPoint(scale)
	var ref reference
	for i, v := range values {
		ref.add(v, ws[i])
	}
	r := ref.build(math.MaxInt, scale) // no limit: exactly at scale
	dp.SetZeroCount(uint64(r.zero))
	dp.SetCount(uint64(r.count))
	dp.SetSum(r.sum)
	dp.SetMin(r.min)
	dp.SetMax(r.max)
	for _, side := range []struct {
		dst    pmetric.ExponentialHistogramDataPointBuckets
		off    int32
		counts []float64
	}{{dp.Positive(), r.posOff, r.pos}, {dp.Negative(), r.negOff, r.neg}} {
		side.dst.SetOffset(side.off)
		for _, c := range side.counts {
			side.dst.BucketCounts().Append(uint64(c))
		}
	}
	return dp
}

// TestMergeDataPointMatchesValues: points of parts of a stream, each at its own scale (one an
// SDK limited to DefaultMaxSize buckets could report), merge into the histogram of the whole
// stream at the finest scale no finer than any point's.
func TestMergeDataPointMatchesValues(t *testing.T) {
	for i, s := range streams {
		t.Run(s.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(i), 8))
			for trial := range 10 {
				values, ws := fill(s, uint64(100*i+trial), 200+rng.IntN(400))
				for j := range ws {
					ws[j] = math.Ceil(ws[j]) // points hold whole counts
				}
				var h Histogram
				var all reference
				coarsest := int32(MaxScale)
				for p, start := 0, 0; start < len(values); p++ {
					end := min(len(values), start+1+rng.IntN(150))
					var part reference
					for j := start; j < end; j++ {
						part.add(values[j], ws[j])
						all.add(values[j], ws[j])
					}
					scale := min(part.build(DefaultMaxSize, MaxScale).scale, MinScale+rng.Int32N(MaxScale-MinScale+1))
					coarsest = min(coarsest, scale)
					if !h.MergeDataPoint(pointOfValues(values[start:end], ws[start:end], scale)) {
						t.Fatalf("trial %d: point %d at scale %d refused", trial, p, scale)
					}
					checkInvariants(t, &h, DefaultMaxSize)
					start = end
				}
				compareWithReference(t, &h, all.build(DefaultMaxSize, coarsest), 1e-9)
			}
		})
	}
}

// fineScale is the scale test indexes are drawn at; a point at scale s puts an index i in
// bucket i >> (fineScale - s), exactly what a producer at scale s would do.
const fineScale = 4

type sample struct {
	idx int32
	neg bool
}

func pointOf(samples []sample, scale int32) pmetric.ExponentialHistogramDataPoint {
	dp := newPoint(scale)
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

// TestMergeDataPointAtMixedScales merges points of random scales and ranges and compares every
// bucket with the point built directly from all samples at the merged scale. Inputs may be
// wider than DefaultMaxSize: the limit then grows to the widest input.
func TestMergeDataPointAtMixedScales(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	checked := 0
	for trial := range 500 {
		var h Histogram
		var all []sample
		limit := DefaultMaxSize
		coarsest := int32(fineScale)
		width := int32(1 + rng.IntN(4000)) // wide ranges force downscaling below the inputs' scales
		for range 1 + rng.IntN(5) {
			scale := int32(2 + rng.IntN(fineScale-1))
			coarsest = min(coarsest, scale)
			samples := make([]sample, 1+rng.IntN(50))
			base := int32(rng.IntN(int(width))) - width/2
			for i := range samples {
				samples[i] = sample{idx: base + int32(rng.IntN(min(int(width)/8, 150)+1)), neg: rng.IntN(3) == 0}
			}
			all = append(all, samples...)
			dp := pointOf(samples, scale)
			limit = max(limit, dp.Positive().BucketCounts().Len(), dp.Negative().BucketCounts().Len())
			if !h.MergeDataPoint(dp) {
				t.Fatalf("trial %d: point refused", trial)
			}
		}
		// The merged histogram never needs more buckets than the limit or its widest input...
		checkInvariants(t, &h, limit)
		// ... and is not downscaled further than that requires (when the limit did not grow
		// with a wide input half way through).
		if h.Scale() < coarsest && limit == DefaultMaxSize {
			checked++
			finer := pointOf(all, h.Scale()+1)
			if finer.Positive().BucketCounts().Len() <= limit && finer.Negative().BucketCounts().Len() <= limit {
				t.Fatalf("trial %d: merged at scale %d although scale %d fits", trial, h.Scale(), h.Scale()+1)
			}
		}
		want := pointOf(all, h.Scale())
		if h.Count() != float64(len(all)) {
			t.Fatalf("trial %d: count %v, want %d", trial, h.Count(), len(all))
		}
		for _, side := range []struct {
			got  *Buckets
			want pmetric.ExponentialHistogramDataPointBuckets
		}{{&h.pos, want.Positive()}, {&h.neg, want.Negative()}} {
			wc := make([]float64, side.want.BucketCounts().Len())
			for i := range wc {
				wc[i] = float64(side.want.BucketCounts().At(i))
			}
			compareRuns(t, fmt.Sprintf("trial %d scale %d", trial, h.Scale()), side.got, side.want.Offset(), wc)
		}
	}
	if checked < 100 {
		t.Fatalf("only %d trials downscaled below their inputs within the default limit", checked)
	}
}

// TestMergeDataPointKeepsScaleWhenItFits: equal scales within the bucket limit merge
// losslessly, and a run keeps an input's zero buckets at its ends.
func TestMergeDataPointKeepsScaleWhenItFits(t *testing.T) {
	var h Histogram
	h.MergeDataPoint(pointOf([]sample{{idx: 10}, {idx: 12}}, 3))
	h.MergeDataPoint(pointOf([]sample{{idx: 40}}, 3))
	if h.Scale() != 3 || h.pos.offset != 5 || h.pos.Len() != 16 {
		t.Fatalf("scale %d offset %d len %d, want 3, 5, 16", h.Scale(), h.pos.offset, h.pos.Len())
	}
	dp := newPoint(3)
	dp.Negative().SetOffset(-4)
	dp.Negative().BucketCounts().FromRaw([]uint64{0, 1, 0})
	h.MergeDataPoint(dp)
	if h.neg.offset != -4 || h.neg.Len() != 3 {
		t.Fatalf("negative run %d+%d, want -4+3", h.neg.offset, h.neg.Len())
	}
}

// TestMergeDataPointRefusesImpossiblePoints: scales outside the data model and buckets no
// finite value reaches (including runs past the end of int32) leave the histogram unchanged.
func TestMergeDataPointRefusesImpossiblePoints(t *testing.T) {
	var h Histogram
	h.Add(5, 1)
	before := h
	before.pos.counts = slices.Clone(h.pos.counts)
	for _, tc := range []struct {
		name   string
		scale  int32
		offset int32
		n      int
	}{
		{"scale above 20", 21, 0, 1},
		{"scale below -10", -11, 0, 1},
		{"past the largest float", 0, 1023, 2},
		{"below the smallest subnormal", 0, -1076, 1},
		{"past int32", 20, math.MaxInt32, 2},
		{"at scale 20, past the largest float", 20, 1<<30 - 1, 2},
	} {
		dp := newPoint(tc.scale)
		dp.Positive().SetOffset(tc.offset)
		dp.Positive().BucketCounts().FromRaw(make([]uint64, tc.n))
		dp.SetCount(7)
		if h.MergeDataPoint(dp) {
			t.Errorf("%s: merged", tc.name)
		}
		if h.Scale() != before.Scale() || h.count != before.count || !slices.Equal(h.pos.counts, before.pos.counts) {
			t.Fatalf("%s: histogram changed to %+v", tc.name, h)
		}
	}
	// The extremes themselves are fine: 2^-1074 and MaxFloat64 at scale 0.
	dp := newPoint(0)
	dp.Positive().SetOffset(-1075)
	dp.Positive().BucketCounts().FromRaw(make([]uint64, 1023+1075+1))
	if !h.MergeDataPoint(dp) {
		t.Fatalf("a point spanning every finite value refused")
	}
}

// TestSinglePointPassesThrough: one point merged into an empty histogram comes out as it went
// in, whatever its scale, width, zero threshold and missing fields.
func TestSinglePointPassesThrough(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for trial := range 300 {
		in := newPoint(MinScale + rng.Int32N(MaxScale-MinScale+1))
		r := indexRange[in.Scale()-MinScale]
		var total uint64
		for _, b := range []pmetric.ExponentialHistogramDataPointBuckets{in.Positive(), in.Negative()} {
			n := rng.IntN(min(400, int(r.len())))
			if n == 0 {
				continue
			}
			b.SetOffset(int32(r.lo + rng.Int64N(r.hi-r.lo-int64(n)+2)))
			for range n {
				c := uint64(rng.IntN(3))
				b.BucketCounts().Append(c)
				total += c
			}
		}
		in.SetZeroCount(uint64(rng.IntN(3)))
		in.SetCount(total + in.ZeroCount())
		in.SetZeroThreshold([]float64{0, 1e-9}[rng.IntN(2)])
		if rng.IntN(2) == 0 {
			in.SetSum([]float64{math.Copysign(0, -1), 12.5}[rng.IntN(2)])
		}
		if rng.IntN(2) == 0 {
			in.SetMin(-3)
		}
		if rng.IntN(2) == 0 {
			in.SetMax(9)
		}
		var h Histogram
		if !h.MergeDataPoint(in) {
			t.Fatalf("trial %d: refused", trial)
		}
		out := pmetric.NewExponentialHistogramDataPoint()
		h.FillDataPoint(out, 1, rng)
		if msg := diffPoints(out, in); msg != "" {
			t.Fatalf("trial %d: %s", trial, msg)
		}
	}
}

func diffPoints(got, want pmetric.ExponentialHistogramDataPoint) string {
	switch {
	case got.Scale() != want.Scale(), got.Count() != want.Count(), got.ZeroCount() != want.ZeroCount(),
		got.ZeroThreshold() != want.ZeroThreshold():
		return fmt.Sprintf("scale %d count %d zero %d threshold %v, want %d %d %d %v", got.Scale(), got.Count(),
			got.ZeroCount(), got.ZeroThreshold(), want.Scale(), want.Count(), want.ZeroCount(), want.ZeroThreshold())
	case got.HasSum() != want.HasSum(), math.Float64bits(got.Sum()) != math.Float64bits(want.Sum()),
		got.HasMin() != want.HasMin(), got.Min() != want.Min(), got.HasMax() != want.HasMax(), got.Max() != want.Max():
		return fmt.Sprintf("sum %v/%v min %v/%v max %v/%v, want %v/%v %v/%v %v/%v", got.Sum(), got.HasSum(), got.Min(),
			got.HasMin(), got.Max(), got.HasMax(), want.Sum(), want.HasSum(), want.Min(), want.HasMin(), want.Max(), want.HasMax())
	}
	for _, side := range [][2]pmetric.ExponentialHistogramDataPointBuckets{{got.Positive(), want.Positive()}, {got.Negative(), want.Negative()}} {
		g, w := side[0], side[1]
		if !g.BucketCounts().Equal(w.BucketCounts()) || (w.BucketCounts().Len() > 0 && g.Offset() != w.Offset()) {
			return fmt.Sprintf("buckets %d+%v, want %d+%v", g.Offset(), g.BucketCounts().AsRaw(), w.Offset(), w.BucketCounts().AsRaw())
		}
	}
	return ""
}

// TestMissingSumMinMaxStayUnknown: once a merged point lacks sum, min or max, the merged one is
// unknown and not written out.
func TestMissingSumMinMaxStayUnknown(t *testing.T) {
	var h Histogram
	dp := newPoint(0)
	dp.SetSum(1)
	dp.SetMin(1)
	h.MergeDataPoint(dp)
	h.MergeDataPoint(newPoint(0))
	h.Add(1, 1)
	if h.HasSum() || h.HasMin() || h.HasMax() {
		t.Fatalf("sum, min, max known: %v %v %v", h.HasSum(), h.HasMin(), h.HasMax())
	}
	out := pmetric.NewExponentialHistogramDataPoint()
	h.FillDataPoint(out, 1, nil)
	if out.HasSum() || out.HasMin() || out.HasMax() {
		t.Fatalf("written sum, min, max: %v %v %v", out.HasSum(), out.HasMin(), out.HasMax())
	}
}

// TestFillDataPointRoundsWeightsToNearest: fractional weights round per bucket, and the count
// is the total of what was written, not the rounded total weight.
func TestFillDataPointRoundsWeightsToNearest(t *testing.T) {
	var h Histogram
	for _, v := range []float64{1, 1, 100, -5} {
		h.Add(v, 1/0.3) // 3.33 each
	}
	h.Add(0, 2.6)
	dp := pmetric.NewExponentialHistogramDataPoint()
	h.FillDataPoint(dp, 1, nil)
	// Buckets 6.67 -> 7, 3.33 -> 3, -5: 3.33 -> 3; zero 2.6 -> 3. Total weight 15.9 would be 16.
	if dp.ZeroCount() != 3 || dp.Count() != 16 || !slices.Equal(dp.Negative().BucketCounts().AsRaw(), []uint64{3}) {
		t.Fatalf("zero %d count %d negative %v", dp.ZeroCount(), dp.Count(), dp.Negative().BucketCounts().AsRaw())
	}
	pos := dp.Positive().BucketCounts()
	if pos.At(0) != 7 || pos.At(pos.Len()-1) != 3 || dp.Sum() != h.Sum() || dp.Min() != -5 || dp.Max() != 100 {
		t.Fatalf("positive %v sum %v min %v max %v", pos.AsRaw(), dp.Sum(), dp.Min(), dp.Max())
	}
}

// TestFillDataPointScalesWithoutBias: counts scaled by 1.5 round to 4 or 5 for 3, averaging 4.5,
// and a point's count always equals its buckets.
func TestFillDataPointScalesWithoutBias(t *testing.T) {
	var h Histogram
	for _, v := range []float64{1, 2, 4, -8} {
		h.Add(v, 3)
	}
	rng := rand.New(rand.NewPCG(3, 3))
	const n = 5000
	var sum float64
	for range n {
		dp := pmetric.NewExponentialHistogramDataPoint()
		h.FillDataPoint(dp, 1.5, rng)
		var total uint64
		for _, c := range append(dp.Positive().BucketCounts().AsRaw(), dp.Negative().BucketCounts().AsRaw()...) {
			if c != 0 && c != 4 && c != 5 {
				t.Fatalf("3*1.5 rounded to %d", c)
			}
			total += c
		}
		if dp.Count() != total || dp.Sum() != h.Sum()*1.5 {
			t.Fatalf("count %d, buckets %d; sum %v", dp.Count(), total, dp.Sum())
		}
		sum += float64(dp.Count())
	}
	// 4 buckets of sd 0.5 each: the mean count is 18 within 4 SE (sd 1, SE 0.014).
	if mean := sum / n; math.Abs(mean-18) > 4*1/math.Sqrt(n) {
		t.Fatalf("mean count %v, want 18", mean)
	}
}

// TestRoundRandomDrawsOnlyForFractions: whole numbers come back as they are without using the
// generator, so unscaled output leaves the random sequence of the rest of the export alone.
func TestRoundRandomDrawsOnlyForFractions(t *testing.T) {
	rng, twin := rand.New(rand.NewPCG(1, 1)), rand.New(rand.NewPCG(1, 1))
	for _, x := range []float64{0, 1, 7, 1 << 52} {
		if got := RoundRandom(x, rng); got != uint64(x) {
			t.Fatalf("RoundRandom(%v) = %d", x, got)
		}
	}
	if rng.Uint64() != twin.Uint64() {
		t.Fatalf("whole numbers drew random numbers")
	}
	if got := RoundRandom(2.5, rng); got != 2 && got != 3 {
		t.Fatalf("RoundRandom(2.5) = %d", got)
	}
}
