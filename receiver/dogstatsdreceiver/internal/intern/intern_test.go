package intern

import (
	"strconv"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestGetReturnsEqualStringAndCounts(t *testing.T) {
	in := New(8, 64)
	buf := []byte("env:prod")
	first := in.Get(buf)
	second := in.Get(buf)
	if first != "env:prod" || second != "env:prod" {
		t.Fatalf("Get = %q, %q; want env:prod twice", first, second)
	}
	if in.Hits() != 1 || in.Misses() != 1 || in.Len() != 1 {
		t.Fatalf("hits=%d misses=%d len=%d; want 1 1 1", in.Hits(), in.Misses(), in.Len())
	}
}

func TestGetDoesNotAliasCallerBuffer(t *testing.T) {
	in := New(8, 64)
	buf := []byte("service:web")
	s := in.Get(buf)
	copy(buf, "XXXXXXXXXXX")
	if s != "service:web" {
		t.Fatalf("interned string changed with the caller's buffer: %q", s)
	}
	// The stored copy must not alias either: a later hit still returns the original bytes.
	if got := in.Get([]byte("service:web")); got != "service:web" {
		t.Fatalf("stored string changed: %q", got)
	}
}

func TestGetEmpty(t *testing.T) {
	in := New(8, 64)
	if got := in.Get(nil); got != "" {
		t.Fatalf("Get(nil) = %q", got)
	}
	if in.Len() != 0 || in.Hits() != 0 || in.Misses() != 0 {
		t.Fatal("empty input must not touch the table or the counters")
	}
}

func TestBoundResetsWhenFull(t *testing.T) {
	const maxEntries = 4
	in := New(maxEntries, 64)
	for i := range 4 * maxEntries {
		in.Get([]byte("tag:" + strconv.Itoa(i)))
		if in.Len() > maxEntries {
			t.Fatalf("after %d inserts Len = %d > %d", i+1, in.Len(), maxEntries)
		}
	}
	// 16 distinct strings into a table of 4: full after 4, then a reset at inserts 5, 9 and 13.
	if in.Resets() != 3 {
		t.Fatalf("Resets = %d, want 3", in.Resets())
	}
	if in.Misses() != 16 || in.Hits() != 0 {
		t.Fatalf("misses=%d hits=%d; want 16 0", in.Misses(), in.Hits())
	}
	// The table now holds tag:12..tag:15: those hit, an older one misses.
	in.Get([]byte("tag:15"))
	if in.Hits() != 1 {
		t.Fatalf("recent string not served from the table")
	}
	in.Get([]byte("tag:0"))
	if in.Misses() != 17 {
		t.Fatalf("string from before the reset was still stored")
	}
}

func TestTooLongIsNotStored(t *testing.T) {
	in := New(8, 5)
	long := []byte("abcdef")
	a := in.Get(long)
	b := in.Get(long)
	if a != "abcdef" || b != "abcdef" {
		t.Fatalf("Get = %q, %q", a, b)
	}
	if in.Len() != 0 || in.TooLong() != 2 || in.Misses() != 2 {
		t.Fatalf("len=%d tooLong=%d misses=%d; want 0 2 2", in.Len(), in.TooLong(), in.Misses())
	}
	if got := in.Get([]byte("abcde")); got != "abcde" || in.Len() != 1 {
		t.Fatalf("a string of exactly maxLen must be stored")
	}
}

func TestNonPositiveBounds(t *testing.T) {
	in := New(0, 0)
	in.Get([]byte("a"))
	in.Get([]byte("a"))
	if in.Len() != 0 || in.TooLong() != 2 {
		t.Fatalf("maxLen 0 must store nothing: len=%d tooLong=%d", in.Len(), in.TooLong())
	}
	in = New(-3, 10)
	in.Get([]byte("a"))
	in.Get([]byte("b"))
	if in.Len() != 1 || in.Resets() != 1 {
		t.Fatalf("maxEntries below 1 must act as 1: len=%d resets=%d", in.Len(), in.Resets())
	}
}

func TestHitDoesNotAllocate(t *testing.T) {
	in := New(DefaultMaxEntries, DefaultMaxLen)
	buf := []byte("region:eu-west-1")
	in.Get(buf)
	allocs := testing.AllocsPerRun(1000, func() {
		if in.Get(buf) != "region:eu-west-1" {
			t.Fatal("wrong string")
		}
	})
	if allocs != 0 {
		t.Fatalf("hit allocates %.1f times", allocs)
	}
}

func BenchmarkGetHit(b *testing.B) {
	in := New(DefaultMaxEntries, DefaultMaxLen)
	keys := make([][]byte, 64)
	for i := range keys {
		keys[i] = []byte("service:web-frontend-" + strconv.Itoa(i))
		in.Get(keys[i])
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		in.Get(keys[i&63])
		i++
	}
	if in.Misses() != 64 {
		b.Fatalf("misses = %d, want only the 64 warm-up inserts", in.Misses())
	}
}
