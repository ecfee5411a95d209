package chunkfileexporter

import (
	"context"
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/doghouse-otel/doghouse/chunkfile"
	"github.com/doghouse-otel/doghouse/exporter/chunkfileexporter/internal/metadata"
	"github.com/doghouse-otel/doghouse/exporter/chunkfileexporter/internal/metadatatest"
)

// startInternal starts an exporter without exporterhelper, so a test can reach its store.
func startInternal(t *testing.T, tt *componenttest.Telemetry, mutate func(*Config)) *chunkExporter {
	t.Helper()
	cfg := createDefaultConfig().(*Config)
	cfg.Directory = filepath.Join(t.TempDir(), "chunks")
	if mutate != nil {
		mutate(cfg)
	}
	set := exportertest.NewNopSettings(metadata.Type)
	if tt != nil {
		set = metadatatest.NewSettings(tt)
	}
	e := newExporter(cfg, set)
	require.NoError(t, e.start(context.Background(), componenttest.NewNopHost()))
	return e
}

func TestSecondExporterOnTheSameDirectoryFailsStart(t *testing.T) {
	first := startInternal(t, nil, nil)
	second := newExporter(first.cfg, exportertest.NewNopSettings(metadata.Type))
	err := second.start(context.Background(), componenttest.NewNopHost())
	require.ErrorContains(t, err, "is in use by another exporter or collector")
	require.NoError(t, second.shutdown(context.Background()))

	require.NoError(t, first.push(context.Background(), sample(1)))
	require.NoError(t, first.shutdown(context.Background()))
	// Once the first one is gone the directory is free again.
	third := newExporter(first.cfg, exportertest.NewNopSettings(metadata.Type))
	require.NoError(t, third.start(context.Background(), componenttest.NewNopHost()))
	require.NoError(t, third.shutdown(context.Background()))
	points, _, _ := readAll(t, first.cfg.Directory)
	assert.Len(t, points["temp"], 1)
}

// TestFailedFsyncClosesTheSegmentAndIsPermanent: after a failed fsync the push's data may or
// may not be on disk; it must not be retried into the same file.
func TestFailedFsyncClosesTheSegmentAndIsPermanent(t *testing.T) {
	tt := componenttest.NewTelemetry()
	defer func() { require.NoError(t, tt.Shutdown(context.Background())) }()
	e := startInternal(t, tt, func(c *Config) { c.Fsync = "always" })
	fail := true
	e.store.syncFile = func(s *chunkfile.Segment) error {
		if fail {
			return syscall.EIO
		}
		return s.Sync()
	}
	err := e.push(context.Background(), sample(1))
	require.ErrorIs(t, err, syscall.EIO)
	assert.True(t, consumererror.IsPermanent(err), "a failed fsync must not be retried: %v", err)
	assert.Nil(t, e.store.seg, "the segment whose fsync failed is not written again")
	fail = false
	require.NoError(t, e.push(context.Background(), sample(2)))
	require.NoError(t, e.shutdown(context.Background()))

	points, _, names := readAll(t, e.cfg.Directory)
	assert.Len(t, names, 2, "the second push went to a new segment")
	require.Len(t, points["temp"], 2, "each push stored once")
	metadatatest.AssertEqualExporterChunkfileWriteErrors(t, tt, []metricdata.DataPoint[int64]{{Value: 1}}, metricdatatest.IgnoreTimestamp())
}

// TestSealErrorDoesNotFailThePush: sealing happens after the push is durable; its failure is
// counted and logged, and the push is acknowledged (a retry would store it twice).
func TestSealErrorDoesNotFailThePush(t *testing.T) {
	tt := componenttest.NewTelemetry()
	defer func() { require.NoError(t, tt.Shutdown(context.Background())) }()
	e := startInternal(t, tt, func(c *Config) { c.MaxSegmentBytes = 1 })
	created := time.Unix(1_800_000_000, 0)
	e.mu.Lock()
	e.store.now = func() time.Time { return created }
	e.mu.Unlock()
	// A directory where the sealed file should go makes the rename fail, even for root.
	blocker := filepath.Join(e.cfg.Directory, sealedName(openName(created, e.store.seq+1)))
	require.NoError(t, os.Mkdir(blocker, 0o755))

	require.NoError(t, e.push(context.Background(), sample(1)), "the push is durable before the seal fails")
	require.NoError(t, e.shutdown(context.Background()))
	metadatatest.AssertEqualExporterChunkfileBackgroundErrors(t, tt, []metricdata.DataPoint[int64]{
		{Value: 1, Attributes: attribute.NewSet(attribute.String("operation", "seal"))},
	}, metricdatatest.IgnoreTimestamp())
	_, err := os.Stat(strings.TrimSuffix(blocker, sealedSuffix) + openSuffix)
	require.NoError(t, err, "the segment stays under its open name for the next start to recover")
}

// TestSealingDoesNotBlockPushes: while a full segment is being sealed (held here), pushes go
// on into the next segment.
func TestSealingDoesNotBlockPushes(t *testing.T) {
	e := startInternal(t, nil, func(c *Config) { c.MaxSegmentBytes = 1 })
	release := make(chan struct{})
	sealing := make(chan string, 16)
	e.store.beforeSeal = func(path string) {
		sealing <- path
		<-release
	}
	require.NoError(t, e.push(context.Background(), sample(1)))
	first := <-sealing // the sealer holds the first segment
	done := make(chan error, 1)
	go func() { done <- e.push(context.Background(), sample(2)) }()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		close(release)
		t.Fatal("a push waited for the seal of the previous segment")
	}
	close(release)
	require.NoError(t, e.shutdown(context.Background()))
	assert.NotEmpty(t, first)
	points, _, names := readAll(t, e.cfg.Directory)
	assert.Len(t, names, 2)
	assert.Len(t, points["temp"], 2)
}

// TestNewerVersionSegmentIsLeftForItsVersion: after a crash and a downgrade, the open segment
// written by the newer version is neither reset nor renamed, and the exporter starts.
func TestNewerVersionSegmentIsLeftForItsVersion(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "chunks")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	path := filepath.Join(dir, openName(time.Unix(1_800_000_000, 0), 1))
	seg, err := chunkfile.Create(path, chunkfile.Options{})
	require.NoError(t, err)
	require.NoError(t, seg.Abandon())
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	b[4]++ // the major version; its header checksum now fails
	b = fixHeaderChecksum(b)
	require.NoError(t, os.WriteFile(path, b, 0o644))

	tt := componenttest.NewTelemetry()
	defer func() { require.NoError(t, tt.Shutdown(context.Background())) }()
	e := startInternal(t, tt, func(c *Config) { c.Directory = dir })
	require.NoError(t, e.shutdown(context.Background()))
	after, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, b, after, "the newer segment is untouched")
	metadatatest.AssertEqualExporterChunkfileBackgroundErrors(t, tt, []metricdata.DataPoint[int64]{
		{Value: 1, Attributes: attribute.NewSet(attribute.String("operation", "recover"))},
	}, metricdatatest.IgnoreTimestamp())
}

// fixHeaderChecksum recomputes a chunk file header's CRC-32C (bytes 8-11 over bytes 0-7).
func fixHeaderChecksum(b []byte) []byte {
	binary.LittleEndian.PutUint32(b[8:12], crc32.Checksum(b[:8], crc32.MakeTable(crc32.Castagnoli)))
	return b
}
