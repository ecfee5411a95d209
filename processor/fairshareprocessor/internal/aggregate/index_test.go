package aggregate

import (
	"encoding/binary"
	"testing"
)

// TestIndexCollisionsAndGrowth inserts rows whose hashes share their low bits (one long probe
// chain), or their high bits (equal tags), through several table growths, and finds each again.
func TestIndexCollisionsAndGrowth(t *testing.T) {
	for _, tc := range []struct {
		name string
		hash func(i uint64) uint64
	}{
		{"same low bits", func(i uint64) uint64 { return i<<40 | 7 }},
		{"same tag", func(i uint64) uint64 { return 0xabcd<<32 | i }},
		{"spread", func(i uint64) uint64 { return i * 0x9e3779b97f4a7c15 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var w Window
			w.reset(1, 0)
			const n = 5000
			key := func(i uint64) []byte { return binary.LittleEndian.AppendUint64(nil, i) }
			for i := range uint64(n) {
				if got, pos := w.lookup(tc.hash(i), 1, 0, key(i)); got >= 0 {
					t.Fatalf("row %d found before insert", i)
				} else if j := w.insert(pos, tc.hash(i), 1, 0, key(i), kindSum); j != int32(i) {
					t.Fatalf("row %d inserted at %d", i, j)
				}
			}
			if len(w.index.slots) < 2*n {
				t.Fatalf("%d slots for %d rows: the table did not grow", len(w.index.slots), n)
			}
			for i := range uint64(n) {
				if got, _ := w.lookup(tc.hash(i), 1, 0, key(i)); got != int32(i) {
					t.Fatalf("row %d looked up as %d", i, got)
				}
				// Same hash, other metric or key: a different row.
				if got, _ := w.lookup(tc.hash(i), 2, 0, key(i)); got >= 0 {
					t.Fatalf("row %d matched another metric", i)
				}
				if got, _ := w.lookup(tc.hash(i), 1, 0, key(i+n)); got >= 0 {
					t.Fatalf("row %d matched another key", i)
				}
			}
			w.reset(1, 0)
			if got, _ := w.lookup(tc.hash(3), 1, 0, key(3)); got >= 0 {
				t.Fatalf("row found after reset")
			}
		})
	}
}
