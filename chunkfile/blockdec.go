package chunkfile

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/doghouse-otel/doghouse/chunkfile/internal/enc"
)

// blockHead is the fixed start of a BLOCK payload, readable without decoding the columns.
type blockHead struct {
	minT, maxT int64
	nSeries    int
	nPoints    int
}

func readBlockHead(d *enc.Decbuf) blockHead {
	var h blockHead
	h.minT = enc.Unzig(d.Uvarint())
	h.maxT = h.minT + int64(d.Uvarint())
	h.nSeries = int(min(d.Uvarint(), 1<<62))
	h.nPoints = int(min(d.Uvarint(), 1<<62))
	return h
}

// span locates one series' points in a decodedBlock.
type span struct {
	id       uint64
	kind     Kind
	off, n   int
	kidx     int // index of the first point in the kind's slice (hist, exp, sum)
	hasStart bool
}

// decodedBlock is one decoded block. Its slices are reused by the next decode.
type decodedBlock struct {
	head  blockHead
	spans []span
	t     []int64
	start []int64
	num   []Number
	hist  []Histogram
	exp   []ExpHistogram
	sum   []Summary
}

// blockDecoder decodes BLOCK payloads; it keeps scratch buffers between blocks.
type blockDecoder struct {
	sd      enc.StreamDecoder
	hv      [10][]uint64
	hscr    []byte
	toks    [][]byte
	c       colDecoder
	ints    [16][]int64
	floats  [8][]float64
	scratch []int64
	out     decodedBlock
}

var errStructure = errors.New("block structure invalid")

// decoders keeps the block decoders readers released, for the next readers: a decoder keeps
// the columns of the largest block it decoded, which a new one would allocate (and zero) again;
// for a query over many files that costs more than the decoding. A sync.Pool would drop them
// at every garbage collection, which such a query triggers often. Up to maxIdleDecoders are
// kept, and only for decoderIdle after the last release, so an idle process does not hold them.
var decoders = &decoderCache{}

const (
	maxIdleDecoders = 8
	decoderIdle     = time.Minute
)

type decoderCache struct {
	mu    sync.Mutex
	idle  []*blockDecoder
	timer *time.Timer
}

func (c *decoderCache) get() *blockDecoder {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := len(c.idle); n > 0 {
		bd := c.idle[n-1]
		c.idle[n-1] = nil
		c.idle = c.idle[:n-1]
		return bd
	}
	return new(blockDecoder)
}

func (c *decoderCache) put(bd *blockDecoder) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.idle) >= maxIdleDecoders {
		return
	}
	c.idle = append(c.idle, bd)
	if c.timer == nil {
		c.timer = time.AfterFunc(decoderIdle, c.drop)
	} else {
		c.timer.Reset(decoderIdle)
	}
}

// drop lets the idle decoders go.
func (c *decoderCache) drop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.idle)
	c.idle = c.idle[:0]
}

// decode decodes payload given the kinds of the series defined so far. budget caps the values.
func (bd *blockDecoder) decode(payload []byte, kinds []Kind, budget int) (*decodedBlock, error) {
	d := enc.NewDecbuf(payload)
	h := readBlockHead(&d)
	if d.E != nil {
		return nil, d.E
	}
	if h.nSeries < 1 || h.nSeries > h.nPoints || h.nPoints > budget {
		return nil, fmt.Errorf("%w: %d series, %d points", errStructure, h.nSeries, h.nPoints)
	}
	// Header columns of per-series values: ids, counts, flags, ts modes, ts bases.
	for i := range 5 {
		bd.hv[i] = enc.ReadHcol(&d, &bd.sd, bd.hv[i], h.nSeries, &bd.hscr)
	}
	if d.E != nil {
		return nil, d.E
	}
	ids, counts, flags, tsModes := bd.hv[0], bd.hv[1], bd.hv[2], bd.hv[3]
	out := &bd.out
	out.head = h
	out.spans = out.spans[:0]
	var id uint64
	total, nSteps, nCols := 0, 0, 0
	for i := range h.nSeries {
		if i == 0 {
			id = ids[0]
		} else {
			id += ids[i] + 1
			if id <= ids[i] {
				return nil, fmt.Errorf("%w: series id overflow", errStructure)
			}
		}
		if id >= uint64(len(kinds)) {
			return nil, fmt.Errorf("%w: series %d is not defined", errStructure, id)
		}
		n := counts[i]
		if n == 0 || n > uint64(h.nPoints) || flags[i] > 5 || tsModes[i] > tsDod {
			return nil, fmt.Errorf("%w: series %d has count %d, flags %d, ts mode %d", errStructure, id, n, flags[i], tsModes[i])
		}
		if n > 1 && tsModes[i] != tsDelta {
			nSteps++
		}
		k := kinds[id]
		numType := flags[i] >> 1
		if numType > numMixed || (!k.isNumber() && numType != 0) {
			return nil, fmt.Errorf("%w: series %d flags %d", errStructure, id, flags[i])
		}
		nCols += int(flags[i] & 1)
		switch {
		case k.isNumber() && numType == numMixed:
			nCols += 3
		case k.isNumber():
			nCols++
		default:
			nCols += len(schemas[k])
		}
		out.spans = append(out.spans, span{id: id, kind: k, off: total, n: int(n), hasStart: flags[i]&1 != 0})
		total += int(n)
	}
	if total != h.nPoints {
		return nil, fmt.Errorf("%w: counts add up to %d, header says %d", errStructure, total, h.nPoints)
	}
	if nCols > budget {
		return nil, enc.ErrBudget
	}
	bd.hv[5] = enc.ReadHcol(&d, &bd.sd, bd.hv[5], nSteps, &bd.hscr)

	bd.hv[6] = enc.ReadHcol(&d, &bd.sd, bd.hv[6], nCols, &bd.hscr)
	if d.E != nil {
		return nil, d.E
	}
	nFirst, nSecond, nCluster := 0, 0, 0
	for _, m := range tsModes {
		if m != tsConst {
			nCluster++ // timestamp residuals have their cluster entry too
		}
	}
	for _, v := range bd.hv[6] {
		switch v & colModeMask {
		case colConst:
			nFirst++
		case colRaw:
			nCluster++
		case colDelta:
			nFirst++
			nCluster++
		case colDod:
			nFirst++
			nSecond++
			nCluster++
		case colXor:
			nFirst++
			nCluster++
		}
	}
	bd.hv[7] = enc.ReadHcol(&d, &bd.sd, bd.hv[7], nFirst, &bd.hscr)
	bd.hv[8] = enc.ReadHcol(&d, &bd.sd, bd.hv[8], nSecond, &bd.hscr)
	bd.hv[9] = enc.ReadHcol(&d, &bd.sd, bd.hv[9], nCluster, &bd.hscr)
	nClusters := d.Uvarint()
	if d.E != nil {
		return nil, d.E
	}
	if nClusters > 256 {
		return nil, fmt.Errorf("%w: %d clusters", errStructure, nClusters)
	}
	// Every residual is at most one token per value plus one per xor value: 2 * budget.
	tokBudget := 2 * budget
	for len(bd.toks) < int(nClusters) {
		bd.toks = append(bd.toks, nil)
	}
	bd.toks = bd.toks[:nClusters]
	for k := range bd.toks {
		bd.toks[k] = bd.sd.ReadStream(&d, bd.toks[k], tokBudget)
		tokBudget -= len(bd.toks[k])
	}
	extra := d.UvarintBytes()
	c := &bd.c
	*c = colDecoder{
		info: bd.hv[6], first: bd.hv[7], second: bd.hv[8], cluster: bd.hv[9],
		toks: bd.toks, tokPos: c.tokPos[:0], budget: budget - h.nPoints,
		raw64: c.raw64, planes: c.planes,
	}
	for range bd.toks {
		c.tokPos = append(c.tokPos, 0)
	}
	c.br.Reset(extra)
	c.raw64 = bd.sd.ReadStream(&d, c.raw64, 8*budget)
	for k := range c.planes {
		c.planes[k] = bd.sd.ReadStream(&d, c.planes[k], budget)
	}
	if d.E != nil {
		return nil, d.E
	}
	if d.Len() != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", errStructure, d.Len())
	}
	bd.decodeSeries(h)
	if c.err != nil {
		return nil, c.err
	}
	// Everything the header promised must be consumed exactly.
	if c.ci != len(c.info) || c.fi != len(c.first) || c.si != len(c.second) || c.ki != len(c.cluster) ||
		c.raw64Pos != len(c.raw64) || c.br.Overrun || c.br.Remaining() > 0 {
		return nil, fmt.Errorf("%w: unused header entries or residuals", errStructure)
	}
	for k, toks := range bd.toks {
		if c.tokPos[k] != len(toks) {
			return nil, fmt.Errorf("%w: unused residuals in stream %d", errStructure, k)
		}
	}
	for k := range c.planes {
		if c.planePos != len(c.planes[k]) {
			return nil, fmt.Errorf("%w: unused byte planes", errStructure)
		}
	}
	return out, nil
}

// decodeSeries decodes every series of the block in emission order.
func (bd *blockDecoder) decodeSeries(h blockHead) {
	out := &bd.out
	c := &bd.c
	out.t = growInts(out.t[:0], h.nPoints)
	// The number and start columns are appended to: give them their final size at once (the
	// point count is bounded by the reader's budget), so a large block is not copied while it
	// grows.
	nNum, anyStart := 0, false
	for i := range out.spans {
		if out.spans[i].kind.isNumber() {
			nNum += out.spans[i].n
		}
		anyStart = anyStart || out.spans[i].hasStart
	}
	out.num = slices.Grow(out.num[:0], nNum)
	out.start = out.start[:0]
	if anyStart {
		out.start = slices.Grow(out.start, h.nPoints)
	}
	out.hist, out.exp, out.sum = out.hist[:0], out.exp[:0], out.sum[:0]
	modes, bases, steps := bd.hv[3], bd.hv[4], bd.hv[5]
	si := 0
	for i := range out.spans {
		sp := &out.spans[i]
		ts := out.t[sp.off : sp.off+sp.n]
		step := int64(0)
		if sp.n > 1 && modes[i] != tsDelta {
			step = enc.Unzig(steps[si])
			si++
		}
		bd.timestamps(ts, h.minT+enc.Unzig(bases[i]), step, int(modes[i]))
		// Every timestamp lies in the header's range (the writer's minimum and maximum), so a
		// reader may trust that range for the whole block; checked here, while ts is in cache.
		for _, t := range ts {
			if t < h.minT || t > h.maxT {
				c.fail(fmt.Errorf("%w: series %d has a point at %d outside the block's range [%d, %d]", errStructure, sp.id, t, h.minT, h.maxT))
				return
			}
		}
		if sp.hasStart {
			if len(out.start) < sp.off {
				out.start = append(out.start, make([]int64, sp.off-len(out.start))...)
			}
			gaps := c.intCol(bd.ints[0][:0], sp.n)
			bd.ints[0] = gaps
			if c.err != nil {
				return
			}
			for j, g := range gaps {
				out.start = append(out.start, ts[j]-g)
			}
		}
		switch sp.kind {
		case KindGauge, KindSum:
			sp.kidx = len(out.num)
		case KindHistogram:
			sp.kidx = len(out.hist)
		case KindExpHistogram:
			sp.kidx = len(out.exp)
		case KindSummary:
			sp.kidx = len(out.sum)
		}
		switch sp.kind {
		case KindGauge, KindSum:
			bd.numbers(sp, int(bd.hv[2][i]>>1))
		case KindHistogram:
			bd.histograms(sp)
		case KindExpHistogram:
			bd.expHistograms(sp)
		case KindSummary:
			bd.summaries(sp)
		}
		if c.err != nil {
			return
		}
	}
	if len(out.start) > 0 && len(out.start) < h.nPoints {
		out.start = append(out.start, make([]int64, h.nPoints-len(out.start))...)
	}
}
