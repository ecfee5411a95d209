package exphist

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// TestIndexOfPowersOfTwo: 2^k is the upper bound of bucket ceil(k·2^scale)-1, for every
// normal and subnormal power of two at every scale.
func TestIndexOfPowersOfTwo(t *testing.T) {
	for s := int32(MinScale); s <= MaxScale; s++ {
		for k := -1074; k <= 1023; k++ {
			want := int32(math.Ceil(math.Ldexp(float64(k), int(s)))) - 1
			if got := index(math.Ldexp(1, k), s); got != want {
				t.Fatalf("index(2^%d, %d) = %d, want %d", k, s, got, want)
			}
		}
	}
}

// TestIndexMatchesExactReference compares index with the oracle at every scale: for values
// spread over all positive float64s (subnormals included), for the extremes, and for the
// floats nearest to sub-bucket boundaries, where a logarithm alone is off by one.
func TestIndexMatchesExactReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	extremes := []float64{
		math.SmallestNonzeroFloat64, math.Float64frombits(0x000f_ffff_ffff_ffff), // largest subnormal
		0x1p-1022, 1, math.Nextafter(1, 2), math.Nextafter(2, 1), 3, math.MaxFloat64,
	}
	for s := int32(MinScale); s <= MaxScale; s++ {
		values := append([]float64(nil), extremes...)
		for range 150 {
			values = append(values, math.Float64frombits(1+rng.Uint64N(math.Float64bits(math.MaxFloat64))))
		}
		if s > 0 {
			for range 60 {
				// A boundary 2^(n·2^-s) of a random octave, and the floats around it.
				n := 1 + rng.Int64N(1<<s-1)
				b := math.Ldexp(math.Exp2(float64(n)/float64(int64(1)<<s)), rng.IntN(2000)-1000)
				for _, v := range []float64{math.Nextafter(math.Nextafter(b, 0), 0), math.Nextafter(b, 0), b, math.Nextafter(b, 4), math.Nextafter(math.Nextafter(b, 4), 4)} {
					values = append(values, v)
				}
			}
		}
		for _, v := range values {
			if got, want := index(v, s), refIndex(v, s); got != want {
				t.Fatalf("index(%b, %d) = %d, want %d", v, s, got, want)
			}
		}
	}
}

// TestBoundaryTableSeparation checks the claim exactness rests on: every sub-bucket boundary
// 2^(k·2^-20), 0 < k < 2^20, is further than 2^-100 from its nearest float64 (|lo| of its
// double-double), and boundary() is within 2^-100 of it (checked exactly for the table entries
// and a sample of their products).
func TestBoundaryTableSeparation(t *testing.T) {
	for k := int32(1); k < 1<<MaxScale; k++ {
		b := boundary(k)
		if !(b.hi > 1 && b.hi < 2) || math.Abs(b.lo) <= 0x1p-100 {
			t.Fatalf("boundary %d = %b + %b: within 2^-100 of a float64", k, b.hi, b.lo)
		}
	}
	rng := rand.New(rand.NewPCG(13, 14))
	var ks []int32
	for j := range int32(1024) {
		ks = append(ks, j<<10, j)
	}
	for range 300 {
		ks = append(ks, rng.Int32N(1<<MaxScale))
	}
	for _, k := range ks {
		b := boundary(k)
		v := new(big.Float).SetPrec(256).SetFloat64(b.hi)
		v.Add(v, big.NewFloat(b.lo))
		eps := big.NewFloat(0x1p-100)
		below := new(big.Float).SetPrec(256).Sub(v, eps)
		above := new(big.Float).SetPrec(256).Add(v, eps)
		// below^(2^20) < 2^k < above^(2^20), each power rounded away from 2^k.
		if !powCmp(below, k, big.ToPositiveInf, -1) || !powCmp(above, k, big.ToNegativeInf, 1) {
			t.Fatalf("boundary %d = %b + %b is not within 2^-100 of 2^(%d·2^-20)", k, b.hi, b.lo, k)
		}
	}
}

// powCmp reports whether x^(2^20), rounded by mode, compares with 2^k as want (-1 or 1).
func powCmp(x *big.Float, k int32, mode big.RoundingMode, want int) bool {
	p := new(big.Float).SetPrec(512).SetMode(mode).Set(x)
	for range MaxScale {
		p.Mul(p, p)
	}
	return p.Cmp(new(big.Float).SetMantExp(big.NewFloat(1), int(k))) == want
}
