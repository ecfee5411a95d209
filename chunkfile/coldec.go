package chunkfile

import (
	"errors"
	"fmt"
	"math"

	"github.com/doghouse-otel/doghouse/chunkfile/internal/enc"
)

var (
	errTokens  = errors.New("residual stream exhausted")
	errColumns = errors.New("column header list exhausted")
	errMode    = errors.New("invalid column mode")
)

// colDecoder hands out decoded columns of one block in emission order.
type colDecoder struct {
	info, first, second, cluster []uint64
	ci, fi, si, ki               int
	toks                         [][]byte
	tokPos                       []int
	br                           enc.BitReader
	raw64                        []byte
	raw64Pos                     int
	planes                       [8][]byte
	planePos                     int
	budget                       int
	tmp                          []uint64
	err                          error
}

func (c *colDecoder) fail(err error) {
	if c.err == nil {
		c.err = err
	}
}

// take reserves n values of the block's value budget.
func (c *colDecoder) take(n int) bool {
	if c.err != nil {
		return false
	}
	if n < 0 || n > c.budget {
		c.fail(enc.ErrBudget)
		return false
	}
	c.budget -= n
	return true
}

func (c *colDecoder) nextInfo() (mode int, zz bool, exp int, ok bool) {
	if c.err != nil {
		return 0, false, 0, false
	}
	if c.ci >= len(c.info) {
		c.fail(errColumns)
		return 0, false, 0, false
	}
	v := c.info[c.ci]
	c.ci++
	if v>>4 > maxDecimal {
		c.fail(errMode)
		return 0, false, 0, false
	}
	return int(v & colModeMask), v&colZZ != 0, int(v >> 4), true
}

func (c *colDecoder) nextFirst() uint64 {
	if c.fi >= len(c.first) {
		c.fail(errColumns)
		return 0
	}
	c.fi++
	return c.first[c.fi-1]
}

func (c *colDecoder) nextSecond() uint64 {
	if c.si >= len(c.second) {
		c.fail(errColumns)
		return 0
	}
	c.si++
	return c.second[c.si-1]
}

// residuals returns the cluster stream for the next column with m residuals, and the
// position of its first token.
func (c *colDecoder) residuals(m int) ([]byte, int, int) {
	if c.ki >= len(c.cluster) {
		c.fail(errColumns)
		return nil, 0, 0
	}
	k := c.cluster[c.ki]
	c.ki++
	if m == 0 {
		return nil, 0, 0
	}
	if k >= uint64(len(c.toks)) {
		c.fail(fmt.Errorf("cluster %d of %d", k, len(c.toks)))
		return nil, 0, 0
	}
	toks, pos := c.toks[k], c.tokPos[k]
	if m > len(toks)-pos {
		c.fail(errTokens)
		return nil, 0, 0
	}
	c.tokPos[k] = pos + m
	return toks[pos : pos+m], int(k), pos
}

// readResiduals decodes m residuals into dst (len m).
func (c *colDecoder) readResiduals(dst []uint64) {
	toks, _, _ := c.residuals(len(dst))
	if c.err != nil {
		return
	}
	br := &c.br
	for j, t := range toks[:len(dst)] {
		if t < 16 {
			dst[j] = uint64(t)
			continue
		}
		nb := uint(t-16)>>2 + 2
		dst[j] = (4|uint64(t&3))<<nb | br.Read(nb)
	}
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

// extra rebuilds the value of token t >= 16 from the shared extra bit stream.
func (c *colDecoder) extra(t byte) uint64 {
	nb := uint(t-16)>>2 + 2
	return (4|uint64(t&3))<<nb | c.br.Read(nb)
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

func growInts(s []int64, n int) []int64 {
	if cap(s)-len(s) < n {
		ns := make([]int64, len(s), 2*cap(s)+n)
		copy(ns, s)
		s = ns
	}
	return s[:len(s)+n]
}

func growFloats(s []float64, n int) []float64 {
	if cap(s)-len(s) < n {
		ns := make([]float64, len(s), 2*cap(s)+n)
		copy(ns, s)
		s = ns
	}
	return s[:len(s)+n]
}
