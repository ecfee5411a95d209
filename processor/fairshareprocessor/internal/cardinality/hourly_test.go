package cardinality

import (
	"math"
	"math/rand/v2"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestEstimateWithinError inserts n distinct hashes (each 5 times, as a row seen in 5 windows)
// and expects the estimate within 4 standard errors of HyperLogLog at precision 12 (1.6%).
func TestEstimateWithinError(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 10, 1000, 100000} {
		var h Hourly
		hashes := make([]uint64, n)
		for i := range hashes {
			hashes[i] = rng.Uint64()
		}
		for range 5 {
			for i, x := range hashes {
				h.Insert(500, x, i) // large sets go dense half way: the estimate must survive
			}
		}
		got := float64(h.Estimate(500))
		if tol := 4 * 0.0163 * float64(n); math.Abs(got-float64(n)) > math.Max(tol, 1) {
			t.Errorf("n=%d: estimate %v", n, got)
		}
	}
}

func TestHourRollover(t *testing.T) {
	var h Hourly
	for i := range 100 {
		h.Insert(10, uint64(i)*0x9e3779b97f4a7c15, i)
	}
	h.Insert(11, 1, 1)
	if h.Estimate(10) < 90 || h.Estimate(11) != 1 {
		t.Fatalf("after rollover: hour 10 = %d, hour 11 = %d", h.Estimate(10), h.Estimate(11))
	}
	h.Insert(10, 42, 1) // a late window of the previous hour still counts there
	h.Insert(13, 7, 1)  // skipping an hour drops both old ones
	if h.Estimate(10) != 0 || h.Estimate(11) != 0 || h.Estimate(13) != 1 {
		t.Fatalf("after jump: %d %d %d", h.Estimate(10), h.Estimate(11), h.Estimate(13))
	}
	h.Insert(9, 5, 1) // too old: ignored
	if h.Estimate(9) != 0 {
		t.Fatalf("hour 9 tracked after it was dropped")
	}
}

// Small hours are counted exactly, repeats included, and carry over into the sketch.
func TestSmallSetsAreExact(t *testing.T) {
	var h Hourly
	for i := range 3 {
		for range 4 {
			h.Insert(7, uint64(i+1)*0x9e3779b97f4a7c15, i)
		}
		if got := h.Estimate(7); got != uint64(i+1) {
			t.Fatalf("%d distinct hashes estimated %d", i+1, got)
		}
	}
	if h.cur.sk != nil {
		t.Fatal("a sketch was made for 3 hashes")
	}
	for i := 3; i < 50; i++ {
		h.Insert(7, uint64(i+1)*0x9e3779b97f4a7c15, i)
	}
	if got := h.Estimate(7); got < 48 || got > 52 {
		t.Fatalf("50 distinct hashes estimated %d", got)
	}
}
