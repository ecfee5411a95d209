package otsdb

import (
	"context"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doghouse-otel/doghouse/chunkfile"
	"github.com/doghouse-otel/doghouse/extension/chunkqueryextension/internal/store"
)

// memStore is a Store over series held in memory.
type memStore struct{ series []*store.Points }

func (m *memStore) Select(_ context.Context, ms []*labels.Matcher, mint, maxt int64, lim store.Limits) ([]*store.Points, error) {
	var out []*store.Points
	for _, p := range m.match(ms) {
		q := &store.Points{Series: p.Series}
		for i, t := range p.T {
			if t >= mint && t <= maxt {
				q.T, q.V = append(q.T, t), append(q.V, p.V[i])
			}
		}
		if len(q.T) > 0 {
			out = append(out, q)
		}
	}
	if lim.MaxSeries > 0 && len(out) > lim.MaxSeries {
		return nil, &store.LimitError{What: "too many series"}
	}
	return out, nil
}

func (m *memStore) SeriesIn(sets [][]*labels.Matcher, _, _ int64, _ int) ([]*store.Series, error) {
	var out []*store.Series
	for _, p := range m.series {
		ok := sets == nil
		for _, ms := range sets {
			ok = ok || slices.Contains(m.match(ms), p)
		}
		if ok {
			out = append(out, p.Series)
		}
	}
	return out, nil
}

func (m *memStore) match(ms []*labels.Matcher) []*store.Points {
	var out []*store.Points
	for _, p := range m.series {
		ok := true
		for _, mt := range ms {
			ok = ok && mt.Matches(p.Series.Labels.Get(mt.Name))
		}
		if ok {
			out = append(out, p)
		}
	}
	return out
}

// add adds a gauge series with points (seconds, value).
func (m *memStore) add(ls labels.Labels, pts ...[2]float64) {
	p := &store.Points{Series: &store.Series{Labels: ls, Kind: chunkfile.KindGauge}}
	for _, pt := range pts {
		p.T, p.V = append(p.T, int64(pt[0]*1000)), append(p.V, pt[1])
	}
	m.series = append(m.series, p)
}

// docStore holds the example data of OpenTSDB's filter documentation: seven series of
// sys.cpu.system, numbered 1 to 7 in their "n" label, each with one point at 10 s.
func docStore() *memStore {
	m := &memStore{}
	for i, tags := range [][]string{
		{"dc", "dal", "host", "web01"}, {"dc", "dal", "host", "web02"}, {"dc", "dal", "host", "web03"},
		{"host", "web01"}, {"host", "web01", "owner", "jdoe"},
		{"dc", "lax", "host", "web01"}, {"dc", "lax", "host", "web02"},
	} {
		ls := labels.FromStrings(append([]string{"__name__", "sys.cpu.system", "n", string(rune('1' + i))}, tags...)...)
		m.add(ls, [2]float64{10, float64(i + 1)})
	}
	return m
}

// TestFilters selects from the documentation's data with each filter.
func TestFilters(t *testing.T) {
	st := docStore()
	for _, c := range []struct {
		filter string
		want   string // the "n" of the series that pass
	}{
		{"host=literal_or(web01)", "1456"},
		{"host=web01|web02", "124567"},
		{"host=iliteral_or(WEB01)", "1456"},
		{"host=not_literal_or(web01)", "237"},
		{"dc=not_literal_or(dal)", "4567"}, // a series without dc passes
		{"dc=not_iliteral_or(DAL|Lax)", "45"},
		{"host=literal_or(a||)", ""},
		{"owner=not_literal_or(||)", "1234567"},
		{"host=wildcard(web*)", "1234567"},
		{"host=wildcard(*02)", "27"},
		{"host=wildcard(w*2)", "27"},
		{"host=wildcard(eb*)", ""}, // a glob matches the whole value
		{"host=iwildcard(WEB0*)", "1234567"},
		{"host=WEB*3", "3"}, // the shortcut ignores case
		{"dc=*", "12367"},   // the tag must be there
		{"host=regexp(web0[12])", "124567"},
		{"host=regexp(^web0[13]$)", "13456"},
		{"host=regexp(eb)", "1234567"}, // a match anywhere in the value
		{"owner=regexp(.*)", "5"},      // the tag must be there
	} {
		sq, err := ParseSubQuery("none:sys.cpu.system{" + c.filter + "}")
		require.NoError(t, err, c.filter)
		res, _, err := Execute(context.Background(), st, &Query{Start: 0, End: 20_000, Subs: []*SubQuery{sq}}, Limits{})
		require.NoError(t, err, c.filter)
		var ns []string
		for _, r := range res {
			ns = append(ns, r.Tags["n"])
		}
		slices.Sort(ns)
		got := strings.Join(ns, "")
		assert.Equal(t, c.want, got, c.filter)
	}
}

// TestGrouping: series without a group-by tag are dropped; tags shared by a group's series
// are its tags (a key only some have still counts, as in OpenTSDB), the others aggregate
// tags.
func TestGrouping(t *testing.T) {
	st := docStore()
	run := func(m string) []Result {
		sq, err := ParseSubQuery(m)
		require.NoError(t, err)
		res, _, err := Execute(context.Background(), st, &Query{Start: 0, End: 20_000, Subs: []*SubQuery{sq}}, Limits{})
		require.NoError(t, err)
		return res
	}
	res := run("sum:sys.cpu.system{dc=*}")
	require.Len(t, res, 2)
	assert.Equal(t, Result{Metric: "sys.cpu.system", Tags: map[string]string{"dc": "dal"}, AggregateTags: []string{"host", "n"},
		T: []int64{10_000}, V: []float64{1 + 2 + 3}}, res[0])
	assert.Equal(t, Result{Metric: "sys.cpu.system", Tags: map[string]string{"dc": "lax"}, AggregateTags: []string{"host", "n"},
		T: []int64{10_000}, V: []float64{6 + 7}}, res[1])
	res = run("sum:sys.cpu.system")
	require.Len(t, res, 1)
	assert.Equal(t, map[string]string{"owner": "jdoe"}, res[0].Tags)
	assert.Equal(t, []string{"dc", "host", "n"}, res[0].AggregateTags)
	assert.Equal(t, []float64{28}, res[0].V)
	// Grouped by host, filtered by dc without grouping.
	res = run("max:sys.cpu.system{host=*}{dc=literal_or(dal|lax)}")
	require.Len(t, res, 3)
	for i, want := range []struct {
		host string
		v    float64
	}{{"web01", 6}, {"web02", 7}, {"web03", 3}} {
		assert.Equal(t, want.host, res[i].Tags["host"])
		assert.Equal(t, []float64{want.v}, res[i].V)
	}
	// explicit_tags: only the series whose tag keys are exactly n and host.
	res = run("sum:explicit_tags:sys.cpu.system{host=*,n=*}")
	require.Len(t, res, 1)
	assert.Equal(t, map[string]string{"host": "web01", "n": "4"}, res[0].Tags)
}

// twoSeries are A = (0 s, 0) (20 s, 20) (40 s, 40) and B = (10 s, 5) (30 s, 15): their
// timestamps alternate, so every aggregation interpolates.
func twoSeries() *memStore {
	m := &memStore{}
	m.add(labels.FromStrings("__name__", "m", "s", "a"), [2]float64{0, 0}, [2]float64{20, 20}, [2]float64{40, 40})
	m.add(labels.FromStrings("__name__", "m", "s", "b"), [2]float64{10, 5}, [2]float64{30, 15})
	return m
}

// TestInterpolation aggregates twoSeries at 0, 10, 20, 30 and 40 s. By hand: A on its line
// is 10 at 10 s and 30 at 30 s; B on its line is 10 at 20 s; B has no value at 0 s (not
// started) nor at 40 s (ended).
//
//	sum (linear):   0, 10+5, 20+10, 30+15, 40
//	zimsum (zero):  0, 0+5,  20+0,  0+15,  40
//	min / max:      0, 5 / 10, 10 / 20, 15 / 30, 40
//	mimmin/mimmax:  the value of the series with a point: 0, 5, 20, 15, 40
//	count:          series between their first and last points: 1, 2, 2, 2, 1
//	avg / dev:      0, 7.5 / 2.5, 15 / 5, 22.5 / 7.5, 40 / 0
func TestInterpolation(t *testing.T) {
	for agg, want := range map[string][]float64{
		"sum":    {0, 15, 30, 45, 40},
		"zimsum": {0, 5, 20, 15, 40},
		"min":    {0, 5, 10, 15, 40},
		"max":    {0, 10, 20, 30, 40},
		"mimmin": {0, 5, 20, 15, 40},
		"mimmax": {0, 5, 20, 15, 40},
		"count":  {1, 2, 2, 2, 1},
		"avg":    {0, 7.5, 15, 22.5, 40},
		"dev":    {0, 2.5, 5, 7.5, 0},
	} {
		res := exec(t, twoSeries(), agg+":m", 0, 40_000)
		require.Len(t, res, 1, agg)
		assert.Equal(t, []int64{0, 10_000, 20_000, 30_000, 40_000}, res[0].T, agg)
		assert.Equal(t, want, res[0].V, agg)
	}
}

func exec(t *testing.T, st Store, m string, start, end int64) []Result {
	t.Helper()
	sq, err := ParseSubQuery(m)
	require.NoError(t, err, m)
	q := &Query{Start: start, End: end, Subs: []*SubQuery{sq}}
	require.NoError(t, q.Validate(Limits{MaxSteps: 11_000}))
	res, _, err := Execute(context.Background(), st, q, Limits{})
	require.NoError(t, err, m)
	return res
}

// TestRateOfEachSeriesThenTheAggregate: as OpenTSDB 2.4 computes it, each series' rate is taken
// (after its downsampling) before the series are aggregated. By hand, twoSeries' rates: A
// (0,0) (20,20) (40,40) is 1/s at 20 s and 40 s; B (10,5) (30,15) is 0.5/s at 30 s. Summed
// with interpolation at 20, 30, 40 s: B has not started at 20 s and has ended at 40 s, A is 1
// on its line at 30 s: 1, 1.5, 1. (The rate of the sum would be 1.5, 1.5, 1.5, -0.5.)
func TestRateOfEachSeriesThenTheAggregate(t *testing.T) {
	res := exec(t, twoSeries(), "sum:rate:m", 0, 40_000)
	require.Len(t, res, 1)
	assert.Equal(t, []int64{20_000, 30_000, 40_000}, res[0].T)
	assert.Equal(t, []float64{1, 1.5, 1}, res[0].V)
}

// TestRateCounterOptions: one counter (0,900) (10,950) (20,30) that wrapped at 1000 between
// 10 s and 20 s: 5/s, then (1000 − 950 + 30) / 10 = 8/s as a counter, −92/s as a plain value.
func TestRateCounterOptions(t *testing.T) {
	st := &memStore{}
	st.add(labels.FromStrings("__name__", "m"), [2]float64{0, 900}, [2]float64{10, 950}, [2]float64{20, 30})
	for m, want := range map[string][]float64{
		"sum:rate:m":                   {5, -92},
		"sum:rate{counter,1000}:m":     {5, 8},
		"sum:rate{counter,1000,6}:m":   {5, 0}, // 8/s is above the reset value
		"sum:rate{counter,1000,10}:m":  {5, 8},
		"sum:rate{dropcounter,1000}:m": {5},
		"sum:rate{counter}:m":          {5, (float64(math.MaxInt64) - 950 + 30) / 10},
	} {
		res := exec(t, st, m, 0, 20_000)
		require.Len(t, res, 1, m)
		assert.Equal(t, []int64{10_000, 20_000}[:len(want)], res[0].T, m)
		assert.InDeltaSlice(t, want, res[0].V, 1e-9, m)
	}
}

// TestDownsample: points (5 s, 1) (12 s, 2) (18 s, 4) (35 s, 8) in 10 s buckets: 0 s holds
// 1, 10 s holds 2 and 4, 20 s nothing, 30 s holds 8.
func TestDownsample(t *testing.T) {
	st := &memStore{}
	st.add(labels.FromStrings("__name__", "m"), [2]float64{5, 1}, [2]float64{12, 2}, [2]float64{18, 4}, [2]float64{35, 8})
	nan := math.NaN()
	for _, c := range []struct {
		m          string
		start, end int64
		t          []int64
		v          []float64
	}{
		{"sum:10s-sum:m", 0, 40_000, []int64{0, 10_000, 30_000}, []float64{1, 6, 8}},
		{"sum:10s-max-zero:m", 0, 40_000, []int64{0, 10_000, 20_000, 30_000, 40_000}, []float64{1, 4, 0, 8, 0}},
		{"sum:10s-count-nan:m", 0, 45_000, []int64{0, 10_000, 20_000, 30_000, 40_000}, []float64{1, 2, nan, 1, nan}},
		// The bucket of 0 s starts before the query: it is read whole but not answered.
		{"sum:10s-sum:m", 7_000, 40_000, []int64{10_000, 30_000}, []float64{6, 8}},
		// The last bucket holds the points up to the end of the query.
		{"sum:10s-sum:m", 0, 15_000, []int64{0, 10_000}, []float64{1, 2}},
		// One bucket over the query, at its start.
		{"sum:0all-sum:m", 3_000, 40_000, []int64{3_000}, []float64{15}},
		{"sum:0all-avg:m", 6_000, 40_000, []int64{6_000}, []float64{14.0 / 3}},
		// Rate after downsampling (one series: before or after aggregation is the same): 1, 6, 8 at 0, 10, 30 s.
		{"sum:rate:10s-sum:m", 0, 40_000, []int64{10_000, 30_000}, []float64{0.5, 0.1}},
	} {
		res := exec(t, st, c.m, c.start, c.end)
		require.Len(t, res, 1, c.m)
		assert.Equal(t, c.t, res[0].T, c.m)
		require.Len(t, res[0].V, len(c.v), c.m)
		for i := range c.v {
			if math.IsNaN(c.v[i]) {
				assert.True(t, math.IsNaN(res[0].V[i]), "%s: %v", c.m, res[0].V)
			} else {
				assert.Equal(t, c.v[i], res[0].V[i], "%s: %v", c.m, res[0].V)
			}
		}
		assert.False(t, res[0].NaNAsNull, c.m)
	}
	res := exec(t, st, "sum:10s-sum-null:m", 0, 40_000)
	assert.True(t, res[0].NaNAsNull)
}

// TestFilledSeriesAggregateWithoutInterpolation: with a fill policy every series has every
// bucket, so a missing bucket counts as the fill value (zero) or is skipped (nan).
func TestFilledSeriesAggregateWithoutInterpolation(t *testing.T) {
	st := &memStore{}
	st.add(labels.FromStrings("__name__", "m", "s", "a"), [2]float64{0, 10}, [2]float64{20, 30})
	st.add(labels.FromStrings("__name__", "m", "s", "b"), [2]float64{10, 4})
	// Buckets 0, 10, 20 s. a: 10, -, 30; b: -, 4, -.
	for m, want := range map[string][]float64{
		"avg:10s-sum:m":      {10, (20 + 4) / 2.0, 30}, // a interpolated at 10 s: 20; b alone nowhere else
		"avg:10s-sum-zero:m": {5, 2, 15},
		"avg:10s-sum-nan:m":  {10, 4, 30},
	} {
		res := exec(t, st, m, 0, 20_000)
		require.Len(t, res, 1, m)
		assert.Equal(t, want, res[0].V, m)
	}
}

func TestNoSuchMetric(t *testing.T) {
	sq, err := ParseSubQuery("sum:nope")
	require.NoError(t, err)
	_, _, err = Execute(context.Background(), docStore(), &Query{Start: 0, End: 20_000, Subs: []*SubQuery{sq}}, Limits{})
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, &Error{Code: 400, Message: "No such name for 'metrics': 'nope'"}, e)
	// A known metric without data in the range answers nothing.
	sq, _ = ParseSubQuery("sum:sys.cpu.system")
	res, _, err := Execute(context.Background(), docStore(), &Query{Start: 11_000, End: 20_000, Subs: []*SubQuery{sq}}, Limits{})
	require.NoError(t, err)
	assert.Empty(t, res)
}

func TestExecuteStopsWhenCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	sq, _ := ParseSubQuery("sum:m")
	_, _, err := Execute(ctx, twoSeries(), &Query{Start: 0, End: int64(time.Minute / time.Millisecond), Subs: []*SubQuery{sq}}, Limits{})
	assert.ErrorIs(t, err, context.Canceled)
}
