package aggregate

import (
	"bytes"

	"github.com/doghouse-otel/doghouse/internal/exphist"
)

// Window holds the rows of one resolution interval (Start, Start+Res]. Rows, their keys (in
// arena) and histogram states live in slices that are reused when the store recycles the window,
// so a steady stream of windows does not allocate.
type Window struct {
	Res   int64 // resolution, ns
	Start int64 // unix ns, a multiple of Res

	id        uint32 // position in the store's window table (RowRef.W)
	rows      []Row
	index     rowIndex
	arena     []byte
	hosts     []string          // top-contributor names of this window's rows (Row.maxHost-1)
	hostIdx   map[string]uint32 // name -> Row.maxHost
	hists     []histState
	exps      []exphist.Histogram
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
	w.index.reset()
	w.arena = w.arena[:0]
	w.hosts = w.hosts[:0]
	if w.hostIdx == nil {
		w.hostIdx = make(map[string]uint32)
	}
	clear(w.hostIdx)
	w.hists, w.exps, w.summaries = w.hists[:0], w.exps[:0], w.summaries[:0]
	clear(w.metricRows)
	clear(w.metricOverflow)
	w.closed, w.spread, w.emitted = false, 1, 0
	w.order, w.starts = w.order[:0], w.starts[:0]
}

// shed drops the window's row storage, keeping the window (and its id) for reuse.
func (w *Window) shed() {
	w.rows, w.index.slots, w.arena, w.order = nil, nil, nil, nil
	w.hists, w.exps, w.summaries, w.hosts = nil, nil, nil, nil
	w.hostIdx = nil
}

func (w *Window) key(r *Row) []byte { return w.arena[r.keyOff : r.keyOff+r.keyLen] }

// lookup returns the row of (metric, res, key) with the given hash, or -1 and the index slot
// where the new row goes (for insert).
func (w *Window) lookup(hash uint64, metric, res uint32, key []byte) (int32, uint64) {
	pos, mask := w.index.probe(hash)
	tag := hash >> 32
	for {
		s := w.index.slots[pos]
		if s == 0 {
			return -1, pos
		}
		if s>>32 == tag {
			i := int32(uint32(s)) - 1
			r := &w.rows[i]
			if r.hash == hash && r.metric == metric && r.res == res && bytes.Equal(w.key(r), key) {
				return i, pos
			}
		}
		pos = (pos + 1) & mask
	}
}

// insert adds an empty row in the index slot pos that lookup returned and returns its index.
func (w *Window) insert(pos uint64, hash uint64, metric, res uint32, key []byte, k kind) int32 {
	i := int32(len(w.rows))
	off := uint32(len(w.arena))
	w.arena = append(w.arena, key...)
	w.rows = append(w.rows, Row{hash: hash, keyOff: off, keyLen: uint32(len(key)), metric: metric, res: res, ext: -1})
	w.index.set(pos, hash, i, w.rows)
	r := &w.rows[i]
	r.fields = uint8(min(countFields(key), 255))
	switch k {
	case kindHistogram:
		r.ext = int32(len(w.hists))
		w.hists = grow(w.hists)
		w.hists[r.ext].reset()
	case kindExpHistogram:
		r.ext = int32(len(w.exps))
		w.exps = grow(w.exps)
		w.exps[r.ext].Reset()
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

// hostID returns the id of a top-contributor name in this window, storing it on first use.
func (w *Window) hostID(host string, intern func(string) string) uint32 {
	if id, ok := w.hostIdx[host]; ok {
		return id
	}
	h := intern(host)
	w.hosts = append(w.hosts, h)
	id := uint32(len(w.hosts))
	w.hostIdx[h] = id
	return id
}

// host returns the row's top contributor, "" if none.
func (w *Window) host(r *Row) string {
	if r.maxHost == 0 {
		return ""
	}
	return w.hosts[r.maxHost-1]
}

// shard returns the row indexes of shard i.
func (w *Window) shard(i int) []int32 { return w.order[w.starts[i]:w.starts[i+1]] }
