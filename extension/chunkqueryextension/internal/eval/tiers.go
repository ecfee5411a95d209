package eval

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/doghouse-otel/doghouse/extension/chunkqueryextension/internal/store"
)

// WindowSelecter is a store with rollup tiers (store.Store).
type WindowSelecter interface {
	Tiers() []time.Duration
	SelectWindows(ctx context.Context, ms []*labels.Matcher, mint, maxt int64, res time.Duration, need func(*store.Series, store.Stat) bool, lim store.Limits) ([]*store.Windows, int, error)
}

// pickTier returns the coarsest tier that answers a selector exactly on the grid: its
// resolution divides the first step's time, the step (range queries) and rng (the range of the
// function, or the lookback of an instant selector); 0 when none does, and raw points are read.
func (ev *evaluator) pickTier(rng int64) (time.Duration, WindowSelecter) {
	ws, ok := ev.e.Store.(WindowSelecter)
	if !ok {
		return 0, nil
	}
	tiers := ws.Tiers()
	for i := len(tiers) - 1; i >= 0; i-- {
		res := tiers[i].Milliseconds()
		if res <= 0 || rng%res != 0 || ev.g.start%res != 0 || (ev.g.n > 1 && ev.g.step%res != 0) {
			continue
		}
		return tiers[i], ws
	}
	return 0, nil
}

// selectWindows reads a selector's windows of resolution res ending in [mint, maxt].
func (ev *evaluator) selectWindows(ws WindowSelecter, vs *parser.VectorSelector, res time.Duration, mint, maxt int64, need func(*store.Series, store.Stat) bool) ([]*store.Windows, error) {
	lim := store.Limits{MaxSeries: ev.e.Limits.MaxSeries}
	if ev.e.Limits.MaxSamples > 0 {
		lim.MaxSamples = max(ev.e.Limits.MaxSamples-ev.samples, 1)
	}
	off := vs.OriginalOffset.Milliseconds()
	if off%res.Milliseconds() != 0 {
		return nil, errNotAligned
	}
	got, n, err := ws.SelectWindows(ev.ctx, vs.LabelMatchers, mint-off, maxt-off, res, need, lim)
	if err != nil {
		var le *store.LimitError
		if errors.As(err, &le) {
			return nil, &Error{Type: ErrExecution, Err: fmt.Errorf("%s: %w", vs, err)}
		}
		return nil, err
	}
	ev.samples += n
	for _, w := range got {
		w.Start += off
	}
	return got, nil
}

var errNotAligned = errors.New("offset not a multiple of the tier's resolution")

// needFor returns the statistics function fn needs of a series.
func needFor(fn string) func(*store.Series, store.Stat) bool {
	return func(s *store.Series, st store.Stat) bool {
		switch fn {
		case "rate", "increase":
			if s.Delta() {
				return st == store.StatSum
			}
			return st == store.StatIncrease || st == store.StatFirst || st == store.StatLast || st == store.StatCount
		case "sum_over_time":
			return st == store.StatSum
		case "avg_over_time":
			return st == store.StatSum || st == store.StatCount
		case "count_over_time":
			return st == store.StatCount
		case "min_over_time":
			return st == store.StatMin
		case "max_over_time":
			return st == store.StatMax
		}
		return st == store.StatLast // last_over_time, instant selectors
	}
}

// windowsValue applies fn to the windows lo..hi (inclusive) of w: those ending in the
// function's range.
func windowsValue(fn string, w *store.Windows, lo, hi int, rng int64) (float64, bool) {
	has := w.Has[lo : hi+1]
	col := func(st store.Stat) []float64 { return w.Col[st][lo : hi+1] }
	switch fn {
	case "rate", "increase":
		var inc float64
		found := false
		if w.Series.Delta() {
			sum := col(store.StatSum)
			for k, h := range has {
				if h {
					inc += sum[k]
					found = true
				}
			}
			if !found {
				return 0, false
			}
		} else {
			incs, first, last, count := col(store.StatIncrease), col(store.StatFirst), col(store.StatLast), col(store.StatCount)
			var n float64
			prev := -1
			for k, h := range has {
				if !h {
					continue
				}
				inc += incs[k]
				n += count[k]
				if prev >= 0 {
					if first[k] < last[prev] {
						inc += first[k]
					} else {
						inc += first[k] - last[prev]
					}
				}
				prev = k
			}
			if n < 2 {
				return 0, false
			}
		}
		if fn == "rate" {
			return inc / (float64(rng) / 1000), true
		}
		return inc, true
	case "sum_over_time", "avg_over_time", "count_over_time":
		var sum, n float64
		var sums, counts []float64
		if fn != "count_over_time" {
			sums = col(store.StatSum)
		}
		if fn != "sum_over_time" {
			counts = col(store.StatCount)
		}
		found := false
		for k, h := range has {
			if !h {
				continue
			}
			found = true
			if sums != nil {
				sum += sums[k]
			}
			if counts != nil {
				n += counts[k]
			}
		}
		switch {
		case !found:
			return 0, false
		case fn == "avg_over_time":
			return sum / n, true
		case fn == "count_over_time":
			return n, true
		}
		return sum, true
	case "min_over_time", "max_over_time":
		st := store.StatMin
		if fn == "max_over_time" {
			st = store.StatMax
		}
		vals := col(st)
		m, found := math.NaN(), false
		for k, h := range has {
			if !h {
				continue
			}
			v := vals[k]
			if !found || math.IsNaN(m) || (st == store.StatMin && v < m) || (st == store.StatMax && v > m) {
				m = v
			}
			found = true
		}
		return m, found
	}
	last := col(store.StatLast) // last_over_time
	for k := len(has) - 1; k >= 0; k-- {
		if has[k] {
			return last[k], true
		}
	}
	return 0, false
}

// windowRange returns the indexes lo..hi of w's windows ending in (t-rng, t], and whether
// there are any.
func windowRange(w *store.Windows, t, rng int64) (int, int, bool) {
	hi := floorDiv(t-w.Start, w.Res)
	lo := floorDiv(t-rng-w.Start, w.Res) + 1
	lo, hi = max(lo, 0), min(hi, int64(w.Len()-1))
	return int(lo), int(hi), lo <= hi
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// rangeFromWindows evaluates a range function from the tier res. It returns false when the
// selector cannot use it (an offset that is not a multiple of res).
func (ev *evaluator) rangeFromWindows(ws WindowSelecter, res time.Duration, fn string, vs *parser.VectorSelector, rng int64, keepName bool, emit func(*row) error) (bool, error) {
	resMs := res.Milliseconds()
	got, err := ev.selectWindows(ws, vs, res, ev.g.start-rng+resMs, ev.g.end(), needFor(fn))
	if errors.Is(err, errNotAligned) {
		return false, nil
	}
	if err != nil {
		return true, err
	}
	defer store.ReleaseWindows(got)
	var r *row
	for _, s := range got {
		ls := s.Series.Labels
		if !keepName {
			ls = dropName(ls)
		}
		r = reuse(r, ls, ev.g.n)
		for i := range ev.g.n {
			if lo, hi, ok := windowRange(s, ev.g.at(i), rng); ok {
				r.v[i], r.ok[i] = windowsValue(fn, s, lo, hi, rng)
			}
		}
		if err := emit(r); err != nil {
			return true, err
		}
	}
	return true, nil
}
