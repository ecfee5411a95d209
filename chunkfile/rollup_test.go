package chunkfile

import (
	"bytes"
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

// rawSeries is a series and its points in append order, for writeRaw.
type rawSeries struct {
	s   Series
	pts []Point
}

// writeRaw writes a sealed file: the series' points series by series, in order.
func writeRaw(t testing.TB, opts Options, ss ...rawSeries) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, rs := range ss {
		ref, err := w.AddSeries(rs.s)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range rs.pts {
			if err := w.Append(ref, p); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// rollAt rolls up a file held in memory with RollupAt.
func rollAt(t testing.TB, raw []byte, res time.Duration, maxWindows int) ([]byte, RollupStats) {
	t.Helper()
	data, st, err := rollAtErr(t, raw, res, maxWindows)
	if err != nil {
		t.Fatal(err)
	}
	return data, st
}

func rollAtErr(t testing.TB, raw []byte, res time.Duration, maxWindows int) ([]byte, RollupStats, error) {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, Options{})
	if err != nil {
		t.Fatal(err)
	}
	st, err := RollupAt(context.Background(), w, bytes.NewReader(raw), int64(len(raw)), RollupOptions{Resolution: res, MaxWindows: maxWindows})
	if err != nil {
		return nil, st, err
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), st, nil
}

// rollStream rolls up a file held in memory with Rollup, in one pass over a stream.
func rollStream(t testing.TB, raw []byte, res time.Duration) ([]byte, RollupStats) {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, Options{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewReader(bytes.NewReader(raw), ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	st, err := Rollup(context.Background(), w, r, RollupOptions{Resolution: res})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), st
}

// tier is a rollup file read back: points by raw series key, then statistic.
type tier map[string]map[Statistic][]Point

// seriesKeyString identifies a raw series: its encoded descriptor.
func seriesKeyString(s *Series) string { return string(appendSeries(nil, s)) }

// readTier reads a rollup file; every series must carry a known statistic.
func readTier(t testing.TB, data []byte) tier {
	t.Helper()
	out := tier{}
	r, err := NewReader(bytes.NewReader(data), ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for r.Next() {
		b := r.Batch().Clone()
		raw, st := rawOf(t, b.Series)
		k := seriesKeyString(&raw)
		if out[k] == nil {
			out[k] = map[Statistic][]Point{}
		}
		for i := range b.Len() {
			out[k][st] = append(out[k][st], b.Point(i))
		}
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	if !r.Sealed() {
		t.Fatal("rollup file not sealed")
	}
	return out
}

// rawOf returns the raw series of a rollup series and its statistic.
func rawOf(t testing.TB, s *Series) (Series, Statistic) {
	t.Helper()
	v, ok := s.Attr(RollupAttr)
	if !ok {
		t.Fatalf("series %q has no %s attribute", s.Name, RollupAttr)
	}
	st, err := ParseStatistic(v.Str)
	if err != nil {
		t.Fatal(err)
	}
	raw := *s
	raw.Attrs = nil
	for _, a := range s.Attrs {
		if a.Key != RollupAttr {
			raw.Attrs = append(raw.Attrs, a)
		}
	}
	return raw, st
}

func gauge(name string) Series { return Series{Name: name, Kind: KindGauge} }

func nums(t0, step int64, vs ...Number) []Point {
	out := make([]Point, len(vs))
	for i, v := range vs {
		out[i] = Point{T: t0 + int64(i)*step, Num: v}
	}
	return out
}

func I(v int64) Number   { return IntNumber(v) }
func F(v float64) Number { return FloatNumber(v) }

// wantWindow is the expected number statistics of one window.
type wantWindow struct {
	end                                    int64
	sum, inc, count, min, max, first, last Number
}

func checkNumbers(t *testing.T, got map[Statistic][]Point, res int64, want ...wantWindow) {
	t.Helper()
	for st := range StatMerge {
		if len(got[st]) != len(want) {
			t.Fatalf("%s: %d windows, want %d: %+v", st, len(got[st]), len(want), got[st])
		}
		for i, w := range want {
			p := got[st][i]
			if p.T != w.end || p.Start != w.end-res {
				t.Errorf("%s window %d: T %d Start %d, want %d and %d", st, i, p.T, p.Start, w.end, w.end-res)
			}
			exp := [...]Number{w.sum, w.inc, w.count, w.min, w.max, w.first, w.last}[st]
			if !p.Num.Equal(exp) {
				t.Errorf("%s of window %d: %+v, want %+v", st, w.end, p.Num, exp)
			}
		}
	}
	if len(got[StatMerge]) != 0 {
		t.Errorf("a number series has merge points")
	}
}

// TestRollupNumbersByHand: every statistic of small windows computed by hand, including the
// window edges (a point at a window's end belongs to it), a drop counted as a reset, mixed
// ints and floats, and a sum that would overflow int64.
func TestRollupNumbersByHand(t *testing.T) {
	s := Series{Name: "reqs", Kind: KindSum, Temporality: TemporalityCumulative, Monotonic: true}
	pts := []Point{
		{T: 1000, Num: I(10)}, {T: 5000, Num: I(15)}, {T: 7000, Num: I(3)}, {T: 10000, Num: I(8)}, // (0, 10000]
		{T: 10001, Num: I(9)},                                                 // (10000, 20000]
		{T: 25000, Num: I(2)}, {T: 26000, Num: F(0.5)}, {T: 27000, Num: I(4)}, // (20000, 30000]: mixed
	}
	raw := writeRaw(t, Options{}, rawSeries{s, pts})
	for name, data := range map[string][]byte{"at": first(rollAt(t, raw, 10*time.Second, 0)), "stream": first(rollStream(t, raw, 10*time.Second))} {
		t.Run(name, func(t *testing.T) {
			got := readTier(t, data)[seriesKeyString(&s)]
			checkNumbers(t, got, 10000,
				// 10, 15, 3 (a drop: a reset, 3 counts), 8: increase 5 + 3 + 5.
				wantWindow{10000, I(36), I(13), I(4), I(3), I(15), I(10), I(8)},
				wantWindow{20000, I(9), I(0), I(1), I(9), I(9), I(9), I(9)},
				// 2, 0.5 (a drop: 0.5), 4 (+3.5): floats from the first float on; min is the float.
				wantWindow{30000, F(6.5), F(4), I(3), F(0.5), I(4), I(2), I(4)},
			)
		})
	}

	big := writeRaw(t, Options{}, rawSeries{gauge("big"), nums(1, 1, I(math.MaxInt64), I(1), I(-5))})
	got := readTier(t, first(rollAt(t, big, time.Second, 0)))[seriesKeyString(&Series{Name: "big", Kind: KindGauge})]
	// MaxInt64 + 1 overflows: the sum goes on in float64; the increase MaxInt64 → 1 is a drop (1),
	// then -5 is a drop again (-5): -4, an int.
	checkNumbers(t, got, 1000, wantWindow{1000, F(math.Ldexp(1, 63)), I(-4), I(3), I(-5), I(math.MaxInt64), I(math.MaxInt64), I(-5)})
}

func first[A, B any](a A, _ B) A { return a }

// TestRollupFloatSpecials: min and max follow math.Min and math.Max (NaN wins, -0 < +0), as
// the query engine computes them from raw points.
func TestRollupFloatSpecials(t *testing.T) {
	negZero := math.Copysign(0, -1)
	raw := writeRaw(t, Options{},
		rawSeries{gauge("zeros"), nums(1000, 1000, F(0), F(negZero), I(0))},
		rawSeries{gauge("nan"), nums(1000, 1000, F(1), F(math.NaN()), F(-1))},
	)
	tr := readTier(t, first(rollAt(t, raw, time.Minute, 0)))
	z := tr[seriesKeyString(&Series{Name: "zeros", Kind: KindGauge})]
	if mn, mx := z[StatMin][0].Num, z[StatMax][0].Num; !mn.Equal(F(negZero)) || !mx.Equal(F(0)) {
		t.Errorf("zeros: min %+v max %+v, want -0 and +0 (the earlier of the ties)", mn, mx)
	}
	n := tr[seriesKeyString(&Series{Name: "nan", Kind: KindGauge})]
	for _, st := range []Statistic{StatMin, StatMax, StatSum} {
		if v := n[st][0].Num; v.IsInt || !math.IsNaN(v.Float) {
			t.Errorf("nan: %s %+v, want NaN", st, v)
		}
	}
	if v := n[StatLast][0].Num; !v.Equal(F(-1)) {
		t.Errorf("nan: last %+v", v)
	}
}

// TestRollupWindowsAtSegmentEdges: windows are aligned to the epoch, not to the segment, and a
// window split between two segments, rolled up in each and merged as docs/read-side.md says
// (sums and counts add, min of mins, max of maxes, first of the earlier, last of the later,
// increases plus the step between them), equals the rollup of all its points in one segment.
func TestRollupWindowsAtSegmentEdges(t *testing.T) {
	s := Series{Name: "c", Kind: KindSum, Temporality: TemporalityCumulative}
	all := nums(55000, 2000, I(5), I(9), I(1), I(4), I(6), I(7)) // 55 s, 57 s, … 65 s
	roll := func(pts []Point) map[Statistic][]Point {
		return readTier(t, first(rollAt(t, writeRaw(t, Options{}, rawSeries{s, pts}), time.Minute, 0)))[seriesKeyString(&s)]
	}
	whole := roll(all)
	checkNumbers(t, whole, 60000,
		wantWindow{60000, I(15), I(5), I(3), I(1), I(9), I(5), I(1)}, // 5, 9, 1: +4, then a reset to 1
		wantWindow{120000, I(17), I(3), I(3), I(4), I(7), I(4), I(7)},
	)
	for cut := 1; cut < len(all); cut++ {
		a, b := roll(all[:cut]), roll(all[cut:])
		merged := map[int64]map[Statistic]Number{}
		for _, part := range []map[Statistic][]Point{a, b} {
			for i, p := range part[StatCount] {
				w := map[Statistic]Number{}
				for st := range StatMerge {
					w[st] = part[st][i].Num
				}
				prev, ok := merged[p.T]
				if !ok {
					merged[p.T] = w
					continue
				}
				prev[StatIncrease] = addNumbers(addNumbers(prev[StatIncrease], increase(prev[StatLast], w[StatFirst])), w[StatIncrease])
				prev[StatSum] = addNumbers(prev[StatSum], w[StatSum])
				prev[StatCount] = addNumbers(prev[StatCount], w[StatCount])
				prev[StatMin] = I(min(prev[StatMin].Int, w[StatMin].Int))
				prev[StatMax] = I(max(prev[StatMax].Int, w[StatMax].Int))
				prev[StatLast] = w[StatLast]
			}
		}
		for i, p := range whole[StatCount] {
			for st := range StatMerge {
				if got, want := merged[p.T][st], whole[st][i].Num; !got.Equal(want) {
					t.Errorf("cut after point %d: %s of window %d merged from two segments %+v, in one %+v", cut, st, p.T, got, want)
				}
			}
		}
	}
}

// TestRollupLatePointsAndPasses: a point that arrives after later ones joins its own window,
// and a file read in many small passes gives the same rollup as one pass.
func TestRollupLatePointsAndPasses(t *testing.T) {
	s := gauge("g")
	pts := append(nums(0, 10000, I(1), I(2), I(3), I(4), I(5), I(6), I(7)), Point{T: 15000, Num: I(100)}) // late, in (10 s, 20 s]
	others := []rawSeries{{s, pts}}
	for _, name := range []string{"g2", "g3", "g4"} {
		others = append(others, rawSeries{gauge(name), pts})
	}
	raw := writeRaw(t, Options{BlockDuration: 20 * time.Second}, others...)
	one, st1 := rollStream(t, raw, 10*time.Second)
	many, st2 := rollAt(t, raw, 10*time.Second, 8) // 4 series, 7 windows: 2 windows a pass
	if st1.Passes != 1 || st2.Passes < 5 {
		t.Fatalf("passes %d and %d", st1.Passes, st2.Passes)
	}
	for _, name := range []string{"g", "g4"} {
		k := seriesKeyString(&Series{Name: name, Kind: KindGauge})
		a, b := readTier(t, one)[k], readTier(t, many)[k]
		checkNumbers(t, b, 10000,
			wantWindow{0, I(1), I(0), I(1), I(1), I(1), I(1), I(1)},
			wantWindow{10000, I(2), I(0), I(1), I(2), I(2), I(2), I(2)},
			wantWindow{20000, I(103), I(97), I(2), I(3), I(100), I(3), I(100)},
			wantWindow{30000, I(4), I(0), I(1), I(4), I(4), I(4), I(4)},
			wantWindow{40000, I(5), I(0), I(1), I(5), I(5), I(5), I(5)},
			wantWindow{50000, I(6), I(0), I(1), I(6), I(6), I(6), I(6)},
			wantWindow{60000, I(7), I(0), I(1), I(7), I(7), I(7), I(7)},
		)
		if len(a[StatSum]) != 7 {
			t.Fatalf("one pass: %d windows", len(a[StatSum]))
		}
		for st := range StatMerge {
			for i := range a[st] {
				if err := pointEqual(a[st][i], b[st][i]); err != nil {
					t.Errorf("%s window %d: one pass vs many: %v", st, i, err)
				}
			}
		}
	}
	if _, _, err := rollAtErr(t, raw, 10*time.Second, 6); !errors.Is(err, ErrRollupTooSpread) {
		t.Errorf("7 windows with room for 6: %v", err)
	}
}

// TestRollupHistogramsByHand: explicit histograms merged while their bounds stay the same, a
// new point when they change; sum, min and max kept only when every point has them.
func TestRollupHistogramsByHand(t *testing.T) {
	s := Series{Name: "lat", Kind: KindHistogram, Temporality: TemporalityDelta}
	h := func(t int64, bounds []float64, counts []uint64, sum float64, hasSum bool, mn, mx float64) Point {
		var n uint64
		for _, c := range counts {
			n += c
		}
		return Point{T: t, Hist: &Histogram{Count: n, Sum: sum, HasSum: hasSum, Min: mn, Max: mx, HasMin: true, HasMax: true,
			Bounds: bounds, Counts: counts}}
	}
	b1, b2 := []float64{1, 10}, []float64{1, 5, 10}
	raw := writeRaw(t, Options{}, rawSeries{s, []Point{
		h(1000, b1, []uint64{1, 2, 3}, 30, true, 0.5, 20),
		h(2000, b1, []uint64{0, 1, 0}, 4, true, 4, 4),
		h(3000, b2, []uint64{1, 1, 1, 1}, 20, true, 0.1, 12),  // new bounds: a new point
		h(4000, b2, []uint64{2, 0, 0, 0}, 1, false, 0.2, 0.9), // no sum: the merged point has none
		h(61000, b1, []uint64{5, 0, 0}, 2, true, 0.1, 0.9),    // the next window
	}})
	got := readTier(t, first(rollAt(t, raw, time.Minute, 0)))[seriesKeyString(&s)]
	for st := range StatMerge {
		if len(got[st]) > 0 {
			t.Fatalf("a histogram has %s points", st)
		}
	}
	want := []Point{
		{T: 60000, Start: 0, Hist: &Histogram{Count: 7, Sum: 34, HasSum: true, Min: 0.5, Max: 20, HasMin: true, HasMax: true, Bounds: b1, Counts: []uint64{1, 3, 3}}},
		{T: 60000, Start: 0, Hist: &Histogram{Count: 6, Min: 0.1, Max: 12, HasMin: true, HasMax: true, Bounds: b2, Counts: []uint64{3, 1, 1, 1}}},
		{T: 120000, Start: 60000, Hist: &Histogram{Count: 5, Sum: 2, HasSum: true, Min: 0.1, Max: 0.9, HasMin: true, HasMax: true, Bounds: b1, Counts: []uint64{5, 0, 0}}},
	}
	if len(got[StatMerge]) != len(want) {
		t.Fatalf("%d merge points, want %d: %+v", len(got[StatMerge]), len(want), got[StatMerge])
	}
	for i, w := range want {
		if err := pointEqual(w, got[StatMerge][i]); err != nil {
			t.Errorf("point %d: %v", i, err)
		}
	}
}

// TestRollupExpHistogramsByHand: exponential histograms of different scales merge at the
// coarser one; differing zero thresholds take the larger, and buckets wholly within it join
// the zero count.
func TestRollupExpHistogramsByHand(t *testing.T) {
	s := Series{Name: "size", Kind: KindExpHistogram, Temporality: TemporalityDelta}
	raw := writeRaw(t, Options{}, rawSeries{s, []Point{
		// Scale 1: bucket i is (2^(i/2), 2^((i+1)/2)]. Indices 0..3 become 0, 0, 1, 1 at scale 0.
		{T: 1000, Exp: &ExpHistogram{Count: 11, Sum: 20, HasSum: true, Scale: 1, ZeroCount: 1,
			Positive: Buckets{Offset: 0, Counts: []uint64{1, 2, 3, 4}}}},
		// Scale 0: bucket i is (2^i, 2^(i+1)]; -1 → -1 at scale 0; 1 → 1.
		{T: 2000, Exp: &ExpHistogram{Count: 8, Sum: 10, HasSum: true, Scale: 0, ZeroCount: 0,
			Positive: Buckets{Offset: 1, Counts: []uint64{5}}, Negative: Buckets{Offset: -1, Counts: []uint64{3}}}},
		// Next window: zero threshold 1.5 against 0: bucket -1 at scale 0, (0.5, 1], lies within
		// it and joins the zero count; bucket 0, (1, 2], does not.
		{T: 61000, Exp: &ExpHistogram{Count: 3, Scale: 0, Positive: Buckets{Offset: -1, Counts: []uint64{1, 2}}}},
		{T: 62000, Exp: &ExpHistogram{Count: 4, Scale: 0, ZeroThreshold: 1.5, ZeroCount: 4}},
	}})
	got := readTier(t, first(rollAt(t, raw, time.Minute, 0)))[seriesKeyString(&s)][StatMerge]
	want := []Point{
		{T: 60000, Exp: &ExpHistogram{Count: 19, Sum: 30, HasSum: true, Scale: 0, ZeroCount: 1,
			Positive: Buckets{Offset: 0, Counts: []uint64{3, 12}}, Negative: Buckets{Offset: -1, Counts: []uint64{3}}}},
		{T: 120000, Start: 60000, Exp: &ExpHistogram{Count: 7, Scale: 0, ZeroThreshold: 1.5, ZeroCount: 5,
			Positive: Buckets{Offset: 0, Counts: []uint64{2}}}},
	}
	if len(got) != len(want) {
		t.Fatalf("%d merge points, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		if err := pointEqual(w, got[i]); err != nil {
			t.Errorf("point %d: %v", i, err)
		}
	}
}

// TestRollupExpHistogramBucketBound: two histograms whose buckets lie far apart merge at a
// scale coarse enough for maxExpBuckets, instead of allocating 2^31 counts.
func TestRollupExpHistogramBucketBound(t *testing.T) {
	a := &ExpHistogram{Count: 1, Scale: 3, Positive: Buckets{Offset: math.MinInt32, Counts: []uint64{1}}}
	b := &ExpHistogram{Count: 1, Scale: 3, Positive: Buckets{Offset: math.MaxInt32, Counts: []uint64{1}}}
	m := mergeExp(a, b)
	if len(m.Positive.Counts) > maxExpBuckets || m.Scale >= 3 || m.Count != 2 {
		t.Fatalf("merged at scale %d with %d buckets", m.Scale, len(m.Positive.Counts))
	}
	var n uint64
	for _, c := range m.Positive.Counts {
		n += c
	}
	if n != 2 {
		t.Fatalf("bucket counts add to %d, want 2", n)
	}
}

// TestRollupSummariesByHand: count and sum added, quantiles dropped.
func TestRollupSummariesByHand(t *testing.T) {
	s := Series{Name: "rtt", Kind: KindSummary}
	raw := writeRaw(t, Options{}, rawSeries{s, []Point{
		{T: 1000, Summary: &Summary{Count: 4, Sum: 10, Quantiles: []Quantile{{0.5, 2.5}}}},
		{T: 2000, Summary: &Summary{Count: 6, Sum: 0.5, Quantiles: []Quantile{{0.5, 0.1}, {0.9, 0.2}}}},
	}})
	got := readTier(t, first(rollStream(t, raw, time.Minute)))[seriesKeyString(&s)][StatMerge]
	want := Point{T: 60000, Summary: &Summary{Count: 10, Sum: 10.5}}
	if len(got) != 1 {
		t.Fatalf("%d points", len(got))
	}
	if err := pointEqual(want, got[0]); err != nil {
		t.Error(err)
	}
}

// TestRollupLayout: the series are the raw descriptors plus __rollup__, grouped by statistic
// in the fixed order, and no block holds two statistics, so a reader skips the blocks of the
// statistics it does not need by the footer's id ranges alone.
func TestRollupLayout(t *testing.T) {
	g := Series{Name: "g", Kind: KindGauge, Unit: "ms", Description: "d", ScopeName: "sc", ScopeVersion: "1",
		Attrs:    []Attr{{Key: "A", Value: StringValue("upper")}, {Key: "z", Value: StringValue("last")}},
		Resource: []Attr{{Key: "host", Value: StringValue("h")}}}
	h := Series{Name: "h", Kind: KindHistogram, Temporality: TemporalityDelta}
	c := Series{Name: "c", Kind: KindSum, Temporality: TemporalityDelta, Monotonic: true}
	raw := writeRaw(t, Options{},
		rawSeries{g, nums(0, 7000, F(1.5), F(2), F(3), F(4), F(5), F(6), F(7), F(8), F(9), F(10), F(11))},
		rawSeries{h, []Point{{T: 100, Hist: &Histogram{Count: 1, Counts: []uint64{1}}}}},
		rawSeries{c, nums(0, 30000, I(1), I(2), I(3))},
	)
	data, st := rollAt(t, raw, 30*time.Second, 0)
	if st.Series != 3 || st.RawPoints != 15 || st.SkippedPoints != 0 {
		t.Fatalf("stats %+v", st)
	}
	ix, err := NewIndex(bytes.NewReader(data), int64(len(data)), ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for ref := range ix.NumSeries() {
		s, _ := ix.Series(SeriesRef(ref))
		raw, stat := rawOf(t, s)
		names = append(names, stat.String()+":"+raw.Name)
		want := map[string]Series{"g": g, "h": h, "c": c}[raw.Name]
		want, _ = want.normalize()
		if !raw.Equal(&want) {
			t.Errorf("series %d: descriptor %+v, want the raw one %+v", ref, raw, want)
		}
		if i := attrIndex(s.Attrs, RollupAttr); raw.Name == "g" && (i != 1 || s.Attrs[0].Key != "A") {
			t.Errorf("series %d: %s not sorted among the attributes: %+v", ref, RollupAttr, s.Attrs)
		}
	}
	if got := strings.Join(names, " "); got != "sum:g sum:c increase:g increase:c count:g count:c min:g min:c max:g max:c first:g first:c last:g last:c merge:h" {
		t.Errorf("series order: %s", got)
	}
	statOf := func(ref SeriesRef) string { return strings.SplitN(names[ref], ":", 2)[0] }
	seen := map[string]bool{}
	for _, b := range ix.Blocks() {
		if statOf(b.MinRef) != statOf(b.MaxRef) {
			t.Errorf("block %+v holds %s and %s", b, statOf(b.MinRef), statOf(b.MaxRef))
		}
		seen[statOf(b.MinRef)] = true
	}
	if len(seen) != 8 {
		t.Errorf("blocks of %d statistics, want 8", len(seen))
	}
}

func attrIndex(attrs []Attr, key string) int {
	for i, a := range attrs {
		if a.Key == key {
			return i
		}
	}
	return -1
}

// TestRollupRefusals: a bad resolution, an unsealed file and a cancelled context are errors;
// a series that has a __rollup__ attribute of its own and points whose window would overflow
// int64 are left out and counted.
func TestRollupRefusals(t *testing.T) {
	raw := writeRaw(t, Options{},
		rawSeries{gauge("ok"), nums(1000, 1000, I(1))},
		rawSeries{Series{Name: "x", Kind: KindGauge, Attrs: []Attr{{Key: RollupAttr, Value: StringValue("sum")}}}, nums(1000, 1000, I(1), I(2))},
		rawSeries{gauge("edge"), []Point{{T: math.MaxInt64 - 5, Num: I(1)}, {T: math.MinInt64 + 5, Num: I(2)}, {T: 5, Num: I(3)}}},
	)
	data, st := rollAt(t, raw, time.Second, 0)
	if st.Series != 2 || st.SkippedSeries != 1 || st.RawPoints != 6 || st.SkippedPoints != 4 {
		t.Errorf("stats %+v", st)
	}
	tr := readTier(t, data)
	if len(tr) != 2 {
		t.Errorf("%d series rolled up, want 2", len(tr))
	}
	if c := tr[seriesKeyString(&Series{Name: "edge", Kind: KindGauge})][StatCount]; len(c) != 1 || c[0].T != 1000 {
		t.Errorf("edge windows %+v, want only (0, 1 s]", c)
	}

	w, _ := NewWriter(&bytes.Buffer{}, Options{})
	if _, err := RollupAt(context.Background(), w, bytes.NewReader(raw), int64(len(raw)), RollupOptions{Resolution: 1500 * time.Microsecond}); err == nil || !strings.Contains(err.Error(), "whole number of milliseconds") {
		t.Errorf("resolution 1.5ms: %v", err)
	}
	var ob bytes.Buffer
	ow, _ := NewWriter(&ob, Options{})
	ref, _ := ow.AddSeries(gauge("g"))
	if err := ow.AppendInt(ref, 1000, 1); err != nil || ow.Flush() != nil {
		t.Fatal("writing an unsealed file")
	}
	open := ob.Bytes()
	if _, err := RollupAt(context.Background(), w, bytes.NewReader(open), int64(len(open)), RollupOptions{Resolution: time.Second}); !errors.Is(err, ErrNotSealed) {
		t.Errorf("unsealed: %v", err)
	}
	r, _ := NewReader(bytes.NewReader(open), ReaderOptions{})
	if _, err := Rollup(context.Background(), w, r, RollupOptions{Resolution: time.Second}); !errors.Is(err, ErrNotSealed) {
		t.Errorf("unsealed stream: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := RollupAt(ctx, w, bytes.NewReader(raw), int64(len(raw)), RollupOptions{Resolution: time.Second}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// TestRollupSparseFileRefused: with MinPointsPerSeries, a file with fewer points per series
// (a flood's segment: one or two points each) is refused with ErrRollupSparse and nothing is
// written to dst; one with as many is rolled up.
func TestRollupSparseFileRefused(t *testing.T) {
	raw := writeRaw(t, Options{},
		rawSeries{gauge("a"), nums(1000, 1000, I(1), I(2), I(3))},
		rawSeries{gauge("b"), nums(1000, 1000, I(1))},
	) // 4 points of 2 series
	for _, c := range []struct {
		min    float64
		sparse bool
	}{{0, false}, {2, false}, {2.01, true}, {10, true}} {
		var out bytes.Buffer
		w, _ := NewWriter(&out, Options{})
		before := out.Len()
		st, err := RollupAt(context.Background(), w, bytes.NewReader(raw), int64(len(raw)), RollupOptions{Resolution: time.Second, MinPointsPerSeries: c.min})
		if c.sparse {
			if !errors.Is(err, ErrRollupSparse) || st.RawPoints != 0 || out.Len() != before || w.Stats().Series != 0 {
				t.Errorf("min %g: %v, %+v, %d bytes written", c.min, err, st, out.Len()-before)
			}
			continue
		}
		if err != nil || st.RawPoints != 4 {
			t.Errorf("min %g: %v, %+v", c.min, err, st)
		}
	}
}
