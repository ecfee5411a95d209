package chunkfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// specialFloats are the values that break naive float encodings.
var specialFloats = []float64{
	0, math.Copysign(0, -1), math.NaN(), math.Float64frombits(0x7ff8_0000_dead_beef), // NaN with payload
	math.Float64frombits(0xfff0_0000_0000_0001), // signalling NaN, negative
	math.Inf(1), math.Inf(-1), math.MaxFloat64, -math.MaxFloat64, math.SmallestNonzeroFloat64,
	-math.SmallestNonzeroFloat64, 1e-300, 1e300, 0.1, 0.30000000000000004, 12.34, -99.99, 1 << 53, 1<<53 + 2,
}

var specialInts = []int64{0, 1, -1, math.MaxInt64, math.MinInt64, math.MaxInt64 - 1, math.MinInt64 + 1, 1 << 53, -(1 << 53)}

// randFloat returns values of several shapes: specials, decimals, random bits, random walk.
func randFloat(r *rand.Rand, prev float64) float64 {
	switch r.IntN(6) {
	case 0:
		return specialFloats[r.IntN(len(specialFloats))]
	case 1:
		return float64(r.IntN(100000)-50000) / 100
	case 2:
		return math.Float64frombits(r.Uint64())
	case 3:
		return prev
	default:
		return prev + r.NormFloat64()
	}
}

func randInt(r *rand.Rand, prev int64) int64 {
	switch r.IntN(5) {
	case 0:
		return specialInts[r.IntN(len(specialInts))]
	case 1:
		return int64(r.Uint64())
	case 2:
		return prev
	default:
		return prev + int64(r.IntN(9)-4)
	}
}

func randTime(r *rand.Rand, prev int64) int64 {
	switch r.IntN(20) {
	case 0:
		return specialInts[r.IntN(len(specialInts))]
	case 1:
		return prev - int64(r.IntN(5000)) // late point
	default:
		return prev + 1000 + int64(r.IntN(7)-3)
	}
}

func randCounts(r *rand.Rand, n int) []uint64 {
	if n == 0 {
		return nil
	}
	c := make([]uint64, n)
	for i := range c {
		if r.IntN(10) == 0 {
			c[i] = r.Uint64()
		} else {
			c[i] = uint64(r.IntN(100))
		}
	}
	return c
}

func randPoint(r *rand.Rand, k Kind, t int64, prev *Point) Point {
	p := Point{T: t}
	if r.IntN(4) == 0 {
		p.Start = t - int64(r.IntN(60000))
	}
	switch k {
	case KindGauge, KindSum:
		if r.IntN(2) == 0 {
			p.Num = IntNumber(randInt(r, prev.Num.Int))
		} else {
			p.Num = FloatNumber(randFloat(r, prev.Num.Float))
		}
	case KindHistogram:
		h := &Histogram{Count: r.Uint64N(1000), HasSum: r.IntN(3) > 0, HasMin: r.IntN(2) == 0, HasMax: r.IntN(2) == 0}
		h.Sum, h.Min, h.Max = randFloat(r, 1), randFloat(r, 0), randFloat(r, 100)
		if !h.HasSum {
			h.Sum = 0
		}
		if !h.HasMin {
			h.Min = 0
		}
		if !h.HasMax {
			h.Max = 0
		}
		if prev.Hist != nil && r.IntN(3) > 0 {
			h.Bounds = slices.Clone(prev.Hist.Bounds)
		} else {
			for range r.IntN(6) {
				h.Bounds = append(h.Bounds, randFloat(r, 10))
			}
		}
		h.Counts = randCounts(r, len(h.Bounds)+r.IntN(2))
		p.Hist = h
	case KindExpHistogram:
		e := &ExpHistogram{Count: r.Uint64(), HasSum: r.IntN(2) == 0, HasMin: r.IntN(2) == 0, HasMax: r.IntN(2) == 0,
			Scale: int32(r.IntN(40) - 20), ZeroCount: uint64(r.IntN(10)), ZeroThreshold: randFloat(r, 0)}
		if e.HasSum {
			e.Sum = randFloat(r, 5)
		}
		if e.HasMin {
			e.Min = randFloat(r, 5)
		}
		if e.HasMax {
			e.Max = randFloat(r, 5)
		}
		e.Positive = Buckets{Offset: int32(r.IntN(200) - 100), Counts: randCounts(r, r.IntN(8))}
		e.Negative = Buckets{Offset: int32(r.Int32()), Counts: randCounts(r, r.IntN(3))}
		p.Exp = e
	case KindSummary:
		s := &Summary{Count: r.Uint64N(1 << 40), Sum: randFloat(r, 100)}
		for range r.IntN(4) {
			s.Quantiles = append(s.Quantiles, Quantile{Q: randFloat(r, 0.5), V: randFloat(r, 10)})
		}
		p.Summary = s
	}
	return p
}

func floatEq(a, b float64) bool { return math.Float64bits(a) == math.Float64bits(b) }

func floatsEq(a, b []float64) bool { return slices.EqualFunc(a, b, floatEq) }

func countsEq(a, b []uint64) bool { return len(a) == len(b) && (len(a) == 0 || slices.Equal(a, b)) }

// pointEqual compares points exactly (floats by bits).
func pointEqual(a, b Point) error {
	if a.T != b.T || a.Start != b.Start {
		return fmt.Errorf("time %d/%d vs %d/%d", a.T, a.Start, b.T, b.Start)
	}
	switch {
	case a.Hist != nil:
		x, y := a.Hist, b.Hist
		if y == nil || x.Count != y.Count || x.HasSum != y.HasSum || x.HasMin != y.HasMin || x.HasMax != y.HasMax ||
			!floatEq(x.Sum, y.Sum) || !floatEq(x.Min, y.Min) || !floatEq(x.Max, y.Max) ||
			!floatsEq(x.Bounds, y.Bounds) || !countsEq(x.Counts, y.Counts) {
			return fmt.Errorf("histogram %+v vs %+v", x, y)
		}
	case a.Exp != nil:
		x, y := a.Exp, b.Exp
		if y == nil || x.Count != y.Count || x.HasSum != y.HasSum || x.HasMin != y.HasMin || x.HasMax != y.HasMax ||
			!floatEq(x.Sum, y.Sum) || !floatEq(x.Min, y.Min) || !floatEq(x.Max, y.Max) ||
			x.Scale != y.Scale || x.ZeroCount != y.ZeroCount || !floatEq(x.ZeroThreshold, y.ZeroThreshold) ||
			x.Positive.Offset != y.Positive.Offset || !countsEq(x.Positive.Counts, y.Positive.Counts) ||
			x.Negative.Offset != y.Negative.Offset || !countsEq(x.Negative.Counts, y.Negative.Counts) {
			return fmt.Errorf("exp histogram %+v vs %+v", x, y)
		}
	case a.Summary != nil:
		x, y := a.Summary, b.Summary
		if y == nil || x.Count != y.Count || !floatEq(x.Sum, y.Sum) || len(x.Quantiles) != len(y.Quantiles) {
			return fmt.Errorf("summary %+v vs %+v", x, y)
		}
		for i := range x.Quantiles {
			if !floatEq(x.Quantiles[i].Q, y.Quantiles[i].Q) || !floatEq(x.Quantiles[i].V, y.Quantiles[i].V) {
				return fmt.Errorf("summary quantile %d: %+v vs %+v", i, x.Quantiles[i], y.Quantiles[i])
			}
		}
	default:
		if !a.Num.Equal(b.Num) {
			return fmt.Errorf("number %+v (%#x) vs %+v (%#x)", a.Num, math.Float64bits(a.Num.Float), b.Num, math.Float64bits(b.Num.Float))
		}
	}
	return nil
}

// randomFile writes random series and points and returns the file with what was written.
func randomFile(t testing.TB, seed uint64) ([]byte, []Series, [][]Point) {
	r := rand.New(rand.NewPCG(seed, 1))
	opts := Options{BlockDuration: time.Duration(r.IntN(120)) * time.Second, MaxBlockPoints: 1 + r.IntN(500), MaxBlockSeries: 1 + r.IntN(40)}
	if r.IntN(2) == 0 {
		opts.Compression = CompressionNone
	}
	var buf bytes.Buffer
	w, err := NewWriter(&buf, opts)
	if err != nil {
		t.Fatal(err)
	}
	nSeries := 1 + r.IntN(40)
	series := make([]Series, nSeries)
	points := make([][]Point, nSeries)
	times := make([]int64, nSeries)
	for i := range series {
		s := Series{
			Name: fmt.Sprintf("metric.%d", i), Kind: Kind(1 + r.IntN(5)), Unit: []string{"", "ms", "By"}[r.IntN(3)],
			Temporality: Temporality(r.IntN(3)), Monotonic: r.IntN(2) == 0, Description: "random series",
			ScopeName: "scope", ScopeVersion: "v1",
			Attrs: []Attr{{Key: "z", Value: StringValue(fmt.Sprint(i))}, {Key: "a", Value: Value{Type: ValueInt, Int: int64(i)}},
				{Key: "d", Value: Value{Type: ValueDouble, Double: math.NaN()}}, {Key: "b", Value: Value{Type: ValueBool, Bool: true}},
				{Key: "y", Value: Value{Type: ValueBytes, Bytes: []byte{0, 1, 2}}}},
			Resource: []Attr{{Key: "host.name", Value: StringValue("h")}},
		}
		ref, err := w.AddSeries(s)
		if err != nil {
			t.Fatal(err)
		}
		if ref != SeriesRef(i) {
			t.Fatalf("ref %d for series %d", ref, i)
		}
		ns, _ := s.normalize()
		series[i] = ns
		times[i] = int64(r.IntN(1 << 40))
	}
	nPoints := r.IntN(3000)
	for range nPoints {
		i := r.IntN(nSeries)
		times[i] = randTime(r, times[i])
		prev := Point{}
		if n := len(points[i]); n > 0 {
			prev = points[i][n-1]
		}
		p := randPoint(r, series[i].Kind, times[i], &prev)
		if r.IntN(3) == 0 && series[i].Kind.isNumber() && p.Start == 0 {
			if p.Num.IsInt {
				err = w.AppendInt(SeriesRef(i), p.T, p.Num.Int)
			} else {
				err = w.AppendFloat(SeriesRef(i), p.T, p.Num.Float)
			}
		} else {
			err = w.Append(SeriesRef(i), p)
		}
		if err != nil {
			t.Fatal(err)
		}
		points[i] = append(points[i], p)
		if r.IntN(500) == 0 {
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), series, points
}

// readAll reads a file into per-series point lists.
func readAll(t testing.TB, data []byte, opts ReaderOptions) (*Reader, map[SeriesRef][]Point) {
	r, err := NewReader(bytes.NewReader(data), opts)
	if err != nil {
		t.Fatal(err)
	}
	got := map[SeriesRef][]Point{}
	for r.Next() {
		b := r.Batch().Clone()
		for i := range b.Len() {
			got[b.Ref] = append(got[b.Ref], b.Point(i))
		}
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	return r, got
}

func TestRoundTripRandom(t *testing.T) {
	for seed := range uint64(60) {
		data, series, points := randomFile(t, seed)
		r, got := readAll(t, data, ReaderOptions{})
		if r.NumSeries() != len(series) {
			t.Fatalf("seed %d: %d series, want %d", seed, r.NumSeries(), len(series))
		}
		for i := range series {
			s, _ := r.Series(SeriesRef(i))
			if !s.Equal(&series[i]) {
				t.Fatalf("seed %d: series %d is %+v, want %+v", seed, i, s, series[i])
			}
			if len(got[SeriesRef(i)]) != len(points[i]) {
				t.Fatalf("seed %d series %d: %d points, want %d", seed, i, len(got[SeriesRef(i)]), len(points[i]))
			}
			for j, p := range points[i] {
				if err := pointEqual(p, got[SeriesRef(i)][j]); err != nil {
					t.Fatalf("seed %d series %d (%s) point %d: %v", seed, i, series[i].Kind, j, err)
				}
			}
		}
	}
}

func TestSpecialValuesRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	w, _ := NewWriter(&buf, Options{})
	g, _ := w.AddSeries(Series{Name: "g", Kind: KindGauge})
	c, _ := w.AddSeries(Series{Name: "c", Kind: KindSum, Monotonic: true, Temporality: TemporalityCumulative})
	for i, f := range specialFloats {
		if err := w.AppendFloat(g, int64(i), f); err != nil {
			t.Fatal(err)
		}
	}
	for i, v := range specialInts {
		if err := w.AppendInt(c, int64(i), v); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	_, got := readAll(t, buf.Bytes(), ReaderOptions{})
	for i, f := range specialFloats {
		if n := got[g][i].Num; n.IsInt || math.Float64bits(n.Float) != math.Float64bits(f) {
			t.Errorf("float %d: got %#x, want %#x", i, math.Float64bits(n.Float), math.Float64bits(f))
		}
	}
	for i, v := range specialInts {
		if n := got[c][i].Num; !n.IsInt || n.Int != v {
			t.Errorf("int %d: got %+v, want %d", i, n, v)
		}
	}
}

// A flood of one point per series is cut into blocks of at most MaxBlockSeries series, and
// every point reads back.
func TestMaxBlockSeriesCutsBlocks(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, Options{MaxBlockSeries: 100})
	if err != nil {
		t.Fatal(err)
	}
	const n = 1050
	for i := range n {
		ref, err := w.AddSeries(Series{Name: fmt.Sprintf("flood.%d", i), Kind: KindSum, Temporality: TemporalityDelta})
		if err != nil {
			t.Fatal(err)
		}
		// Every series twice: the second point of a series already in the block never cuts.
		for k := range 2 {
			if err := w.AppendInt(ref, 1_700_000_000_000+int64(k), int64(i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := w.Stats().Blocks; got != (n+99)/100 {
		t.Fatalf("%d blocks, want %d", got, (n+99)/100)
	}
	r, err := NewReader(bytes.NewReader(buf.Bytes()), ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var sum, points int64
	for r.Next() {
		b := r.Batch()
		for i := range b.Len() {
			sum += b.Point(i).Num.Int
			points++
		}
	}
	if r.Err() != nil {
		t.Fatal(r.Err())
	}
	if points != 2*n || sum != 2*int64(n)*(n-1)/2 {
		t.Fatalf("read %d points summing to %d", points, sum)
	}
}

// TestMaxBlockNewSeriesCutsFloodsOnly: series defined since the block began count against
// MaxBlockNewSeries, so a flood of new series is cut into small blocks, while series the file
// already knows fill one block up to MaxBlockSeries.
func TestMaxBlockNewSeriesCutsFloodsOnly(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, Options{MaxBlockSeries: 1000, MaxBlockNewSeries: 100})
	if err != nil {
		t.Fatal(err)
	}
	refs := make([]SeriesRef, 300)
	for round := range 4 {
		for i := range refs {
			if round == 0 {
				if refs[i], err = w.AddSeries(Series{Name: fmt.Sprintf("s.%d", i), Kind: KindGauge}); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.AppendInt(refs[i], 1_700_000_000_000+int64(round), int64(round)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	// Round 0: blocks of 100 new series (3); the third is cut by the first known series of
	// round 1, since it already holds 100 new ones; rounds 1-3 then share one block.
	if got := w.Stats().Blocks; got != 4 {
		t.Fatalf("%d blocks, want 4", got)
	}
	if got := w.Stats().Points; got != 1200 {
		t.Fatalf("%d points, want 1200", got)
	}
}

// TestFewSeriesCutForSize: a block of few busy series is cut at 256 K points once they hold
// 256 points each on average, while many series fill a block up to MaxBlockPoints (or the end
// of its window), so that their spans stay long. A MaxBlockPoints of at most 256 K alone
// decides.
func TestFewSeriesCutForSize(t *testing.T) {
	cases := []struct {
		name            string
		opts            Options
		series, perEach int
		blocks          int
	}{
		{"1000 series × 600 points", Options{}, 1000, 600, 3}, // 256 K, 256 K, 88 K
		{"2000 series × 300 points", Options{}, 2000, 300, 2}, // cut at 512 K (256 × 2000)
		// 25.6 points each at 256 K: one block (the exporter's max_segment_series is 50,000)
		{"10000 series × 60 points", Options{MaxBlockSeries: 50_000, MaxBlockNewSeries: 50_000}, 10_000, 60, 1},
		{"explicit 300 K", Options{MaxBlockPoints: 300_000}, 1000, 600, 3}, // still cut at 256 K
		{"explicit 200 K", Options{MaxBlockPoints: 200_000}, 1000, 600, 3}, // 200 K each
		{"explicit 100 K", Options{MaxBlockPoints: 100_000}, 1000, 600, 6},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w, err := NewWriter(io.Discard, c.opts)
			if err != nil {
				t.Fatal(err)
			}
			refs := make([]SeriesRef, c.series)
			for i := range refs {
				if refs[i], err = w.AddSeries(Series{Name: "busy", Kind: KindGauge, Attrs: []Attr{{Key: "i", Value: StringValue(fmt.Sprint(i))}}}); err != nil {
					t.Fatal(err)
				}
			}
			// All in one minute: only size cuts the block.
			for k := range c.perEach {
				for _, ref := range refs {
					if err := w.AppendInt(ref, 1_700_000_040_000+int64(k), int64(k)); err != nil {
						t.Fatal(err)
					}
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if got := w.Stats().Blocks; got != c.blocks {
				t.Fatalf("%d blocks, want %d", got, c.blocks)
			}
			if got, want := w.Stats().Points, int64(c.series*c.perEach); got != want {
				t.Fatalf("%d points, want %d", got, want)
			}
		})
	}
}

// TestBlockRangeIsChecked: a reader trusts a block's header range to skip the time filter of
// a block inside a query's range, so a block with a point outside its header's range is
// corrupt, not read.
func TestBlockRangeIsChecked(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ref, err := w.AddSeries(Series{Name: "g", Kind: KindGauge})
	if err != nil {
		t.Fatal(err)
	}
	for k := range 10 {
		if err := w.AppendInt(ref, 1_700_000_000_000+int64(k)*1000, int64(k)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := NewReader(bytes.NewReader(buf.Bytes()), ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var payload []byte
	for payload == nil {
		fr, err := r.fr.next()
		if err != nil {
			t.Fatal(err)
		}
		if fr.typ&frameKindMask == frameBlock {
			payload = bytes.Clone(fr.payload)
		}
	}
	kinds := []Kind{KindGauge}
	var bd blockDecoder
	if _, err := bd.decode(payload, kinds, 1<<16); err != nil {
		t.Fatalf("the block as written: %v", err)
	}
	// The header: zigzag varint minT, then uvarint maxT - minT. Shrink the range by 1 ms.
	_, n := binary.Uvarint(payload)
	span, m := binary.Uvarint(payload[n:])
	bad := append(binary.AppendUvarint(bytes.Clone(payload[:n]), span-1), payload[n+m:]...)
	var bd2 blockDecoder
	if _, err := bd2.decode(bad, kinds, 1<<16); !errors.Is(err, errStructure) {
		t.Fatalf("a point after the header's maxT: got %v, want errStructure", err)
	}
}
