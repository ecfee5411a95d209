package exphist

import (
	"math"
	"math/big"
	"slices"
	"sync"
	"testing"
)

// The oracle: bucket indexes decided by exact comparisons with the boundaries, using neither
// logarithms nor the package's tables.

// refAtOrBelow reports whether v <= 2^(j·2^-scale). At a negative scale the bound is a power of
// two, compared exactly. Otherwise it compares v^(2^scale) with 2^j: repeated squaring rounded
// down and up brackets the power, and the precision doubles until the bracket excludes 2^j or
// is 2^j itself (v a power of two, when squaring is exact).
func refAtOrBelow(v float64, j int64, scale int32) bool {
	if scale < 0 {
		pow2 := new(big.Float).SetMantExp(big.NewFloat(1), int(j<<-scale))
		return new(big.Float).SetFloat64(v).Cmp(pow2) <= 0
	}
	pow2 := new(big.Float).SetMantExp(big.NewFloat(1), int(j))
	for prec := uint(128); prec <= 1<<16; prec *= 2 {
		lo := new(big.Float).SetPrec(prec).SetMode(big.ToNegativeInf).SetFloat64(v)
		hi := new(big.Float).SetPrec(prec).SetMode(big.ToPositiveInf).SetFloat64(v)
		for range scale {
			lo.Mul(lo, lo)
			hi.Mul(hi, hi)
		}
		switch {
		case hi.Cmp(pow2) <= 0:
			return true
		case lo.Cmp(pow2) > 0:
			return false
		}
	}
	panic("boundary undecided at 65536 bits")
}

// refIndex returns the i with 2^(i·2^-scale) < v <= 2^((i+1)·2^-scale). A floating-point
// estimate only picks where the exact comparisons start.
func refIndex(v float64, scale int32) int32 {
	i := int64(math.Floor(math.Log2(v) * math.Exp2(float64(scale))))
	for refAtOrBelow(v, i, scale) {
		i--
	}
	for !refAtOrBelow(v, i+1, scale) {
		i++
	}
	return int32(i)
}

// refIndexes memoises refIndex at MaxScale, from which every coarser index follows by shifting:
// bucket i at scale s lies inside bucket i>>1 at scale s-1.
var refIndexes sync.Map // float64 -> int32

func refIndexAt(v float64, scale int32) int32 {
	i, ok := refIndexes.Load(v)
	if !ok {
		i, _ = refIndexes.LoadOrStore(v, refIndex(v, MaxScale))
	}
	return i.(int32) >> (MaxScale - scale)
}

// reference is the naive histogram: it keeps every value, and only when asked picks the scale
// (the finest, up to a cap, at which each sign's indexes span at most maxSize buckets; else
// MinScale) and counts each value in its bucket there.
type reference struct {
	values, weights []float64
}

func (r *reference) add(v, w float64) {
	r.values = append(r.values, v)
	r.weights = append(r.weights, w)
}

// refHist is what a reference builds: dense runs as in a Histogram.
type refHist struct {
	scale            int32
	pos, neg         []float64
	posOff, negOff   int32
	zero, count, sum float64
	min, max         float64
	populated        bool
}

func (r *reference) build(maxSize int, capScale int32) refHist {
	var out refHist
	var pos, neg []int32
	for i, v := range r.values {
		w := r.weights[i]
		if !out.populated {
			out.min, out.max, out.populated = v, v, true
		}
		out.min, out.max = math.Min(out.min, v), math.Max(out.max, v)
		out.count += w
		out.sum += v * w
		switch {
		case v > 0:
			pos = append(pos, refIndexAt(v, MaxScale))
		case v < 0:
			neg = append(neg, refIndexAt(-v, MaxScale))
		}
	}
	fits := func(idx []int32, by int32) bool {
		if len(idx) == 0 {
			return true
		}
		lo, hi := slices.Min(idx)>>by, slices.Max(idx)>>by
		return int(hi)-int(lo) < maxSize
	}
	out.scale = MinScale
	for s := capScale; s > MinScale; s-- {
		if by := MaxScale - s; fits(pos, by) && fits(neg, by) {
			out.scale = s
			break
		}
	}
	by := MaxScale - out.scale
	run := func(idx []int32, sign float64) (int32, []float64) {
		if len(idx) == 0 {
			return 0, nil
		}
		lo, hi := slices.Min(idx)>>by, slices.Max(idx)>>by
		counts := make([]float64, hi-lo+1)
		for i, v := range r.values {
			if v*sign > 0 {
				counts[refIndexAt(v*sign, MaxScale)>>by-lo] += r.weights[i]
			}
		}
		return lo, counts
	}
	out.posOff, out.pos = run(pos, 1)
	out.negOff, out.neg = run(neg, -1)
	for i, v := range r.values {
		if v == 0 {
			out.zero += r.weights[i]
		}
	}
	return out
}

// compareRuns fails unless b holds exactly the counts of want at offset off, ignoring zero
// buckets at either end.
func compareRuns(t *testing.T, what string, b *Buckets, off int32, want []float64) {
	t.Helper()
	got := map[int32]float64{}
	for i, c := range b.counts {
		if c != 0 {
			got[b.offset+int32(i)] = c
		}
	}
	for i, c := range want {
		if c == 0 {
			continue
		}
		if got[off+int32(i)] != c {
			t.Fatalf("%s bucket %d: %v, want %v", what, off+int32(i), got[off+int32(i)], c)
		}
		delete(got, off+int32(i))
	}
	for i, c := range got {
		t.Fatalf("%s bucket %d: %v, want none", what, i, c)
	}
}

// compareWithReference fails unless h equals want; sums are compared within relSum of each
// other (0: exactly), as merging adds them in another order.
func compareWithReference(t *testing.T, h *Histogram, want refHist, relSum float64) {
	t.Helper()
	if h.Scale() != want.scale {
		t.Fatalf("scale %d, want %d", h.Scale(), want.scale)
	}
	compareRuns(t, "positive", &h.pos, want.posOff, want.pos)
	compareRuns(t, "negative", &h.neg, want.negOff, want.neg)
	if h.zeroCount != want.zero || h.count != want.count {
		t.Fatalf("zero %v count %v, want %v and %v", h.zeroCount, h.count, want.zero, want.count)
	}
	if h.HasMin() != want.populated || h.min != want.min || h.max != want.max {
		t.Fatalf("min %v max %v (known %v), want %v %v", h.min, h.max, h.HasMin(), want.min, want.max)
	}
	if d := math.Abs(h.sum - want.sum); d > relSum*math.Abs(want.sum) {
		t.Fatalf("sum %v, want %v", h.sum, want.sum)
	}
}
