package exphist

import (
	"math"
	"math/big"
	"sync"
)

// index returns the bucket of the positive finite value v at scale: the i for which
// 2^(i·2^-scale) < v <= 2^((i+1)·2^-scale). It is exact for every float64, subnormals
// included, so that a power of two lands on its own upper bound and two exact producers never
// disagree about a value near a boundary.
func index(v float64, scale int32) int32 {
	frac, exp := math.Frexp(v) // v = frac·2^exp with frac in [0.5, 1), subnormals normalised
	e := int32(exp) - 1        // v = m·2^e with m = 2·frac in [1, 2)
	if frac == 0.5 {
		// v = 2^e: bucket i holds it when i·2^-scale < e <= (i+1)·2^-scale.
		if scale >= 0 {
			return e<<scale - 1
		}
		return (e - 1) >> -scale
	}
	if scale <= 0 {
		return e >> -scale // m in (1, 2): bucket e at scale 0, halved -scale times
	}
	// Within the octave, m in (1, 2) has sub-bucket k = ceil(x)-1 with x = log2(m)·2^scale.
	// Computed x is within 2^(scale-51) of the true one (math.Log is within an ulp, and
	// multiplying by 2^scale is exact), so floor(x) is right unless x is that close to a whole
	// number n; then m is compared exactly with the boundary 2^(n·2^-scale).
	m := 2 * frac
	width := float64(int32(1) << scale)
	x := math.Log(m) * math.Log2E * width
	k := int32(x) // x > 0: floor
	if f, tol := x-float64(k), 0x1p-40*width; f <= tol || f >= 1-tol {
		if f > 0.5 {
			k++ // the whole number x is close to
		}
		if atOrBelowBoundary(m, k, scale) {
			k--
		}
	}
	return e<<scale + k
}

// atOrBelowBoundary reports whether m in (1, 2) is at most 2^(n·2^-scale), for scale in 1..20.
// For 0 < n < 2^scale that boundary is irrational, so never a float64: m is compared with a
// double-double approximation whose error (below 2^-100) is smaller than the distance from
// every one of those boundaries to its nearest float64 (checked exhaustively by the tests).
func atOrBelowBoundary(m float64, n, scale int32) bool {
	switch {
	case n <= 0:
		return false // the boundary is 1 < m
	case n >= int32(1)<<scale:
		return true // the boundary is 2 > m
	}
	b := boundary(n << (MaxScale - scale))
	// m and b.hi are floats in [1, 2), so they differ by at least 2^-52 unless equal, far more
	// than |b.lo| + 2^-100; when equal, the sign of b.lo says on which side the boundary is.
	return m < b.hi || (m == b.hi && b.lo > 0)
}

// dd is the unevaluated sum hi+lo of two float64s, |lo| <= ulp(hi)/2: about 106 bits.
type dd struct{ hi, lo float64 }

// boundary returns 2^(k·2^-20) for k in [0, 2^20) as the product of two table entries,
// 2^((k>>10)·2^-10) · 2^((k&1023)·2^-20). Tables of 1024 entries each (32 KiB together) stand
// in for the 2^20 boundaries of the finest scale.
func boundary(k int32) dd {
	t := boundaryTables()
	return mul(t[0][k>>10], t[1][k&1023])
}

// mul returns a·b; its error is below 2^-103 for factors in [1, 2) given to 2^-106.
func mul(a, b dd) dd {
	p := a.hi * b.hi
	e := math.FMA(a.hi, b.hi, -p) // the exact rounding error of p
	e += a.hi*b.lo + a.lo*b.hi
	hi := p + e
	return dd{hi, e - (hi - p)}
}

// boundaryTables holds 2^(j·2^-10) and 2^(j·2^-20) for j < 1024. They are computed with
// math/big on first use, which only a value within 2^-40 of a sub-bucket boundary needs.
var boundaryTables = sync.OnceValue(func() *[2][1024]dd {
	var t [2][1024]dd
	powers(&t[0], 10)
	powers(&t[1], 20)
	return &t
})

// powers fills t with 2^(j·2^-halvings), computed to 256 bits: root is 2 after halvings
// square roots, and each entry is the previous one times root, which loses under 2^-240.
func powers(t *[1024]dd, halvings int) {
	const prec = 256
	root := new(big.Float).SetPrec(prec).SetInt64(2)
	for range halvings {
		root.Sqrt(root)
	}
	x := new(big.Float).SetPrec(prec).SetInt64(1)
	rest := new(big.Float).SetPrec(prec)
	for j := range t {
		hi, _ := x.Float64()
		lo, _ := rest.Sub(x, big.NewFloat(hi)).Float64()
		t[j] = dd{hi, lo}
		x.Mul(x, root)
	}
}
