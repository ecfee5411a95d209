package eval

import (
	"context"
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doghouse-otel/doghouse/chunkfile"
	"github.com/doghouse-otel/doghouse/extension/chunkqueryextension/internal/store"
)

// memStore is a Selecter over series held in memory.
type memStore struct {
	series []*store.Points
}

func (m *memStore) Select(_ context.Context, ms []*labels.Matcher, mint, maxt int64, lim store.Limits) ([]*store.Points, error) {
	var out []*store.Points
	n := 0
	for _, p := range m.series {
		ok := true
		for _, mt := range ms {
			ok = ok && mt.Matches(p.Series.Labels.Get(mt.Name))
		}
		if !ok {
			continue
		}
		q := &store.Points{Series: p.Series}
		for i, t := range p.T {
			if t >= mint && t <= maxt {
				q.T, q.V = append(q.T, t), append(q.V, p.V[i])
			}
		}
		n += len(q.T)
		if lim.MaxSamples > 0 && n > lim.MaxSamples {
			return nil, &store.LimitError{What: "too many points"}
		}
		out = append(out, q)
	}
	if lim.MaxSeries > 0 && len(out) > lim.MaxSeries {
		return nil, &store.LimitError{What: fmt.Sprintf("the query selects %d series", len(out))}
	}
	return out, nil
}

// add adds a series with a point every step ms from first, values vs.
func (m *memStore) add(kind chunkfile.Kind, temp chunkfile.Temporality, ls labels.Labels, first, step int64, vs ...float64) {
	p := &store.Points{Series: &store.Series{Labels: ls, Kind: kind, Temporality: temp}}
	for i, v := range vs {
		p.T = append(p.T, first+int64(i)*step)
		p.V = append(p.V, v)
	}
	m.series = append(m.series, p)
}

func repeat(v float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

var t0 = time.Unix(1_700_000_000, 0)

func ms(d time.Duration) int64 { return t0.Add(d).UnixMilli() }

func fixture() *memStore {
	m := &memStore{}
	delta := func(host, env string, v float64) {
		m.add(chunkfile.KindSum, chunkfile.TemporalityDelta,
			labels.FromStrings("__name__", "page.views", "host", host, "env", env), ms(10*time.Second), 10_000, repeat(v, 60)...)
	}
	delta("a", "prod", 10) // 1/s
	delta("b", "prod", 20) // 2/s
	delta("c", "dev", 50)  // 5/s
	m.add(chunkfile.KindSum, chunkfile.TemporalityCumulative,
		labels.FromStrings("__name__", "reqs_total", "host", "a"), ms(10*time.Second), 10_000, 1, 3, 6, 2, 5)
	m.add(chunkfile.KindGauge, 0, labels.FromStrings("__name__", "temp", "host", "a"), ms(10*time.Second), 10_000, 5, 7, 3, 9)
	return m
}

func engine(m *memStore) *Engine {
	return New(m, Limits{MaxSteps: 11000}, 5*time.Minute)
}

// values returns, for an instant vector, each series' value by its labels' string.
func values(t *testing.T, r *Result) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, s := range r.Series {
		require.Len(t, s.Points, 1, s.Labels.String())
		out[s.Labels.String()] = s.Points[0].V
	}
	return out
}

func instant(t *testing.T, e *Engine, q string, at time.Duration) map[string]float64 {
	t.Helper()
	r, err := e.Instant(context.Background(), q, t0.Add(at))
	require.NoError(t, err, q)
	require.Equal(t, TypeVector, r.Type, q)
	return values(t, r)
}

func TestRangeFunctionsOnDeltaSums(t *testing.T) {
	e := engine(fixture())
	// Points every 10 s from t0+10s; the window (t-1m, t] at t0+5m holds 6 of them.
	assert.Equal(t, map[string]float64{`{env="prod", host="a"}`: 1, `{env="prod", host="b"}`: 2},
		instant(t, e, `rate({"page.views", env="prod"}[1m])`, 5*time.Minute))
	assert.Equal(t, map[string]float64{`{env="dev", host="c"}`: 300},
		instant(t, e, `increase({"page.views", host="c"}[1m])`, 5*time.Minute))
	assert.Equal(t, map[string]float64{`{env="dev", host="c"}`: 300},
		instant(t, e, `sum_over_time({__name__="page.views",host="c"}[1m])`, 5*time.Minute))
	assert.Equal(t, map[string]float64{`{env="dev", host="c"}`: 6},
		instant(t, e, `count_over_time({__name__="page.views",host="c"}[1m])`, 5*time.Minute))
	// last_over_time keeps the metric name; the other functions drop it.
	assert.Equal(t, map[string]float64{`{__name__="page.views", env="dev", host="c"}`: 50},
		instant(t, e, `last_over_time({__name__="page.views",host="c"}[1m])`, 5*time.Minute))
}

func TestRangeFunctionsOnCumulativeSumsAndGauges(t *testing.T) {
	e := engine(fixture())
	// 1, 3, 6, 2 (a reset: +2), 5: 2 + 3 + 2 + 3 = 10 over the points in the window.
	assert.Equal(t, map[string]float64{`{host="a"}`: 10}, instant(t, e, `increase(reqs_total[5m])`, time.Minute))
	assert.InDelta(t, 10.0/300, instant(t, e, `rate(reqs_total[5m])`, time.Minute)[`{host="a"}`], 1e-12)
	// One point in the window: no rate.
	assert.Empty(t, instant(t, e, `rate(reqs_total[5s])`, time.Minute))
	assert.Equal(t, map[string]float64{`{host="a"}`: 6}, instant(t, e, `avg_over_time(temp[1m])`, time.Minute))
	assert.Equal(t, map[string]float64{`{host="a"}`: 3}, instant(t, e, `min_over_time(temp[1m])`, time.Minute))
	assert.Equal(t, map[string]float64{`{host="a"}`: 9}, instant(t, e, `max_over_time(temp[1m])`, time.Minute))
}

func TestInstantSelectorLooksBackFiveMinutes(t *testing.T) {
	e := engine(fixture())
	// The gauge's last point is at t0+40s: seen until t0+40s+5m (exclusive).
	assert.Equal(t, map[string]float64{`{__name__="temp", host="a"}`: 9}, instant(t, e, `temp`, 5*time.Minute+39*time.Second))
	assert.Empty(t, instant(t, e, `temp`, 5*time.Minute+40*time.Second))
	assert.Equal(t, map[string]float64{`{__name__="temp", host="a"}`: 3}, instant(t, e, `temp`, 35*time.Second))
	// offset moves the evaluation back.
	assert.Equal(t, map[string]float64{`{__name__="temp", host="a"}`: 5}, instant(t, e, `temp offset 20s`, 35*time.Second))
}

func TestAggregations(t *testing.T) {
	e := engine(fixture())
	at := 5 * time.Minute
	assert.Equal(t, map[string]float64{`{env="prod"}`: 3, `{env="dev"}`: 5}, instant(t, e, `sum by (env) (rate({"page.views"}[1m]))`, at))
	assert.Equal(t, map[string]float64{`{}`: 8}, instant(t, e, `sum(rate({"page.views"}[1m]))`, at))
	assert.Equal(t, map[string]float64{`{env="prod"}`: 1.5, `{env="dev"}`: 5}, instant(t, e, `avg by (env) (rate({"page.views"}[1m]))`, at))
	assert.Equal(t, map[string]float64{`{env="prod"}`: 1, `{env="dev"}`: 5}, instant(t, e, `min by (env) (rate({"page.views"}[1m]))`, at))
	assert.Equal(t, map[string]float64{`{env="prod"}`: 2, `{env="dev"}`: 5}, instant(t, e, `max by (env) (rate({"page.views"}[1m]))`, at))
	assert.Equal(t, map[string]float64{`{env="prod"}`: 2, `{env="dev"}`: 1}, instant(t, e, `count without (host) ({"page.views"})`, at))
	assert.Equal(t, map[string]float64{`{__name__="page.views", env="dev", host="c"}`: 50, `{__name__="page.views", env="prod", host="b"}`: 20},
		instant(t, e, `topk(2, {"page.views"})`, at))
	assert.Equal(t, map[string]float64{`{__name__="page.views", env="prod", host="a"}`: 10, `{__name__="page.views", env="dev", host="c"}`: 50},
		instant(t, e, `bottomk by (env) (1, {"page.views"})`, at))
}

func TestArithmeticWithANumber(t *testing.T) {
	e := engine(fixture())
	at := 5 * time.Minute
	assert.Equal(t, map[string]float64{`{env="dev"}`: 500}, instant(t, e, `sum by (env) (rate({"page.views", env="dev"}[1m])) * 100`, at))
	assert.Equal(t, map[string]float64{`{env="dev", host="c"}`: 0.2}, instant(t, e, `1 / rate({"page.views", env="dev"}[1m])`, at))
	assert.Equal(t, map[string]float64{`{env="dev", host="c"}`: -50}, instant(t, e, `-{"page.views", env="dev"}`, at))
	assert.Equal(t, map[string]float64{`{env="dev", host="c"}`: 2500}, instant(t, e, `{"page.views", env="dev"} ^ 2`, at))
	r, err := e.Instant(context.Background(), `(1 + 2) * 3`, t0)
	require.NoError(t, err)
	assert.Equal(t, TypeScalar, r.Type)
	assert.Equal(t, []Point{{T: t0.UnixMilli(), V: 9}}, r.Series[0].Points)
}

func TestRangeQueryOnTheStepGrid(t *testing.T) {
	e := engine(fixture())
	r, err := e.Range(context.Background(), `sum by (env) (rate({"page.views", env="prod"}[30s]))`, t0.Add(30*time.Second), t0.Add(2*time.Minute), 30*time.Second)
	require.NoError(t, err)
	require.Equal(t, TypeMatrix, r.Type)
	require.Len(t, r.Series, 1)
	assert.Equal(t, `{env="prod"}`, r.Series[0].Labels.String())
	var got []Point
	for i := range 4 {
		got = append(got, Point{T: ms(time.Duration(30*(i+1)) * time.Second), V: 3})
	}
	assert.Equal(t, got, r.Series[0].Points)

	// Steps without data leave holes; series without any point are left out.
	r, err = e.Range(context.Background(), `temp`, t0, t0.Add(10*time.Minute), time.Minute)
	require.NoError(t, err)
	require.Len(t, r.Series, 1)
	assert.Equal(t, []Point{{ms(time.Minute), 9}, {ms(2 * time.Minute), 9}, {ms(3 * time.Minute), 9}, {ms(4 * time.Minute), 9}, {ms(5 * time.Minute), 9}}, r.Series[0].Points)

	// A scalar over a range is a matrix of one series without labels.
	r, err = e.Range(context.Background(), `2`, t0, t0.Add(time.Minute), 30*time.Second)
	require.NoError(t, err)
	assert.Equal(t, TypeMatrix, r.Type)
	assert.Len(t, r.Series[0].Points, 3)
}

func TestRawRangeSelectorInAnInstantQuery(t *testing.T) {
	e := engine(fixture())
	r, err := e.Instant(context.Background(), `temp[25s]`, t0.Add(40*time.Second))
	require.NoError(t, err)
	assert.Equal(t, TypeMatrix, r.Type)
	assert.Equal(t, []Point{{ms(20 * time.Second), 7}, {ms(30 * time.Second), 3}, {ms(40 * time.Second), 9}}, r.Series[0].Points)
}

func TestOutsideTheSubsetIsRefused(t *testing.T) {
	e := engine(fixture())
	for q, want := range map[string]string{
		`rate({"page.views"}[1m]) > 1`:                      "operator > is not supported",
		`{"page.views"} + temp`:                             "between two vectors",
		`histogram_quantile(0.9, {"page.views"})`:           "function histogram_quantile is not supported",
		`{"page.views"} @ 100`:                              "@ modifier",
		`rate({"page.views"}[5m:1m])`:                       "subqueries",
		`stddev({"page.views"})`:                            "aggregation stddev is not supported",
		`"a string"`:                                        "string literals",
		`sum(`:                                              "unclosed left parenthesis",
		`quantile_over_time(0.5, {"page.views"}[1m])`:       "function quantile_over_time is not supported",
		`label_replace({"page.views"}, "a", "b", "c", "d")`: "function label_replace is not supported",
		`count_values("v", {"page.views"})`:                 "aggregation count_values is not supported",
		`{"page.views"} and temp`:                           "operator and is not supported",
	} {
		_, err := e.Instant(context.Background(), q, t0)
		var qe *Error
		require.True(t, errors.As(err, &qe), "%s: %v", q, err)
		assert.Equal(t, ErrBadData, qe.Type, q)
		assert.Contains(t, err.Error(), want, q)
	}
	_, err := e.Range(context.Background(), `temp[1m]`, t0, t0.Add(time.Minute), time.Second)
	assert.ErrorContains(t, err, `invalid expression type "range vector" for range query`)
	_, err = e.Range(context.Background(), `temp`, t0, t0.Add(24*time.Hour), time.Second)
	assert.ErrorContains(t, err, "exceeded maximum resolution of 11000 points per timeseries")
	_, err = e.Range(context.Background(), `temp`, t0, t0.Add(time.Hour), 0)
	assert.ErrorContains(t, err, "zero or negative query resolution step")
}

func TestLimitsAreExecutionErrors(t *testing.T) {
	m := fixture()
	for _, lim := range []Limits{{MaxSeries: 2}, {MaxSamples: 50}, {MaxPoints: 2}} {
		e := New(m, lim, 5*time.Minute)
		_, err := e.Instant(context.Background(), `{"page.views"}`, t0.Add(5*time.Minute))
		var qe *Error
		require.True(t, errors.As(err, &qe), "%+v: %v", lim, err)
		assert.Equal(t, ErrExecution, qe.Type)
	}
}

func TestNaNAndInfPassThrough(t *testing.T) {
	m := &memStore{}
	m.add(chunkfile.KindGauge, 0, labels.FromStrings("__name__", "g", "k", "1"), ms(time.Second), 1000, math.NaN(), 1)
	m.add(chunkfile.KindGauge, 0, labels.FromStrings("__name__", "g", "k", "2"), ms(time.Second), 1000, math.Inf(1), 2)
	e := engine(m)
	assert.Equal(t, map[string]float64{`{}`: 2}, instant(t, e, `max(min_over_time(g[5s]))`, 3*time.Second))
	got := instant(t, e, `max(g)`, time.Second)
	assert.True(t, math.IsInf(got[`{}`], 1))
}
