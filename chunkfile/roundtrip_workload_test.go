package chunkfile

import (
	"bytes"
	"math"
	"testing"
	"time"

	"github.com/doghouse-otel/doghouse/chunkfile/workload"
)

// TestWorkloadRoundTrip decodes the reference workload and compares every point.
func TestWorkloadRoundTrip(t *testing.T) {
	for _, jitter := range []bool{false, true} {
		ss := workload.Generate(workload.Options{Jitter: jitter, NumSeries: 100, NumPoints: 600})
		b := encodeWorkload(t, ss, Options{BlockDuration: 10 * time.Second})
		r, err := NewReader(bytes.NewReader(b), ReaderOptions{})
		if err != nil {
			t.Fatal(err)
		}
		seen := make([]int, len(ss))
		for r.Next() {
			bt := r.Batch()
			i := int(bt.Ref)
			s := &ss[i]
			if bt.Series.Name != s.Name {
				t.Fatalf("series %d name %q, want %q", i, bt.Series.Name, s.Name)
			}
			for k := range bt.Len() {
				j := seen[i] + k
				if bt.T[k] != s.T[j] {
					t.Fatalf("series %d point %d: t=%d want %d", i, j, bt.T[k], s.T[j])
				}
				n := bt.Num[k]
				if s.Ints != nil {
					if !n.IsInt || n.Int != s.Ints[j] {
						t.Fatalf("series %d point %d: %+v want int %d", i, j, n, s.Ints[j])
					}
				} else if n.IsInt || math.Float64bits(n.Float) != math.Float64bits(s.Floats[j]) {
					t.Fatalf("series %d point %d: %+v want %v", i, j, n, s.Floats[j])
				}
			}
			seen[i] += bt.Len()
		}
		if err := r.Err(); err != nil {
			t.Fatal(err)
		}
		if !r.Sealed() {
			t.Fatal("sealed file not recognised as sealed")
		}
		for i, n := range seen {
			if n != len(ss[i].T) {
				t.Fatalf("series %d: read %d points, wrote %d", i, n, len(ss[i].T))
			}
		}
	}
}
