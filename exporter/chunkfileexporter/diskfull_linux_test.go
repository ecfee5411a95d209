package chunkfileexporter

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"

	"github.com/doghouse-otel/doghouse/exporter/chunkfileexporter/internal/metadata"
)

const fsizeEnv = "DOGHOUSE_FSIZE_DIR"

// TestFileSizeLimitChild pushes under a file-size limit (RLIMIT_FSIZE, as `ulimit -f` sets):
// every segment fills up, the write that crosses the limit fails with EFBIG, and exporterhelper
// retries the push. It prints each acknowledged push id.
func TestFileSizeLimitChild(t *testing.T) {
	dir := os.Getenv(fsizeEnv)
	if dir == "" {
		t.Skip("run by TestFileSizeLimitNeverDuplicates")
	}
	signal.Ignore(syscall.SIGXFSZ) // get EFBIG instead of being killed
	require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: 4 << 10, Max: 4 << 10}))
	cfg := createDefaultConfig().(*Config)
	cfg.Directory = dir
	cfg.QueueConfig = configoptional.None[exporterhelper.QueueBatchConfig]()
	cfg.BackOff.InitialInterval = time.Millisecond
	cfg.BackOff.MaxInterval = 10 * time.Millisecond
	cfg.BlockDuration = time.Second
	exp, err := NewFactory().CreateMetrics(context.Background(), exportertest.NewNopSettings(metadata.Type), cfg)
	require.NoError(t, err)
	require.NoError(t, exp.Start(context.Background(), componenttest.NewNopHost()))
	for id := 1; id <= 400; id++ {
		if err := exp.ConsumeMetrics(context.Background(), kill9Push(id, time.Second)); err != nil { // every push cuts a 1 s block
			fmt.Fprintln(os.Stdout, "dropped", id, err)
			continue
		}
		fmt.Fprintln(os.Stdout, id)
	}
	// Sealing may fail at the limit too: that leaves segments for the next start to recover.
	_ = exp.Shutdown(context.Background())
}

// TestFileSizeLimitNeverDuplicates: pushes that hit a full file are rolled back and retried
// into a new segment; afterwards every acknowledged push is stored whole and once, and no
// point twice (before pushes were atomic, a retried push that had cut a block was stored
// partly twice).
func TestFileSizeLimitNeverDuplicates(t *testing.T) {
	if os.Getenv(fsizeEnv) != "" {
		t.Skip("child")
	}
	dir := filepath.Join(t.TempDir(), "chunks")
	self, err := os.Executable()
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, self, "-test.run", "^TestFileSizeLimitChild$", "-test.count", "1")
	cmd.Env = append(os.Environ(), fsizeEnv+"="+dir)
	out, err := cmd.Output()
	require.NoError(t, err, "child: %s", out)
	acked := map[int]bool{}
	dropped := 0
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		if id, err := strconv.Atoi(sc.Text()); err == nil {
			acked[id] = true
		} else if strings.HasPrefix(sc.Text(), "dropped") {
			dropped++
		}
	}
	require.Greater(t, len(acked), 300, "most pushes go through: %s", out)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Greater(t, len(entries), 5, "the limit was hit several times")
	checkExactlyOnce(t, dir, acked)
	t.Logf("%d pushes acknowledged, %d dropped, %d files", len(acked), dropped, len(entries)-1)
}
