package chunkfile

import (
	"fmt"
	"math"
	"slices"
	"sync"
)

// cut flushes the current block if a point at t does not belong in it, and opens the block
// window for t when the block is empty.
func (w *Writer) cut(t int64, grows bool) error {
	if w.noCut {
		if w.points == 0 {
			w.blockEnd = math.MaxInt64
		}
		return nil
	}
	if w.points > 0 && (t >= w.blockEnd || w.full() || w.values >= maxBlockValues ||
		grows && w.tooManySeries()) {
		if err := w.cutBlock(); err != nil {
			return err
		}
		if !w.opts.Checkpoints {
			if err := w.commitHeld(); err != nil {
				return err
			}
		}
	}
	if w.points == 0 {
		w.blockEnd = math.MaxInt64
		if w.dur > 0 {
			start := t - ((t%w.dur)+w.dur)%w.dur
			if start <= math.MaxInt64-w.dur {
				w.blockEnd = start + w.dur
			}
		}
	}
	return nil
}

// tooManySeries reports whether a series new to the block must start a new one.
func (w *Writer) tooManySeries() bool {
	return w.blockSeries() >= w.opts.MaxBlockSeries || w.blockNew >= w.opts.MaxBlockNewSeries
}

// blockSeries is the number of series with points in the current block.
func (w *Writer) blockSeries() int { return len(w.active) + len(w.activeNum) }

// full reports whether the block holds enough points to be cut for size: MaxBlockPoints, or
// (when MaxBlockPoints is above it) sizeCut once its series hold sizeCutPerSeries points each
// on average.
func (w *Writer) full() bool {
	return w.points >= w.opts.MaxBlockPoints ||
		w.sizeCut > 0 && w.points >= w.sizeCut && w.points >= sizeCutPerSeries*w.blockSeries()
}

// touch marks series ref active in the current block.
func (w *Writer) touch(ref SeriesRef) {
	if w.stamp[ref] != w.seq {
		w.stamp[ref] = w.seq
		w.cnt[ref] = 0
		if w.kinds[ref].isNumber() {
			// Number points wait in the log; their buffers are taken when the block is cut.
			w.activeNum = append(w.activeNum, uint32(ref))
		} else {
			w.active = append(w.active, w.takeBuf(ref))
		}
	}
}

// takeBuf gives series ref a column buffer for the current block. Buffers exist only for the
// series of the block (number series: only while it is encoded) and go back to a bounded free
// list of their kind when it is cut, so a writer with many series holds a few bytes per
// series, not a buffer each. Kinds do not share buffers: a number buffer's columns alias the
// writer's sort arrays.
func (w *Writer) takeBuf(ref SeriesRef) *seriesBuf {
	k := w.kinds[ref]
	var b *seriesBuf
	if f := w.free[k]; len(f) > 0 {
		b = f[len(f)-1]
		f[len(f)-1] = nil
		w.free[k] = f[:len(f)-1]
	} else {
		b = &seriesBuf{kind: k}
	}
	b.id = uint64(ref)
	w.series[ref] = b
	return b
}

// logNumber appends a gauge or sum point to the arrival log. Number points are logged in
// arrival order and sorted into per-series columns when the block is cut: one sequential write
// per point instead of three scattered ones, which made appends 4x faster with 1000 series.
func (w *Writer) logNumber(ref SeriesRef, t, start int64, v uint64, isInt bool) error {
	if ref >= SeriesRef(len(w.kinds)) {
		return fmt.Errorf("unknown series ref %d", ref)
	}
	if !w.kinds[ref].isNumber() {
		return fmt.Errorf("series %d is a %s: number points need a gauge or sum", ref, w.kinds[ref])
	}
	if w.closed {
		return ErrClosed
	}
	grows := w.stamp[ref] != w.seq
	if w.points == 0 || t >= w.blockEnd || w.full() || w.values >= maxBlockValues ||
		grows && w.tooManySeries() {
		if err := w.cut(t, grows); err != nil {
			return err
		}
	}
	w.touch(ref)
	w.cnt[ref]++
	if w.log.pages == nil {
		w.takeScratch()
	}
	var flags uint32
	if isInt {
		flags = logInt
	}
	if start != 0 {
		w.anyStart = true
		if len(w.starts) == cap(w.starts) {
			w.starts = slices.Grow(w.starts, len(w.starts))
		}
		w.starts = append(w.starts, start)
		flags |= logStart
	}
	w.log.add(logEntry{t: t, v: v, ref: uint32(ref), flags: flags})
	w.points++
	w.values++
	return nil
}

// logEntry is one buffered number point; its start time, if any, is the next entry of starts.
type logEntry struct {
	t     int64
	v     uint64
	ref   uint32
	flags uint32
}

const (
	logInt   = 1
	logStart = 2
)

// entryLog is the arrival log of a block's number points, in pages of logPage entries. A block
// of a million points never copies its log to grow it, nor asks for one large zeroed array:
// both are slow, and a large copy cannot be preempted while the GC waits for it. Pages are kept
// for the next block (and the next writer, through scratchPool).
type entryLog struct {
	pages [][]logEntry // pages[i] has length logPage when i < n/logPage
	n     int
}

const (
	logPageBits = 14
	logPage     = 1 << logPageBits
)

func (l *entryLog) add(e logEntry) {
	i := l.n >> logPageBits
	if i == len(l.pages) {
		l.pages = append(l.pages, make([]logEntry, 0, logPage))
	}
	l.pages[i] = append(l.pages[i], e)
	l.n++
}

func (l *entryLog) len() int { return l.n }

// from returns the entries from index i on, as slices of the pages.
func (l *entryLog) from(i int) [][]logEntry {
	if i >= l.n {
		return nil
	}
	p := i >> logPageBits
	out := l.pages[p : (l.n-1)>>logPageBits+1]
	if off := i & (logPage - 1); off > 0 {
		out = append([][]logEntry{out[0][off:]}, out[1:]...)
	}
	return out
}

// used returns the pages holding entries.
func (l *entryLog) used() [][]logEntry {
	if l.n == 0 {
		return nil
	}
	return l.pages[:(l.n-1)>>logPageBits+1]
}

func (l *entryLog) reset() {
	for i := range l.used() {
		l.pages[i] = l.pages[i][:0]
	}
	l.n = 0
}

// scratch holds the number-point buffers of a block. They are pooled between writers so that
// rotating segments does not pay for fresh (page-faulting) memory every time.
type scratch struct {
	log    entryLog
	starts []int64
	t      []int64
	start  []int64
	v      []uint64
	isInt  []bool
}

var scratchPool sync.Pool

func (w *Writer) takeScratch() {
	sc, _ := scratchPool.Get().(*scratch)
	if sc == nil {
		sc = &scratch{log: entryLog{pages: make([][]logEntry, 0, 8)}}
	}
	sc.log.reset()
	w.log, w.starts = sc.log, sc.starts[:0]
	w.sortT, w.sortStart, w.sortV, w.sortInt = sc.t, sc.start, sc.v, sc.isInt
}

func (w *Writer) releaseScratch() {
	if w.log.pages == nil {
		return
	}
	scratchPool.Put(&scratch{log: w.log, starts: w.starts[:0], t: w.sortT, start: w.sortStart, v: w.sortV, isInt: w.sortInt})
	w.log, w.starts, w.sortT, w.sortStart, w.sortV, w.sortInt = entryLog{}, nil, nil, nil, nil, nil
}

// AppendFloat appends a float point to a gauge or sum series.
func (w *Writer) AppendFloat(ref SeriesRef, t int64, v float64) error {
	return w.logNumber(ref, t, 0, math.Float64bits(v), false)
}

// AppendInt appends an int point to a gauge or sum series.
func (w *Writer) AppendInt(ref SeriesRef, t int64, v int64) error {
	return w.logNumber(ref, t, 0, uint64(v), true)
}

// Append appends a point of any kind; the field of p that matches the series kind is used and
// copied (the caller may reuse p's slices afterwards).
func (w *Writer) Append(ref SeriesRef, p Point) error {
	if ref >= SeriesRef(len(w.kinds)) {
		return fmt.Errorf("unknown series ref %d", ref)
	}
	if w.kinds[ref].isNumber() {
		if p.Num.IsInt {
			return w.logNumber(ref, p.T, p.Start, uint64(p.Num.Int), true)
		}
		return w.logNumber(ref, p.T, p.Start, math.Float64bits(p.Num.Float), false)
	}
	if w.closed {
		return ErrClosed
	}
	if err := checkPoint(w.kinds[ref], ref, &p); err != nil {
		return err
	}
	if err := w.cut(p.T, w.stamp[ref] != w.seq); err != nil {
		return err
	}
	w.touch(ref)
	b := w.series[ref]
	if w.opts.Checkpoints {
		w.ckPoints = append(w.ckPoints, ckPoint{ref: ref, p: clonePoint(p)})
	}
	before := b.nValues
	b.addPoint(&p)
	w.points++
	w.values += b.nValues - before
	return nil
}
