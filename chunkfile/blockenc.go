package chunkfile

import (
	"math"
	"slices"
	"unsafe"

	"github.com/doghouse-otel/doghouse/chunkfile/internal/enc"
)

// schemaCol names one column of a non-number kind: float or int, and its index in the
// seriesBuf column lists. The order is the emission order of docs/chunk-format.md section 5.
type schemaCol struct {
	float bool
	idx   int
}

var schemas = map[Kind][]schemaCol{
	KindHistogram: {{false, hFlags}, {false, hCount}, {true, hSum}, {true, hMin}, {true, hMax},
		{false, hNBounds}, {true, hBounds}, {false, hNCounts}, {false, hCounts}},
	KindExpHistogram: {{false, eFlags}, {false, eCount}, {true, eSum}, {true, eMin}, {true, eMax},
		{false, eScale}, {false, eZeroCount}, {true, eZeroThr}, {false, ePosOff}, {false, eNPos},
		{false, ePos}, {false, eNegOff}, {false, eNNeg}, {false, eNeg}},
	KindSummary: {{false, sCount}, {true, sSum}, {false, sNQ}, {true, sQ}, {true, sV}},
}

// Number types in sflags bits 1-2.
const (
	numInt   = 0
	numFloat = 1
	numMixed = 2
)

// blockIndex is one footer entry.
type blockIndex struct {
	off, size    int64
	minT, maxT   int64
	minID, maxID uint64
	nSeries      int
	nPoints      int
	checkpoint   bool // a CHECKPOINT frame (Index readers of unsealed files), never in a footer
}

// encodeBlock encodes the active series into w.body and returns the block's index entry
// (without offset and size).
func (w *Writer) encodeBlock() blockIndex {
	// Number series get their buffers from one slab for the time of the encoding: their
	// columns alias the sort arrays, so a buffer is only a header, and a block of many series
	// costs one allocation at most instead of one per series.
	n := len(w.activeNum)
	if cap(w.numSlab) < n {
		w.numSlab = make([]seriesBuf, n)
	}
	w.numSlab = w.numSlab[:n]
	for i, ref := range w.activeNum {
		b := &w.numSlab[i]
		*b = seriesBuf{id: uint64(ref), kind: w.kinds[ref]}
		w.series[ref] = b
		w.active = append(w.active, b)
	}
	w.activeNum = w.activeNum[:0]
	slices.SortFunc(w.active, func(a, b *seriesBuf) int {
		if a.id < b.id {
			return -1
		}
		return 1
	})
	w.sortNumbers()
	minT, maxT := int64(math.MaxInt64), int64(math.MinInt64)
	for _, b := range w.active {
		for _, t := range b.ts {
			minT = min(minT, t)
			maxT = max(maxT, t)
		}
	}
	c := &w.ce
	c.reset()
	ids, counts, flags := w.hv[0][:0], w.hv[1][:0], w.hv[2][:0]
	prev := uint64(0)
	for i, b := range w.active {
		if i == 0 {
			ids = append(ids, b.id)
		} else {
			ids = append(ids, b.id-prev-1)
		}
		prev = b.id
		counts = append(counts, uint64(len(b.ts)))
		c.timestamps(b.ts, minT)
		var f uint64
		if b.hasStart {
			f |= 1
			c.ints = c.ints[:0]
			for j, t := range b.ts {
				c.ints = append(c.ints, t-b.start[j])
			}
			c.intCol(c.ints, 0)
		}
		if b.kind.isNumber() {
			f |= w.encodeNumbers(b) << 1
		} else {
			for _, sc := range schemas[b.kind] {
				if sc.float {
					c.floatCol(b.fc[sc.idx])
				} else {
					c.intCol(b.ic[sc.idx], 0)
				}
			}
		}
		flags = append(flags, f)
	}
	w.hv[0], w.hv[1], w.hv[2] = ids, counts, flags

	d := w.body[:0]
	d = appendVarint(d, minT)
	d = enc.AppendUvarint(d, uint64(maxT-minT))
	d = enc.AppendUvarint(d, uint64(len(w.active)))
	d = enc.AppendUvarint(d, uint64(w.points))
	for _, col := range [][]uint64{ids, counts, flags, c.tsMode, c.tsBase, c.tsStep, c.info, c.first, c.second, c.cluster} {
		d = w.hw.Append(d, &w.sc, col)
	}
	d = enc.AppendUvarint(d, uint64(len(c.res.Tokens)))
	for _, toks := range c.res.Tokens {
		d = w.sc.AppendStream(d, toks)
	}
	ex := c.res.Extra.Bytes()
	d = enc.AppendUvarint(d, uint64(len(ex)))
	d = append(d, ex...)
	d = w.sc.AppendStream(d, c.raw64)
	for _, p := range c.planes {
		d = w.sc.AppendStream(d, p)
	}
	w.body = d
	return blockIndex{
		minT: minT, maxT: maxT,
		minID: w.active[0].id, maxID: w.active[len(w.active)-1].id,
		nSeries: len(w.active), nPoints: w.points,
	}
}

// sortNumbers distributes the logged number points into per-series columns (a stable
// counting sort by series, in block order) and points the series buffers at them.
func (w *Writer) sortNumbers() {
	n := w.log.len()
	if n == 0 {
		return
	}
	w.sortT = resize(w.sortT, n)
	w.sortV = resize(w.sortV, n)
	w.sortInt = resize(w.sortInt, n)
	if w.anyStart {
		w.sortStart = resize(w.sortStart, n)
	}
	pages := w.log.used()
	if w.anyStart {
		for _, page := range pages {
			for i := range page {
				if page[i].flags&logStart != 0 {
					w.series[page[i].ref].hasStart = true
				}
			}
		}
	}
	off := int32(0)
	for _, b := range w.active {
		if !b.kind.isNumber() {
			continue
		}
		c := w.cnt[b.id]
		w.cnt[b.id] = off
		end := off + c
		b.ts, b.num, b.numInt = w.sortT[off:end:end], w.sortV[off:end:end], w.sortInt[off:end:end]
		if b.hasStart {
			b.start = w.sortStart[off:end:end]
		}
		off = end
	}
	cnt, ts, vs, ints := w.cnt, w.sortT, w.sortV, w.sortInt
	if w.anyStart {
		k := 0
		for _, page := range pages {
			for i := range page {
				e := &page[i]
				p := cnt[e.ref]
				cnt[e.ref] = p + 1
				if e.flags&logStart != 0 {
					w.sortStart[p] = w.starts[k]
					k++
				} else {
					w.sortStart[p] = 0
				}
			}
		}
		for _, b := range w.active {
			if b.kind.isNumber() {
				w.cnt[b.id] -= int32(len(b.ts))
			}
		}
	}
	for _, page := range pages {
		for i := range page {
			e := &page[i]
			p := cnt[e.ref]
			cnt[e.ref] = p + 1
			ts[p], vs[p], ints[p] = e.t, e.v, e.flags&logInt != 0
		}
	}
	for _, b := range w.active {
		if b.kind.isNumber() {
			w.cnt[b.id] = int32(len(b.ts)) // counts again, so a failed flush can be retried
			b.nInt = 0
			for _, isInt := range b.numInt {
				if isInt {
					b.nInt++
				}
			}
		}
	}
}

// resize returns s with length n, reallocated with room to grow when it is too small: blocks
// of slowly growing size do not each allocate (and zero) a new array.
func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n, max(n, 2*cap(s)))
	}
	return s[:n]
}

// encodeNumbers encodes the value column(s) of a gauge or sum and returns its number type.
func (w *Writer) encodeNumbers(b *seriesBuf) uint64 {
	c := &w.ce
	switch b.nInt {
	case len(b.num):
		c.ints = c.ints[:0]
		for _, v := range b.num {
			c.ints = append(c.ints, int64(v))
		}
		c.intCol(c.ints, 0)
		return numInt
	case 0:
		c.floatCol(u64AsFloats(b.num))
		return numFloat
	}
	c.ints = c.ints[:0]
	for _, isInt := range b.numInt {
		if isInt {
			c.ints = append(c.ints, 1)
		} else {
			c.ints = append(c.ints, 0)
		}
	}
	c.intCol(c.ints, 0)
	c.ints = c.ints[:0]
	fs := make([]float64, 0, len(b.num)-b.nInt)
	for j, v := range b.num {
		if b.numInt[j] {
			c.ints = append(c.ints, int64(v))
		} else {
			fs = append(fs, math.Float64frombits(v))
		}
	}
	c.intCol(c.ints, 0)
	c.floatCol(fs)
	return numMixed
}

func appendVarint(dst []byte, v int64) []byte { return enc.AppendUvarint(dst, enc.Zig(v)) }

// u64AsFloats views float bit patterns as float64s without copying (same size and alignment).
func u64AsFloats(u []uint64) []float64 {
	if len(u) == 0 {
		return nil
	}
	return unsafe.Slice((*float64)(unsafe.Pointer(unsafe.SliceData(u))), len(u))
}
