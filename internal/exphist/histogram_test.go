package exphist

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// stream is a named generator of test values; every stream has its own fixed seed.
type stream struct {
	name string
	gen  func(rng *rand.Rand) float64
}

var streams = []stream{
	{"constant", func(*rand.Rand) float64 { return 42.5 }},
	{"narrow", func(rng *rand.Rand) float64 { return 100 * (1 + rng.Float64()*1e-4) }},
	{"lognormal", func(rng *rand.Rand) float64 { return math.Exp(rng.NormFloat64() * 3) }},
	{"signs and zeros", func(rng *rand.Rand) float64 {
		return []float64{-1, 0, 1, 1}[rng.IntN(4)] * math.Exp(rng.NormFloat64()*2)
	}},
	{"two clusters", func(rng *rand.Rand) float64 {
		return []float64{1e-3, 1e3}[rng.IntN(2)] * (1 + rng.Float64()/100)
	}},
	{"all floats", func(rng *rand.Rand) float64 {
		v := math.Float64frombits(1 + rng.Uint64N(math.Float64bits(math.MaxFloat64)))
		return v * float64(1-2*rng.IntN(2))
	}},
	{"extremes", func(rng *rand.Rand) float64 {
		return []float64{math.SmallestNonzeroFloat64, 1, math.MaxFloat64, -0x1p-1022, 0}[rng.IntN(5)]
	}},
}

// weights are exact in binary, so that counts add up to the same total in any order.
var weights = []float64{1, 1, 2, 4, 0.5, 10}

func fill(s stream, seed uint64, n int) (values, ws []float64) {
	rng := rand.New(rand.NewPCG(seed, 99))
	for range n {
		values = append(values, s.gen(rng))
		ws = append(ws, weights[rng.IntN(len(weights))])
	}
	return values, ws
}

// TestAddMatchesReference: adding a stream one value at a time, downscaling as it goes, ends
// where the reference does, which sees all values before choosing the scale.
func TestAddMatchesReference(t *testing.T) {
	for i, s := range streams {
		for _, maxSize := range []int{2, 3, 10, 160, 1000} {
			t.Run(fmt.Sprintf("%s/%d", s.name, maxSize), func(t *testing.T) {
				values, ws := fill(s, uint64(i), 1500)
				h := Histogram{MaxSize: maxSize}
				var ref reference
				for j, v := range values {
					h.Add(v, ws[j])
					ref.add(v, ws[j])
					if j%100 == 0 || j == len(values)-1 {
						checkInvariants(t, &h, maxSize)
						compareWithReference(t, &h, ref.build(maxSize, MaxScale), 0)
					}
				}
			})
		}
	}
}

// TestMergeEqualsAddingAll: histograms of parts of a stream, merged in any order, equal the
// histogram of the whole stream.
func TestMergeEqualsAddingAll(t *testing.T) {
	for i, s := range streams {
		t.Run(s.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			values, ws := fill(s, uint64(i), 3000)
			parts := make([]Histogram, 2+rng.IntN(4))
			var ref reference
			for j, v := range values {
				parts[rng.IntN(len(parts))].Add(v, ws[j])
				ref.add(v, ws[j])
			}
			var merged Histogram
			for _, p := range rng.Perm(len(parts)) {
				merged.Merge(&parts[p])
				checkInvariants(t, &merged, DefaultMaxSize)
			}
			compareWithReference(t, &merged, ref.build(DefaultMaxSize, MaxScale), 1e-9)
		})
	}
}

// TestMergeOfEmptyChangesNothing: an empty histogram (never added to, or reset) merges as
// nothing, in either direction.
func TestMergeOfEmptyChangesNothing(t *testing.T) {
	var h, empty Histogram
	h.Add(3, 1)
	h.Add(-7, 2)
	want := h
	want.pos.counts, want.neg.counts = slices.Clone(h.pos.counts), slices.Clone(h.neg.counts)
	h.Merge(&empty)
	var into Histogram
	into.Merge(&h)
	for _, got := range []*Histogram{&h, &into} {
		if got.Scale() != want.Scale() || got.count != want.count || got.sum != want.sum || got.min != want.min ||
			got.max != want.max || !slices.Equal(got.pos.counts, want.pos.counts) || !slices.Equal(got.neg.counts, want.neg.counts) {
			t.Fatalf("got %+v, want %+v", got, want)
		}
	}
	h.Reset()
	if h.HasMin() || h.HasMax() || !h.HasSum() || h.Scale() != MaxScale || h.pos.Len()+h.neg.Len() != 0 || h.count != 0 {
		t.Fatalf("reset left %+v", h)
	}
}

// TestDownscaleMatchesBucketByBucket compares the in-place downscale with moving every count
// to its bucket at the coarser scale.
func TestDownscaleMatchesBucketByBucket(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		var b Buckets
		b.offset = rng.Int32N(2000) - 1000
		b.counts = make([]float64, 1+rng.IntN(300))
		want := map[int32]float64{}
		by := rng.Int32N(12)
		for i := range b.counts {
			b.counts[i] = float64(rng.IntN(4))
			want[(b.offset+int32(i))>>by] += b.counts[i]
		}
		lo, hi := b.offset>>by, (b.offset+int32(len(b.counts))-1)>>by
		b.downscale(by)
		if b.offset != lo || b.hi() != hi {
			t.Fatalf("downscale by %d: run %d..%d, want %d..%d", by, b.offset, b.hi(), lo, hi)
		}
		for i, c := range b.counts {
			if c != want[b.offset+int32(i)] {
				t.Fatalf("downscale by %d: bucket %d = %v, want %v", by, b.offset+int32(i), c, want[b.offset+int32(i)])
			}
		}
	}
}

// TestZeroThreshold: values up to a merged point's zero threshold count as zeros.
func TestZeroThreshold(t *testing.T) {
	var h Histogram
	dp := newPoint(3)
	dp.SetZeroThreshold(0.5)
	h.MergeDataPoint(dp)
	dp.SetZeroThreshold(0.25)
	h.MergeDataPoint(dp)
	h.Add(0.5, 1)
	h.Add(-0.1, 1)
	h.Add(0.6, 1)
	if h.ZeroThreshold() != 0.5 || h.ZeroCount() != 2 || h.pos.Len() != 1 {
		t.Fatalf("threshold %v zero count %v positive buckets %d, want 0.5, 2, 1", h.ZeroThreshold(), h.ZeroCount(), h.pos.Len())
	}
}

// TestQuantileWithinBucketError: for 1..1000 the estimate is within half a bucket.
func TestQuantileWithinBucketError(t *testing.T) {
	var h Histogram
	for i := 1; i <= 1000; i++ {
		h.Add(float64(i), 1)
	}
	// With 1..1000 in at most 160 buckets the scale is >= 4, so a bucket spans at most a factor
	// 2^(1/16) = 4.4%; the midpoint is within half of that.
	for _, q := range []float64{0.5, 0.9, 0.99} {
		got, want := h.Quantile(q), q*1000
		if math.Abs(got-want)/want > 0.045 {
			t.Errorf("q%v = %v, want %v within 4.5%%", q, got, want)
		}
	}
	if h.Quantile(0) != 1 || h.Quantile(1) != 1000 {
		t.Errorf("q0 %v q1 %v, want min 1 and max 1000", h.Quantile(0), h.Quantile(1))
	}
	var empty Histogram
	if empty.Quantile(0.5) != 0 {
		t.Errorf("empty histogram's median %v, want 0", empty.Quantile(0.5))
	}
}

// TestQuantileInTheBucketOfTheExactQuantile: on weighted random streams of both signs, the
// estimate lies in the bucket of the exact weighted quantile (or is clamped to min or max).
func TestQuantileInTheBucketOfTheExactQuantile(t *testing.T) {
	for i, s := range streams[1:5] {
		t.Run(s.name, func(t *testing.T) {
			values, ws := fill(s, uint64(i), 2000)
			var h Histogram
			order := make([]int, len(values))
			for j := range values {
				h.Add(values[j], ws[j])
				order[j] = j
			}
			slices.SortFunc(order, func(a, b int) int { return cmpFloat(values[a], values[b]) })
			for _, q := range []float64{0.01, 0.25, 0.5, 0.75, 0.9, 0.99} {
				var seen float64
				exact := values[order[len(order)-1]]
				for _, j := range order {
					if seen += ws[j]; seen >= q*h.Count() {
						exact = values[j]
						break
					}
				}
				got := h.Quantile(q)
				if !sameBucket(got, exact, h.Scale()) && got != h.Min() && got != h.Max() {
					t.Fatalf("q%v = %v, exact %v is in another bucket at scale %d", q, got, exact, h.Scale())
				}
			}
		})
	}
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func sameBucket(a, b float64, scale int32) bool {
	if a == 0 || b == 0 || (a < 0) != (b < 0) {
		return a == b
	}
	return refIndex(math.Abs(a), scale) == refIndex(math.Abs(b), scale)
}

// checkInvariants fails unless h is well formed: its scale in range, every run within the
// limit (or at MinScale, where all finite values fit three buckets), every bucket one a finite
// value can reach, and its count the total of its zero and bucket counts.
func checkInvariants(t testing.TB, h *Histogram, limit int) {
	t.Helper()
	s := h.Scale()
	if s < MinScale || s > MaxScale {
		t.Fatalf("scale %d", s)
	}
	total := h.zeroCount
	for _, b := range []*Buckets{&h.pos, &h.neg} {
		if b.Len() > limit && (s != MinScale || b.Len() > 3) {
			t.Fatalf("%d buckets at scale %d, limit %d", b.Len(), s, limit)
		}
		if b.Len() > 0 {
			r := indexRange[s-MinScale]
			if int64(b.offset) < r.lo || int64(b.hi()) > r.hi {
				t.Fatalf("run %d..%d outside %d..%d at scale %d", b.offset, b.hi(), r.lo, r.hi, s)
			}
		}
		for _, c := range b.counts {
			total += c
		}
	}
	if total != h.count {
		t.Fatalf("zero and bucket counts add to %v, count is %v", total, h.count)
	}
}

// TestSetMaxScale: a capped histogram starts at the cap, puts each value in its bucket at that
// scale, keeps the cap across Reset, still downscales below it when its buckets overflow, and a
// histogram capped after values were added ends where one capped from the start does.
func TestSetMaxScale(t *testing.T) {
	values := []float64{1.1, 1.2, 3, 5, -7, 1000}
	var h Histogram
	h.SetMaxScale(3)
	if h.Scale() != 3 {
		t.Fatalf("empty capped histogram at scale %d, want 3", h.Scale())
	}
	for _, v := range values {
		h.Add(v, 1)
	}
	if h.Scale() != 3 {
		t.Fatalf("scale %d after adds, want the cap 3", h.Scale())
	}
	want := map[int32]float64{}
	for _, v := range values {
		if v > 0 {
			want[index(v, 3)]++
		}
	}
	got := map[int32]float64{}
	for i, c := range h.Positive().Counts() {
		if c != 0 {
			got[h.Positive().Offset()+int32(i)] = c
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("positive buckets %v, want %v", got, want)
	}

	var late Histogram
	for _, v := range values {
		late.Add(v, 1)
	}
	late.SetMaxScale(3)
	if late.Scale() != 3 || !slices.Equal(late.Positive().Counts(), h.Positive().Counts()) ||
		late.Positive().Offset() != h.Positive().Offset() || !slices.Equal(late.Negative().Counts(), h.Negative().Counts()) {
		t.Fatalf("capped after adding: scale %d, buckets %v@%d; capped first: %v@%d",
			late.Scale(), late.Positive().Counts(), late.Positive().Offset(), h.Positive().Counts(), h.Positive().Offset())
	}

	h.Reset()
	if h.Scale() != 3 {
		t.Fatalf("scale %d after Reset, want the cap 3", h.Scale())
	}
	small := Histogram{MaxSize: 4}
	small.SetMaxScale(3)
	for _, v := range []float64{1, 1e6} {
		small.Add(v, 1)
	}
	if small.Scale() >= 3 || small.Positive().Len() > 4 {
		t.Fatalf("scale %d with %d buckets: the bucket limit must still downscale below the cap", small.Scale(), small.Positive().Len())
	}
	var clamped Histogram
	clamped.SetMaxScale(99)
	if clamped.Scale() != MaxScale {
		t.Fatalf("cap 99 gave scale %d, want MaxScale", clamped.Scale())
	}
}
