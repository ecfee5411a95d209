package aggregate

import (
	"math"
	"slices"
	"time"
)

// RowRef names one row of a window by the window's id and the row's index. It holds no
// pointer, so a batch of them costs the garbage collector nothing.
type RowRef struct {
	W uint32
	I int32
}

// Batch is what one flush hands out: the rows to sample and export and the windows that closed.
// Rows stay valid until Release.
type Batch struct {
	Rows []RowRef
	// Closed lists the windows that stopped taking points in this flush (for cardinality).
	Closed []*Window
	// Slots is the number of distinct one-second send slots the rows cover: 1 on a timely tick,
	// more when ticks were missed or everything is flushed at shutdown. The budget scales with it.
	Slots int
	// Seconds lists those slots (unix seconds, ascending; empty when no window was due), so that
	// the batches of several stores can count the slots they cover together.
	Seconds []int64
	done    []*Window
}

func (b *Batch) reset() {
	b.Rows, b.Closed, b.done, b.Slots, b.Seconds = b.Rows[:0], b.Closed[:0], b.done[:0], 0, b.Seconds[:0]
}

// Flush collects into b the rows due at now: a window closes grace after its end and, with
// spread_flush, its R shards go out one per second from then on. With all set, every window
// closes and every shard goes out (shutdown).
func (s *Store) Flush(now int64, all bool, b *Batch) {
	b.reset()
	grace := int64(s.opt.Grace)
	keep := s.open[:0]
	for _, w := range s.open {
		if !all && now < w.End()+grace {
			keep = append(keep, w)
			continue
		}
		shards := 1
		if s.opt.SpreadFlush && w.Res > int64(time.Second) {
			shards = int(w.Res / int64(time.Second))
		}
		w.close(shards)
		s.closing = append(s.closing, w)
		b.Closed = append(b.Closed, w)
	}
	clear(s.open[len(keep):])
	s.open = keep
	for _, w := range s.closing {
		for w.emitted < w.spread {
			due := w.End() + grace + int64(w.emitted)*int64(time.Second)
			if !all && now < due {
				break
			}
			for _, i := range w.shard(w.emitted) {
				if w.rows[i].points > 0 { // a row whose only point could not merge stays empty
					b.Rows = append(b.Rows, RowRef{W: w.id, I: i})
				}
			}
			b.Seconds = append(b.Seconds, due/int64(time.Second))
			w.emitted++
		}
		if w.emitted == w.spread {
			b.done = append(b.done, w)
		}
	}
	// The budget is per second: a flush gets one second's budget for every distinct second
	// whose sends it covers (several when ticks were missed, or at shutdown).
	slices.Sort(b.Seconds)
	b.Seconds = slices.Compact(b.Seconds)
	b.Slots = max(len(b.Seconds), 1)
}

// Release recycles the windows b finished and returns the number of rows they held. Rows of b
// must not be used afterwards.
func (s *Store) Release(b *Batch) int {
	if len(b.done) == 0 {
		return 0
	}
	released := 0
	keep := s.closing[:0]
	for _, w := range s.closing {
		if w.emitted == w.spread {
			released += len(w.rows)
			s.rows -= len(w.rows)
			for i := range w.rows {
				s.metrics[w.rows[i].metric].rows--
			}
			if s.spare() {
				// One recycled window with its slices is enough for windows that follow each
				// other; more are left from moments when several were open at once (a late
				// flush, the last window of another resolution), and would keep their memory
				// for good.
				w.shed()
			}
			s.pool = append(s.pool, w)
			continue
		}
		keep = append(keep, w)
	}
	clear(s.closing[len(keep):])
	s.closing = keep
	b.done = b.done[:0]
	s.lim.rows.Add(-int64(released))
	return released
}

// spare reports whether the pool holds a window that kept its slices.
func (s *Store) spare() bool {
	for _, w := range s.pool {
		if cap(w.rows) > 0 {
			return true
		}
	}
	return false
}

// EachMetric calls fn for every metric with rows in w: its row count (cardinality in the
// window) and the points folded into its overflow row.
func (w *Window) EachMetric(fn func(metric uint32, rows int, overflowPoints uint64)) {
	for id, n := range w.metricRows {
		if n > 0 {
			fn(uint32(id), int(n), w.metricOverflow[id])
		}
	}
}

// Info describes a row for the sampler.
type Info struct {
	Metric *Metric
	Res    uint32
	Key    []byte  // canonical attribute encoding; see LookupAttr
	Size   float64 // estimated bytes of the exported row
	Whale  float64 // mainstay rank: |sum| for sums, points for gauges, count for histograms
}

// Per-kind value bytes of an exported row, next to its name, attributes and 8-byte timestamp:
// a counter row (one value) is cheaper than a gauge with min/max/count or a histogram.
const (
	sizeTimestamp   = 8
	sizeValue       = 8
	sizeGaugeStats  = 24 // min, max, count
	sizeHistFixed   = 40 // count, sum, min, max, start time
	sizeBucket      = 8
	sizeQuantile    = 16
	sizeSummaryBase = 24 // count, sum, start time
)

// RowInfo returns what the sampler needs to know about ref.
func (s *Store) RowInfo(ref RowRef) Info {
	w := s.windows[ref.W]
	r := &w.rows[ref.I]
	m := s.metrics[r.metric]
	key := w.key(r)
	in := Info{Metric: m, Res: r.res, Key: key}
	size := sizeTimestamp + len(m.Name) + len(key)
	if r.maxHost != 0 && s.opt.MaxHostAttribute != "" {
		size += len(MaxHostOutput) + len(w.host(r))
	}
	switch m.kind {
	case kindSum:
		size += sizeValue
		in.Whale = math.Abs(r.f0)
	case kindGauge:
		size += sizeValue
		if s.opt.GaugeStats {
			size += sizeGaugeStats
		}
		in.Whale = float64(r.points)
	case kindHistogram:
		h := &w.hists[r.ext]
		size += sizeHistFixed + sizeBucket*(len(h.counts)+len(h.bounds))
		in.Whale = float64(h.count)
	case kindExpHistogram:
		e := &w.exps[r.ext]
		size += sizeHistFixed + sizeBucket*(e.Positive().Len()+e.Negative().Len()+1)
		in.Whale = e.Count()
	case kindSummary:
		sm := &w.summaries[r.ext]
		size += sizeSummaryBase
		if r.points == 1 {
			size += sizeQuantile * len(sm.quantiles)
		}
		in.Whale = float64(sm.count)
	}
	in.Size = float64(size)
	return in
}

// LookupAttr returns the value of attribute name in a row key as text (ints and doubles in
// their binary form), for grouping rows by an attribute.
func LookupAttr(key []byte, name string) ([]byte, bool) { return lookupKey(key, name) }
