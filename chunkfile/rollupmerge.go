package chunkfile

import (
	"math"
	"slices"
)

// mergeWindow holds the `merge` statistic of a histogram, exponential histogram or summary
// series in one window: the window's points merged in file order. An explicit histogram has
// one point per run of points with the same bounds; the other kinds have one point.
type mergeWindow struct {
	end int64
	pts []Point
}

// maxExpBuckets bounds the buckets of each side of a merged exponential histogram: a merge
// whose buckets would span more is made at a coarser scale. 4096 is 25 times the 160 buckets
// OpenTelemetry SDKs use by default, so it only acts on hostile input (offsets far apart),
// which would otherwise allocate up to 2^32 counts.
const maxExpBuckets = 4096

// maxRollupScale bounds the scale of exponential histogram points a rollup merges (OTLP uses
// -10..20): a merge lowers the scale by at most 64 steps, which must stay within int32.
const maxRollupScale = 1 << 20

// add merges point p (of a series of kind k) into the window; the window keeps copies.
func (w *mergeWindow) add(k Kind, p Point) {
	n := len(w.pts)
	switch k {
	case KindHistogram:
		if n > 0 && mergeHist(w.pts[n-1].Hist, p.Hist) {
			return
		}
	case KindExpHistogram:
		if n > 0 {
			w.pts[0].Exp = mergeExp(w.pts[0].Exp, p.Exp)
			return
		}
	case KindSummary:
		if n > 0 {
			s := w.pts[0].Summary
			s.Count += p.Summary.Count
			s.Sum += p.Summary.Sum
			return
		}
		p.Summary = &Summary{Count: p.Summary.Count, Sum: p.Summary.Sum}
	}
	c := clonePoint(Point{Hist: p.Hist, Exp: p.Exp, Summary: p.Summary})
	c.T, c.Start = w.end, 0 // Start is set when the window is written
	w.pts = append(w.pts, c)
}

// mergeHist adds h into acc if they have the same bounds (bit for bit) and bucket count, and
// reports whether it did.
func mergeHist(acc, h *Histogram) bool {
	if len(acc.Bounds) != len(h.Bounds) || len(acc.Counts) != len(h.Counts) {
		return false
	}
	for i, b := range acc.Bounds {
		if math.Float64bits(b) != math.Float64bits(h.Bounds[i]) {
			return false
		}
	}
	acc.Count += h.Count
	mergeSumMinMax(&acc.Sum, &acc.Min, &acc.Max, &acc.HasSum, &acc.HasMin, &acc.HasMax,
		h.Sum, h.Min, h.Max, h.HasSum, h.HasMin, h.HasMax)
	for i, c := range h.Counts {
		acc.Counts[i] += c
	}
	return true
}

// mergeSumMinMax merges the optional sum, min and max of two histogram points: each is kept
// only when both points have it.
func mergeSumMinMax(sum, mn, mx *float64, hasSum, hasMin, hasMax *bool, s, lo, hi float64, hs, hl, hh bool) {
	if *hasSum = *hasSum && hs; *hasSum {
		*sum += s
	} else {
		*sum = 0
	}
	if *hasMin = *hasMin && hl; *hasMin {
		*mn = math.Min(*mn, lo)
	} else {
		*mn = 0
	}
	if *hasMax = *hasMax && hh; *hasMax {
		*mx = math.Max(*mx, hi)
	} else {
		*mx = 0
	}
}

// mergeExp returns a and b merged: at the coarser of their scales (coarser still if a side's
// buckets would span more than maxExpBuckets), with the larger zero threshold; when the
// thresholds differ, buckets that lie wholly within the larger one join the zero count, as
// Prometheus merges native histograms.
func mergeExp(a, b *ExpHistogram) *ExpHistogram {
	scale := int64(min(a.Scale, b.Scale))
	for bucketSpan(a.Positive, a.Scale, b.Positive, b.Scale, scale) > maxExpBuckets ||
		bucketSpan(a.Negative, a.Scale, b.Negative, b.Scale, scale) > maxExpBuckets {
		scale--
	}
	out := &ExpHistogram{
		Count:         a.Count + b.Count,
		Sum:           a.Sum,
		Min:           a.Min,
		Max:           a.Max,
		HasSum:        a.HasSum,
		HasMin:        a.HasMin,
		HasMax:        a.HasMax,
		Scale:         int32(scale),
		ZeroCount:     a.ZeroCount + b.ZeroCount,
		ZeroThreshold: a.ZeroThreshold,
	}
	mergeSumMinMax(&out.Sum, &out.Min, &out.Max, &out.HasSum, &out.HasMin, &out.HasMax,
		b.Sum, b.Min, b.Max, b.HasSum, b.HasMin, b.HasMax)
	fold := math.Float64bits(a.ZeroThreshold) != math.Float64bits(b.ZeroThreshold)
	if fold {
		out.ZeroThreshold = math.Max(a.ZeroThreshold, b.ZeroThreshold)
	}
	var folded uint64
	out.Positive, folded = mergeBuckets(a.Positive, a.Scale, b.Positive, b.Scale, scale, fold, out.ZeroThreshold)
	out.ZeroCount += folded
	out.Negative, folded = mergeBuckets(a.Negative, a.Scale, b.Negative, b.Scale, scale, fold, out.ZeroThreshold)
	out.ZeroCount += folded
	return out
}

// bucketRange returns the first and last bucket index of b (at scale from) at scale to <= from.
func bucketRange(b Buckets, from int32, to int64) (lo, hi int64) {
	shift := uint64(int64(from) - to)
	return int64(b.Offset) >> shift, (int64(b.Offset) + int64(len(b.Counts)) - 1) >> shift
}

// bucketSpan returns how many buckets a and b together span at scale to.
func bucketSpan(a Buckets, as int32, b Buckets, bs int32, to int64) int64 {
	lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
	for _, x := range []struct {
		b Buckets
		s int32
	}{{a, as}, {b, bs}} {
		if len(x.b.Counts) == 0 {
			continue
		}
		l, h := bucketRange(x.b, x.s, to)
		lo, hi = min(lo, l), max(hi, h)
	}
	if hi < lo {
		return 0
	}
	return hi - lo + 1
}

// mergeBuckets adds a and b at scale to. With fold, the leading buckets whose upper bound is
// at most zt are removed; their counts are returned.
func mergeBuckets(a Buckets, as int32, b Buckets, bs int32, to int64, fold bool, zt float64) (Buckets, uint64) {
	n := bucketSpan(a, as, b, bs, to)
	if n == 0 {
		return Buckets{}, 0
	}
	lo := int64(math.MaxInt64)
	if len(a.Counts) > 0 {
		lo, _ = bucketRange(a, as, to)
	}
	if len(b.Counts) > 0 {
		l, _ := bucketRange(b, bs, to)
		lo = min(lo, l)
	}
	counts := make([]uint64, n)
	for _, x := range []struct {
		b Buckets
		s int32
	}{{a, as}, {b, bs}} {
		shift := uint64(int64(x.s) - to)
		for j, c := range x.b.Counts {
			counts[((int64(x.b.Offset)+int64(j))>>shift)-lo] += c
		}
	}
	var folded uint64
	if fold {
		k := 0
		for k < len(counts) && upperBound(lo+int64(k), to) <= zt {
			folded += counts[k]
			k++
		}
		counts, lo = counts[k:], lo+int64(k)
	}
	if len(counts) == 0 {
		return Buckets{}, folded
	}
	return Buckets{Offset: int32(lo), Counts: slices.Clip(counts)}, folded
}

// upperBound is the upper bound of bucket index i at scale s: base^(i+1) with base = 2^(2^-s).
func upperBound(i, s int64) float64 {
	return math.Exp2(math.Ldexp(float64(i+1), int(-s)))
}
