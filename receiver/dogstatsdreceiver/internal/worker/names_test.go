package worker

import (
	"fmt"
	"runtime"
	"testing"
)

// BenchmarkNamesMemory reports the heap cost of one name in a worker's namespace cache (map
// slot and prefixed name, for names of about 30 bytes), the figure behind metric_namespace's
// memory bound in the README. The names looked up are not counted: in the receiver they are the
// interner's strings, shared with the cache.
func BenchmarkNamesMemory(b *testing.B) {
	const n = 4096
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("app.request.handled.count.%d", i)
	}
	var perName float64
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		nm := newNames("team", nil, nil, false, n)
		for _, name := range names {
			nm.apply(name)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		if len(nm.cache) != n {
			b.Fatalf("%d names cached", len(nm.cache))
		}
		perName = float64(after.HeapAlloc-before.HeapAlloc) / n
		runtime.KeepAlive(nm)
	}
	b.ReportMetric(perName, "bytes/name")
}

// TestNamesCacheBounded checks that the namespace's per-name cache is emptied when full and
// keeps giving the right names.
func TestNamesCacheBounded(t *testing.T) {
	n := newNames("ns.", nil, nil, false, 4)
	for i := range 20 {
		name := fmt.Sprint("m", i)
		if got, blocked := n.apply(name); got != "ns."+name || blocked {
			t.Fatalf("apply(%q) = %q, %v", name, got, blocked)
		}
		if len(n.cache) > 4 {
			t.Fatalf("cache holds %d names, bound 4", len(n.cache))
		}
	}
	if newNames("", []string{"x"}, nil, true, 4) != nil {
		t.Error("neither namespace nor blocklist: names must be nil (no cost on the hot path)")
	}
}
