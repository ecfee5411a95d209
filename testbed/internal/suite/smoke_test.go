package suite

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/doghouse-otel/doghouse/testbed/internal/collector"
)

// TestSmoke runs the smoke subset against the built otelcol-doghouse. It needs the binary and
// about a minute and a half, so it runs only when DOGHOUSE_TESTBED_SMOKE=1 (the repository's
// `make test` sets it after building); DOGHOUSE_OTELCOL points at another binary.
func TestSmoke(t *testing.T) {
	if os.Getenv("DOGHOUSE_TESTBED_SMOKE") != "1" {
		t.Skip("set DOGHOUSE_TESTBED_SMOKE=1 to run the testbed smoke run (needs `make build` first)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	defer collector.KillAll()
	rep, err := Run(ctx, Options{Paths: DefaultPaths(), Smoke: true, Progress: testWriter{t}})
	if rep != nil {
		t.Log("\n" + rep.Markdown())
	}
	if err != nil {
		t.Fatal(err)
	}
	if pids := collector.Running(); len(pids) != 0 {
		t.Fatalf("collectors left running: %v", pids)
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}
