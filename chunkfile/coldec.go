package chunkfile

import (
	"errors"
	"fmt"

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
