//go:build !race

package chunkfile

import (
	"testing"
	"time"

	"github.com/doghouse-otel/doghouse/chunkfile/workload"
)

// TestReferenceWorkloadSize guards the size target of the format: at most 1.10 bytes per event
// on the reference workload with 60 s blocks (docs/chunk-format.md section 10). Sizes are
// deterministic, so this is exact; it is left out of -race runs, where it takes too long.
func TestReferenceWorkloadSize(t *testing.T) {
	if testing.Short() {
		t.Skip("encodes 3.6 M events")
	}
	ss := workload.Generate(workload.Options{})
	b := encodeWorkload(t, ss, Options{BlockDuration: time.Minute})
	got := float64(len(b)) / float64(workload.Events(ss))
	t.Logf("reference workload, 60 s blocks: %.3f B/event", got)
	if got > 1.10 {
		t.Fatalf("%.3f bytes per event, target 1.10", got)
	}
	// Each kind stays within 12% of its entropy floor plus the per-block header cost.
	floors := map[workload.Kind]float64{workload.Counter: 0.290 + 0.0625, workload.Gauge: 0.961 + 0.049, workload.Latency: 1.950 + 0.021}
	for k, floor := range floors {
		sub := filterKind(ss, k)
		got := float64(len(encodeWorkload(t, sub, Options{BlockDuration: time.Minute}))) / float64(workload.Events(sub))
		t.Logf("%s: %.3f B/event (floor with block headers %.3f)", k, got, floor)
		if got > floor*1.12 {
			t.Errorf("%s: %.3f bytes per event, more than 12%% over %.3f", k, got, floor)
		}
	}
}
