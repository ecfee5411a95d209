// Package eval evaluates a subset of PromQL over the chunk store: selectors, the range
// functions rate, increase and sum/avg/min/max/count/last_over_time, the aggregations
// sum/avg/min/max/count (by or without), topk/bottomk, and arithmetic with a number. Queries
// are parsed with Prometheus' own parser; anything outside the subset is refused with an
// error naming it, never answered approximately.
//
// Evaluation runs on the step grid (an instant query is a grid of one step). Vector values
// flow one series at a time from the selection through functions into aggregations, so the
// memory of `sum by (x) (rate(m[5m]))` is that of the selected points plus one row per group.
package eval

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/doghouse-otel/doghouse/extension/chunkqueryextension/internal/store"
)

// Selecter is what the engine reads: the store.
type Selecter interface {
	Select(ctx context.Context, ms []*labels.Matcher, mint, maxt int64, lim store.Limits) ([]*store.Points, error)
}

// Limits bound one query.
type Limits struct {
	MaxSeries  int // series one selector may match
	MaxSamples int // points all selectors may read together
	MaxSteps   int // steps of a range query (Prometheus: 11,000)
	MaxPoints  int // points of the result (series × steps)
}

// Engine evaluates queries.
type Engine struct {
	Store         Selecter
	Limits        Limits
	LookbackDelta time.Duration // how far back an instant selector looks (5 m)
	parser        parser.Parser
}

// New returns an engine over st.
func New(st Selecter, lim Limits, lookback time.Duration) *Engine {
	return &Engine{Store: st, Limits: lim, LookbackDelta: lookback, parser: parser.NewParser(parser.Options{})}
}

// ErrorType classifies errors as the Prometheus API does.
type ErrorType string

const (
	ErrBadData   ErrorType = "bad_data"  // the query is malformed or outside the subset: 400
	ErrExecution ErrorType = "execution" // it could not be evaluated (limits, storage): 422
	ErrTimeout   ErrorType = "timeout"   // 503
	ErrCanceled  ErrorType = "canceled"  // 499
)

// Error is an error with its Prometheus API type.
type Error struct {
	Type ErrorType
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

func badData(format string, a ...any) error {
	return &Error{Type: ErrBadData, Err: fmt.Errorf(format, a...)}
}

func execErr(err error) error {
	var e *Error
	switch {
	case errors.As(err, &e):
		return err
	case errors.Is(err, context.DeadlineExceeded):
		return &Error{Type: ErrTimeout, Err: fmt.Errorf("query timed out: %w", err)}
	case errors.Is(err, context.Canceled):
		return &Error{Type: ErrCanceled, Err: err}
	}
	return &Error{Type: ErrExecution, Err: err}
}

// ValueType of a result.
type ValueType string

const (
	TypeScalar ValueType = "scalar"
	TypeVector ValueType = "vector"
	TypeMatrix ValueType = "matrix"
)

// Point is one value at a time (ms).
type Point struct {
	T int64
	V float64
}

// Series is one series of a result.
type Series struct {
	Labels labels.Labels
	Points []Point
}

// Result is what a query returns: a scalar (Series[0] without labels, one point), an instant
// vector (one point per series) or a matrix.
type Result struct {
	Type   ValueType
	Series []Series
	// Samples is the number of points read from the store to compute it.
	Samples int
}

// Parse parses q and checks that it stays inside the supported subset.
func (e *Engine) Parse(q string) (parser.Expr, error) {
	expr, err := e.parser.ParseExpr(q)
	if err != nil {
		return nil, badData("%v", err)
	}
	if err := checkSubset(expr); err != nil {
		return nil, err
	}
	return expr, nil
}

// Instant evaluates q at t.
func (e *Engine) Instant(ctx context.Context, q string, t time.Time) (*Result, error) {
	expr, err := e.Parse(q)
	if err != nil {
		return nil, err
	}
	ms := t.UnixMilli()
	if m, ok := unparen(expr).(*parser.MatrixSelector); ok {
		return e.rawMatrix(ctx, m, ms)
	}
	res, err := e.eval(ctx, expr, grid{start: ms, step: 1, n: 1})
	if err != nil {
		return nil, err
	}
	if res.Type == TypeMatrix {
		res.Type = TypeVector
	}
	return res, nil
}

// Range evaluates q at every step from start to end.
func (e *Engine) Range(ctx context.Context, q string, start, end time.Time, step time.Duration) (*Result, error) {
	if step <= 0 {
		return nil, badData("zero or negative query resolution step widths are not accepted. Try a positive integer")
	}
	if end.Before(start) {
		return nil, badData("end timestamp must not be before start time")
	}
	stepMs := step.Milliseconds()
	if stepMs <= 0 {
		stepMs = 1
	}
	n := (end.UnixMilli()-start.UnixMilli())/stepMs + 1
	if max := e.Limits.MaxSteps; max > 0 && n > int64(max) {
		return nil, badData("exceeded maximum resolution of %d points per timeseries. Try decreasing the query resolution (?step=XX)", max)
	}
	expr, err := e.Parse(q)
	if err != nil {
		return nil, err
	}
	if unparen(expr).Type() == parser.ValueTypeMatrix {
		return nil, badData("invalid expression type \"range vector\" for range query, must be Scalar or instant Vector")
	}
	res, err := e.eval(ctx, expr, grid{start: start.UnixMilli(), step: stepMs, n: int(n)})
	if err != nil {
		return nil, err
	}
	if res.Type == TypeScalar {
		res.Type = TypeMatrix
	}
	return res, nil
}

func unparen(e parser.Expr) parser.Expr {
	for {
		p, ok := e.(*parser.ParenExpr)
		if !ok {
			return e
		}
		e = p.Expr
	}
}

// grid is the evaluation steps: start + i*step for i < n, in ms.
type grid struct {
	start, step int64
	n           int
}

func (g grid) at(i int) int64 { return g.start + int64(i)*g.step }
func (g grid) end() int64     { return g.at(g.n - 1) }

// row is one series on the grid: v[i] is its value at step i when ok[i].
type row struct {
	labels labels.Labels
	v      []float64
	ok     []bool
}

func newRow(ls labels.Labels, n int) *row {
	return &row{labels: ls, v: make([]float64, n), ok: make([]bool, n)}
}

// reuse makes r (nil: a new row) the empty row of ls. A producer of a vector reuses one row for
// all its series: a row handed to emit is valid only during the call, and a consumer that keeps
// it (topk) copies it.
func reuse(r *row, ls labels.Labels, n int) *row {
	if r == nil {
		return newRow(ls, n)
	}
	r.labels = ls
	clear(r.v)
	clear(r.ok)
	return r
}

// vector produces the rows of an instant-vector expression one at a time; a row is valid only
// during the emit call it is passed to.
type vector func(emit func(*row) error) error

// value is an evaluated expression: a scalar (one value per step) or a vector.
type value struct {
	scalar []float64
	vec    vector
}

func (e *Engine) eval(ctx context.Context, expr parser.Expr, g grid) (*Result, error) {
	ev := &evaluator{e: e, ctx: ctx, g: g}
	v, err := ev.expr(expr)
	if err != nil {
		return nil, execErr(err)
	}
	if v.scalar != nil {
		pts := make([]Point, g.n)
		for i := range pts {
			pts[i] = Point{T: g.at(i), V: v.scalar[i]}
		}
		return &Result{Type: TypeScalar, Series: []Series{{Labels: labels.EmptyLabels(), Points: pts}}}, nil
	}
	res := &Result{Type: TypeMatrix}
	defer func() { res.Samples = ev.samples }()
	points := 0
	seen := map[string]bool{}
	err = v.vec(func(r *row) error {
		s := Series{Labels: r.labels}
		for i := range g.n {
			if r.ok[i] {
				s.Points = append(s.Points, Point{T: g.at(i), V: r.v[i]})
			}
		}
		if len(s.Points) == 0 {
			return nil
		}
		key := r.labels.String()
		if seen[key] {
			return &Error{Type: ErrExecution, Err: fmt.Errorf("vector cannot contain metrics with the same labelset %s", key)}
		}
		seen[key] = true
		points += len(s.Points)
		if max := e.Limits.MaxPoints; max > 0 && points > max {
			return &Error{Type: ErrExecution, Err: fmt.Errorf("the result has more than %d points, the limit: select fewer series or a larger step", max)}
		}
		res.Series = append(res.Series, s)
		return nil
	})
	if err != nil {
		return nil, execErr(err)
	}
	slices.SortFunc(res.Series, func(a, b Series) int { return labels.Compare(a.Labels, b.Labels) })
	return res, nil
}

type evaluator struct {
	e       *Engine
	ctx     context.Context
	g       grid
	samples int
}

func (ev *evaluator) expr(x parser.Expr) (value, error) {
	switch n := x.(type) {
	case *parser.ParenExpr:
		return ev.expr(n.Expr)
	case *parser.NumberLiteral:
		s := make([]float64, ev.g.n)
		for i := range s {
			s[i] = n.Val
		}
		return value{scalar: s}, nil
	case *parser.UnaryExpr:
		v, err := ev.expr(n.Expr)
		if err != nil || n.Op == parser.ADD {
			return v, err
		}
		return ev.arith(parser.SUB, value{scalar: make([]float64, ev.g.n)}, v)
	case *parser.VectorSelector:
		return value{vec: ev.instantSelector(n)}, nil
	case *parser.Call:
		return ev.call(n)
	case *parser.AggregateExpr:
		return ev.aggregate(n)
	case *parser.BinaryExpr:
		l, err := ev.expr(n.LHS)
		if err != nil {
			return value{}, err
		}
		r, err := ev.expr(n.RHS)
		if err != nil {
			return value{}, err
		}
		return ev.arith(n.Op, l, r)
	}
	return value{}, badData("%s is not supported by this query API", describe(x))
}

// selectPoints reads the points of a selector between mint and maxt (ms).
func (ev *evaluator) selectPoints(vs *parser.VectorSelector, mint, maxt int64) ([]*store.Points, error) {
	lim := store.Limits{MaxSeries: ev.e.Limits.MaxSeries}
	if ev.e.Limits.MaxSamples > 0 {
		lim.MaxSamples = max(ev.e.Limits.MaxSamples-ev.samples, 1)
	}
	off := vs.OriginalOffset.Milliseconds()
	pts, err := ev.e.Store.Select(ev.ctx, vs.LabelMatchers, mint-off, maxt-off, lim)
	if err != nil {
		var le *store.LimitError
		if errors.As(err, &le) {
			return nil, &Error{Type: ErrExecution, Err: fmt.Errorf("%s: %w", vs, err)}
		}
		return nil, err
	}
	for _, p := range pts {
		ev.samples += len(p.T)
		if off != 0 {
			for i := range p.T {
				p.T[i] += off
			}
		}
	}
	return pts, nil
}

// instantSelector: at each step, the last point at most the lookback delta old.
func (ev *evaluator) instantSelector(vs *parser.VectorSelector) vector {
	return func(emit func(*row) error) error {
		lb := ev.e.LookbackDelta.Milliseconds()
		if res, ws := ev.windowsFor(lb); res > 0 {
			// An instant selector is last_over_time over the lookback, labels kept.
			if used, err := ev.rangeFromWindows(ws, res, "last_over_time", vs, lb, true, emit); used {
				return err
			}
		}
		pts, err := ev.selectPoints(vs, ev.g.start-lb+1, ev.g.end())
		if err != nil {
			return err
		}
		var r *row
		for _, p := range pts {
			r = reuse(r, p.Series.Labels, ev.g.n)
			j := 0 // first point after the step
			for i := range ev.g.n {
				t := ev.g.at(i)
				for j < len(p.T) && p.T[j] <= t {
					j++
				}
				if j > 0 && p.T[j-1] > t-lb {
					r.v[i], r.ok[i] = p.V[j-1], true
				}
			}
			if err := emit(r); err != nil {
				return err
			}
		}
		return nil
	}
}

// Functions of the subset, and whether they keep the metric name.
var rangeFuncs = map[string]bool{
	"rate": false, "increase": false,
	"sum_over_time": false, "avg_over_time": false, "min_over_time": false, "max_over_time": false,
	"count_over_time": false, "last_over_time": true,
}

func (ev *evaluator) call(c *parser.Call) (value, error) {
	keepName, ok := rangeFuncs[c.Func.Name]
	if !ok || len(c.Args) != 1 {
		return value{}, badData("function %s is not supported by this query API (supported: %s)", c.Func.Name, supportedFuncs())
	}
	ms, ok := unparen(c.Args[0]).(*parser.MatrixSelector)
	if !ok {
		return value{}, badData("%s: the argument must be a range selector such as m[5m] (subqueries are not supported)", c.Func.Name)
	}
	vs := ms.VectorSelector.(*parser.VectorSelector)
	rng := ms.Range.Milliseconds()
	if rng <= 0 {
		return value{}, badData("%s: the range must be positive", c.Func.Name)
	}
	fn := c.Func.Name
	return value{vec: func(emit func(*row) error) error {
		if res, ws := ev.windowsFor(rng); res > 0 {
			if used, err := ev.rangeFromWindows(ws, res, fn, vs, rng, keepName, emit); used {
				return err
			}
		}
		pts, err := ev.selectPoints(vs, ev.g.start-rng+1, ev.g.end())
		if err != nil {
			return err
		}
		var r *row
		for _, p := range pts {
			ls := p.Series.Labels
			if !keepName {
				ls = dropName(ls)
			}
			r = reuse(r, ls, ev.g.n)
			lo, hi := 0, 0 // the points in (t-rng, t] are p.T[lo:hi]
			for i := range ev.g.n {
				t := ev.g.at(i)
				for hi < len(p.T) && p.T[hi] <= t {
					hi++
				}
				for lo < hi && p.T[lo] <= t-rng {
					lo++
				}
				if lo == hi {
					continue
				}
				r.v[i], r.ok[i] = windowValue(fn, p, lo, hi, rng)
			}
			if err := emit(r); err != nil {
				return err
			}
		}
		return nil
	}}, nil
}

// windowValue applies fn to the points p[lo:hi] of a window of rng ms.
func windowValue(fn string, p *store.Points, lo, hi int, rng int64) (float64, bool) {
	vs := p.V[lo:hi]
	switch fn {
	case "rate", "increase":
		var inc float64
		if p.Series.Delta() {
			// Each value is what happened in its own interval: the window's increase is their sum.
			for _, v := range vs {
				inc += v
			}
		} else {
			// Cumulative values (or a gauge): the differences of consecutive points, a drop
			// being a reset after which the new value is the increase. No extrapolation.
			if len(vs) < 2 {
				return 0, false
			}
			for k := 1; k < len(vs); k++ {
				if d := vs[k] - vs[k-1]; d >= 0 {
					inc += d
				} else {
					inc += vs[k]
				}
			}
		}
		if fn == "rate" {
			return inc / (float64(rng) / 1000), true
		}
		return inc, true
	case "sum_over_time", "avg_over_time":
		var s float64
		for _, v := range vs {
			s += v
		}
		if fn == "avg_over_time" {
			s /= float64(len(vs))
		}
		return s, true
	case "min_over_time", "max_over_time":
		m := vs[0]
		for _, v := range vs[1:] {
			if (fn == "min_over_time" && (v < m || math.IsNaN(m))) || (fn == "max_over_time" && (v > m || math.IsNaN(m))) {
				m = v
			}
		}
		return m, true
	case "count_over_time":
		return float64(len(vs)), true
	case "last_over_time":
		return vs[len(vs)-1], true
	}
	return 0, false
}

func supportedFuncs() string {
	names := make([]string, 0, len(rangeFuncs))
	for n := range rangeFuncs {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

func dropName(ls labels.Labels) labels.Labels {
	return labels.NewBuilder(ls).Del(labels.MetricName).Labels()
}

// rawMatrix answers an instant query of a range selector: the raw points in (t-range, t].
func (e *Engine) rawMatrix(ctx context.Context, m *parser.MatrixSelector, t int64) (*Result, error) {
	ev := &evaluator{e: e, ctx: ctx, g: grid{start: t, step: 1, n: 1}}
	vs := m.VectorSelector.(*parser.VectorSelector)
	pts, err := ev.selectPoints(vs, t-m.Range.Milliseconds()+1, t)
	if err != nil {
		return nil, execErr(err)
	}
	res := &Result{Type: TypeMatrix, Samples: ev.samples}
	for _, p := range pts {
		s := Series{Labels: p.Series.Labels}
		for i := range p.T {
			s.Points = append(s.Points, Point{T: p.T[i], V: p.V[i]})
		}
		res.Series = append(res.Series, s)
	}
	return res, nil
}
