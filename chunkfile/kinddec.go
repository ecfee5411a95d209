package chunkfile

import (
	"fmt"

	"github.com/doghouse-otel/doghouse/chunkfile/internal/enc"
)

// Assembly of points of each kind from their decoded columns (docs/chunk-format.md section 5).

func (bd *blockDecoder) numbers(sp *span, numType int) {
	c := &bd.c
	out := &bd.out
	switch numType {
	case numInt:
		vs := c.intCol(bd.ints[0][:0], sp.n)
		bd.ints[0] = vs
		for _, v := range vs {
			out.num = append(out.num, Number{Int: v, IsInt: true})
		}
	case numFloat:
		vs := c.floatCol(bd.floats[0][:0], sp.n, &bd.scratch)
		bd.floats[0] = vs
		for _, v := range vs {
			out.num = append(out.num, Number{Float: v})
		}
	default:
		isInt := c.intCol(bd.ints[0][:0], sp.n)
		bd.ints[0] = isInt
		nInt := 0
		for _, v := range isInt {
			if v != 0 && v != 1 {
				c.fail(errMode)
				return
			}
			nInt += int(v)
		}
		ints := c.intCol(bd.ints[1][:0], nInt)
		bd.ints[1] = ints
		fs := c.floatCol(bd.floats[0][:0], sp.n-nInt, &bd.scratch)
		bd.floats[0] = fs
		if c.err != nil {
			return
		}
		ii, fi := 0, 0
		for _, v := range isInt {
			if v == 1 {
				out.num = append(out.num, Number{Int: ints[ii], IsInt: true})
				ii++
			} else {
				out.num = append(out.num, Number{Float: fs[fi]})
				fi++
			}
		}
	}
}

// sumLens adds up non-negative lengths, failing on negative ones or past the budget.
func (c *colDecoder) sumLens(vs []int64) int {
	s := 0
	for _, v := range vs {
		if v < 0 || v > int64(c.budget) {
			c.fail(enc.ErrBudget)
			return 0
		}
		s += int(v)
		if s > c.budget {
			c.fail(enc.ErrBudget)
			return 0
		}
	}
	return s
}

func countFlag(flags []int64, f int64) int {
	n := 0
	for _, v := range flags {
		if v&f != 0 {
			n++
		}
	}
	return n
}

func (bd *blockDecoder) opt(flags []int64) (sum, mn, mx []float64) {
	c := &bd.c
	bd.floats[0] = c.floatCol(bd.floats[0][:0], countFlag(flags, flagSum), &bd.scratch)
	bd.floats[1] = c.floatCol(bd.floats[1][:0], countFlag(flags, flagMin), &bd.scratch)
	bd.floats[2] = c.floatCol(bd.floats[2][:0], countFlag(flags, flagMax), &bd.scratch)
	return bd.floats[0], bd.floats[1], bd.floats[2]
}

func toCounts(vs []int64) []uint64 {
	out := make([]uint64, len(vs))
	for i, v := range vs {
		out[i] = uint64(v)
	}
	return out
}

func (bd *blockDecoder) histograms(sp *span) {
	c := &bd.c
	flags := c.intCol(bd.ints[0][:0], sp.n)
	bd.ints[0] = flags
	for _, f := range flags {
		if f < 0 || f > 15 {
			c.fail(errMode)
			return
		}
	}
	count := c.intCol(bd.ints[1][:0], sp.n)
	bd.ints[1] = count
	sum, mn, mx := bd.opt(flags)
	nb := c.intCol(bd.ints[2][:0], countFlag(flags, flagBounds))
	bd.ints[2] = nb
	bounds := c.floatCol(bd.floats[3][:0], c.sumLens(nb), &bd.scratch)
	bd.floats[3] = bounds
	nc := c.intCol(bd.ints[3][:0], sp.n)
	bd.ints[3] = nc
	counts := c.intCol(bd.ints[4][:0], c.sumLens(nc))
	bd.ints[4] = counts
	if c.err != nil {
		return
	}
	if sp.n > 0 && flags[0]&flagBounds == 0 {
		c.fail(fmt.Errorf("%w: first histogram point without bounds", errStructure))
		return
	}
	allBounds := append([]float64(nil), bounds...)
	allCounts := toCounts(counts)
	var cur []float64
	si, mi, xi, bi, bo, co := 0, 0, 0, 0, 0, 0
	for j := range sp.n {
		f := flags[j]
		h := Histogram{Count: uint64(count[j])}
		if f&flagSum != 0 {
			h.Sum, h.HasSum = sum[si], true
			si++
		}
		if f&flagMin != 0 {
			h.Min, h.HasMin = mn[mi], true
			mi++
		}
		if f&flagMax != 0 {
			h.Max, h.HasMax = mx[xi], true
			xi++
		}
		if f&flagBounds != 0 {
			cur = allBounds[bo : bo+int(nb[bi]) : bo+int(nb[bi])]
			bo += int(nb[bi])
			bi++
		}
		h.Bounds = cur
		h.Counts = allCounts[co : co+int(nc[j]) : co+int(nc[j])]
		co += int(nc[j])
		bd.out.hist = append(bd.out.hist, h)
	}
}

func (bd *blockDecoder) expHistograms(sp *span) {
	c := &bd.c
	n := sp.n
	flags := c.intCol(bd.ints[0][:0], n)
	bd.ints[0] = flags
	for _, f := range flags {
		if f < 0 || f > 7 {
			c.fail(errMode)
			return
		}
	}
	count := c.intCol(bd.ints[1][:0], n)
	bd.ints[1] = count
	sum, mn, mx := bd.opt(flags)
	scale := c.intCol(bd.ints[2][:0], n)
	bd.ints[2] = scale
	zc := c.intCol(bd.ints[3][:0], n)
	bd.ints[3] = zc
	zt := c.floatCol(bd.floats[3][:0], n, &bd.scratch)
	bd.floats[3] = zt
	posOff := c.intCol(bd.ints[4][:0], n)
	bd.ints[4] = posOff
	nPos := c.intCol(bd.ints[5][:0], n)
	bd.ints[5] = nPos
	pos := c.intCol(bd.ints[6][:0], c.sumLens(nPos))
	bd.ints[6] = pos
	negOff := c.intCol(bd.ints[7][:0], n)
	bd.ints[7] = negOff
	nNeg := c.intCol(bd.ints[8][:0], n)
	bd.ints[8] = nNeg
	neg := c.intCol(bd.ints[9][:0], c.sumLens(nNeg))
	bd.ints[9] = neg
	if c.err != nil {
		return
	}
	posC, negC := toCounts(pos), toCounts(neg)
	si, mi, xi, po, no := 0, 0, 0, 0, 0
	for j := range n {
		f := flags[j]
		h := ExpHistogram{Count: uint64(count[j]), Scale: int32(scale[j]), ZeroCount: uint64(zc[j]), ZeroThreshold: zt[j]}
		if f&flagSum != 0 {
			h.Sum, h.HasSum = sum[si], true
			si++
		}
		if f&flagMin != 0 {
			h.Min, h.HasMin = mn[mi], true
			mi++
		}
		if f&flagMax != 0 {
			h.Max, h.HasMax = mx[xi], true
			xi++
		}
		h.Positive = Buckets{Offset: int32(posOff[j]), Counts: posC[po : po+int(nPos[j]) : po+int(nPos[j])]}
		po += int(nPos[j])
		h.Negative = Buckets{Offset: int32(negOff[j]), Counts: negC[no : no+int(nNeg[j]) : no+int(nNeg[j])]}
		no += int(nNeg[j])
		bd.out.exp = append(bd.out.exp, h)
	}
}

func (bd *blockDecoder) summaries(sp *span) {
	c := &bd.c
	n := sp.n
	count := c.intCol(bd.ints[0][:0], n)
	bd.ints[0] = count
	sum := c.floatCol(bd.floats[0][:0], n, &bd.scratch)
	bd.floats[0] = sum
	nq := c.intCol(bd.ints[1][:0], n)
	bd.ints[1] = nq
	total := c.sumLens(nq)
	qs := c.floatCol(bd.floats[1][:0], total, &bd.scratch)
	bd.floats[1] = qs
	vs := c.floatCol(bd.floats[2][:0], total, &bd.scratch)
	bd.floats[2] = vs
	if c.err != nil {
		return
	}
	all := make([]Quantile, total)
	for i := range all {
		all[i] = Quantile{Q: qs[i], V: vs[i]}
	}
	o := 0
	for j := range n {
		k := int(nq[j])
		bd.out.sum = append(bd.out.sum, Summary{Count: uint64(count[j]), Sum: sum[j], Quantiles: all[o : o+k : o+k]})
		o += k
	}
}
