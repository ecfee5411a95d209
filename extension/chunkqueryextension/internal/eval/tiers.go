package eval

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
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

// windowsFor returns the resolution of the windows a selector with range rng (the range of
// its function, or the lookback of an instant selector) is read as, and the store to read
// them from; 0 when its raw points are read as they are.
//
//   - The coarsest tier that answers exactly on the grid: its resolution divides the first
//     step's time, the step (range queries) and rng.
//   - Otherwise raw points put into windows as they are decoded: of rng for an instant query
//     (one window per series), of gcd(step, rng) for a range query, when that is at least a
//     second and a quarter of the step (so that windows are no more than four per step).
//     Windows make the same answer as the points (rate, increase and *_over_time need only the
//     windows' statistics) with the memory of a few windows per series per step.
func (ev *evaluator) windowsFor(rng int64) (time.Duration, WindowSelecter) {
	ws, ok := ev.e.Store.(WindowSelecter)
	if !ok || rng <= 0 {
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
	res := rng
	if ev.g.n > 1 {
		res = gcd(ev.g.step, rng)
		if 4*res < ev.g.step {
			return 0, nil
		}
	}
	if res < 1000 {
		return 0, nil
	}
	return time.Duration(res) * time.Millisecond, ws
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// selectWindows reads a selector's windows of resolution res ending at mint, mint+res, … up to
// maxt.
func (ev *evaluator) selectWindows(ws WindowSelecter, vs *parser.VectorSelector, res time.Duration, mint, maxt int64, need func(*store.Series, store.Stat) bool) ([]*store.Windows, error) {
	lim := store.Limits{MaxSeries: ev.e.Limits.MaxSeries, MaxWindows: ev.e.Limits.MaxSamples}
	if ev.e.Limits.MaxSamples > 0 {
		lim.MaxSamples = max(ev.e.Limits.MaxSamples-ev.samples, 1)
	}
	off := vs.OriginalOffset.Milliseconds()
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

// windowsFunc returns fn applied to the windows lo..hi (inclusive) of a series' windows (those
// ending in the function's range), for a series whose values are deltas or not. It is chosen
// once per series: the loop over the steps only calls it.
func windowsFunc(fn string, delta bool, rng int64) func(w *store.Windows, lo, hi int) (float64, bool) {
	perSecond := 1.0
	if fn == "rate" {
		perSecond = float64(rng) / 1000
	}
	switch fn {
	case "rate", "increase":
		if delta {
			// Each value counts its own interval: the increase is the sum.
			return func(w *store.Windows, lo, hi int) (float64, bool) {
				has, sum := w.Has[lo:hi+1], w.Col[store.StatSum][lo:hi+1]
				var inc float64
				found := false
				for k, h := range has {
					if h {
						inc += sum[k]
						found = true
					}
				}
				return inc / perSecond, found
			}
		}
		// Cumulative values: the increases inside each window, and between a window's first
		// value and the last value of the window before (a drop being a reset).
		return func(w *store.Windows, lo, hi int) (float64, bool) {
			has := w.Has[lo : hi+1]
			incs, first := w.Col[store.StatIncrease][lo:hi+1], w.Col[store.StatFirst][lo:hi+1]
			last, count := w.Col[store.StatLast][lo:hi+1], w.Col[store.StatCount][lo:hi+1]
			var inc, n float64
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
			return inc / perSecond, true
		}
	case "sum_over_time", "avg_over_time", "count_over_time":
		return func(w *store.Windows, lo, hi int) (float64, bool) {
			has := w.Has[lo : hi+1]
			var sums, counts []float64
			if fn != "count_over_time" {
				sums = w.Col[store.StatSum][lo : hi+1]
			}
			if fn != "sum_over_time" {
				counts = w.Col[store.StatCount][lo : hi+1]
			}
			var sum, n float64
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
		}
	case "min_over_time", "max_over_time":
		st := store.StatMin
		if fn == "max_over_time" {
			st = store.StatMax
		}
		return func(w *store.Windows, lo, hi int) (float64, bool) {
			has, vals := w.Has[lo:hi+1], w.Col[st][lo:hi+1]
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
	}
	return func(w *store.Windows, lo, hi int) (float64, bool) { // last_over_time
		has, last := w.Has[lo:hi+1], w.Col[store.StatLast][lo:hi+1]
		for k := len(has) - 1; k >= 0; k-- {
			if has[k] {
				return last[k], true
			}
		}
		return 0, false
	}
}

// winSpan is the windows lo..hi of one step, if ok.
type winSpan struct {
	lo, hi int
	ok     bool
}

// rowFunc sets r's value at every step from the windows of spans.
type rowFunc func(w *store.Windows, spans []winSpan, r *row)

// windowsRowFunc is windowsFunc over a whole row. The rate and increase of delta sums, the
// dashboards' usual query, loop without a call per step; the same sums in the same order.
func windowsRowFunc(fn string, delta bool, rng int64) rowFunc {
	if delta && (fn == "rate" || fn == "increase") {
		perSecond := 1.0
		if fn == "rate" {
			perSecond = float64(rng) / 1000
		}
		return func(w *store.Windows, spans []winSpan, r *row) {
			has, sum := w.Has, w.Col[store.StatSum]
			for k, sp := range spans {
				if !sp.ok {
					continue
				}
				var inc float64
				found := false
				for j := sp.lo; j <= sp.hi; j++ {
					if has[j] {
						inc += sum[j]
						found = true
					}
				}
				r.v[k], r.ok[k] = inc/perSecond, found
			}
		}
	}
	f := windowsFunc(fn, delta, rng)
	return func(w *store.Windows, spans []winSpan, r *row) {
		for k, sp := range spans {
			if sp.ok {
				r.v[k], r.ok[k] = f(w, sp.lo, sp.hi)
			}
		}
	}
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

// rowGroup is how many series' rows each goroutine of rangeFromWindows evaluates before they
// are emitted.
const rowGroup = 256

// rangeFromWindows evaluates a range function from windows of resolution res. It returns
// false when there would be too many windows (the points are read instead, under their own
// limit).
func (ev *evaluator) rangeFromWindows(ws WindowSelecter, res time.Duration, fn string, vs *parser.VectorSelector, rng int64, keepName bool, emit func(*row) error) (bool, error) {
	resMs := res.Milliseconds()
	got, err := ev.selectWindows(ws, vs, res, ev.g.start-rng+resMs, ev.g.end(), needFor(fn))
	if errors.Is(err, store.ErrTooManyWindows) {
		return false, nil
	}
	if err != nil {
		return true, err
	}
	defer store.ReleaseWindows(got)
	fns := [2]rowFunc{windowsRowFunc(fn, false, rng), windowsRowFunc(fn, true, rng)}
	// The series are evaluated in groups, each group's rows in parallel (one goroutine per
	// core), and emitted in order: a group is emitted while the next one is evaluated, so the
	// emitting (an aggregation, say) does not leave the cores idle.
	if len(got) == 0 {
		return true, nil
	}
	// The series' windows share one grid (SelectWindows' mint, res and count): the windows of
	// each step are found once, not once per series.
	spans := make([]winSpan, ev.g.n)
	for k := range spans {
		sp := &spans[k]
		sp.lo, sp.hi, sp.ok = windowRange(got[0], ev.g.at(k), rng)
	}
	for _, w := range got {
		if w.Start != got[0].Start || w.Res != got[0].Res || w.Len() != got[0].Len() {
			return true, fmt.Errorf("internal error: windows of %s on another grid", w.Series.Labels)
		}
	}
	procs := max(1, min(runtime.GOMAXPROCS(0), len(got)/rowGroup))
	size := min(rowGroup*procs, len(got))
	bufs := [2][]*row{make([]*row, size), make([]*row, size)}
	eval := func(group []*store.Windows, rows []*row, wg *sync.WaitGroup) {
		for w := range procs {
			wg.Go(func() {
				for i := w; i < len(group); i += procs {
					s := group[i]
					ls := s.Series.Labels
					if !keepName {
						ls = dropName(ls)
					}
					r := reuse(rows[i], ls, ev.g.n)
					rows[i] = r
					f := fns[0]
					if s.Series.Delta() {
						f = fns[1]
					}
					f(s, spans, r)
				}
			})
		}
	}
	var wg sync.WaitGroup
	defer wg.Wait() // an emit error returns while a group is evaluated
	group := got[:size]
	eval(group, bufs[0], &wg)
	for from, b := 0, 0; from < len(got); from, b = from+size, 1-b {
		wg.Wait()
		rows := bufs[b][:len(group)]
		if next := from + size; next < len(got) {
			group = got[next:min(next+size, len(got))]
			eval(group, bufs[1-b], &wg)
		}
		for _, r := range rows {
			if err := emit(r); err != nil {
				return true, err
			}
		}
	}
	return true, nil
}
