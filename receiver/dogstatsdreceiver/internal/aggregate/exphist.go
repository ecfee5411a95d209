package aggregate

import "math"

// expHist accumulates weighted values into an OpenTelemetry base-2 exponential histogram. It
// starts at the finest scale (20) and halves its resolution whenever the populated range of
// either sign would need more than maxSize buckets, as the OpenTelemetry SDK does. Counts are
// float64 so that sample-rate weights (1/rate) add up exactly; they are rounded on output.
type expHist struct {
	scale     int32
	zero      float64
	pos, neg  buckets
	count     float64
	sum       float64
	min, max  float64
	populated bool
}

// newExpHist returns an empty histogram at the finest scale; the zero value is not ready for use.
func newExpHist() *expHist {
	h := &expHist{}
	h.reset()
	return h
}

const (
	maxScale = 20
	minScale = -10
)

// buckets is a dense run of bucket counts starting at index offset.
type buckets struct {
	offset int32
	counts []float64
}

func (b *buckets) empty() bool { return len(b.counts) == 0 }

func (b *buckets) reset() {
	b.offset = 0
	b.counts = b.counts[:0]
}

// indexAt maps a positive finite value to its bucket at scale: bucket i holds (2^(i*2^-s), 2^((i+1)*2^-s)].
func indexAt(v float64, scale int32) int32 {
	frac, exp := math.Frexp(v) // v = frac * 2^exp, frac in [0.5, 1)
	if scale <= 0 {
		// v in [2^(exp-1), 2^exp): scale-0 bucket exp-1, or exp-2 when v is exactly 2^(exp-1).
		i := int32(exp) - 1
		if frac == 0.5 {
			i--
		}
		return i >> uint(-scale)
	}
	// ceil(log2(v) * 2^s) - 1, computed from the exponent so large values keep their precision.
	// math.Log2 is exact for powers of two, so those land on their own upper bound.
	return int32(exp)<<uint(scale) + int32(math.Ceil(math.Log2(frac)*float64(int64(1)<<uint(scale)))) - 1
}

func (h *expHist) reset() {
	h.scale = maxScale
	h.zero, h.count, h.sum = 0, 0, 0
	h.pos.reset()
	h.neg.reset()
	h.populated = false
}

// add records v with weight w (1/sample rate).
func (h *expHist) add(v, w float64, maxSize int) {
	if !h.populated {
		h.min, h.max = v, v
		h.populated = true
	} else {
		h.min = math.Min(h.min, v)
		h.max = math.Max(h.max, v)
	}
	h.count += w
	h.sum += v * w
	switch {
	case v == 0:
		h.zero += w
	case v > 0:
		h.addTo(&h.pos, v, w, maxSize)
	default:
		h.addTo(&h.neg, -v, w, maxSize)
	}
}

func (h *expHist) addTo(b *buckets, v, w float64, maxSize int) {
	i := indexAt(v, h.scale)
	if change := scaleChange(b, i, i, maxSize); change > 0 {
		h.downscale(change)
		i = indexAt(v, h.scale)
	}
	b.incr(i, w)
}

// scaleChange returns how many halvings of the resolution keep b plus [lo, hi] within maxSize.
func scaleChange(b *buckets, lo, hi int32, maxSize int) int32 {
	if !b.empty() {
		lo = min(lo, b.offset)
		hi = max(hi, b.offset+int32(len(b.counts))-1)
	}
	var change int32
	for int64(hi)-int64(lo) >= int64(maxSize) {
		lo >>= 1
		hi >>= 1
		change++
	}
	return change
}

func (h *expHist) downscale(change int32) {
	if change <= 0 {
		return
	}
	if h.scale-change < minScale {
		change = h.scale - minScale
	}
	h.pos.downscale(change)
	h.neg.downscale(change)
	h.scale -= change
}

// downscale merges each run of 2^change buckets into one.
func (b *buckets) downscale(change int32) {
	if b.empty() || change == 0 {
		return
	}
	newOff := b.offset >> uint(change)
	last := (b.offset + int32(len(b.counts)) - 1) >> uint(change)
	merged := make([]float64, last-newOff+1)
	for j, c := range b.counts {
		merged[((b.offset+int32(j))>>uint(change))-newOff] += c
	}
	b.offset = newOff
	b.counts = append(b.counts[:0], merged...)
}

// incr adds w to bucket i, growing the dense run in either direction.
func (b *buckets) incr(i int32, w float64) {
	switch {
	case b.empty():
		b.offset = i
		b.counts = append(b.counts[:0], w)
	case i < b.offset:
		grow := int(b.offset - i)
		b.counts = append(b.counts, make([]float64, grow)...)
		copy(b.counts[grow:], b.counts[:len(b.counts)-grow])
		clear(b.counts[:grow])
		b.offset = i
		b.counts[0] = w
	case int(i-b.offset) >= len(b.counts):
		b.counts = append(b.counts, make([]float64, int(i-b.offset)-len(b.counts)+1)...)
		b.counts[i-b.offset] = w
	default:
		b.counts[i-b.offset] += w
	}
}

// merge folds o into h, bringing both to the coarser scale first.
func (h *expHist) merge(o *expHist, maxSize int) {
	if !o.populated {
		return
	}
	if !h.populated {
		h.scale = o.scale
		h.min, h.max = o.min, o.max
		h.populated = true
	} else {
		h.min = math.Min(h.min, o.min)
		h.max = math.Max(h.max, o.max)
	}
	if o.scale < h.scale {
		h.downscale(h.scale - o.scale)
	}
	for _, pair := range [2]struct{ dst, src *buckets }{{&h.pos, &o.pos}, {&h.neg, &o.neg}} {
		if pair.src.empty() {
			continue
		}
		down := o.scale - h.scale
		lo := pair.src.offset >> uint(down)
		hi := (pair.src.offset + int32(len(pair.src.counts)) - 1) >> uint(down)
		if change := scaleChange(pair.dst, lo, hi, maxSize); change > 0 {
			h.downscale(change)
			down = o.scale - h.scale
		}
		for j, c := range pair.src.counts {
			if c != 0 {
				pair.dst.incr((pair.src.offset+int32(j))>>uint(down), c)
			}
		}
	}
	h.zero += o.zero
	h.count += o.count
	h.sum += o.sum
}

// quantile estimates the q-quantile (0..1) from the buckets: the geometric midpoint of the bucket
// holding the rank, clamped to [min, max]. Its relative error is at most half a bucket's width.
func (h *expHist) quantile(q float64) float64 {
	if !h.populated || h.count <= 0 {
		return 0
	}
	if q <= 0 {
		return h.min
	}
	if q >= 1 {
		return h.max
	}
	rank := q * h.count
	var seen float64
	// Negative buckets from the most negative value up.
	for j := len(h.neg.counts) - 1; j >= 0; j-- {
		seen += h.neg.counts[j]
		if seen >= rank {
			return clamp(-midpoint(h.neg.offset+int32(j), h.scale), h.min, h.max)
		}
	}
	seen += h.zero
	if seen >= rank {
		return clamp(0, h.min, h.max)
	}
	for j, c := range h.pos.counts {
		seen += c
		if seen >= rank {
			return clamp(midpoint(h.pos.offset+int32(j), h.scale), h.min, h.max)
		}
	}
	return h.max
}

// midpoint is the geometric middle of bucket i, 2^((i+0.5)/2^scale).
func midpoint(i, scale int32) float64 {
	return math.Exp2((float64(i) + 0.5) * math.Exp2(-float64(scale)))
}

func clamp(v, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, v)) }
