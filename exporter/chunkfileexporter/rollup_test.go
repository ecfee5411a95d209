package chunkfileexporter

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"
	"go.uber.org/zap"

	"github.com/doghouse-otel/doghouse/chunkfile"
	"github.com/doghouse-otel/doghouse/exporter/chunkfileexporter/internal/metadatatest"
)

// waitTiers waits until the exporter's tier writer has nothing queued or in progress.
func waitTiers(t *testing.T, e *chunkExporter) {
	t.Helper()
	require.Eventually(t, e.tiers.idle, 30*time.Second, 5*time.Millisecond, "the rollup tiers were not written")
}

// waitTierFiles waits until every tier of the exporter holds n files and nothing is queued.
func waitTierFiles(t *testing.T, e *chunkExporter, n int) {
	t.Helper()
	require.Eventually(t, func() bool {
		for _, rc := range e.cfg.Rollups {
			files, _ := listSegments(filepath.Join(e.cfg.Directory, chunkfile.RollupDirName(rc.Resolution)))
			if len(files) != n {
				return false
			}
		}
		return e.tiers.idle()
	}, 30*time.Second, 5*time.Millisecond, "the rollup tiers were not written")
}

// dumpChunk renders a chunk file's series and points as lines, for comparisons.
func dumpChunk(t *testing.T, r *chunkfile.Reader) []string {
	t.Helper()
	var out []string
	for r.Next() {
		b := r.Batch()
		for i := range b.Len() {
			p := b.Point(i)
			v := fmt.Sprintf("%+v", p.Num)
			switch {
			case p.Hist != nil:
				v = fmt.Sprintf("%+v", *p.Hist)
			case p.Exp != nil:
				v = fmt.Sprintf("%+v", *p.Exp)
			case p.Summary != nil:
				v = fmt.Sprintf("%+v", *p.Summary)
			}
			out = append(out, fmt.Sprintf("%s %v %d %d %s", b.Series.Name, b.Series.Attrs, p.T, p.Start, v))
		}
	}
	require.NoError(t, r.Err())
	require.True(t, r.Sealed())
	require.NoError(t, r.Close())
	return out
}

// checkTiers checks that every sealed segment of dir has a file in every tier, holding exactly
// its rollup (as chunkfile.RollupFile writes it), with the segment's modification time, and
// that nothing else is in the tier directories.
func checkTiers(t *testing.T, dir string, tiers []RollupConfig) {
	t.Helper()
	segs, err := listSegments(dir)
	require.NoError(t, err)
	require.NotEmpty(t, segs)
	for _, rc := range tiers {
		tierDir := filepath.Join(dir, chunkfile.RollupDirName(rc.Resolution))
		entries, err := os.ReadDir(tierDir)
		require.NoError(t, err)
		require.Len(t, entries, len(segs), "%s: one file per segment, nothing else: %v", tierDir, entries)
		for _, s := range segs {
			path := filepath.Join(tierDir, filepath.Base(s.path))
			info, err := os.Stat(path)
			require.NoError(t, err, "segment %s has no %s tier", s.path, rc.Resolution)
			assert.Equal(t, s.mod, info.ModTime(), "a tier file is as old as its segment")
			var buf bytes.Buffer
			w, err := chunkfile.NewWriter(&buf, chunkfile.Options{})
			require.NoError(t, err)
			_, err = chunkfile.RollupFile(context.Background(), w, s.path, chunkfile.RollupOptions{Resolution: rc.Resolution})
			require.NoError(t, err)
			require.NoError(t, w.Close())
			want, err := chunkfile.NewReader(bytes.NewReader(buf.Bytes()), chunkfile.ReaderOptions{})
			require.NoError(t, err)
			got, err := chunkfile.OpenFile(path, chunkfile.ReaderOptions{})
			require.NoError(t, err)
			require.Equal(t, dumpChunk(t, want), dumpChunk(t, got), path)
		}
	}
}

// TestRollupTiersAreWrittenAfterEachSeal: every sealed segment gets a file in each tier, in
// the background, counted with its bytes; the raw segments are untouched.
func TestRollupTiersAreWrittenAfterEachSeal(t *testing.T) {
	tt := componenttest.NewTelemetry()
	defer func() { require.NoError(t, tt.Shutdown(context.Background())) }()
	e := startInternal(t, tt, func(c *Config) { c.MaxSegmentBytes = 1; c.RollupMinPointsPerSeries = 0 }) // every push seals
	waitTiers(t, e)                                                                                      // the start's look for missing tiers is done
	for sec := 0; sec < 150; sec += 50 {
		require.NoError(t, e.push(context.Background(), sample(sec)))
		require.NoError(t, e.push(context.Background(), sample(sec+40)))
	}
	waitTierFiles(t, e, 6)
	checkTiers(t, e.cfg.Directory, e.cfg.Rollups)

	var total int64
	for _, rc := range e.cfg.Rollups {
		files, err := listSegments(filepath.Join(e.cfg.Directory, chunkfile.RollupDirName(rc.Resolution)))
		require.NoError(t, err)
		for _, f := range files {
			total += f.size
		}
	}
	metadatatest.AssertEqualExporterChunkfileRollupFilesWritten(t, tt, []metricdata.DataPoint[int64]{
		{Value: 12, Attributes: attribute.NewSet(attribute.String("trigger", "seal"))},
	}, metricdatatest.IgnoreTimestamp())
	metadatatest.AssertEqualExporterChunkfileRollupBytesWritten(t, tt, []metricdata.DataPoint[int64]{{Value: total}}, metricdatatest.IgnoreTimestamp())
	require.NoError(t, e.shutdown(context.Background()))
	points, _, _ := readAll(t, e.cfg.Directory)
	assert.Len(t, points["temp"], 6, "the raw data is all there")
}

// TestRollupsInterruptedAreWrittenAtTheNextStart: a crash (or a shutdown) between the seal of
// a segment and its rollup, and one in the middle of writing a tier file, leave sealed
// segments without tiers and a temporary file; the next start removes the temporary file and
// writes the missing tiers in the background.
func TestRollupsInterruptedAreWrittenAtTheNextStart(t *testing.T) {
	held := make(chan string, 16)
	e := startInternal(t, nil, func(c *Config) { c.MaxSegmentBytes = 1; c.RollupMinPointsPerSeries = 0 })
	e.tiers.mu.Lock()
	e.tiers.beforeRollup = func(ctx context.Context, path string) {
		held <- path
		<-ctx.Done() // the process dies here
	}
	e.tiers.mu.Unlock()
	require.NoError(t, e.push(context.Background(), sample(1)))
	require.NoError(t, e.push(context.Background(), sample(100)))
	<-held
	// What a crash in the middle of writing a tier file leaves.
	tierDir := filepath.Join(e.cfg.Directory, chunkfile.RollupDirName(time.Minute))
	require.NoError(t, os.MkdirAll(tierDir, 0o755))
	half := filepath.Join(tierDir, "segment-00000000000000000001-000001.chunk"+tmpSuffix)
	require.NoError(t, os.WriteFile(half, []byte("DHCK\x01"), 0o644))
	require.NoError(t, e.shutdown(context.Background()))
	segs, err := listSegments(e.cfg.Directory)
	require.NoError(t, err)
	require.Len(t, segs, 2)
	for _, rc := range e.cfg.Rollups {
		files, _ := listSegments(filepath.Join(e.cfg.Directory, chunkfile.RollupDirName(rc.Resolution)))
		require.Empty(t, files, "no tier file was written")
	}

	tt := componenttest.NewTelemetry()
	defer func() { require.NoError(t, tt.Shutdown(context.Background())) }()
	again := startInternal(t, tt, func(c *Config) { c.Directory = e.cfg.Directory; c.RollupMinPointsPerSeries = 0 })
	waitTiers(t, again)
	require.NoError(t, again.shutdown(context.Background()))
	_, err = os.Stat(half)
	assert.ErrorIs(t, err, os.ErrNotExist, "the half-written file is removed")
	checkTiers(t, e.cfg.Directory, e.cfg.Rollups)
	metadatatest.AssertEqualExporterChunkfileRollupFilesWritten(t, tt, []metricdata.DataPoint[int64]{
		{Value: 4, Attributes: attribute.NewSet(attribute.String("trigger", "start"))},
	}, metricdatatest.IgnoreTimestamp())
}

// TestRollupErrorIsCountedAndTheRestGoesOn: a sealed segment that cannot be read gets no tier
// file (and leaves no temporary one); the error is counted and logged, and the other segments
// and pushes are not affected.
func TestRollupErrorIsCountedAndTheRestGoesOn(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "chunks")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	bad := filepath.Join(dir, sealedName(openName(base, 1)))
	require.NoError(t, os.WriteFile(bad, []byte("not a chunk file at all"), 0o644))

	tt := componenttest.NewTelemetry()
	defer func() { require.NoError(t, tt.Shutdown(context.Background())) }()
	e := startInternal(t, tt, func(c *Config) { c.Directory = dir; c.MaxSegmentBytes = 1; c.RollupMinPointsPerSeries = 0 })
	require.NoError(t, e.push(context.Background(), sample(1)))
	waitTierFiles(t, e, 1)
	require.NoError(t, e.shutdown(context.Background()))
	metadatatest.AssertEqualExporterChunkfileBackgroundErrors(t, tt, []metricdata.DataPoint[int64]{
		{Value: 2, Attributes: attribute.NewSet(attribute.String("operation", "rollup"))}, // one per tier
	}, metricdatatest.IgnoreTimestamp())
	for _, rc := range e.cfg.Rollups {
		entries, err := os.ReadDir(filepath.Join(dir, chunkfile.RollupDirName(rc.Resolution)))
		require.NoError(t, err)
		require.Len(t, entries, 1, "only the good segment's tier file")
		assert.False(t, strings.HasPrefix(entries[0].Name(), filepath.Base(bad)))
	}
}

// TestRollupsDisabled: `rollups: []` writes no tier.
func TestRollupsDisabled(t *testing.T) {
	e := startInternal(t, nil, func(c *Config) { c.MaxSegmentBytes = 1; c.Rollups = nil })
	require.NoError(t, e.push(context.Background(), sample(1)))
	require.NoError(t, e.shutdown(context.Background()))
	matches, err := filepath.Glob(filepath.Join(e.cfg.Directory, "rollup-*"))
	require.NoError(t, err)
	assert.Empty(t, matches)
}

// TestMissingTiersAndTierRetention: at start, a tier is written for the sealed segments that
// lack it, except those older than the tier's oldest file (its retention deleted theirs) and
// those older than its max_age; each tier's retention counts from its segments' age.
func TestMissingTiersAndTierRetention(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)
	var paths []string
	for i, age := range []time.Duration{50 * time.Hour, 40 * time.Hour, 30 * time.Hour, 2 * time.Hour, time.Hour} {
		p := filepath.Join(dir, sealedName(openName(now.Add(-age), i)))
		seg, err := chunkfile.Create(p, chunkfile.Options{})
		require.NoError(t, err)
		require.NoError(t, seg.Close())
		require.NoError(t, os.Chtimes(p, now.Add(-age), now.Add(-age)))
		paths = append(paths, p)
	}
	fine := RollupConfig{Resolution: time.Minute, Retention: RetentionConfig{MaxAge: 35 * time.Hour}}
	coarse := RollupConfig{Resolution: time.Hour}
	deleted := 0
	tr := &tiers{dir: dir, cfg: []RollupConfig{fine, coarse}, log: zap.NewNop(), now: func() time.Time { return now },
		onDeleted: func() { deleted++ }, onError: func(op string, err error) { t.Errorf("%s: %v", op, err) }}
	tr.ctx = context.Background()
	// The coarse tier has files of segments 2 and 4 (its retention deleted 0 and 1).
	for _, i := range []int{2, 4} {
		_, _, err := tr.write(coarse, paths[i], tr.tierPath(coarse, paths[i]), now.Add(-time.Hour))
		require.NoError(t, err)
	}
	// Segments 0 and 1 are older than the fine tier's max_age; 2 is newer; the coarse tier
	// misses 3 (newer than its oldest file, 2) but not 0 and 1.
	assert.Equal(t, []string{paths[2], paths[3], paths[4]}, tr.missing())

	for _, i := range []int{0, 1, 2, 3, 4} {
		_, _, err := tr.write(fine, paths[i], tr.tierPath(fine, paths[i]), now.Add(-[]time.Duration{50, 40, 30, 2, 1}[i]*time.Hour))
		require.NoError(t, err)
	}
	tr.retain()
	assert.Equal(t, 2, deleted, "the fine tier's files of the segments past 35 hours")
	files, err := listSegments(filepath.Join(dir, chunkfile.RollupDirName(time.Minute)))
	require.NoError(t, err)
	require.Len(t, files, 3)
	assert.Equal(t, filepath.Base(paths[2]), filepath.Base(files[0].path))
}

// TestSparseSegmentsAreNotRolledUp: with the default rollup_min_points_per_series (2), a
// segment of one point per series (what a cardinality flood seals) gets no tier file, counted
// once per tier, and stays readable raw; a segment with more points per series gets its tiers.
func TestSparseSegmentsAreNotRolledUp(t *testing.T) {
	tt := componenttest.NewTelemetry()
	defer func() { require.NoError(t, tt.Shutdown(context.Background())) }()
	e := startInternal(t, tt, func(c *Config) { c.MaxSegmentBytes = 1 << 30 })
	waitTiers(t, e)
	require.NoError(t, e.push(context.Background(), sample(1)))
	sealNow(t, e, 1)
	require.Eventually(t, func() bool { // the sealer hands the segment over after renaming it
		m, err := tt.GetMetric("otelcol_exporter_chunkfile_rollup_segments_sparse")
		return err == nil && m.Data.(metricdata.Sum[int64]).DataPoints[0].Value == 2 && e.tiers.idle()
	}, 30*time.Second, 5*time.Millisecond)
	for _, rc := range e.cfg.Rollups {
		files, _ := listSegments(filepath.Join(e.cfg.Directory, chunkfile.RollupDirName(rc.Resolution)))
		assert.Empty(t, files, "%s: a segment of one point per series is not rolled up", rc.Resolution)
	}
	metadatatest.AssertEqualExporterChunkfileRollupSegmentsSparse(t, tt, []metricdata.DataPoint[int64]{{Value: 2}}, metricdatatest.IgnoreTimestamp())

	for sec := 10; sec < 14; sec++ { // four points per series
		require.NoError(t, e.push(context.Background(), sample(sec)))
	}
	sealNow(t, e, 2)
	waitTierFiles(t, e, 1)
	require.NoError(t, e.shutdown(context.Background()))
	points, _, _ := readAll(t, e.cfg.Directory)
	assert.Len(t, points["temp"], 5, "the raw data is all there")
}

// sealNow seals the open segment and waits until n segments are sealed and the tiers idle.
func sealNow(t *testing.T, e *chunkExporter, n int) {
	t.Helper()
	e.mu.Lock()
	e.store.rotate()
	e.mu.Unlock()
	require.Eventually(t, func() bool {
		segs, _ := listSegments(e.cfg.Directory)
		return len(segs) == n
	}, 30*time.Second, 5*time.Millisecond)
	waitTiers(t, e)
}
