package aggregate

import "bytes"

// Window holds the rows of one resolution interval (Start, Start+Res]. Rows, their keys (in
// arena) and histogram states live in slices that are reused when the store recycles the window,
// so a steady stream of windows does not allocate.
type Window struct {
	Res   int64 // resolution, ns
	Start int64 // unix ns, a multiple of Res

	rows      []Row
	index     map[uint64]int32 // row hash -> first row of its chain
	arena     []byte
	hists     []histState
	exps      []expState
	summaries []summaryState

	metricRows     []int32  // rows per metric id
	metricOverflow []uint64 // points folded into overflow rows, per metric id

	closed  bool
	spread  int     // number of shards (1 unless spread_flush splits the window)
	emitted int     // shards already flushed
	order   []int32 // row indexes grouped by shard
	starts  []int32 // order[starts[i]:starts[i+1]] is shard i
}

// End returns the end of the window's interval.
func (w *Window) End() int64 { return w.Start + w.Res }

func (w *Window) reset(res, start int64) {
	w.Res, w.Start = res, start
	w.rows = w.rows[:0]
	if w.index == nil {
		w.index = make(map[uint64]int32)
	}
	clear(w.index)
	w.arena = w.arena[:0]
	w.hists, w.exps, w.summaries = w.hists[:0], w.exps[:0], w.summaries[:0]
	clear(w.metricRows)
	clear(w.metricOverflow)
	w.closed, w.spread, w.emitted = false, 1, 0
	w.order, w.starts = w.order[:0], w.starts[:0]
}

func (w *Window) key(r *Row) []byte { return w.arena[r.keyOff : r.keyOff+r.keyLen] }

// find returns the row of (metric, res, key) with the given hash, or -1.
func (w *Window) find(hash uint64, metric, res uint32, key []byte) int32 {
	i, ok := w.index[hash]
	if !ok {
		return -1
	}
	for ; i >= 0; i = w.rows[i].next {
		r := &w.rows[i]
		if r.metric == metric && r.res == res && bytes.Equal(w.key(r), key) {
			return i
		}
	}
	return -1
}

// insert adds an empty row and returns its index.
func (w *Window) insert(hash uint64, metric, res uint32, key []byte, k kind) int32 {
	next := int32(-1)
	if head, ok := w.index[hash]; ok {
		next = head
	}
	i := int32(len(w.rows))
	w.index[hash] = i
	off := uint32(len(w.arena))
	w.arena = append(w.arena, key...)
	w.rows = append(w.rows, Row{hash: hash, keyOff: off, keyLen: uint32(len(key)), metric: metric, res: res, next: next, ext: -1})
	r := &w.rows[i]
	switch k {
	case kindHistogram:
		r.ext = int32(len(w.hists))
		w.hists = grow(w.hists)
		w.hists[r.ext].reset()
	case kindExpHistogram:
		r.ext = int32(len(w.exps))
		w.exps = grow(w.exps)
		w.exps[r.ext].reset()
	case kindSummary:
		r.ext = int32(len(w.summaries))
		w.summaries = grow(w.summaries)
		w.summaries[r.ext].reset()
	}
	for int(metric) >= len(w.metricRows) {
		w.metricRows = append(w.metricRows, 0)
		w.metricOverflow = append(w.metricOverflow, 0)
	}
	w.metricRows[metric]++
	return i
}

// grow extends s by one element, reusing the element's old backing arrays when there is one.
func grow[T any](s []T) []T {
	if len(s) < cap(s) {
		return s[:len(s)+1]
	}
	var zero T
	return append(s, zero)
}

// close stops the window taking points and groups its rows into shards: shard = hash mod
// shards, so a row keeps its shard from window to window.
func (w *Window) close(shards int) {
	w.closed = true
	w.spread = max(shards, 1)
	w.starts = append(w.starts[:0], make([]int32, w.spread+1)...)
	for i := range w.rows {
		w.starts[w.rows[i].hash%uint64(w.spread)+1]++
	}
	for i := 1; i <= w.spread; i++ {
		w.starts[i] += w.starts[i-1]
	}
	w.order = append(w.order[:0], make([]int32, len(w.rows))...)
	pos := append([]int32(nil), w.starts[:w.spread]...)
	for i := range w.rows {
		s := w.rows[i].hash % uint64(w.spread)
		w.order[pos[s]] = int32(i)
		pos[s]++
	}
}

// shard returns the row indexes of shard i.
func (w *Window) shard(i int) []int32 { return w.order[w.starts[i]:w.starts[i+1]] }
