package chunkfile

import "testing"

// TestEntryLogPages: entries cross pages in order, from(i) starts at entry i wherever it
// falls, and a reset log is refilled in place.
func TestEntryLogPages(t *testing.T) {
	var l entryLog
	for round := range 2 {
		n := 2*logPage + 5 - round*logPage
		for i := range n {
			l.add(logEntry{t: int64(i)})
		}
		if l.len() != n {
			t.Fatalf("len %d, want %d", l.len(), n)
		}
		for _, from := range []int{0, 1, logPage - 1, logPage, logPage + 1, n - 1, n} {
			want := int64(from)
			for _, page := range l.from(from) {
				for _, e := range page {
					if e.t != want {
						t.Fatalf("round %d, from %d: entry %d, want %d", round, from, e.t, want)
					}
					want++
				}
			}
			if want != int64(n) {
				t.Fatalf("round %d, from %d: ended at %d, want %d", round, from, want, n)
			}
		}
		got := 0
		for _, page := range l.used() {
			got += len(page)
		}
		if got != n {
			t.Fatalf("round %d: used pages hold %d, want %d", round, got, n)
		}
		l.reset()
		if l.len() != 0 || len(l.used()) != 0 {
			t.Fatalf("round %d: reset left %d entries", round, l.len())
		}
	}
	if len(l.pages) != 3 {
		t.Fatalf("%d pages kept, want 3", len(l.pages))
	}
}
