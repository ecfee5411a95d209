package eval

import (
	"container/heap"
	"fmt"
	"math"
	"slices"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// group accumulates the rows of one output series of an aggregation.
type group struct {
	labels labels.Labels
	v      []float64 // sum, min, max
	n      []float64 // count (avg: values added)
}

func (ev *evaluator) aggregate(a *parser.AggregateExpr) (value, error) {
	in, err := ev.expr(a.Expr)
	if err != nil {
		return value{}, err
	}
	if in.vec == nil {
		return value{}, badData("%s needs an instant vector, not a number", a.Op)
	}
	switch a.Op {
	case parser.TOPK, parser.BOTTOMK:
		p, err := ev.expr(a.Param)
		if err != nil {
			return value{}, err
		}
		if p.scalar == nil {
			return value{}, badData("%s: the parameter must be a number", a.Op)
		}
		return value{vec: ev.topk(a, in.vec, p.scalar)}, nil
	case parser.SUM, parser.AVG, parser.MIN, parser.MAX, parser.COUNT:
	default:
		return value{}, badData("aggregation %s is not supported by this query API (supported: sum, avg, min, max, count, topk, bottomk)", a.Op)
	}
	return value{vec: func(emit func(*row) error) error {
		groups := map[string]*group{}
		var order []*group
		n := ev.g.n
		err := in.vec(func(r *row) error {
			ls := groupLabels(r.labels, a.Grouping, a.Without)
			key := string(ls.Bytes(nil))
			g := groups[key]
			if g == nil {
				g = &group{labels: ls, v: make([]float64, n), n: make([]float64, n)}
				groups[key] = g
				order = append(order, g)
			}
			fold(a.Op, g, r)
			return nil
		})
		if err != nil {
			return err
		}
		for _, g := range order {
			r := &row{labels: g.labels, v: g.v, ok: make([]bool, n)}
			for i := range n {
				if g.n[i] == 0 {
					continue
				}
				r.ok[i] = true
				switch a.Op {
				case parser.AVG:
					r.v[i] /= g.n[i]
				case parser.COUNT:
					r.v[i] = g.n[i]
				}
			}
			if err := emit(r); err != nil {
				return err
			}
		}
		return nil
	}}, nil
}

// fold adds row r to group g: the first value of a step is taken as it is, the later ones
// summed (sum, avg), or compared (min, max; a NaN is replaced by any value); g.n counts them.
// One loop per operation, as this runs for every step of every series.
func fold(op parser.ItemType, g *group, r *row) {
	gv, gn, rv, rok := g.v[:len(r.v)], g.n[:len(r.v)], r.v, r.ok[:len(r.v)]
	switch op {
	case parser.SUM, parser.AVG:
		for i, ok := range rok {
			if ok {
				if gn[i] == 0 {
					gv[i] = rv[i]
				} else {
					gv[i] += rv[i]
				}
				gn[i]++
			}
		}
	case parser.MIN:
		for i, ok := range rok {
			if ok {
				if v := rv[i]; gn[i] == 0 || v < gv[i] || math.IsNaN(gv[i]) {
					gv[i] = v
				}
				gn[i]++
			}
		}
	case parser.MAX:
		for i, ok := range rok {
			if ok {
				if v := rv[i]; gn[i] == 0 || v > gv[i] || math.IsNaN(gv[i]) {
					gv[i] = v
				}
				gn[i]++
			}
		}
	default: // count
		for i, ok := range rok {
			if ok {
				if gn[i] == 0 {
					gv[i] = rv[i]
				}
				gn[i]++
			}
		}
	}
}

// groupLabels returns the labels of the group a series falls in: only the `by` labels, or all
// but the `without` labels and the metric name.
func groupLabels(ls labels.Labels, names []string, without bool) labels.Labels {
	b := labels.NewBuilder(ls)
	if without {
		b.Del(labels.MetricName)
		b.Del(names...)
		return b.Labels()
	}
	b.Keep(names...)
	return b.Labels()
}

// ranked is one candidate of topk/bottomk at one step.
type ranked struct {
	v   float64
	idx int // row index
}

// rankHeap keeps the k best of a step: its root is the worst kept.
type rankHeap struct {
	items  []ranked
	bottom bool
}

func (h *rankHeap) Len() int { return len(h.items) }
func (h *rankHeap) Less(i, j int) bool {
	a, b := h.items[i].v, h.items[j].v
	if math.IsNaN(a) != math.IsNaN(b) {
		return math.IsNaN(a) // NaN ranks last either way
	}
	if h.bottom {
		return a > b
	}
	return a < b
}
func (h *rankHeap) Swap(i, j int) { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *rankHeap) Push(x any)    { h.items = append(h.items, x.(ranked)) }
func (h *rankHeap) Pop() any {
	x := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return x
}

// topk keeps, at each step and in each group, the k series with the largest (bottomk: the
// smallest) values; the series keep their labels. Rows are held until the input ends.
func (ev *evaluator) topk(a *parser.AggregateExpr, in vector, param []float64) vector {
	return func(emit func(*row) error) error {
		n := ev.g.n
		type grp struct {
			heaps []*rankHeap
			rows  []*row
		}
		groups := map[string]*grp{}
		var order []*grp
		err := in(func(r *row) error {
			key := string(groupLabels(r.labels, a.Grouping, a.Without).Bytes(nil))
			g := groups[key]
			if g == nil {
				g = &grp{heaps: make([]*rankHeap, n)}
				groups[key] = g
				order = append(order, g)
			}
			idx := len(g.rows)
			r = &row{labels: r.labels, v: slices.Clone(r.v), ok: slices.Clone(r.ok)} // kept past the call
			g.rows = append(g.rows, r)
			for i := range n {
				k := int(param[i])
				if !r.ok[i] || k < 1 || math.IsNaN(param[i]) {
					continue
				}
				h := g.heaps[i]
				if h == nil {
					h = &rankHeap{bottom: a.Op == parser.BOTTOMK}
					g.heaps[i] = h
				}
				c := ranked{v: r.v[i], idx: idx}
				if h.Len() < k {
					heap.Push(h, c)
				} else if h.Less(0, 0) || better(c.v, h.items[0].v, h.bottom) {
					h.items[0] = c
					heap.Fix(h, 0)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, g := range order {
			keep := make([][]bool, len(g.rows))
			for i, h := range g.heaps {
				if h == nil {
					continue
				}
				for _, c := range h.items {
					if keep[c.idx] == nil {
						keep[c.idx] = make([]bool, n)
					}
					keep[c.idx][i] = true
				}
			}
			for idx, r := range g.rows {
				if keep[idx] == nil {
					continue
				}
				out := &row{labels: r.labels, v: r.v, ok: keep[idx]}
				if err := emit(out); err != nil {
					return err
				}
			}
		}
		return nil
	}
}

// better reports whether v ranks before w.
func better(v, w float64, bottom bool) bool {
	if math.IsNaN(w) {
		return !math.IsNaN(v)
	}
	if bottom {
		return v < w
	}
	return v > w
}

// arith applies an arithmetic operator; one side at least must be a number.
func (ev *evaluator) arith(op parser.ItemType, l, r value) (value, error) {
	f, ok := arithOps[op]
	if !ok {
		return value{}, badData("operator %s is not supported by this query API (arithmetic with a number only: + - * / %% ^)", op)
	}
	switch {
	case l.scalar != nil && r.scalar != nil:
		out := make([]float64, ev.g.n)
		for i := range out {
			out[i] = f(l.scalar[i], r.scalar[i])
		}
		return value{scalar: out}, nil
	case l.scalar != nil || r.scalar != nil:
		vec, sc, scalarLeft := r.vec, l.scalar, true
		if r.scalar != nil {
			vec, sc, scalarLeft = l.vec, r.scalar, false
		}
		return value{vec: func(emit func(*row) error) error {
			return vec(func(in *row) error {
				// The row is the producer's and valid during this call: changed in place.
				in.labels = dropName(in.labels)
				for i := range in.v {
					if scalarLeft {
						in.v[i] = f(sc[i], in.v[i])
					} else {
						in.v[i] = f(in.v[i], sc[i])
					}
				}
				return emit(in)
			})
		}}, nil
	}
	return value{}, badData("operator %s between two vectors is not supported by this query API (one side must be a number)", op)
}

var arithOps = map[parser.ItemType]func(a, b float64) float64{
	parser.ADD: func(a, b float64) float64 { return a + b },
	parser.SUB: func(a, b float64) float64 { return a - b },
	parser.MUL: func(a, b float64) float64 { return a * b },
	parser.DIV: func(a, b float64) float64 { return a / b },
	parser.MOD: math.Mod,
	parser.POW: math.Pow,
}

// checkSubset refuses, before anything is read, what the engine does not evaluate.
func checkSubset(x parser.Expr) error {
	var err error
	parser.Inspect(x, func(node parser.Node, _ []parser.Node) error {
		if err != nil {
			return err
		}
		switch n := node.(type) {
		case *parser.VectorSelector:
			if n.Timestamp != nil || n.StartOrEnd != 0 {
				err = badData("the @ modifier is not supported by this query API")
			} else if n.OriginalOffsetExpr != nil && n.OriginalOffset == 0 && n.OriginalOffsetExpr.Op != 0 {
				err = badData("offset expressions are not supported by this query API")
			} else if n.Anchored || n.Smoothed {
				err = badData("anchored and smoothed selectors are not supported by this query API")
			}
		case *parser.MatrixSelector:
			if n.RangeExpr != nil && n.Range == 0 {
				err = badData("range expressions are not supported by this query API")
			}
		case *parser.SubqueryExpr:
			err = badData("subqueries are not supported by this query API")
		case *parser.StringLiteral:
			err = badData("string literals are not supported by this query API")
		case *parser.BinaryExpr:
			if _, ok := arithOps[n.Op]; !ok {
				err = badData("operator %s is not supported by this query API (arithmetic with a number only: + - * / %% ^)", n.Op)
			} else if n.VectorMatching != nil && n.LHS.Type() == parser.ValueTypeVector && n.RHS.Type() == parser.ValueTypeVector {
				err = badData("operator %s between two vectors is not supported by this query API (one side must be a number)", n.Op)
			}
		case *parser.Call:
			if _, ok := rangeFuncs[n.Func.Name]; !ok {
				err = badData("function %s is not supported by this query API (supported: %s)", n.Func.Name, supportedFuncs())
			}
		case *parser.AggregateExpr:
			switch n.Op {
			case parser.SUM, parser.AVG, parser.MIN, parser.MAX, parser.COUNT, parser.TOPK, parser.BOTTOMK:
			default:
				err = badData("aggregation %s is not supported by this query API (supported: sum, avg, min, max, count, topk, bottomk)", n.Op)
			}
		case *parser.DurationExpr:
			err = badData("duration expressions are not supported by this query API")
		}
		return err
	})
	return err
}

func describe(x parser.Expr) string {
	return fmt.Sprintf("%T (%s)", x, x)
}
