package chunkfile

import (
	"bytes"
	"flag"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

const goldenV1 = "testdata/golden-v1.0.chunk"

// goldenContent writes a small file that touches every kind, encoding and frame type, and
// returns it with the points written per series.
func goldenContent(t *testing.T) ([]byte, [][]Point) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, Options{BlockDuration: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(7, 7))
	defs := []Series{
		{Name: "gauge.decimal", Kind: KindGauge, Unit: "1", Attrs: []Attr{{Key: "host", Value: StringValue("a")}}},
		{Name: "sum.counter", Kind: KindSum, Monotonic: true, Temporality: TemporalityCumulative, Unit: "{req}"},
		{Name: "gauge.special", Kind: KindGauge, Description: "NaN, Inf, -0 and random bits",
			Resource: []Attr{{Key: "service.name", Value: StringValue("golden")}, {Key: "pid", Value: Value{Type: ValueInt, Int: 42}}}},
		{Name: "gauge.mixed", Kind: KindGauge, ScopeName: "scope", ScopeVersion: "1.0"},
		{Name: "histogram", Kind: KindHistogram, Temporality: TemporalityDelta, Unit: "ms"},
		{Name: "exphistogram", Kind: KindExpHistogram, Temporality: TemporalityDelta},
		{Name: "summary", Kind: KindSummary},
	}
	points := make([][]Point, len(defs))
	for _, d := range defs {
		if _, err := w.AddSeries(d); err != nil {
			t.Fatal(err)
		}
	}
	base := int64(1_700_000_000_000)
	for j := range 90 {
		ts := base + int64(j)*1000
		jit := ts + int64(r.IntN(7)) - 3
		add := func(i int, p Point) {
			if err := w.Append(SeriesRef(i), p); err != nil {
				t.Fatal(err)
			}
			points[i] = append(points[i], p)
		}
		add(0, Point{T: ts, Num: FloatNumber(float64(r.IntN(10000)) / 100)})
		add(1, Point{T: ts, Start: base - 5000, Num: IntNumber(int64(1000 + j*3 + r.IntN(3)))})
		add(2, Point{T: jit, Num: FloatNumber(specialFloats[j%len(specialFloats)])})
		if j%2 == 0 {
			add(3, Point{T: ts, Num: IntNumber(math.MinInt64 + int64(j))})
		} else {
			add(3, Point{T: ts, Num: FloatNumber(math.Float64frombits(r.Uint64()))})
		}
		bounds := []float64{1, 5, 10}
		if j > 60 {
			bounds = []float64{1, 2.5, 5, 10}
		}
		counts := make([]uint64, len(bounds)+1)
		for k := range counts {
			counts[k] = uint64(r.IntN(20))
		}
		h := &Histogram{Count: 50, Sum: 123.5, HasSum: true, Max: 11, HasMax: true, Bounds: bounds, Counts: counts}
		if j%3 == 0 {
			h.Min, h.HasMin = 0.5, true
		}
		add(4, Point{T: ts, Start: ts - 1000, Hist: h})
		add(5, Point{T: ts, Exp: &ExpHistogram{Count: 9, Sum: 3.25, HasSum: true, Scale: 3, ZeroCount: 1, ZeroThreshold: 1e-9,
			Positive: Buckets{Offset: -2, Counts: []uint64{1, 2, 3}}, Negative: Buckets{Offset: 4, Counts: []uint64{uint64(j)}}}})
		add(6, Point{T: ts, Summary: &Summary{Count: uint64(j), Sum: float64(j) * 1.5, Quantiles: []Quantile{{0.5, 1.25}, {0.99, float64(j)}}}})
		if j == 45 {
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), points
}

// TestGoldenV1 keeps format v1 readable: the committed file must decode to exactly the points
// that produced it. It is also compared byte for byte with what the writer produces today;
// when a writer change alters the bytes on purpose, add a new golden file and keep this one.
func TestGoldenV1(t *testing.T) {
	data, points := goldenContent(t)
	if *update {
		if err := os.MkdirAll(filepath.Dir(goldenV1), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(goldenV1, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	committed, err := os.ReadFile(goldenV1)
	if err != nil {
		t.Fatal(err)
	}
	r, got := readAll(t, committed, ReaderOptions{})
	if !r.Sealed() || r.NumSeries() != len(points) {
		t.Fatalf("golden: sealed=%v, %d series", r.Sealed(), r.NumSeries())
	}
	for i := range points {
		if len(got[SeriesRef(i)]) != len(points[i]) {
			t.Fatalf("series %d: %d points, want %d", i, len(got[SeriesRef(i)]), len(points[i]))
		}
		for j, p := range points[i] {
			if err := pointEqual(p, got[SeriesRef(i)][j]); err != nil {
				t.Fatalf("series %d point %d: %v", i, j, err)
			}
		}
	}
	if !bytes.Equal(committed, data) {
		t.Errorf("writer output (%d bytes) differs from %s (%d bytes)", len(data), goldenV1, len(committed))
	}
}

const goldenCheckpoint = "testdata/golden-v1.0-checkpoint.chunk"

// TestGoldenCheckpointV1 keeps CHECKPOINT frames readable: an unsealed v1 file with one
// checkpoint repeated by a block and one trailing checkpoint. Readers see the block's points;
// Recover adds the trailing checkpoint's.
func TestGoldenCheckpointV1(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, Options{Checkpoints: true, Compression: CompressionNone})
	if err != nil {
		t.Fatal(err)
	}
	g, h := ckSeries(t, w)
	for i := range 40 {
		ckAppend(t, w, g, h, i)
		switch i {
		case 9, 39:
			if err := w.Checkpoint(); err != nil {
				t.Fatal(err)
			}
		case 19:
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if *update {
		if err := os.WriteFile(goldenCheckpoint, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	committed, err := os.ReadFile(goldenCheckpoint)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ck")
	if err := os.WriteFile(path, committed, 0o644); err != nil {
		t.Fatal(err)
	}
	checkPoints(t, path, 20)
	res, err := Recover(path)
	if err != nil || res.Checkpoints != 1 {
		t.Fatalf("recover %+v %v", res, err)
	}
	checkPoints(t, path, 40)
	if !bytes.Equal(committed, buf.Bytes()) {
		t.Errorf("writer output differs from %s", goldenCheckpoint)
	}
}
