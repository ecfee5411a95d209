package chunkfile

import (
	"fmt"
	"math"
	"slices"
)

// Column indexes of the non-number kinds in seriesBuf.ic / seriesBuf.fc, in the schema order of
// docs/chunk-format.md section 5.
const (
	hFlags, hCount, hNBounds, hNCounts, hCounts = 0, 1, 2, 3, 4 // histogram ints
	hSum, hMin, hMax, hBounds                   = 0, 1, 2, 3    // histogram floats

	eFlags, eCount, eScale, eZeroCount, ePosOff, eNPos, ePos, eNegOff, eNNeg, eNeg = 0, 1, 2, 3, 4, 5, 6, 7, 8, 9
	eSum, eMin, eMax, eZeroThr                                                     = 0, 1, 2, 3

	sCount, sNQ  = 0, 1
	sSum, sQ, sV = 0, 1, 2

	flagSum    = 1
	flagMin    = 2
	flagMax    = 4
	flagBounds = 8
)

// columnCounts gives the int and float column counts of each non-number kind.
func columnCounts(k Kind) (ints, floats int) {
	switch k {
	case KindHistogram:
		return 5, 4
	case KindExpHistogram:
		return 10, 4
	case KindSummary:
		return 2, 3
	}
	return 0, 0
}

// maxFreeBufs bounds a writer's spare column buffers per kind: a block of many series leaves
// the rest to the garbage collector.
const maxFreeBufs = 1024

// seriesBuf holds the points of one series in the current block, already split into columns.
type seriesBuf struct {
	id       uint64
	kind     Kind
	ts       []int64
	start    []int64 // used once hasStart: a point of the block has a start time
	hasStart bool
	num      []uint64
	numInt   []bool
	nInt     int
	ic       [][]int64
	fc       [][]float64
	lastBnd  []float64
	hasLast  bool
	nValues  int
}

func (b *seriesBuf) reset() {
	b.ts = b.ts[:0]
	b.start, b.hasStart = b.start[:0], false
	b.num, b.numInt, b.nInt = b.num[:0], b.numInt[:0], 0
	for i := range b.ic {
		b.ic[i] = b.ic[i][:0]
	}
	for i := range b.fc {
		b.fc[i] = b.fc[i][:0]
	}
	b.hasLast = false
	b.nValues = 0
}

func (b *seriesBuf) addTime(t, start int64) {
	if start != 0 && !b.hasStart {
		b.hasStart = true
		b.start = append(b.start[:0], make([]int64, len(b.ts))...)
	}
	b.ts = append(b.ts, t)
	if b.hasStart {
		b.start = append(b.start, start)
	}
}

// checkPoint reports a point that does not fit the (non-number) kind of series ref.
func checkPoint(kind Kind, ref SeriesRef, p *Point) error {
	switch {
	case kind == KindHistogram && p.Hist == nil:
		return fmt.Errorf("series %d is a histogram: point has no Hist", ref)
	case kind == KindExpHistogram && p.Exp == nil:
		return fmt.Errorf("series %d is an exponential histogram: point has no Exp", ref)
	case kind == KindSummary && p.Summary == nil:
		return fmt.Errorf("series %d is a summary: point has no Summary", ref)
	}
	return nil
}

// addPoint buffers a histogram, exponential histogram or summary point (checked by check).
func (b *seriesBuf) addPoint(p *Point) {
	b.addTime(p.T, p.Start)
	switch b.kind {
	case KindHistogram:
		b.addHist(p.Hist)
	case KindExpHistogram:
		b.addExp(p.Exp)
	case KindSummary:
		b.addSummary(p.Summary)
	}
}

func (b *seriesBuf) ensureCols() {
	if b.ic == nil {
		ni, nf := columnCounts(b.kind)
		b.ic = make([][]int64, ni)
		b.fc = make([][]float64, nf)
	}
}

func optFlags(hasSum, hasMin, hasMax bool) int64 {
	var f int64
	if hasSum {
		f |= flagSum
	}
	if hasMin {
		f |= flagMin
	}
	if hasMax {
		f |= flagMax
	}
	return f
}

func (b *seriesBuf) addOpt(f int64, sum, mn, mx float64, iSum, iMin, iMax int) {
	if f&flagSum != 0 {
		b.fc[iSum] = append(b.fc[iSum], sum)
	}
	if f&flagMin != 0 {
		b.fc[iMin] = append(b.fc[iMin], mn)
	}
	if f&flagMax != 0 {
		b.fc[iMax] = append(b.fc[iMax], mx)
	}
}

func appendCounts(dst []int64, cs []uint64) []int64 {
	for _, c := range cs {
		dst = append(dst, int64(c))
	}
	return dst
}

func sameBits(a, b []float64) bool {
	return slices.EqualFunc(a, b, func(x, y float64) bool { return math.Float64bits(x) == math.Float64bits(y) })
}

func (b *seriesBuf) addHist(h *Histogram) {
	b.ensureCols()
	f := optFlags(h.HasSum, h.HasMin, h.HasMax)
	if !b.hasLast || !sameBits(b.lastBnd, h.Bounds) {
		f |= flagBounds
		b.lastBnd = append(b.lastBnd[:0], h.Bounds...)
		b.hasLast = true
		b.ic[hNBounds] = append(b.ic[hNBounds], int64(len(h.Bounds)))
		b.fc[hBounds] = append(b.fc[hBounds], h.Bounds...)
	}
	b.ic[hFlags] = append(b.ic[hFlags], f)
	b.ic[hCount] = append(b.ic[hCount], int64(h.Count))
	b.addOpt(f, h.Sum, h.Min, h.Max, hSum, hMin, hMax)
	b.ic[hNCounts] = append(b.ic[hNCounts], int64(len(h.Counts)))
	b.ic[hCounts] = appendCounts(b.ic[hCounts], h.Counts)
	b.nValues += 6 + len(h.Counts) + len(h.Bounds)
}

func (b *seriesBuf) addExp(h *ExpHistogram) {
	b.ensureCols()
	f := optFlags(h.HasSum, h.HasMin, h.HasMax)
	b.ic[eFlags] = append(b.ic[eFlags], f)
	b.ic[eCount] = append(b.ic[eCount], int64(h.Count))
	b.addOpt(f, h.Sum, h.Min, h.Max, eSum, eMin, eMax)
	b.ic[eScale] = append(b.ic[eScale], int64(h.Scale))
	b.ic[eZeroCount] = append(b.ic[eZeroCount], int64(h.ZeroCount))
	b.fc[eZeroThr] = append(b.fc[eZeroThr], h.ZeroThreshold)
	b.ic[ePosOff] = append(b.ic[ePosOff], int64(h.Positive.Offset))
	b.ic[eNPos] = append(b.ic[eNPos], int64(len(h.Positive.Counts)))
	b.ic[ePos] = appendCounts(b.ic[ePos], h.Positive.Counts)
	b.ic[eNegOff] = append(b.ic[eNegOff], int64(h.Negative.Offset))
	b.ic[eNNeg] = append(b.ic[eNNeg], int64(len(h.Negative.Counts)))
	b.ic[eNeg] = appendCounts(b.ic[eNeg], h.Negative.Counts)
	b.nValues += 12 + len(h.Positive.Counts) + len(h.Negative.Counts)
}

func (b *seriesBuf) addSummary(s *Summary) {
	b.ensureCols()
	b.ic[sCount] = append(b.ic[sCount], int64(s.Count))
	b.fc[sSum] = append(b.fc[sSum], s.Sum)
	b.ic[sNQ] = append(b.ic[sNQ], int64(len(s.Quantiles)))
	for _, q := range s.Quantiles {
		b.fc[sQ] = append(b.fc[sQ], q.Q)
		b.fc[sV] = append(b.fc[sV], q.V)
	}
	b.nValues += 3 + 2*len(s.Quantiles)
}
