// Package otsdb answers the OpenTSDB 2.4 HTTP API's queries over the chunk store: it parses
// m= sub queries and JSON bodies, then, per sub query, selects the series of a metric through
// tag filters, groups them, downsamples each, interpolates and aggregates each group and
// takes rates, in the order OpenTSDB 2.4 computes them (each series' rate before aggregation).
package otsdb

import (
	"context"
	"errors"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/doghouse-otel/doghouse/extension/chunkqueryextension/internal/store"
)

// Store is what queries read: the chunk store.
type Store interface {
	Select(ctx context.Context, ms []*labels.Matcher, mint, maxt int64, lim store.Limits) ([]*store.Points, error)
	SeriesIn(sets [][]*labels.Matcher, mint, maxt int64, limit int) ([]*store.Series, error)
}

// Query is a parsed /api/query request.
type Query struct {
	Start, End   int64 // Unix ms, both included
	MsResolution bool  // dps keys in milliseconds rather than seconds
	Subs         []*SubQuery
}

// Limits bound one request (the extension's limits).
type Limits struct {
	MaxSeries   int // series one sub query may select
	MaxSamples  int // points the request may read (and hold after a filling downsampler)
	MaxSteps    int // downsampling buckets over the query's range
	MaxPoints   int // points of the answer
	MaxMatchers int // sub queries of a request, and filters of a sub query
}

// maxFilterBytes bounds the text of a request's tag filters, which the store's matchers
// compile: 16 KiB of literal_or, iliteral_or or regexp (744 host names of 21 bytes) allocate
// 3.7 to 4.2 MB (BenchmarkFilterMatchersAtLimit).
const maxFilterBytes = 16 << 10

// maxRegexpSize bounds the instructions the regexp filters of a request compile to, which
// counted repetitions multiply (regexp.Compile allocated 347 MB for 16 KiB of
// "[a-z]{1000}"): twice maxFilterBytes, so that any expression without counted repetitions
// fits; repetitions at the bound allocate 13.4 MB (BenchmarkFilterMatchersAtLimit).
const maxRegexpSize = 2 * maxFilterBytes

// Validate checks what can be checked before reading: the time range, the number of sub
// queries and filters, and the downsampling buckets.
func (q *Query) Validate(lim Limits) error {
	if q.End <= q.Start {
		return badRequest("End time [%d] must be greater than the start time [%d]", q.End, q.Start)
	}
	if len(q.Subs) == 0 {
		return badRequest("Missing sub queries")
	}
	if lim.MaxMatchers > 0 && len(q.Subs) > lim.MaxMatchers {
		return badRequest("%d sub queries given, the limit is %d (limits::max_matchers)", len(q.Subs), lim.MaxMatchers)
	}
	filterBytes := 0
	for _, sq := range q.Subs {
		if lim.MaxMatchers > 0 && len(sq.Filters) > lim.MaxMatchers {
			return badRequest("%s: %d tag filters given, the limit is %d (limits::max_matchers)", sq.Metric, len(sq.Filters), lim.MaxMatchers)
		}
		for _, f := range sq.Filters {
			filterBytes += len(f.Tagk) + len(f.Expr)
		}
		if ds := sq.Downsample; ds != nil && lim.MaxSteps > 0 {
			if n := ds.Buckets(q.Start, q.End); n > int64(lim.MaxSteps) {
				return badRequest("%s: the downsampler %s makes %d buckets over the query's range, more than the limit of %d (limits::max_steps): use a longer interval", sq.Metric, ds.Spec, n, lim.MaxSteps)
			}
		}
	}
	if filterBytes > maxFilterBytes {
		return badRequest("the tag filters hold %d bytes, more than the limit of %d", filterBytes, maxFilterBytes)
	}
	var insts int64
	for _, sq := range q.Subs {
		for _, f := range sq.Filters {
			if f.Type != "regexp" {
				continue
			}
			n, err := f.regexpSize()
			if err != nil {
				return err
			}
			insts += n
		}
	}
	if insts > maxRegexpSize {
		return badRequest("the regular expressions of the tag filters compile to about %d instructions, more than the limit of %d: use fewer counted repetitions ({n})", insts, maxRegexpSize)
	}
	return nil
}

// Result is one series of the answer.
type Result struct {
	Metric        string
	Tags          map[string]string // tags with one value in every series of the group
	AggregateTags []string          // tags whose values differ between the series of the group
	T             []int64           // ms, ascending, in [Start, End]
	V             []float64
	NaNAsNull     bool // the null fill policy: a NaN is written null
}

// Execute answers q. It returns the results in the order of the sub queries, each sub query's
// groups sorted by their tag values, and the number of points read.
func Execute(ctx context.Context, st Store, q *Query, lim Limits) ([]Result, int, error) {
	ex := &executor{ctx: ctx, st: st, q: q, lim: lim}
	var out []Result
	for _, sq := range q.Subs {
		res, err := ex.sub(sq)
		if err != nil {
			return nil, ex.samples, err
		}
		out = append(out, res...)
	}
	return out, ex.samples, nil
}

type executor struct {
	ctx     context.Context
	st      Store
	q       *Query
	lim     Limits
	samples int // points read
	points  int // points answered
	scratch []float64
}

// series is one time series' points, in strictly ascending time order.
type series struct {
	t []int64
	v []float64
}

func (ex *executor) sub(sq *SubQuery) ([]Result, error) {
	name := labels.MustNewMatcher(labels.MatchEqual, labels.MetricName, sq.Metric)
	ms := []*labels.Matcher{name}
	for _, f := range sq.Filters {
		fm, ok, err := f.matchers()
		if err != nil || !ok {
			return nil, err
		}
		ms = append(ms, fm...)
	}
	mint := ex.q.Start
	if ds := sq.Downsample; ds != nil && ds.Interval > 0 {
		mint = ds.align(mint) // the first bucket is read whole
	}
	lim := store.Limits{MaxSeries: ex.lim.MaxSeries}
	if ex.lim.MaxSamples > 0 {
		lim.MaxSamples = max(ex.lim.MaxSamples-ex.samples, 1)
	}
	pts, err := ex.st.Select(ex.ctx, ms, mint, ex.q.End, lim)
	if err != nil {
		var le *store.LimitError
		if errors.As(err, &le) {
			return nil, tooLarge("%s: %s", sq.Metric, le.What)
		}
		return nil, err
	}
	for _, p := range pts {
		ex.samples += len(p.T)
	}
	if len(pts) == 0 {
		// OpenTSDB answers a metric it never saw with an error, and one without data in the
		// range with nothing.
		known, err := ex.st.SeriesIn([][]*labels.Matcher{{name}}, math.MinInt64, math.MaxInt64, 0)
		if err != nil {
			return nil, err
		}
		if len(known) == 0 {
			return nil, badRequest("No such name for 'metrics': '%s'", sq.Metric)
		}
		return nil, nil
	}
	var out []Result
	for _, g := range ex.group(sq, pts) {
		r, err := ex.answer(sq, g)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// group splits the selected series by the values of the group-by tags; a series without one
// of them is dropped, as OpenTSDB does. With the none aggregator each series is a group.
func (ex *executor) group(sq *SubQuery, pts []*store.Points) [][]*store.Points {
	var keys []string
	want := map[string]bool{}
	for _, f := range sq.Filters {
		if f.GroupBy && !slices.Contains(keys, f.Tagk) {
			keys = append(keys, f.Tagk)
		}
		want[f.Tagk] = true
	}
	byKey := map[string][]*store.Points{}
	var order []string
	for _, p := range pts {
		if sq.ExplicitTags && !sameKeys(p.Series.Labels, want) {
			continue
		}
		key, ok := p.Series.Labels.String(), true
		if sq.Aggregator.Name != "none" {
			vals := make([]string, len(keys))
			for i, k := range keys {
				vals[i] = p.Series.Labels.Get(k)
				ok = ok && vals[i] != ""
			}
			key = strings.Join(vals, "\xff")
		}
		if !ok {
			continue
		}
		if _, ok := byKey[key]; !ok {
			order = append(order, key)
		}
		byKey[key] = append(byKey[key], p)
	}
	sort.Strings(order)
	groups := make([][]*store.Points, len(order))
	for i, k := range order {
		groups[i] = byKey[k]
	}
	return groups
}

// sameKeys reports whether the series' tag keys are exactly those of want.
func sameKeys(ls labels.Labels, want map[string]bool) bool {
	n := 0
	ok := true
	ls.Range(func(l labels.Label) {
		if l.Name != labels.MetricName {
			n++
			ok = ok && want[l.Name]
		}
	})
	return ok && n == len(want)
}

// answer computes one group's result: downsample each series and take its rate,
// interpolate and aggregate, keep [Start, End].
func (ex *executor) answer(sq *SubQuery, members []*store.Points) (Result, error) {
	ds := sq.Downsample
	if ds != nil && ds.Fill != FillNone && ex.lim.MaxSamples > 0 {
		if n := int64(len(members)) * ds.Buckets(ex.q.Start, ex.q.End); n > int64(ex.lim.MaxSamples) {
			return Result{}, tooLarge("%s: filling %d series' buckets makes %d points, more than the limit of %d (limits::max_samples)", sq.Metric, len(members), n, ex.lim.MaxSamples)
		}
	}
	ss := make([]series, 0, len(members))
	for _, p := range members {
		s := dedupe(p)
		if ds != nil {
			s = ds.apply(s, ex.q.Start, ex.q.End, &ex.scratch)
		}
		if sq.Rate {
			// Each series' own rate, then the aggregation: what OpenTSDB 2.4 does (its
			// AggregationIterator wraps every span in a RateSpan), so a series that starts,
			// stops or resets in the range does not make the sum jump.
			s = rate(s, sq.RateOptions)
		}
		if len(s.t) > 0 {
			ss = append(ss, s)
		}
	}
	times := unionTimes(ss)
	lo, hi := ex.inRange(times)
	if ex.lim.MaxPoints > 0 && ex.points+(hi-lo) > ex.lim.MaxPoints {
		return Result{}, tooLarge("the answer has more than %d points, the limit (limits::max_points): use a downsampler or a shorter range", ex.lim.MaxPoints)
	}
	agg, err := aggregate(ex.ctx, sq.Aggregator, ss, times)
	if err != nil {
		return Result{}, err
	}
	lo, hi = ex.inRange(agg.t)
	ex.points += hi - lo
	r := Result{Metric: sq.Metric, T: agg.t[lo:hi], V: agg.v[lo:hi], NaNAsNull: ds != nil && ds.Fill == FillNull}
	r.Tags, r.AggregateTags = groupTags(members)
	return r, nil
}

// inRange returns the indexes of ts (ascending) in [Start, End]: ts[lo:hi].
func (ex *executor) inRange(ts []int64) (int, int) {
	lo, _ := slices.BinarySearch(ts, ex.q.Start)
	hi, found := slices.BinarySearch(ts, ex.q.End)
	if found {
		hi++
	}
	return lo, hi
}

// dedupe returns a series' points with one per timestamp (the last read).
func dedupe(p *store.Points) series {
	s := series{t: make([]int64, 0, len(p.T)), v: make([]float64, 0, len(p.V))}
	for i, t := range p.T {
		if n := len(s.t); n > 0 && s.t[n-1] == t {
			s.v[n-1] = p.V[i]
			continue
		}
		s.t, s.v = append(s.t, t), append(s.v, p.V[i])
	}
	return s
}

// groupTags returns the tags the members share (a key some members lack still counts, as in
// OpenTSDB) and, sorted, the keys whose values differ.
func groupTags(members []*store.Points) (map[string]string, []string) {
	tags := map[string]string{}
	differ := map[string]bool{}
	for _, p := range members {
		p.Series.Labels.Range(func(l labels.Label) {
			if l.Name == labels.MetricName || differ[l.Name] {
				return
			}
			if v, ok := tags[l.Name]; !ok {
				tags[l.Name] = l.Value
			} else if v != l.Value {
				delete(tags, l.Name)
				differ[l.Name] = true
			}
		})
	}
	agg := make([]string, 0, len(differ))
	for k := range differ {
		agg = append(agg, k)
	}
	sort.Strings(agg)
	return tags, agg
}
