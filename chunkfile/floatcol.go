package chunkfile

import (
	"fmt"
	"math"
	"math/bits"

	"github.com/doghouse-otel/doghouse/chunkfile/internal/enc"
)

// Float column encodings (decimal, xor, bytesplit, raw64), encoder and decoder side
// (docs/chunk-format.md 5).

// pow10 holds the exactly representable powers of ten used by decimal columns.
var pow10 = func() (p [maxDecimal + 1]float64) {
	v := 1.0
	for i := range p {
		p[i] = v
		v *= 10
	}
	return p
}()

// decimalExp returns the smallest exponent e such that every value is float64(n)/10^e for an
// integer n with |n| <= 2^53, writing the integers to dst. One pass in the common case: when a
// value needs a larger exponent, the pass restarts with it (exactness at e implies exactness at
// every larger e while |n| stays below 2^53, which the restart checks again).
func decimalExp(vs []float64, dst []int64) ([]int64, int, bool) {
	e := 0
	p := 1.0
restart:
	dst = dst[:0]
	for _, v := range vs {
		// The check decodes exactly as the reader does: float64(n) / 10^e.
		x := math.Round(v * p)
		if math.Abs(x) <= 1<<53 {
			if n := int64(x); math.Float64bits(float64(n)/p) == math.Float64bits(v) {
				dst = append(dst, n)
				continue
			}
		}
		if v != v || math.IsInf(v, 0) || (v == 0 && math.Signbit(v)) {
			return dst, 0, false
		}
		for {
			e++
			if e > maxDecimal {
				return dst, 0, false
			}
			p = pow10[e]
			x := math.Round(v * p)
			if math.Abs(x) <= 1<<53 && math.Float64bits(float64(int64(x))/p) == math.Float64bits(v) {
				goto restart
			}
		}
	}
	return dst, e, true
}

// floatCol encodes a float column: as decimal integers when exact, else by XOR, byte planes
// or raw bits, whichever is estimated smallest.
func (c *colEncoder) floatCol(vs []float64) {
	n := len(vs)
	if n == 0 {
		c.intCol(nil, 0)
		return
	}
	var ok bool
	var e int
	c.ints, e, ok = decimalExp(vs, c.ints)
	if ok {
		c.intCol(c.ints, e)
		return
	}
	c.u = c.u[:0]
	xorCost := 0
	prev := math.Float64bits(vs[0])
	var same [8]bool
	for k := range same {
		same[k] = true
	}
	for j := 1; j < n; j++ {
		b := math.Float64bits(vs[j])
		x := b ^ prev
		for k := range 8 {
			same[k] = same[k] && x>>(8*k)&0xff == 0
		}
		prev = b
		if x == 0 {
			c.u = append(c.u, 64)
			xorCost++
			continue
		}
		tz := uint(bits.TrailingZeros64(x))
		r := x >> tz >> 1
		c.u = append(c.u, uint64(tz), r)
		xorCost += enc.Cost(uint64(tz)) + enc.Cost(r)
	}
	splitCost := 0
	for k := range same {
		if !same[k] {
			splitCost += 8 * n
		}
	}
	switch {
	case xorCost <= splitCost && xorCost <= 64*n:
		c.info = append(c.info, colXor)
		c.first = append(c.first, math.Float64bits(vs[0]))
		c.put()
	case splitCost < 64*n:
		c.info = append(c.info, colBytesplit)
		for k := range 8 {
			sh := uint(56 - 8*k)
			p := c.planes[k]
			for _, v := range vs {
				p = append(p, byte(math.Float64bits(v)>>sh))
			}
			c.planes[k] = p
		}
	default:
		c.info = append(c.info, colRaw64)
		for _, v := range vs {
			c.raw64 = appendU64(c.raw64, math.Float64bits(v))
		}
	}
}

// floatCol decodes the next column, a float column of n values, appending to dst.
func (c *colDecoder) floatCol(dst []float64, n int, scratch *[]int64) []float64 {
	mode, zz, exp, ok := c.nextInfo()
	if !ok || !c.take(n) {
		return dst
	}
	start := len(dst)
	if mode <= colDod {
		ints := c.intVals((*scratch)[:0], n, mode, zz)
		*scratch = ints
		if c.err != nil {
			return dst
		}
		dst = growFloats(dst, n)
		out := dst[start:]
		p := pow10[exp]
		if exp == 0 {
			for j, x := range ints {
				out[j] = float64(x)
			}
		} else {
			for j, x := range ints {
				out[j] = float64(x) / p
			}
		}
		return dst
	}
	if zz || exp != 0 {
		c.fail(errMode)
		return dst
	}
	dst = growFloats(dst, n)
	out := dst[start:]
	switch mode {
	case colXor:
		bits := c.nextFirst()
		k := c.cluster
		if c.ki >= len(k) {
			c.fail(errColumns)
			return dst
		}
		cl := k[c.ki]
		c.ki++
		if n == 0 {
			return dst
		}
		out[0] = math.Float64frombits(bits)
		if n == 1 {
			return dst
		}
		if cl >= uint64(len(c.toks)) {
			c.fail(fmt.Errorf("cluster %d of %d", cl, len(c.toks)))
			return dst
		}
		toks, pos := c.toks[cl], c.tokPos[cl]
		for j := 1; j < n; j++ {
			if pos >= len(toks) {
				c.fail(errTokens)
				return dst
			}
			tz := c.tokenValue(toks[pos])
			pos++
			if tz < 64 {
				if pos >= len(toks) {
					c.fail(errTokens)
					return dst
				}
				r := c.tokenValue(toks[pos])
				pos++
				bits ^= (r<<1 | 1) << tz
			} else if tz > 64 {
				c.fail(errMode)
				return dst
			}
			out[j] = math.Float64frombits(bits)
		}
		c.tokPos[cl] = pos
	case colRaw64:
		if n*8 > len(c.raw64)-c.raw64Pos {
			c.fail(errTokens)
			return dst
		}
		for j := range out {
			out[j] = math.Float64frombits(le64(c.raw64[c.raw64Pos+8*j:]))
		}
		c.raw64Pos += 8 * n
	case colBytesplit:
		for k := range c.planes {
			if n > len(c.planes[k])-c.planePos {
				c.fail(errTokens)
				return dst
			}
		}
		for j := range out {
			var b uint64
			for k := range c.planes {
				b = b<<8 | uint64(c.planes[k][c.planePos+j])
			}
			out[j] = math.Float64frombits(b)
		}
		c.planePos += n
	default:
		c.fail(errMode)
	}
	return dst
}

func (c *colDecoder) tokenValue(t byte) uint64 {
	if t < 16 {
		return uint64(t)
	}
	nb := uint(t-16)>>2 + 2
	return (4|uint64(t&3))<<nb | c.br.Read(nb)
}

func le64(b []byte) uint64 {
	_ = b[7]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}
