package exphist

import (
	"math"
	"math/rand/v2"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// indexRange holds, per scale from MinScale, the bucket indexes of the smallest subnormal and
// of the largest float64: no finite value lands outside them.
var indexRange = func() (r [MaxScale - MinScale + 1]span) {
	for s := int32(MinScale); s <= MaxScale; s++ {
		r[s-MinScale] = span{int64(index(math.SmallestNonzeroFloat64, s)), int64(index(math.MaxFloat64, s))}
	}
	return r
}()

// runOf returns the indexes of a data point's bucket run at scale, and false when some of them
// lie where no finite value can (including past the end of int32).
func runOf(b pmetric.ExponentialHistogramDataPointBuckets, scale int32) (span, bool) {
	n := b.BucketCounts().Len()
	if n == 0 {
		return noSpan, true
	}
	s := span{int64(b.Offset()), int64(b.Offset()) + int64(n) - 1}
	r := indexRange[scale-MinScale]
	return s, s.lo >= r.lo && s.hi <= r.hi
}

// MergeDataPoint folds dp into h, at the finest scale, no finer than either, at which both fit,
// and reports whether it could. It refuses a point whose scale is outside MinScale..MaxScale or
// whose buckets lie beyond the range of finite values at its scale, leaving h unchanged: no
// producer can have filled them. The zero threshold becomes the larger of the two; buckets
// below it are not moved into the zero bucket.
func (h *Histogram) MergeDataPoint(dp pmetric.ExponentialHistogramDataPoint) bool {
	ps := dp.Scale()
	if ps < MinScale || ps > MaxScale {
		return false
	}
	pos, okPos := runOf(dp.Positive(), ps)
	neg, okNeg := runOf(dp.Negative(), ps)
	if !okPos || !okNeg {
		return false
	}
	h.observe(float64(dp.Count()), dp.Sum(), dp.Min(), dp.Max(), dp.HasSum(), dp.HasMin(), dp.HasMax())
	h.zeroCount += float64(dp.ZeroCount())
	h.zeroThreshold = math.Max(h.zeroThreshold, dp.ZeroThreshold())
	by := h.fit(ps, pos, neg)
	mergeCounts(&h.pos, dp.Positive().Offset(), dp.Positive().BucketCounts(), by)
	mergeCounts(&h.neg, dp.Negative().Offset(), dp.Negative().BucketCounts(), by)
	return true
}

// mergeCounts adds the counts c of buckets off, off+1, ... downscaled by the given halvings.
// The compiler inlines pcommon.UInt64Slice's accessors in this loop only in a package that
// imports pcommon itself, which halves the cost of merging a point.
func mergeCounts(b *Buckets, off int32, c pcommon.UInt64Slice, by int32) {
	if c.Len() == 0 {
		return
	}
	b.cover(off>>by, (off+int32(c.Len())-1)>>by)
	// Runs of 2^by source buckets share a destination: summing each run in a register before
	// adding it spares a store-to-load round trip per bucket.
	j := off>>by - b.offset
	var run float64
	for i := range c.Len() {
		if k := (off+int32(i))>>by - b.offset; k != j {
			b.counts[j] += run
			j, run = k, 0
		}
		run += float64(c.At(i))
	}
	b.counts[j] += run
}

// FillDataPoint writes h into dp, an empty point: scale, zero threshold, counts, and the sum,
// min and max where known. Counts are multiplied by factor (1 keeps them) and rounded to whole
// numbers: to the nearest with a nil rng; otherwise down or up at random, so that each keeps
// its expected value (what a sampler that scales rows up needs to stay unbiased). The point's
// count is the total of its rounded counts, so that it always matches the buckets.
func (h *Histogram) FillDataPoint(dp pmetric.ExponentialHistogramDataPoint, factor float64, rng *rand.Rand) {
	dp.SetScale(h.Scale())
	dp.SetZeroThreshold(h.zeroThreshold)
	total := round(h.zeroCount*factor, rng)
	dp.SetZeroCount(total)
	total += fillCounts(dp.Positive(), &h.pos, factor, rng)
	total += fillCounts(dp.Negative(), &h.neg, factor, rng)
	dp.SetCount(total)
	if h.HasSum() {
		dp.SetSum(h.sum * factor)
	}
	if h.HasMin() {
		dp.SetMin(h.min)
	}
	if h.HasMax() {
		dp.SetMax(h.max)
	}
}

func fillCounts(dst pmetric.ExponentialHistogramDataPointBuckets, b *Buckets, factor float64, rng *rand.Rand) uint64 {
	if len(b.counts) == 0 {
		return 0
	}
	dst.SetOffset(b.offset)
	bc := dst.BucketCounts()
	bc.EnsureCapacity(len(b.counts))
	var total uint64
	for _, c := range b.counts {
		var n uint64
		if c != 0 { // merged runs have many empty buckets
			n = round(c*factor, rng)
		}
		bc.Append(n)
		total += n
	}
	return total
}

func round(x float64, rng *rand.Rand) uint64 {
	if rng == nil {
		return uint64(math.Round(x))
	}
	return RoundRandom(x, rng)
}

// RoundRandom rounds x >= 0 down or up at random, up with probability equal to its fraction,
// so that the result's mean is exactly x: 4.5 becomes 4 or 5, each half the time. A whole x
// draws no random number.
func RoundRandom(x float64, rng *rand.Rand) uint64 {
	fl := math.Floor(x)
	if x-fl > 0 && rng.Float64() < x-fl {
		fl++
	}
	return uint64(fl)
}
