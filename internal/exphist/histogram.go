// Package exphist is the OpenTelemetry base-2 exponential histogram shared by the DogStatsD
// receiver, which fills one from weighted samples, and the fair-share processor, which merges
// data points of any scale into one.
package exphist

import "math"

// The scales the OpenTelemetry data model allows. At MaxScale a bucket spans a factor of
// 2^(2^-20), a relative width under 7e-7; at MinScale every finite float64 falls in one of
// three buckets, so any set of values fits at the latest there.
const (
	MinScale = -10
	MaxScale = 20
)

// DefaultMaxSize is the OpenTelemetry SDKs' default bucket count per sign (max_size).
const DefaultMaxSize = 160

// Histogram is a base-2 exponential histogram: at scale s, bucket i of a sign holds the
// magnitudes in (2^(i·2^-s), 2^((i+1)·2^-s)], and magnitudes up to the zero threshold count
// in the zero bucket. It starts at MaxScale and halves its resolution whenever a sign would
// need more than its bucket limit, as the OpenTelemetry SDKs do.
//
// Counts are float64 so that sample-rate weights (1/rate) add up without rounding until output.
// Whole counts, such as those of merged data points, are exact up to 2^53 (about 9·10^15); a
// larger total loses its low bits.
//
// The zero value is an empty histogram with the default limit. A Histogram is not safe for
// concurrent use; Reset keeps its bucket slices, so a reused one does not allocate once its
// runs have grown to their working size.
type Histogram struct {
	// MaxSize bounds each sign's buckets before the histogram downscales; zero means
	// DefaultMaxSize. A merged data point or histogram that already holds more buckets raises
	// the bound to its own size rather than losing the resolution its producer chose; at
	// MinScale a sign may hold up to three buckets whatever the bound.
	MaxSize int

	halvings      int32 // MaxScale - scale, so that the zero value is at the finest scale
	floor         int32 // the fewest halvings SetMaxScale allows: 0, the zero value, is MaxScale
	pos, neg      Buckets
	zeroCount     float64
	zeroThreshold float64
	count, sum    float64
	min, max      float64

	populated bool // something was added or merged: min and max hold values
	// An input point without a sum, min or max makes the merged one unknown.
	noSum, noMin, noMax bool
}

// Reset empties h, keeping MaxSize, the scale cap and the bucket slices' capacity.
func (h *Histogram) Reset() {
	pos, neg := h.pos.counts[:0], h.neg.counts[:0]
	*h = Histogram{MaxSize: h.MaxSize, halvings: h.floor, floor: h.floor, pos: Buckets{counts: pos}, neg: Buckets{counts: neg}}
}

// SetMaxScale caps h's scale at s, clamped to MinScale..MaxScale: h starts there instead of at
// MaxScale, and a finer h is downscaled to it at once. The scale still drops below the cap when
// the values need more than MaxSize buckets. Reset keeps the cap.
func (h *Histogram) SetMaxScale(s int32) {
	h.floor = MaxScale - min(max(s, MinScale), MaxScale)
	if by := h.floor - h.halvings; by > 0 {
		h.pos.downscale(by)
		h.neg.downscale(by)
		h.halvings = h.floor
	}
}

// Scale returns the current scale.
func (h *Histogram) Scale() int32 { return MaxScale - h.halvings }

// Count returns the total weight: of the added values plus the counts of merged data points.
func (h *Histogram) Count() float64 { return h.count }

// Sum returns the weighted sum of the values; HasSum reports whether it is known.
func (h *Histogram) Sum() float64 { return h.sum }

// HasSum is false once a merged data point had no sum.
func (h *Histogram) HasSum() bool { return !h.noSum }

// Min returns the smallest value; HasMin reports whether it is known.
func (h *Histogram) Min() float64 { return h.min }

// HasMin is false while h is empty and once a merged data point had no min.
func (h *Histogram) HasMin() bool { return h.populated && !h.noMin }

// Max returns the largest value; HasMax reports whether it is known.
func (h *Histogram) Max() float64 { return h.max }

// HasMax is false while h is empty and once a merged data point had no max.
func (h *Histogram) HasMax() bool { return h.populated && !h.noMax }

// ZeroCount returns the weight of the zero bucket.
func (h *Histogram) ZeroCount() float64 { return h.zeroCount }

// ZeroThreshold returns the largest magnitude the zero bucket holds: 0, or the largest
// threshold of the merged data points.
func (h *Histogram) ZeroThreshold() float64 { return h.zeroThreshold }

// Positive returns the buckets of positive values.
func (h *Histogram) Positive() *Buckets { return &h.pos }

// Negative returns the buckets of negative values, indexed by magnitude.
func (h *Histogram) Negative() *Buckets { return &h.neg }

// Add records v with weight w (1 for a sample, 1/rate for a sampled one; positive and
// finite). NaN and infinities have no bucket and are ignored.
func (h *Histogram) Add(v, w float64) {
	mag := math.Abs(v)
	if !(mag <= math.MaxFloat64) {
		return
	}
	h.observe(w, v*w, v, v, true, true, true)
	switch {
	case mag <= h.zeroThreshold:
		h.zeroCount += w
	case v > 0:
		h.addBucket(&h.pos, mag, w)
	default:
		h.addBucket(&h.neg, mag, w)
	}
}

func (h *Histogram) addBucket(b *Buckets, mag, w float64) {
	i := index(mag, h.Scale())
	if k := i - b.offset; k >= 0 && int(k) < len(b.counts) {
		b.counts[k] += w // the steady state: a bucket the run already holds
		return
	}
	one := span{int64(i), int64(i)}
	var by int32
	if b == &h.pos {
		by = h.fit(h.Scale(), one, noSpan)
	} else {
		by = h.fit(h.Scale(), noSpan, one)
	}
	i >>= by
	b.cover(i, i)
	b.counts[i-b.offset] += w
}

// Merge folds o into h, at the finest scale at which both fit.
func (h *Histogram) Merge(o *Histogram) {
	if !o.populated {
		return
	}
	h.observe(o.count, o.sum, o.min, o.max, !o.noSum, !o.noMin, !o.noMax)
	h.zeroCount += o.zeroCount
	h.zeroThreshold = math.Max(h.zeroThreshold, o.zeroThreshold)
	by := h.fit(o.Scale(), o.pos.span(0), o.neg.span(0))
	h.pos.merge(&o.pos, by)
	h.neg.merge(&o.neg, by)
}

// observe folds the count, sum, min and max of one input into h.
func (h *Histogram) observe(count, sum, lo, hi float64, hasSum, hasMin, hasMax bool) {
	h.count += count
	if !h.populated {
		// Assigned, not added, so that a single input's -0 sum survives as it came.
		h.sum, h.min, h.max = sum, lo, hi
		h.populated = true
	} else {
		h.sum += sum
		h.min = math.Min(h.min, lo)
		h.max = math.Max(h.max, hi)
	}
	h.noSum = h.noSum || !hasSum
	h.noMin = h.noMin || !hasMin
	h.noMax = h.noMax || !hasMax
}

// fit brings h to the finest scale, no finer than its own or src, at which h's runs and a
// source's runs pos and neg (at scale src) fit the bucket limit, and returns the halvings that
// take the source's indexes to that scale. The limit is MaxSize, raised to the longest run
// either side already holds: the merged histogram then needs no more memory than its largest
// input, and a producer's wider histogram keeps its resolution.
func (h *Histogram) fit(src int32, pos, neg span) int32 {
	size := h.MaxSize
	if size <= 0 {
		size = DefaultMaxSize
	}
	limit := int64(max(size, len(h.pos.counts), len(h.neg.counts), pos.len(), neg.len()))
	cur := h.Scale()
	t := min(cur, src)
	most := t - MinScale
	by := max(
		halvingsToFit(h.pos.span(cur-t), span{pos.lo >> (src - t), pos.hi >> (src - t)}, limit, most),
		halvingsToFit(h.neg.span(cur-t), span{neg.lo >> (src - t), neg.hi >> (src - t)}, limit, most),
	)
	t -= by
	h.pos.downscale(cur - t)
	h.neg.downscale(cur - t)
	h.halvings = MaxScale - t
	return src - t
}
