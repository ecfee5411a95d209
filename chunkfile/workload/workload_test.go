package workload

import (
	"math"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestGenerateFollowsContract checks the distributions the reference document fixes.
func TestGenerateFollowsContract(t *testing.T) {
	for _, jitter := range []bool{false, true} {
		ss := Generate(Options{Jitter: jitter})
		if len(ss) != NumSeries || Events(ss) != NumSeries*NumPoints {
			t.Fatalf("got %d series, %d events", len(ss), Events(ss))
		}
		kinds := map[Kind]int{}
		for _, s := range ss {
			kinds[s.Kind]++
			phase := s.T[0] - Base
			if phase < -3 || phase > 999+3 {
				t.Fatalf("%s: phase %d", s.Name, phase)
			}
			for j := 1; j < len(s.T); j++ {
				d := s.T[j] - s.T[j-1]
				if d <= 0 || (!jitter && d != 1000) || d < 1000-6 || d > 1000+6 {
					t.Fatalf("%s: delta %d at %d", s.Name, d, j)
				}
			}
			switch s.Kind {
			case Counter:
				for j := 1; j < len(s.Ints); j++ {
					if d := s.Ints[j] - s.Ints[j-1]; d < 0 || d > 4 {
						t.Fatalf("%s: counter step %d", s.Name, d)
					}
				}
			case Gauge, Latency:
				scale := 100.0
				if s.Kind == Latency {
					scale = 1000
				}
				for _, v := range s.Floats {
					if math.Round(v*scale)/scale != v || math.Signbit(v) && v == 0 {
						t.Fatalf("%s: value %v not rounded to 1/%v", s.Name, v, scale)
					}
				}
			}
		}
		if kinds[Counter] != 400 || kinds[Gauge] != 300 || kinds[Latency] != 300 {
			t.Fatalf("kinds %v", kinds)
		}
	}
	a, b := Generate(Options{}), Generate(Options{})
	if a[777].Floats[1234] != b[777].Floats[1234] {
		t.Fatal("generator is not deterministic")
	}
}
