package store

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/doghouse-otel/doghouse/chunkfile"
)

// Stat is a statistic of a rollup tier (docs/read-side.md, "Rollup encoding").
type Stat uint8

// The statistics, in the order a tier file defines them.
const (
	StatNone Stat = iota // not a statistic this reader knows: ignored
	StatSum
	StatIncrease
	StatCount
	StatMin
	StatMax
	StatFirst
	StatLast
	StatMerge
)

var statNames = map[string]Stat{
	"sum": StatSum, "increase": StatIncrease, "count": StatCount, "min": StatMin, "max": StatMax,
	"first": StatFirst, "last": StatLast, "merge": StatMerge,
}

func statOf(name string) Stat { return statNames[name] }

// Window is what a series did in one window (End − res, End] of a tier: its points' sum,
// count, extremes, first and last values, and the increase between its consecutive points (a
// drop counting as a reset: the new value is the increase).
type Window struct {
	End              int64 // ms
	Sum, Count       float64
	Min, Max         float64
	First, Last, Inc float64
	// Has is set when the window holds points (a tier file has a window only then; the
	// statistics a query did not ask for stay zero).
	Has bool
}

// add folds point v into the window (points come in time order).
func (w *Window) add(v float64) {
	if w.Count == 0 {
		w.Min, w.Max, w.First = v, v, v
	} else {
		w.Inc += increase(w.Last, v)
		w.Min, w.Max = math.Min(w.Min, v), math.Max(w.Max, v)
	}
	w.Sum += v
	w.Last = v
	w.Count++
	w.Has = true
}

// merge folds o, the same window seen later (in a later segment), into w.
func (w *Window) merge(o *Window) {
	if !o.Has {
		return
	}
	if !w.Has {
		*w = *o
		return
	}
	w.Inc += increase(w.Last, o.First) + o.Inc
	w.Sum += o.Sum
	w.Count += o.Count
	w.Min, w.Max = math.Min(w.Min, o.Min), math.Max(w.Max, o.Max)
	w.Last = o.Last
}

// increase is what a cumulative value gained from a to b: b − a, or b after a drop (a reset).
func increase(a, b float64) float64 {
	if b < a {
		return b
	}
	return b - a
}

// Windows is one series' windows in a time range, in time order.
type Windows struct {
	Series *Series
	W      []Window
}

// Tiers returns the resolutions of the tiers present, finest first.
func (s *Store) Tiers() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	_ = s.refreshLocked(false)
	set := map[time.Duration]bool{}
	for _, seg := range s.files {
		if seg.tier > 0 {
			set[seg.tier] = true
		}
	}
	out := make([]time.Duration, 0, len(set))
	for d := range set {
		out = append(out, d)
	}
	slices.Sort(out)
	return out
}

// SelectWindows returns the matching series' windows of resolution res whose ends are in
// [mint, maxt] (ms; res divides both). A segment with a tier file of that resolution is read
// from it; one without (the open segment, or one not rolled up yet) from its raw points, put
// into windows on the way, so the answer is the same either way. Windows that straddle
// segments are merged in segment order. Number series only.
//
// need says which statistics of a series the caller uses (nil: all); from tier files only
// those are read (each statistic has blocks of its own), so the others stay zero in windows
// that come from tiers.
func (s *Store) SelectWindows(ctx context.Context, ms []*labels.Matcher, mint, maxt int64, res time.Duration, need func(*Series, Stat) bool, lim Limits) ([]*Windows, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.refreshLocked(false); err != nil {
		return nil, err
	}
	ids := s.match(ms)
	if lim.MaxSeries > 0 && len(ids) > lim.MaxSeries {
		return nil, &LimitError{What: fmt.Sprintf("the query selects %d series, more than the limit of %d", len(ids), lim.MaxSeries)}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	want := make(map[uint32]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	resMs := res.Milliseconds()
	// Per segment name: its tier file of this resolution, else its raw file.
	bases := map[string]*segment{}
	for _, seg := range s.files {
		switch {
		case seg.tier == res:
			bases[seg.base] = seg
		case seg.tier == 0:
			if cur, ok := bases[seg.base]; !ok || cur.tier == 0 && seg.ix.Sealed() {
				bases[seg.base] = seg
			}
		}
	}
	names := make([]string, 0, len(bases))
	for b := range bases {
		names = append(names, b)
	}
	sort.Strings(names)
	out := map[uint32]*Windows{}
	samples := 0
	for _, b := range names {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		seg := bases[b]
		// Raw points of the first window start after mint − res; tier points are stamped with
		// their window's end.
		lo := mint
		if seg.tier == 0 {
			lo = mint - resMs + 1
		}
		if tr, ok := seg.ix.TimeRange(); !ok || tr.Max < lo || tr.Min > maxt {
			continue
		}
		keep := map[*chunkfile.Series]int{}
		for ref, id := range seg.global {
			if !want[id] || (seg.tier > 0 && (!useful(seg.stat[ref]) || need != nil && !need(s.series[id], seg.stat[ref]))) {
				continue
			}
			cs, _ := seg.ix.Series(chunkfile.SeriesRef(ref))
			keep[cs] = ref
		}
		if len(keep) == 0 {
			continue
		}
		rd := seg.ix.NewReader(seg.f, chunkfile.ReaderOptions{
			Time:  &chunkfile.TimeRange{Min: lo, Max: maxt},
			Match: func(cs *chunkfile.Series) bool { _, ok := keep[cs]; return ok },
		})
		part := map[uint32][]Window{}         // this segment's windows per series
		tierPos := map[uint32]map[int64]int{} // tier files: window end -> index in part, when needed
		var cur []int                         // tier files: per local series (a statistic of a series), its next window
		if seg.tier > 0 {
			cur = make([]int, seg.ix.NumSeries())
		}
		for rd.Next() {
			bt := rd.Batch()
			if bt.Num == nil {
				continue
			}
			samples += bt.Len()
			if lim.MaxSamples > 0 && samples > lim.MaxSamples {
				rd.Close()
				return nil, &LimitError{What: fmt.Sprintf("the query reads more than %d points, the limit", lim.MaxSamples)}
			}
			ref := keep[bt.Series]
			id := seg.global[ref]
			ws := part[id]
			for i := range bt.Len() {
				v := bt.Num[i].Float64()
				if seg.tier == 0 {
					end := ceilDiv(bt.T[i], resMs) * resMs
					ws = windowAt(ws, end)
					ws[len(ws)-1].add(v)
					continue
				}
				// A tier file has each statistic in blocks of its own, every statistic with the
				// same windows in the same order: the k-th point of a statistic belongs to the
				// k-th window. A window out of that order is found through a map.
				T := bt.T[i]
				k := cur[ref]
				switch {
				case k < len(ws) && ws[k].End == T:
				case k == len(ws) && (k == 0 || ws[k-1].End < T):
					ws = append(ws, Window{End: T})
					if pos := tierPos[id]; pos != nil {
						pos[T] = k
					}
				default:
					pos := tierPos[id]
					if pos == nil {
						pos = make(map[int64]int, len(ws))
						for j := range ws {
							pos[ws[j].End] = j
						}
						tierPos[id] = pos
					}
					var ok bool
					if k, ok = pos[T]; !ok {
						k = len(ws)
						ws = append(ws, Window{End: T})
						pos[T] = k
					}
				}
				cur[ref] = k + 1
				setStat(&ws[k], seg.stat[ref], v)
			}
			part[id] = ws
		}
		err := rd.Err()
		rd.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", seg.name, err)
		}
		for id, ws := range part {
			slices.SortStableFunc(ws, func(a, b Window) int { return int(a.End - b.End) })
			ws = compact(ws)
			w := out[id]
			if w == nil {
				w = &Windows{Series: s.series[id]}
				out[id] = w
			}
			w.W = mergeWindows(w.W, ws)
		}
	}
	res2 := make([]*Windows, 0, len(out))
	for _, w := range out {
		res2 = append(res2, w)
	}
	slices.SortFunc(res2, func(a, b *Windows) int { return labels.Compare(a.Series.Labels, b.Series.Labels) })
	return res2, nil
}

// useful reports whether a tier statistic is one the windows are built from.
func useful(st Stat) bool { return st != StatNone && st != StatMerge }

// windowAt returns ws with a window ending at end last: the last one if it ends there (points
// of a series come in time order within a block; a new block may start an earlier window, which
// compact merges later).
func windowAt(ws []Window, end int64) []Window {
	if n := len(ws); n > 0 && ws[n-1].End == end {
		return ws
	}
	return append(ws, Window{End: end})
}

// setStat stores one statistic of a tier window. Tier windows hold at least one point.
func setStat(w *Window, st Stat, v float64) {
	w.Has = true
	switch st {
	case StatSum:
		w.Sum = v
	case StatIncrease:
		w.Inc = v
	case StatCount:
		w.Count = v
	case StatMin:
		w.Min = v
	case StatMax:
		w.Max = v
	case StatFirst:
		w.First = v
	case StatLast:
		w.Last = v
	}
}

// compact merges windows with the same end (sorted by end), keeping their order.
func compact(ws []Window) []Window {
	out := ws[:0]
	for _, w := range ws {
		if n := len(out); n > 0 && out[n-1].End == w.End {
			tmp := w
			out[n-1].merge(&tmp)
			continue
		}
		out = append(out, w)
	}
	return out
}

// mergeWindows merges a later segment's windows b into a (both sorted by end).
func mergeWindows(a, b []Window) []Window {
	if len(a) == 0 {
		return b
	}
	if len(b) == 0 {
		return a
	}
	if a[len(a)-1].End < b[0].End {
		return append(a, b...)
	}
	out := make([]Window, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || (i < len(a) && a[i].End < b[j].End):
			out = append(out, a[i])
			i++
		case i == len(a) || b[j].End < a[i].End:
			out = append(out, b[j])
			j++
		default:
			w := a[i]
			w.merge(&b[j])
			out = append(out, w)
			i++
			j++
		}
	}
	return out
}

func ceilDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a > 0) == (b > 0) {
		q++
	}
	return q
}
