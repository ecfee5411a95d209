package chunkfile

import (
	"math"

	"github.com/doghouse-otel/doghouse/chunkfile/internal/enc"
)

// Timestamp encodings, encoder and decoder side (docs/chunk-format.md 4.1).

// Timestamp modes (docs/chunk-format.md 4.1).
const (
	tsConst = 0
	tsGrid  = 1
	tsDelta = 2
	tsDod   = 3
)

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

func (bd *blockDecoder) timestamps(ts []int64, base, step int64, mode int) {
	c := &bd.c
	n := len(ts)
	switch mode {
	case tsConst:
		t := base
		for j := range ts {
			ts[j] = t
			t += step
		}
	case tsGrid:
		u := bd.resid(n)
		c.readResiduals(u)
		t := base
		for j := range ts {
			ts[j] = t + int64(u[j])
			t += step
		}
	case tsDelta:
		ts[0] = base
		d := bd.resid(n - 1)
		c.readResiduals(d)
		t := base
		for j := 1; j < n; j++ {
			t += enc.Unzig(d[j-1])
			ts[j] = t
		}
	case tsDod:
		ts[0] = base
		m := max(n-2, 0)
		d := bd.resid(m)
		c.readResiduals(d)
		if n == 1 {
			return
		}
		t := base + step
		ts[1] = t
		for j := 2; j < n; j++ {
			step += enc.Unzig(d[j-2])
			t += step
			ts[j] = t
		}
	}
}

// resid returns a residual scratch slice of length n.
func (bd *blockDecoder) resid(n int) []uint64 {
	if cap(bd.c.tmp) < n {
		bd.c.tmp = make([]uint64, n)
	}
	return bd.c.tmp[:n]
}
