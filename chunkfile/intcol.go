package chunkfile

import (
	"math"

	"github.com/doghouse-otel/doghouse/chunkfile/internal/enc"
)

// Integer column encodings (const, raw, delta, delta-of-delta), encoder and decoder side
// (docs/chunk-format.md 5). Decimal float columns use them on their scaled integers.

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

// intCol decodes the next column, an integer column of n values, appending to dst.
func (c *colDecoder) intCol(dst []int64, n int) []int64 {
	mode, zz, exp, ok := c.nextInfo()
	if !ok || !c.take(n) {
		return dst
	}
	if mode > colDod || exp != 0 {
		c.fail(errMode)
		return dst
	}
	return c.intVals(dst, n, mode, zz)
}

// intVals decodes a column of n integers in the given mode, appending to dst. It consumes the
// column's header entries (first, second, cluster) whatever n is.
func (c *colDecoder) intVals(dst []int64, n int, mode int, zz bool) []int64 {
	start := len(dst)
	dst = growInts(dst, n)
	out := dst[start:]
	switch mode {
	case colConst:
		v := enc.Unzig(c.nextFirst())
		for j := range out {
			out[j] = v
		}
	case colRaw:
		c.readInto(out, zz)
	case colDelta:
		v := enc.Unzig(c.nextFirst())
		if n == 0 {
			c.readInto(nil, zz)
			break
		}
		out[0] = v
		c.readInto(out[1:], zz)
		for j := 1; j < n; j++ {
			v += out[j]
			out[j] = v
		}
	case colDod:
		v := enc.Unzig(c.nextFirst())
		d := enc.Unzig(c.nextSecond())
		if n <= 1 {
			c.readInto(nil, true)
			if n == 1 {
				out[0] = v
			}
			break
		}
		out[0] = v
		v += d
		out[1] = v
		c.readInto(out[2:], true)
		for j := 2; j < n; j++ {
			d += out[j]
			v += d
			out[j] = v
		}
	default:
		c.fail(errMode)
	}
	return dst
}

// readInto decodes len(out) residuals into out, unzigzagging them if zz. The extra-bit reader
// state lives in locals in the loop; this loop is most of the decode time.
func (c *colDecoder) readInto(out []int64, zz bool) {
	toks, _, _ := c.residuals(len(out))
	if c.err != nil || len(out) == 0 {
		return
	}
	out = out[:len(toks)]
	br := &c.br
	acc, n := br.Acc, br.N
	for j, t := range toks {
		u := uint64(t)
		if t >= 16 {
			nb := uint(t-16)>>2 + 2
			if n < nb {
				br.Acc, br.N = acc, n
				if nb > 56 {
					u = (4|uint64(t&3))<<nb | br.Read(nb)
					acc, n = br.Acc, br.N
					out[j] = unzz(u, zz)
					continue
				}
				br.Ensure(nb)
				acc, n = br.Acc, br.N
			}
			u = (4|uint64(t&3))<<nb | acc&(1<<nb-1)
			acc >>= nb
			n -= nb
		}
		out[j] = unzz(u, zz)
	}
	br.Acc, br.N = acc, n
}

func unzz(u uint64, zz bool) int64 {
	if zz {
		return int64(u>>1) ^ -int64(u&1)
	}
	return int64(u)
}
