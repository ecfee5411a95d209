package chunkfile

import (
	"math"
	"math/bits"

	"github.com/doghouse-otel/doghouse/chunkfile/internal/enc"
)

// Timestamp modes (docs/chunk-format.md 4.1).
const (
	tsConst = 0
	tsGrid  = 1
	tsDelta = 2
	tsDod   = 3
)

// Column modes (docs/chunk-format.md 5).
const (
	colConst     = 0
	colRaw       = 1
	colDelta     = 2
	colDod       = 3
	colXor       = 4
	colRaw64     = 5
	colBytesplit = 6
	colModeMask  = 7
	colZZ        = 8
	maxDecimal   = 18
)

// pow10 holds the exactly representable powers of ten used by decimal columns.
var pow10 = func() (p [maxDecimal + 1]float64) {
	v := 1.0
	for i := range p {
		p[i] = v
		v *= 10
	}
	return p
}()

// colEncoder turns the timestamps and columns of one series into header column entries and
// residuals. It belongs to one blockEncoder.
type colEncoder struct {
	res     enc.Residuals
	tsMode  []uint64
	tsBase  []uint64
	tsStep  []uint64
	info    []uint64
	first   []uint64
	second  []uint64
	cluster []uint64
	raw64   []byte
	planes  [8][]byte
	u       []uint64 // residual scratch
	est     estimator
	ints    []int64 // decimal scratch
}

func (c *colEncoder) reset() {
	c.res.Reset()
	c.tsMode, c.tsBase, c.tsStep = c.tsMode[:0], c.tsBase[:0], c.tsStep[:0]
	c.info, c.first, c.second, c.cluster = c.info[:0], c.first[:0], c.second[:0], c.cluster[:0]
	c.raw64 = c.raw64[:0]
	for i := range c.planes {
		c.planes[i] = c.planes[i][:0]
	}
}

// put sends the residuals in c.u to the cluster that fits them and records the cluster.
func (c *colEncoder) put() { c.putKey(false) }

func (c *colEncoder) putKey(timestamps bool) {
	k := c.res.Cluster(enc.ClusterKey(c.u, timestamps))
	c.cluster = append(c.cluster, uint64(k))
	c.res.Put(k, c.u)
}

// timestamps encodes ts (non-empty) relative to the block's minT.
func (c *colEncoder) timestamps(ts []int64, minT int64) {
	n := len(ts)
	t0 := ts[0]
	if n == 1 {
		c.tsMode = append(c.tsMode, tsConst)
		c.tsBase = append(c.tsBase, enc.Zig(t0-minT))
		return
	}
	d0 := ts[1] - t0
	regular := true
	for j := 2; j < n && regular; j++ {
		regular = ts[j]-ts[j-1] == d0
	}
	if regular {
		c.tsMode = append(c.tsMode, tsConst)
		c.tsBase = append(c.tsBase, enc.Zig(t0-minT))
		c.tsStep = append(c.tsStep, enc.Zig(d0))
		return
	}
	// Grid: the rounded mean step and the lowest base that keeps residuals non-negative.
	span := ts[n-1] - t0
	step := span / int64(n-1)
	if r := span % int64(n-1); 2*r >= int64(n-1) {
		step++
	}
	base := t0
	for j := 1; j < n; j++ {
		if b := ts[j] - int64(j)*step; b < base {
			base = b
		}
	}
	e := &c.est
	e.start()
	for j := range n {
		e.add(0, uint64(ts[j]-int64(j)*step-base))
		if j > 0 {
			e.add(1, enc.Zig(ts[j]-ts[j-1]))
		}
	}
	gridCost, deltaCost, dodCost := e.total(0), e.total(1), math.Inf(1)
	if deltaCost < gridCost { // as for values: dod is tried only where delta beats grid
		prev := d0
		for j := 2; j < n; j++ {
			d := ts[j] - ts[j-1]
			e.add(2, enc.Zig(d-prev))
			prev = d
		}
		dodCost = e.total(2)
	}
	c.u = c.u[:0]
	switch {
	case gridCost <= deltaCost && gridCost <= dodCost:
		c.tsMode = append(c.tsMode, tsGrid)
		c.tsBase = append(c.tsBase, enc.Zig(base-minT))
		c.tsStep = append(c.tsStep, enc.Zig(step))
		for j := range n {
			c.u = append(c.u, uint64(ts[j]-int64(j)*step-base))
		}
	case dodCost < deltaCost:
		c.tsMode = append(c.tsMode, tsDod)
		c.tsBase = append(c.tsBase, enc.Zig(t0-minT))
		c.tsStep = append(c.tsStep, enc.Zig(d0))
		prev := d0
		for j := 2; j < n; j++ {
			d := ts[j] - ts[j-1]
			c.u = append(c.u, enc.Zig(d-prev))
			prev = d
		}
	default:
		c.tsMode = append(c.tsMode, tsDelta)
		c.tsBase = append(c.tsBase, enc.Zig(t0-minT))
		for j := 1; j < n; j++ {
			c.u = append(c.u, enc.Zig(ts[j]-ts[j-1]))
		}
	}
	c.putKey(true)
}

// intCol encodes an integer column; exp is the decimal exponent when the column holds scaled
// floats (0 for int columns).
func (c *colEncoder) intCol(vs []int64, exp int) {
	n := len(vs)
	if n == 0 {
		c.info = append(c.info, colRaw)
		c.cluster = append(c.cluster, 0)
		return
	}
	x := uint64(exp) << 4
	v0 := vs[0]
	// Candidate residuals: raw (unsigned when no value is negative), delta (likewise), dod.
	rawNeg, dNeg, equal := false, false, true
	for j, v := range vs {
		rawNeg = rawNeg || v < 0
		if j > 0 {
			d := v - vs[j-1]
			equal = equal && d == 0
			dNeg = dNeg || d < 0
		}
	}
	if equal {
		c.info = append(c.info, colConst|x)
		c.first = append(c.first, enc.Zig(v0))
		return
	}
	// Estimate raw and delta in one pass, and dod only when delta beats raw: the series where
	// dod pays (smooth trends) are those where delta already beats raw, and skipping it
	// elsewhere saves a third of the estimation. The chosen residuals are rebuilt afterwards.
	e := &c.est
	e.start()
	for j, v := range vs {
		r := uint64(v)
		if rawNeg {
			r = enc.Zig(v)
		}
		e.add(0, r)
		if j == 0 {
			continue
		}
		d := v - vs[j-1]
		u := uint64(d)
		if dNeg {
			u = enc.Zig(d)
		}
		e.add(1, u)
	}
	rawCost := e.total(0)
	dCost := e.total(1) + headerBits(enc.Zig(v0))
	ddCost := math.Inf(1)
	if n >= 3 && dCost < rawCost {
		prev := vs[1] - v0
		for j := 2; j < n; j++ {
			d := vs[j] - vs[j-1]
			e.add(2, enc.Zig(d-prev))
			prev = d
		}
		ddCost = e.total(2) + headerBits(enc.Zig(v0)) + headerBits(enc.Zig(vs[1]-v0))
	}
	c.u = c.u[:0]
	switch {
	case ddCost < dCost && ddCost < rawCost:
		c.info = append(c.info, colDod|colZZ|x)
		c.first = append(c.first, enc.Zig(v0))
		c.second = append(c.second, enc.Zig(vs[1]-v0))
		prev := vs[1] - v0
		for j := 2; j < n; j++ {
			d := vs[j] - vs[j-1]
			c.u = append(c.u, enc.Zig(d-prev))
			prev = d
		}
	case dCost < rawCost:
		c.first = append(c.first, enc.Zig(v0))
		if dNeg {
			c.info = append(c.info, colDelta|colZZ|x)
		} else {
			c.info = append(c.info, colDelta|x)
		}
		for j := 1; j < n; j++ {
			d := vs[j] - vs[j-1]
			if dNeg {
				c.u = append(c.u, enc.Zig(d))
			} else {
				c.u = append(c.u, uint64(d))
			}
		}
	default:
		if rawNeg {
			c.info = append(c.info, colRaw|colZZ|x)
		} else {
			c.info = append(c.info, colRaw|x)
		}
		for _, v := range vs {
			if rawNeg {
				c.u = append(c.u, enc.Zig(v))
			} else {
				c.u = append(c.u, uint64(v))
			}
		}
	}
	c.put()
}

// uintCol encodes counts (uint64 stored as int64 bit patterns).
func (c *colEncoder) uintCol(vs []uint64) {
	c.ints = c.ints[:0]
	for _, v := range vs {
		c.ints = append(c.ints, int64(v))
	}
	c.intCol(c.ints, 0)
}

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
