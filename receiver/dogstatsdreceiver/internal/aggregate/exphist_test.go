package aggregate

import (
	"math"
	"math/rand/v2"
	"testing"
)

// bucketBounds returns (lower, upper] of bucket i at scale.
func bucketBounds(i, scale int32) (float64, float64) {
	// 2^(i/2^scale) with an exact exponent: pow(base, i) would amplify base's rounding by i.
	w := math.Exp2(-float64(scale))
	return math.Exp2(float64(i) * w), math.Exp2(float64(i+1) * w)
}

func TestIndexAtPlacesValueInItsBucket(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, scale := range []int32{-4, -1, 0, 1, 3, 8, 20} {
		for range 2000 {
			v := math.Exp(rng.NormFloat64() * 20)
			i := indexAt(v, scale)
			lo, hi := bucketBounds(i, scale)
			// 1e-9 relative slack: pow() of the bounds themselves rounds.
			if !(v > lo*(1-1e-9) && v <= hi*(1+1e-9)) {
				t.Fatalf("scale %d: %g in bucket %d = (%g, %g]", scale, v, i, lo, hi)
			}
		}
	}
}

func TestIndexAtPowersOfTwoAreUpperBounds(t *testing.T) {
	// Buckets are upper-inclusive: 2^k is the upper bound of bucket k-1 at scale 0.
	for k := -20; k <= 20; k++ {
		v := math.Ldexp(1, k)
		if got := indexAt(v, 0); got != int32(k-1) {
			t.Errorf("indexAt(2^%d, 0) = %d, want %d", k, got, k-1)
		}
		if got := indexAt(v, 3); got != int32(k*8-1) {
			t.Errorf("indexAt(2^%d, 3) = %d, want %d", k, got, k*8-1)
		}
		if got := indexAt(v, -1); got != int32(k-1)>>1 {
			t.Errorf("indexAt(2^%d, -1) = %d, want %d", k, got, int32(k-1)>>1)
		}
	}
}

func histTotal(h *expHist) float64 {
	total := h.zero
	for _, c := range h.pos.counts {
		total += c
	}
	for _, c := range h.neg.counts {
		total += c
	}
	return total
}

func TestExpHistDownscalesToStayBounded(t *testing.T) {
	h := newExpHist()
	for _, v := range []float64{1e-6, 1, 1e6, 1e12, -3, 0, 0.5} {
		h.add(v, 2, 160)
	}
	if len(h.pos.counts) > 160 || len(h.neg.counts) > 160 {
		t.Fatalf("bucket runs %d/%d exceed 160", len(h.pos.counts), len(h.neg.counts))
	}
	if h.count != 14 || histTotal(h) != 14 {
		t.Fatalf("count %v, bucket total %v, want 14", h.count, histTotal(h))
	}
	if h.min != -3 || h.max != 1e12 || h.zero != 2 {
		t.Fatalf("min %v max %v zero %v", h.min, h.max, h.zero)
	}
	// Every value must still fall in a populated bucket at the final scale.
	for _, v := range []float64{1e-6, 1, 1e6, 1e12, 0.5} {
		i := indexAt(v, h.scale)
		if i < h.pos.offset || int(i-h.pos.offset) >= len(h.pos.counts) || h.pos.counts[i-h.pos.offset] == 0 {
			t.Fatalf("value %g (bucket %d) not in populated range at scale %d", v, i, h.scale)
		}
	}
}

func TestExpHistMergeEqualsAddingEverything(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	all, a, b := newExpHist(), newExpHist(), newExpHist()
	for i := range 5000 {
		v := math.Exp(rng.NormFloat64()*3) * float64(1-2*(i%7/6))
		all.add(v, 1, 160)
		if i%3 == 0 {
			a.add(v, 1, 160)
		} else {
			b.add(v, 1, 160)
		}
	}
	a.merge(b, 160)
	if a.scale != all.scale {
		t.Fatalf("merged scale %d, direct scale %d", a.scale, all.scale)
	}
	if a.count != all.count || a.min != all.min || a.max != all.max || math.Abs(a.sum-all.sum) > 1e-6*math.Abs(all.sum) {
		t.Fatalf("merged %+v, direct %+v", a, all)
	}
	for _, pair := range [][2]*buckets{{&a.pos, &all.pos}, {&a.neg, &all.neg}} {
		got, want := pair[0], pair[1]
		for j, c := range want.counts {
			idx := want.offset + int32(j)
			var g float64
			if k := idx - got.offset; k >= 0 && int(k) < len(got.counts) {
				g = got.counts[k]
			}
			if g != c {
				t.Fatalf("bucket %d: merged %v, direct %v", idx, g, c)
			}
		}
	}
}

func TestExpHistQuantileWithinBucketError(t *testing.T) {
	h := newExpHist()
	for i := 1; i <= 1000; i++ {
		h.add(float64(i), 1, 160)
	}
	// With 1..1000 in at most 160 buckets the scale is >= 4, so a bucket spans at most a factor
	// 2^(1/16) = 4.4%; the midpoint is within half of that.
	for _, q := range []float64{0.5, 0.9, 0.99} {
		got, want := h.quantile(q), q*1000
		if math.Abs(got-want)/want > 0.045 {
			t.Errorf("q%v = %v, want %v within 4.5%%", q, got, want)
		}
	}
	if h.quantile(0) != 1 || h.quantile(1) != 1000 {
		t.Errorf("q0 %v q1 %v, want min 1 and max 1000", h.quantile(0), h.quantile(1))
	}
}
