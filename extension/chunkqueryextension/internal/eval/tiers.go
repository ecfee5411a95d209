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
	SelectWindows(ctx context.Context, ms []*labels.Matcher, mint, maxt int64, res time.Duration, need func(*store.Series, store.Stat) bool, lim store.Limits) ([]*store.Windows, error)
}

// pickTier returns the coarsest tier that answers a selector exactly on the grid: its
// resolution divides the first step's time, the step (range queries) and rng (the range of the
// function, or the lookback of an instant selector); 0 when none does, and raw points are read.
func (ev *evaluator) pickTier(rng int64) (time.Duration, WindowSelecter) {
	ws, ok := ev.e.Store.(WindowSelecter)
	if !ok {
		return 0, nil
	}
	tiers := ev.e.tiers(ws)
	for i := len(tiers) - 1; i >= 0; i-- {
		res := tiers[i].Milliseconds()
		if res <= 0 || rng%res != 0 || ev.g.start%res != 0 || (ev.g.n > 1 && ev.g.step%res != 0) {
			continue
		}
		return tiers[i], ws
	}
	return 0, nil
}

// tiers caches the store's tiers for the engine's evaluation.
func (e *Engine) tiers(ws WindowSelecter) []time.Duration { return ws.Tiers() }

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
	got, err := ws.SelectWindows(ev.ctx, vs.LabelMatchers, mint-off, maxt-off, res, need, lim)
	if err != nil {
		var le *store.LimitError
		if errors.As(err, &le) {
			return nil, &Error{Type: ErrExecution, Err: fmt.Errorf("%s: %w", vs, err)}
		}
		return nil, err
	}
	for _, w := range got {
		ev.samples += len(w.W)
		if off != 0 {
			for i := range w.W {
				w.W[i].End += off
			}
		}
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

// windowsValue applies fn to the windows w[lo:hi] (those ending in the function's range).
func windowsValue(fn string, s *store.Series, w []store.Window, rng int64) (float64, bool) {
	switch fn {
	case "rate", "increase":
		var inc float64
		if s.Delta() {
			for i := range w {
				inc += w[i].Sum
			}
		} else {
			var n float64
			for i := range w {
				inc += w[i].Inc
				n += w[i].Count
				if i > 0 {
					if w[i].First < w[i-1].Last {
						inc += w[i].First
					} else {
						inc += w[i].First - w[i-1].Last
					}
				}
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
		for i := range w {
			sum += w[i].Sum
			n += w[i].Count
		}
		switch fn {
		case "avg_over_time":
			return sum / n, true
		case "count_over_time":
			return n, true
		}
		return sum, true
	case "min_over_time", "max_over_time":
		m := math.NaN()
		for i := range w {
			v := w[i].Min
			if fn == "max_over_time" {
				v = w[i].Max
			}
			if math.IsNaN(m) || (fn == "min_over_time" && v < m) || (fn == "max_over_time" && v > m) {
				m = v
			}
		}
		return m, true
	}
	return w[len(w)-1].Last, true // last_over_time
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
	for _, s := range got {
		ls := s.Series.Labels
		if !keepName {
			ls = dropName(ls)
		}
		r := newRow(ls, ev.g.n)
		lo, hi := 0, 0 // the windows ending in (t-rng, t] are s.W[lo:hi]
		for i := range ev.g.n {
			t := ev.g.at(i)
			for hi < len(s.W) && s.W[hi].End <= t {
				hi++
			}
			for lo < hi && s.W[lo].End <= t-rng {
				lo++
			}
			if lo < hi {
				r.v[i], r.ok[i] = windowsValue(fn, s.Series, s.W[lo:hi], rng)
			}
		}
		if err := emit(r); err != nil {
			return true, err
		}
	}
	return true, nil
}

// instantFromWindows evaluates an instant selector from the tier res: the last value of the
// last window ending within the lookback.
func (ev *evaluator) instantFromWindows(ws WindowSelecter, res time.Duration, vs *parser.VectorSelector, emit func(*row) error) (bool, error) {
	lb := ev.e.LookbackDelta.Milliseconds()
	resMs := res.Milliseconds()
	got, err := ev.selectWindows(ws, vs, res, ev.g.start-lb+resMs, ev.g.end(), needFor("last_over_time"))
	if errors.Is(err, errNotAligned) {
		return false, nil
	}
	if err != nil {
		return true, err
	}
	for _, s := range got {
		r := newRow(s.Series.Labels, ev.g.n)
		j := 0
		for i := range ev.g.n {
			t := ev.g.at(i)
			for j < len(s.W) && s.W[j].End <= t {
				j++
			}
			if j > 0 && s.W[j-1].End > t-lb {
				r.v[i], r.ok[i] = s.W[j-1].Last, true
			}
		}
		if err := emit(r); err != nil {
			return true, err
		}
	}
	return true, nil
}
