package chunkfileexporter

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/doghouse-otel/doghouse/chunkfile"
	"github.com/doghouse-otel/doghouse/exporter/chunkfileexporter/internal/metadata"
)

const (
	kill9DirEnv   = "DOGHOUSE_KILL9_DIR"
	kill9FirstEnv = "DOGHOUSE_KILL9_FIRST"
	kill9Series   = 8 // gauges per push, plus one histogram
)

// kill9Push is push id: kill9Series gauges and one histogram, every value the id. Push id
// starts at id × step after a base time and its gauges are spread over the next step, starting
// half a step in, so with 1 s blocks and a step of 1 s every push cuts a block between its own
// points (a step of 100 ms does so every 10 pushes).
func kill9Push(id int, step time.Duration) pmetric.Metrics {
	md := pmetric.NewMetrics()
	ms := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics()
	t := ts(0) + pcommon.Timestamp(int64(step)*int64(id))
	for j := range kill9Series {
		m := ms.AppendEmpty()
		m.SetName(fmt.Sprintf("k9.gauge.%d", j))
		dp := m.SetEmptyGauge().DataPoints().AppendEmpty()
		dp.SetTimestamp(t + pcommon.Timestamp(int64(step)/2+int64(j)*int64(step)/kill9Series))
		dp.SetIntValue(int64(id))
	}
	h := ms.AppendEmpty()
	h.SetName("k9.hist")
	hp := h.SetEmptyHistogram().DataPoints().AppendEmpty()
	hp.SetTimestamp(t)
	hp.ExplicitBounds().FromRaw([]float64{1})
	hp.BucketCounts().FromRaw([]uint64{uint64(id), 0})
	hp.SetCount(uint64(id))
	return md
}

// TestKillNineChild is the process TestKillNineLosesAndDoublesNothing kills: it pushes through
// the exporter (exporterhelper with retries, no queue, so a push returns once it is written)
// and prints each acknowledged push id.
func TestKillNineChild(t *testing.T) {
	dir := os.Getenv(kill9DirEnv)
	if dir == "" {
		t.Skip("run by TestKillNineLosesAndDoublesNothing")
	}
	first, err := strconv.Atoi(os.Getenv(kill9FirstEnv))
	require.NoError(t, err)
	cfg := createDefaultConfig().(*Config)
	cfg.RollupMinPointsPerSeries = 0 // every segment rolled up, however small
	cfg.Directory = dir
	cfg.QueueConfig = configoptional.None[exporterhelper.QueueBatchConfig]()
	cfg.MaxSegmentBytes = 16 << 10 // seal often, so kills land in seals and recoveries too
	cfg.FsyncInterval = 20 * time.Millisecond
	cfg.BlockDuration = time.Second
	exp, err := NewFactory().CreateMetrics(context.Background(), exportertest.NewNopSettings(metadata.Type), cfg)
	require.NoError(t, err)
	require.NoError(t, exp.Start(context.Background(), componenttest.NewNopHost()))
	fmt.Fprintln(os.Stdout, "ready")
	deadline := time.Now().Add(10 * time.Second)
	for id := first; id < first+50_000 && time.Now().Before(deadline); id++ {
		require.NoError(t, exp.ConsumeMetrics(context.Background(), kill9Push(id, 100*time.Millisecond)))
		fmt.Fprintln(os.Stdout, id) // one write per ack: the parent has it once it returns
	}
	require.NoError(t, exp.Shutdown(context.Background()))
}

// TestKillNineLosesAndDoublesNothing kills a pushing collector process with SIGKILL at random
// moments (during pushes, fsyncs, seals, compactions and recoveries), restarts it each time on
// the same directory, then checks what chunkfile verify checks (every file sealed, every frame
// intact) and compares exactly: every acknowledged push is stored whole and once, and no point
// of any push is stored twice.
func TestKillNineLosesAndDoublesNothing(t *testing.T) {
	if os.Getenv(kill9DirEnv) != "" {
		t.Skip("child")
	}
	rounds := 100
	if testing.Short() {
		rounds = 10
	}
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 0))
	dir := filepath.Join(t.TempDir(), "chunks")
	self, err := os.Executable()
	require.NoError(t, err)

	acked := map[int]bool{}
	for r := range rounds {
		ids := killOnce(t, self, dir, r*100_000, time.Duration(rng.IntN(150))*time.Millisecond)
		for _, id := range ids {
			acked[id] = true
		}
	}
	require.NotEmpty(t, acked)

	checkExactlyOnce(t, dir, acked)
	t.Logf("%d rounds, %d pushes acknowledged", rounds, len(acked))
}

// checkExactlyOnce restarts an exporter on dir (it recovers what a crash left and writes the
// missing rollup tiers), then checks what chunkfile verify checks (every file sealed, every
// frame intact) and compares exactly: every acknowledged push is stored whole and once, and no
// point of any push twice. The tiers must hold exactly the rollups of the segments.
func checkExactlyOnce(t *testing.T, dir string, acked map[int]bool) {
	t.Helper()
	cfg := createDefaultConfig().(*Config)
	cfg.RollupMinPointsPerSeries = 0 // every segment rolled up, however small
	cfg.Directory = dir
	e := newExporter(cfg, exportertest.NewNopSettings(metadata.Type))
	require.NoError(t, e.start(context.Background(), componenttest.NewNopHost()))
	waitTiers(t, e)
	require.NoError(t, e.shutdown(context.Background()))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	seen := map[int]map[string]int{} // id -> series -> points
	segments := 0
	for _, e := range entries {
		if e.Name() == lockName || e.IsDir() {
			continue
		}
		segments++
		require.True(t, strings.HasSuffix(e.Name(), sealedSuffix), "left behind: %s", e.Name())
		r, err := chunkfile.OpenFile(filepath.Join(dir, e.Name()), chunkfile.ReaderOptions{})
		require.NoError(t, err)
		for r.Next() {
			b := r.Batch()
			for i := range b.Len() {
				p := b.Point(i)
				id := 0
				if p.Hist != nil {
					id = int(p.Hist.Count)
				} else {
					id = int(p.Num.Float64())
				}
				if seen[id] == nil {
					seen[id] = map[string]int{}
				}
				seen[id][b.Series.Name]++
			}
		}
		require.NoError(t, r.Err(), e.Name())
		require.True(t, r.Sealed(), e.Name())
		require.NoError(t, r.Close())
	}
	for id := range acked {
		require.Len(t, seen[id], kill9Series+1, "acknowledged push %d is not whole: %v", id, seen[id])
	}
	for id, series := range seen {
		for name, n := range series {
			require.Equal(t, 1, n, "push %d, series %s stored %d times (acknowledged: %v)", id, name, n, acked[id])
		}
	}
	checkTiers(t, dir, cfg.Rollups)
	t.Logf("%d pushes found in %d segments", len(seen), segments)
}

// killOnce starts the child on dir with push ids from first, kills it after delay and returns
// the ids it acknowledged.
func killOnce(t *testing.T, self, dir string, first int, delay time.Duration) []int {
	t.Helper()
	cmd := exec.Command(self, "-test.run", "^TestKillNineChild$", "-test.count", "1")
	cmd.Env = append(os.Environ(), kill9DirEnv+"="+dir, kill9FirstEnv+"="+strconv.Itoa(first))
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	ready, exited := make(chan struct{}), make(chan struct{})
	var ids []int
	var other strings.Builder // the child's other output, for a failure message
	go func() {
		defer close(exited)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			if line == "ready" {
				close(ready)
			} else if id, err := strconv.Atoi(line); err == nil {
				ids = append(ids, id)
			} else {
				other.WriteString(line + "\n")
			}
		}
	}()
	select {
	case <-ready:
		time.Sleep(delay)
	case <-exited:
	case <-time.After(30 * time.Second):
	}
	_ = cmd.Process.Kill()
	<-exited
	err = cmd.Wait()
	select {
	case <-ready:
	default:
		t.Fatalf("the child did not start: %v\n%s%s", err, other.String(), stderr.String())
	}
	if strings.Contains(other.String(), "FAIL") {
		t.Fatalf("the child failed before it was killed:\n%s%s", other.String(), stderr.String())
	}
	return ids
}
