package exphist

import "math"

// Quantile estimates the q-quantile (0..1): the geometric middle of the bucket holding the
// rank, clamped to [min, max]. Its relative error is at most half a bucket's width. It returns
// 0 for an empty histogram, and min and max for q <= 0 and q >= 1.
func (h *Histogram) Quantile(q float64) float64 {
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
	scale := h.Scale()
	var seen float64
	// Negative buckets from the most negative value up.
	for j := len(h.neg.counts) - 1; j >= 0; j-- {
		seen += h.neg.counts[j]
		if seen >= rank {
			return clamp(-midpoint(h.neg.offset+int32(j), scale), h.min, h.max)
		}
	}
	seen += h.zeroCount
	if seen >= rank {
		return clamp(0, h.min, h.max)
	}
	for j, c := range h.pos.counts {
		seen += c
		if seen >= rank {
			return clamp(midpoint(h.pos.offset+int32(j), scale), h.min, h.max)
		}
	}
	return h.max
}

// midpoint is the geometric middle of bucket i, 2^((i+0.5)·2^-scale).
func midpoint(i, scale int32) float64 {
	return math.Exp2((float64(i) + 0.5) * math.Exp2(-float64(scale)))
}

func clamp(v, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, v)) }
