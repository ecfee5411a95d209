package chunkfile

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/big"
	"testing"
	"time"

	"github.com/doghouse-otel/doghouse/chunkfile/workload"
)

// raceEnabled is set under the race detector (race_test.go).
var raceEnabled bool

// refEnd is the end of the window of t, computed apart from windowEnd: false for timestamps
// whose window or start would leave the int64 range.
func refEnd(t, res int64) (int64, bool) {
	if t <= math.MinInt64+res || t > math.MaxInt64-res {
		return 0, false
	}
	end := t / res * res // truncates toward zero
	if end < t {
		end += res
	}
	return end, true
}

// refAdd is a + b with the rollup's typing rule (an int while both are ints and the exact
// sum fits int64), computed with big integers.
func refAdd(a, b Number) Number {
	if a.IsInt && b.IsInt {
		if s := new(big.Int).Add(big.NewInt(a.Int), big.NewInt(b.Int)); s.IsInt64() {
			return IntNumber(s.Int64())
		}
	}
	return FloatNumber(a.Float64() + b.Float64())
}

func refIncrease(a, b Number) Number {
	if a.IsInt && b.IsInt {
		if b.Int < a.Int {
			return b
		}
		if d := new(big.Int).Sub(big.NewInt(b.Int), big.NewInt(a.Int)); d.IsInt64() {
			return IntNumber(d.Int64())
		}
	}
	if b.Float64() < a.Float64() {
		return FloatNumber(b.Float64())
	}
	return FloatNumber(b.Float64() - a.Float64())
}

// refStats computes the seven statistics of a window's values (in file order) directly.
func refStats(vs []Number) [StatMerge]Number {
	var out [StatMerge]Number
	sum, inc := vs[0], IntNumber(0)
	if !vs[0].IsInt {
		inc = FloatNumber(0)
	}
	mn, mx := vs[0].Float64(), vs[0].Float64()
	for i := 1; i < len(vs); i++ {
		sum = refAdd(sum, vs[i])
		inc = refAdd(inc, refIncrease(vs[i-1], vs[i]))
		mn, mx = math.Min(mn, vs[i].Float64()), math.Max(mx, vs[i].Float64())
	}
	out[StatSum], out[StatIncrease], out[StatCount] = sum, inc, IntNumber(int64(len(vs)))
	out[StatMin], out[StatMax] = FloatNumber(mn), FloatNumber(mx)
	out[StatFirst], out[StatLast] = vs[0], vs[len(vs)-1]
	return out
}

// checkNumberWindow compares a rollup window with refStats of its raw values. min and max are
// checked by value against math.Min and math.Max and must be one of the window's values.
func checkNumberWindow(vs []Number, got [StatMerge]Number) error {
	want := refStats(vs)
	for st := range StatMerge {
		g, w := got[st], want[st]
		switch st {
		case StatMin, StatMax:
			isValue := false
			for _, v := range vs {
				isValue = isValue || v.Equal(g)
			}
			if !isValue || math.Float64bits(g.Float64()) != math.Float64bits(w.Float) && !(math.IsNaN(g.Float64()) && math.IsNaN(w.Float)) {
				return fmt.Errorf("%s %+v, want %v (one of %v)", st, g, w.Float, vs)
			}
		default:
			if !g.Equal(w) && !(math.IsNaN(g.Float64()) && math.IsNaN(w.Float64()) && !g.IsInt && !w.IsInt) {
				return fmt.Errorf("%s %+v, want %+v (values %v)", st, g, w, vs)
			}
		}
	}
	return nil
}

// tierWindows returns the number statistics of one series of a tier by window end, checking
// that every statistic has the same windows with T = end and Start = end − res.
func tierWindows(t testing.TB, got map[Statistic][]Point, res int64) map[int64][StatMerge]Number {
	t.Helper()
	out := map[int64][StatMerge]Number{}
	for st := range StatMerge {
		if len(got[st]) != len(got[StatSum]) {
			t.Fatalf("%s has %d windows, sum %d", st, len(got[st]), len(got[StatSum]))
		}
		for i, p := range got[st] {
			if p.T != got[StatSum][i].T || p.Start != p.T-res {
				t.Fatalf("%s window %d: T %d Start %d (sum's T %d)", st, i, p.T, p.Start, got[StatSum][i].T)
			}
			w := out[p.T]
			w[st] = p.Num
			out[p.T] = w
		}
	}
	return out
}

// TestRollupRandomFiles: random files of every kind (special values, late points, timestamps
// at the ends of the int64 range) rolled up in one pass and in many agree, and agree with the
// statistics computed directly from the points read back; merged histograms keep their counts.
func TestRollupRandomFiles(t *testing.T) {
	seeds, minMulti := uint64(60), 10
	if raceEnabled || testing.Short() {
		seeds, minMulti = 12, 2
	}
	multi := 0
	for seed := range seeds {
		raw, series, _ := randomFile(t, seed)
		res := []time.Duration{time.Second, 10 * time.Second, time.Minute, time.Hour}[seed%4]
		if checkRollup(t, raw, res, len(series)*(1+int(seed%5))) {
			multi++
		}
	}
	if multi < minMulti {
		t.Errorf("only %d files were read in several passes", multi)
	}
}

// checkRollup rolls up the sealed file raw in one pass and in passes of maxWindows (or, for a
// file spread too thin for that, with room for all its windows): both must agree, and agree
// with the statistics computed directly from the points read back. It reports whether the
// passes were several.
func checkRollup(t *testing.T, raw []byte, res time.Duration, maxWindows int) bool {
	t.Helper()
	resMs := res.Milliseconds()
	one, st1 := rollStream(t, raw, res)
	multi := false
	many, st2, err := rollAtErr(t, raw, res, maxWindows)
	if errors.Is(err, ErrRollupTooSpread) {
		many, st2 = rollAt(t, raw, res, math.MaxInt32)
	} else if err != nil {
		t.Fatal(err)
	} else {
		multi = st2.Passes > 2
	}
	a, b := readTier(t, one), readTier(t, many)
	if st1.RawPoints != st2.RawPoints || st1.SkippedPoints != st2.SkippedPoints || st1.Windows != st2.Windows || st1.Points != st2.Points {
		t.Fatalf("one pass %+v, %d passes %+v", st1, st2.Passes, st2)
	}
	r, points := readAll(t, raw, ReaderOptions{})
	var total int64
	for ref := range r.NumSeries() {
		s, _ := r.Series(SeriesRef(ref))
		k := seriesKeyString(s)
		for st := range numStats {
			if len(a[k][st]) != len(b[k][st]) {
				t.Fatalf("series %d %s: %d windows in one pass, %d in many", ref, st, len(a[k][st]), len(b[k][st]))
			}
			for i := range a[k][st] {
				if err := pointEqual(a[k][st][i], b[k][st][i]); err != nil {
					t.Fatalf("series %d %s point %d: one pass vs many: %v", ref, st, i, err)
				}
			}
		}
		pts := points[SeriesRef(ref)]
		total += int64(len(pts))
		if _, ok := s.Attr(RollupAttr); ok {
			if len(a[k]) > 0 {
				t.Fatalf("series %d has a %s attribute of its own but was rolled up", ref, RollupAttr)
			}
			continue
		}
		// The raw points by window, in file order.
		byEnd := map[int64][]Point{}
		for _, p := range pts {
			if end, ok := refEnd(p.T, resMs); ok {
				byEnd[end] = append(byEnd[end], p)
			}
		}
		if !s.Kind.isNumber() {
			checkMergeCounts(t, s.Kind, a[k][StatMerge], byEnd, resMs)
			continue
		}
		got := tierWindows(t, a[k], resMs)
		if len(got) != len(byEnd) {
			t.Fatalf("series %d: %d windows, want %d", ref, len(got), len(byEnd))
		}
		for end, ps := range byEnd {
			vs := make([]Number, len(ps))
			for i, p := range ps {
				vs[i] = p.Num
			}
			if err := checkNumberWindow(vs, got[end]); err != nil {
				t.Fatalf("series %d window %d: %v", ref, end, err)
			}
		}
	}
	if st1.RawPoints != total {
		t.Fatalf("read %d raw points, the file has %d", st1.RawPoints, total)
	}
	return multi
}

// checkMergeCounts checks what merging must keep: per window, the total count, the bucket
// counts (with the zero bucket for exponential histograms) and summaries' sums.
func checkMergeCounts(t *testing.T, k Kind, got []Point, byEnd map[int64][]Point, res int64) {
	t.Helper()
	type totals struct {
		count, buckets uint64
		sum            float64
	}
	tot := func(p Point) totals {
		var x totals
		switch k {
		case KindHistogram:
			x.count = p.Hist.Count
			for _, c := range p.Hist.Counts {
				x.buckets += c
			}
		case KindExpHistogram:
			x.count, x.buckets = p.Exp.Count, p.Exp.ZeroCount
			for _, c := range append(append([]uint64{}, p.Exp.Positive.Counts...), p.Exp.Negative.Counts...) {
				x.buckets += c
			}
		case KindSummary:
			x.count, x.sum = p.Summary.Count, p.Summary.Sum
		}
		return x
	}
	gotBy := map[int64]totals{}
	for _, p := range got {
		if p.Start != p.T-res {
			t.Fatalf("merge point T %d Start %d", p.T, p.Start)
		}
		x, g := tot(p), gotBy[p.T]
		g.count += x.count
		g.buckets += x.buckets
		if _, ok := gotBy[p.T]; ok {
			g.sum += x.sum
		} else {
			g.sum = x.sum
		}
		gotBy[p.T] = g
	}
	if len(gotBy) != len(byEnd) {
		t.Fatalf("%s: %d windows, want %d", k, len(gotBy), len(byEnd))
	}
	for end, ps := range byEnd {
		var w totals
		for i, p := range ps {
			x := tot(p)
			w.count += x.count
			w.buckets += x.buckets
			if i == 0 {
				w.sum = x.sum
			} else {
				w.sum += x.sum
			}
		}
		if g := gotBy[end]; g.count != w.count || g.buckets != w.buckets || !floatEq(g.sum, w.sum) && !(math.IsNaN(g.sum) && math.IsNaN(w.sum)) {
			t.Fatalf("%s window %d: merged %+v, raw %+v", k, end, g, w)
		}
	}
}

// TestRollupWorkloadMatchesRawPoints: the reference workload (200 of its series, all 3600
// points each; a 60 s-block segment, as the exporter writes it) rolled up at 1 minute and 1 hour: every statistic of every series and
// window equals the same statistic computed from the raw points read back.
func TestRollupWorkloadMatchesRawPoints(t *testing.T) {
	o := workload.Options{NumSeries: 200}
	if raceEnabled || testing.Short() {
		o.NumSeries = 20
	}
	ss := workload.Generate(o)
	raw := encodeWorkload(t, ss, Options{})
	for _, res := range []time.Duration{time.Minute, time.Hour} {
		resMs := res.Milliseconds()
		data, st := rollAt(t, raw, res, 0)
		if st.RawPoints != int64(workload.Events(ss)) || st.SkippedPoints != 0 {
			t.Fatalf("%s: %+v", res, st)
		}
		tr := readTier(t, data)
		got := map[string]map[int64][StatMerge]Number{}
		for k, m := range tr {
			got[k] = tierWindows(t, m, resMs)
		}
		// The raw points, window by window: the workload's series are in time order.
		type open struct {
			end int64
			vs  []Number
		}
		cur := map[string]*open{}
		windows := 0
		check := func(k string, o *open) {
			if err := checkNumberWindow(o.vs, got[k][o.end]); err != nil {
				t.Fatalf("%s, window %d: %v", res, o.end, err)
			}
			windows++
		}
		r, err := NewReader(bytes.NewReader(raw), ReaderOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for r.Next() {
			b := r.Batch()
			k := seriesKeyString(b.Series)
			for i, ts := range b.T {
				end, _ := refEnd(ts, resMs)
				o := cur[k]
				if o == nil || o.end != end {
					if o != nil {
						check(k, o)
					}
					o = &open{end: end}
					cur[k] = o
				}
				o.vs = append(o.vs, b.Num[i])
			}
		}
		if err := r.Err(); err != nil {
			t.Fatal(err)
		}
		for k, o := range cur {
			check(k, o)
		}
		n := 0
		for _, m := range got {
			n += len(m)
		}
		if windows != n || int64(n) != st.Windows {
			t.Fatalf("%s: %d windows from raw points, %d in the tier, %d counted", res, windows, n, st.Windows)
		}
		t.Logf("%s: %d series, %d windows, %d raw bytes, %d tier bytes", res, len(got), n, len(raw), len(data))
	}
}
