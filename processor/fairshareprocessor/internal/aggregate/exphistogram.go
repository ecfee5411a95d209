package aggregate

import (
	"math"
	"math/rand/v2"

	"go.opentelemetry.io/collector/pdata/pmetric"
)

// maxExpBuckets is the bucket count per sign a merged exponential histogram may grow to before it
// is downscaled: 160, the OpenTelemetry SDKs' default max_size.
const maxExpBuckets = 160

// minExpScale and maxExpScale bound the scales the data model allows.
const (
	minExpScale = -10
	maxExpScale = 20
)

// expBuckets is one sign's buckets: counts[i] counts bucket index offset+i.
type expBuckets struct {
	offset int32
	counts []uint64
}

func (b *expBuckets) hi() int32 { return b.offset + int32(len(b.counts)) - 1 }

// downscale merges each 2^d adjacent buckets into one (scale - d). It works in place: a bucket
// never moves to a higher position.
func (b *expBuckets) downscale(d int32) {
	if d <= 0 || len(b.counts) == 0 {
		return
	}
	off := b.offset >> d
	for i, c := range b.counts {
		if j := (b.offset+int32(i))>>d - off; j != int32(i) {
			b.counts[j] += c
			b.counts[i] = 0
		}
	}
	b.counts = b.counts[:b.hi()>>d-off+1]
	b.offset = off
}

// cover grows b so that it holds bucket indexes lo..hi.
func (b *expBuckets) cover(lo, hi int32) {
	if len(b.counts) == 0 {
		b.offset = lo
		b.counts = append(b.counts[:0], make([]uint64, hi-lo+1)...)
		return
	}
	if lo < b.offset {
		n := int(b.offset - lo)
		old := len(b.counts)
		b.counts = append(b.counts, make([]uint64, n)...)
		copy(b.counts[n:], b.counts[:old])
		clear(b.counts[:n])
		b.offset = lo
	}
	if hi > b.hi() {
		b.counts = append(b.counts, make([]uint64, hi-b.hi())...)
	}
}

// span returns the index range of src's non-empty buckets after downscaling by d.
func span(src pmetric.ExponentialHistogramDataPointBuckets, d int32) (lo, hi int32, ok bool) {
	n := src.BucketCounts().Len()
	if n == 0 {
		return 0, 0, false
	}
	return src.Offset() >> d, (src.Offset() + int32(n) - 1) >> d, true
}

// fits reports whether b (at scale bs) and src (at scale ss) fit in limit buckets at scale t.
func (b *expBuckets) fits(bs int32, src pmetric.ExponentialHistogramDataPointBuckets, ss, t int32, limit int32) bool {
	lo, hi, ok := span(src, ss-t)
	if len(b.counts) > 0 {
		blo, bhi := b.offset>>(bs-t), b.hi()>>(bs-t)
		if !ok {
			lo, hi, ok = blo, bhi, true
		}
		lo, hi = min(lo, blo), max(hi, bhi)
	}
	return !ok || hi-lo+1 <= limit
}

func (b *expBuckets) merge(src pmetric.ExponentialHistogramDataPointBuckets, d int32) {
	lo, hi, ok := span(src, d)
	if !ok {
		return
	}
	b.cover(lo, hi)
	c := src.BucketCounts()
	for i := range c.Len() {
		b.counts[(src.Offset()+int32(i))>>d-b.offset] += c.At(i)
	}
}

// expState is an exponential histogram being merged. Histograms of different scales merge at
// the lower scale; when the merged range would need more than maxExpBuckets buckets, the scale
// drops further. Zero thresholds merge to the larger one.
type expState struct {
	scale     int32
	zeroCount uint64
	zeroThr   float64
	pos, neg  expBuckets
	count     uint64
	sum       float64
	min       float64
	max       float64
	hasSum    bool
	hasMin    bool
	hasMax    bool
}

func (e *expState) reset() {
	pos, neg := e.pos.counts[:0], e.neg.counts[:0]
	*e = expState{pos: expBuckets{counts: pos}, neg: expBuckets{counts: neg}}
}

// mergeable reports whether dp can merge into e: its scale is valid and, at the smallest scale,
// the union of both fits the bucket limit. A point that fails is forwarded unchanged instead of
// blowing up the row's memory.
func (e *expState) mergeable(dp pmetric.ExponentialHistogramDataPoint, first bool) bool {
	ps := dp.Scale()
	if ps < minExpScale || ps > maxExpScale {
		return false
	}
	cur := e.scale
	if first {
		cur = ps
	}
	limit := e.limit(dp)
	return e.pos.fits(cur, dp.Positive(), ps, minExpScale, limit) && e.neg.fits(cur, dp.Negative(), ps, minExpScale, limit)
}

func (e *expState) limit(dp pmetric.ExponentialHistogramDataPoint) int32 {
	return int32(max(maxExpBuckets, len(e.pos.counts), len(e.neg.counts),
		dp.Positive().BucketCounts().Len(), dp.Negative().BucketCounts().Len()))
}

// add merges dp, which must be mergeable.
func (e *expState) add(dp pmetric.ExponentialHistogramDataPoint, first bool) {
	if first {
		e.scale = dp.Scale()
		e.count, e.sum, e.hasSum = dp.Count(), dp.Sum(), dp.HasSum()
		e.min, e.hasMin = dp.Min(), dp.HasMin()
		e.max, e.hasMax = dp.Max(), dp.HasMax()
	} else {
		e.count += dp.Count()
		e.sum += dp.Sum()
		e.hasSum = e.hasSum && dp.HasSum()
		e.min, e.hasMin = math.Min(e.min, dp.Min()), e.hasMin && dp.HasMin()
		e.max, e.hasMax = math.Max(e.max, dp.Max()), e.hasMax && dp.HasMax()
	}
	e.zeroCount += dp.ZeroCount()
	e.zeroThr = math.Max(e.zeroThr, dp.ZeroThreshold())

	ps := dp.Scale()
	limit := e.limit(dp)
	t := min(e.scale, ps)
	for t > minExpScale && (!e.pos.fits(e.scale, dp.Positive(), ps, t, limit) ||
		!e.neg.fits(e.scale, dp.Negative(), ps, t, limit)) {
		t--
	}
	e.pos.downscale(e.scale - t)
	e.neg.downscale(e.scale - t)
	e.scale = t
	e.pos.merge(dp.Positive(), ps-t)
	e.neg.merge(dp.Negative(), ps-t)
}

// emit writes e scaled by factor into dp (counts randomly rounded, each to its expected value).
func (e *expState) emit(dp pmetric.ExponentialHistogramDataPoint, factor float64, rng *rand.Rand) {
	dp.SetScale(e.scale)
	dp.SetZeroThreshold(e.zeroThr)
	total := scaleCount(e.zeroCount, factor, rng)
	dp.SetZeroCount(total)
	for _, side := range [2]struct {
		b   *expBuckets
		dst pmetric.ExponentialHistogramDataPointBuckets
	}{{&e.pos, dp.Positive()}, {&e.neg, dp.Negative()}} {
		if len(side.b.counts) == 0 {
			continue
		}
		side.dst.SetOffset(side.b.offset)
		bc := side.dst.BucketCounts()
		bc.EnsureCapacity(len(side.b.counts))
		for _, c := range side.b.counts {
			c = scaleCount(c, factor, rng)
			total += c
			bc.Append(c)
		}
	}
	if factor == 1 {
		total = e.count
	}
	dp.SetCount(total)
	if e.hasSum {
		dp.SetSum(e.sum * factor)
	}
	if e.hasMin {
		dp.SetMin(e.min)
	}
	if e.hasMax {
		dp.SetMax(e.max)
	}
}
