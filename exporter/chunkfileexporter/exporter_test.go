package chunkfileexporter

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/doghouse-otel/doghouse/chunkfile"
	"github.com/doghouse-otel/doghouse/exporter/chunkfileexporter/internal/metadata"
)

var base = time.Unix(1_700_000_000, 0)

func ts(sec int) pcommon.Timestamp {
	return pcommon.NewTimestampFromTime(base.Add(time.Duration(sec) * time.Second))
}

// sample builds one of every metric kind at second sec, with values derived from sec.
func sample(sec int) pmetric.Metrics {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("host.name", "web-1")
	sm := rm.ScopeMetrics().AppendEmpty()
	sm.Scope().SetName("test-scope")
	sm.Scope().SetVersion("v1")
	ms := sm.Metrics()

	g := ms.AppendEmpty()
	g.SetName("temp")
	g.SetUnit("Cel")
	dp := g.SetEmptyGauge().DataPoints().AppendEmpty()
	dp.SetTimestamp(ts(sec))
	dp.SetDoubleValue(20.25 + float64(sec))
	dp.Attributes().PutStr("room", "a")
	dp.Attributes().PutEmptySlice("team").AppendEmpty().SetStr("x")

	s := ms.AppendEmpty()
	s.SetName("requests")
	sum := s.SetEmptySum()
	sum.SetIsMonotonic(true)
	sum.SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
	sp := sum.DataPoints().AppendEmpty()
	sp.SetStartTimestamp(ts(sec - 1))
	sp.SetTimestamp(ts(sec))
	sp.SetIntValue(int64(sec * 10))
	sp.Attributes().PutInt("code", 200)

	h := ms.AppendEmpty()
	h.SetName("latency")
	hp := h.SetEmptyHistogram().DataPoints().AppendEmpty()
	hp.SetTimestamp(ts(sec))
	hp.ExplicitBounds().FromRaw([]float64{1, 10})
	hp.BucketCounts().FromRaw([]uint64{1, 2, uint64(sec)})
	hp.SetCount(3 + uint64(sec))
	hp.SetSum(99.5)
	hp.SetMin(0.5)
	hp.SetMax(40)

	e := ms.AppendEmpty()
	e.SetName("size")
	ep := e.SetEmptyExponentialHistogram().DataPoints().AppendEmpty()
	ep.SetTimestamp(ts(sec))
	ep.SetScale(3)
	ep.SetZeroCount(1)
	ep.Positive().SetOffset(-2)
	ep.Positive().BucketCounts().FromRaw([]uint64{1, 0, 4})
	ep.Negative().SetOffset(5)
	ep.Negative().BucketCounts().FromRaw([]uint64{2})
	ep.SetCount(8)
	ep.SetSum(math.Copysign(0, -1))

	q := ms.AppendEmpty()
	q.SetName("rtt")
	qp := q.SetEmptySummary().DataPoints().AppendEmpty()
	qp.SetTimestamp(ts(sec))
	qp.SetCount(4)
	qp.SetSum(10)
	qv := qp.QuantileValues().AppendEmpty()
	qv.SetQuantile(0.5)
	qv.SetValue(2.5)
	return md
}

func newTestExporter(t testing.TB, mutate func(*Config)) (exporter.Metrics, *Config) {
	t.Helper()
	cfg := createDefaultConfig().(*Config)
	cfg.Directory = filepath.Join(t.TempDir(), "chunks")
	cfg.QueueConfig = configoptional.None[exporterhelper.QueueBatchConfig]()
	cfg.BackOff.Enabled = false
	if mutate != nil {
		mutate(cfg)
	}
	require.NoError(t, cfg.Validate())
	exp, err := NewFactory().CreateMetrics(context.Background(), exportertest.NewNopSettings(metadata.Type), cfg)
	require.NoError(t, err)
	require.NoError(t, exp.Start(context.Background(), componenttest.NewNopHost()))
	return exp, cfg
}

// readAll reads every segment of dir, in name order, into points by series name.
func readAll(t *testing.T, dir string) (map[string][]chunkfile.Point, map[string]*chunkfile.Series, []string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	points := map[string][]chunkfile.Point{}
	series := map[string]*chunkfile.Series{}
	var names []string
	for _, e := range entries {
		if e.Name() == lockName || e.IsDir() { // rollup tiers: rollup_test.go
			continue
		}
		names = append(names, e.Name())
		r, err := chunkfile.OpenFile(filepath.Join(dir, e.Name()), chunkfile.ReaderOptions{})
		require.NoError(t, err)
		for r.Next() {
			b := r.Batch().Clone()
			series[b.Series.Name] = b.Series
			for i := range b.Len() {
				points[b.Series.Name] = append(points[b.Series.Name], b.Point(i))
			}
		}
		require.NoError(t, r.Err())
		require.NoError(t, r.Close())
	}
	return points, series, names
}

func TestWritesEveryKindAndSealsOnShutdown(t *testing.T) {
	exp, cfg := newTestExporter(t, nil)
	for sec := 1; sec <= 3; sec++ {
		require.NoError(t, exp.ConsumeMetrics(context.Background(), sample(sec)))
	}
	require.NoError(t, exp.Shutdown(context.Background()))

	points, series, names := readAll(t, cfg.Directory)
	require.Len(t, names, 1)
	assert.True(t, strings.HasSuffix(names[0], sealedSuffix), "segment sealed on shutdown: %v", names)

	temp := series["temp"]
	require.NotNil(t, temp)
	assert.Equal(t, chunkfile.KindGauge, temp.Kind)
	assert.Equal(t, "Cel", temp.Unit)
	assert.Equal(t, "test-scope", temp.ScopeName)
	assert.Equal(t, []chunkfile.Attr{{Key: "host.name", Value: chunkfile.StringValue("web-1")}}, temp.Resource)
	assert.Equal(t, []chunkfile.Attr{{Key: "room", Value: chunkfile.StringValue("a")}, {Key: "team", Value: chunkfile.StringValue(`["x"]`)}}, temp.Attrs)
	require.Len(t, points["temp"], 3)
	for i, p := range points["temp"] {
		sec := i + 1
		assert.Equal(t, base.Add(time.Duration(sec)*time.Second).UnixMilli(), p.T)
		assert.True(t, p.Num.Equal(chunkfile.FloatNumber(20.25+float64(sec))))
	}

	req := series["requests"]
	assert.Equal(t, chunkfile.KindSum, req.Kind)
	assert.True(t, req.Monotonic)
	assert.Equal(t, chunkfile.TemporalityDelta, req.Temporality)
	assert.Equal(t, []chunkfile.Attr{{Key: "code", Value: chunkfile.Value{Type: chunkfile.ValueInt, Int: 200}}}, req.Attrs)
	require.Len(t, points["requests"], 3)
	assert.True(t, points["requests"][2].Num.Equal(chunkfile.IntNumber(30)))
	assert.Equal(t, base.Add(2*time.Second).UnixMilli(), points["requests"][2].Start)

	h := points["latency"][2].Hist
	assert.Equal(t, []float64{1, 10}, h.Bounds)
	assert.Equal(t, []uint64{1, 2, 3}, h.Counts)
	assert.Equal(t, [5]any{uint64(6), 99.5, 0.5, 40.0, true}, [5]any{h.Count, h.Sum, h.Min, h.Max, h.HasMin})

	x := points["size"][0].Exp
	assert.Equal(t, int32(3), x.Scale)
	assert.Equal(t, chunkfile.Buckets{Offset: -2, Counts: []uint64{1, 0, 4}}, x.Positive)
	assert.Equal(t, chunkfile.Buckets{Offset: 5, Counts: []uint64{2}}, x.Negative)
	assert.Equal(t, math.Float64bits(math.Copysign(0, -1)), math.Float64bits(x.Sum), "-0.0 kept bit for bit")

	sm := points["rtt"][0].Summary
	assert.Equal(t, []chunkfile.Quantile{{Q: 0.5, V: 2.5}}, sm.Quantiles)
}

func TestRotatesBySizeAndRetainsByTotalBytes(t *testing.T) {
	exp, cfg := newTestExporter(t, func(c *Config) {
		c.MaxSegmentBytes = 4096
		c.Retention.MaxTotalBytes = 4096
		c.Compression = "none"
	})
	for sec := 1; sec <= 1000; sec++ {
		require.NoError(t, exp.ConsumeMetrics(context.Background(), sample(sec)))
	}
	require.NoError(t, exp.Shutdown(context.Background()))
	_, _, names := readAll(t, cfg.Directory)
	var total int64
	for _, n := range names {
		assert.True(t, strings.HasSuffix(n, sealedSuffix), n)
		info, err := os.Stat(filepath.Join(cfg.Directory, n))
		require.NoError(t, err)
		total += info.Size()
	}
	assert.GreaterOrEqual(t, len(names), 2, "several segments were kept")
	// Retention runs after each seal, so at most the bound plus the last sealed segment remain.
	assert.LessOrEqual(t, total, cfg.Retention.MaxTotalBytes+cfg.MaxSegmentBytes*2)
	points, _, _ := readAll(t, cfg.Directory)
	last := points["requests"][len(points["requests"])-1]
	assert.True(t, last.Num.Equal(chunkfile.IntNumber(10000)), "the newest data is kept")
	assert.Less(t, len(points["requests"]), 1000, "the oldest data was deleted")
}

func TestRecoversSegmentLeftOpenByACrash(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "chunks")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	// A crashed run: a segment with complete frames and a torn tail.
	open := filepath.Join(dir, openName(base, 1))
	seg, err := chunkfile.Create(open, chunkfile.Options{})
	require.NoError(t, err)
	var conv converter
	_, _, err = conv.write(seg.Writer, sample(1))
	require.NoError(t, err)
	require.NoError(t, seg.Flush())
	require.NoError(t, seg.Abandon())
	f, err := os.OpenFile(open, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.Write([]byte{0x42, 0x4c, 0x4b, 0x00, 0x10, 0x01}) // half a frame
	require.NoError(t, err)
	require.NoError(t, f.Close())

	exp, _ := newTestExporter(t, func(c *Config) { c.Directory = dir })
	require.NoError(t, exp.ConsumeMetrics(context.Background(), sample(2)))
	require.NoError(t, exp.Shutdown(context.Background()))

	points, _, names := readAll(t, dir)
	require.Len(t, names, 2)
	for _, n := range names {
		assert.True(t, strings.HasSuffix(n, sealedSuffix), n)
	}
	require.Len(t, points["temp"], 2, "the crashed segment's frames and the new data are both readable")
	assert.True(t, points["temp"][0].Num.Equal(chunkfile.FloatNumber(21.25)))
}

func TestUnwritableDirectoryFailsThePush(t *testing.T) {
	blocker := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(blocker, nil, 0o600))
	cfg := createDefaultConfig().(*Config)
	cfg.Directory = filepath.Join(blocker, "chunks") // a directory under a regular file
	exp, err := NewFactory().CreateMetrics(context.Background(), exportertest.NewNopSettings(metadata.Type), cfg)
	require.NoError(t, err)
	err = exp.Start(context.Background(), componenttest.NewNopHost())
	require.ErrorContains(t, err, "chunkfile: creating directory")
	require.NoError(t, exp.Shutdown(context.Background()))
}

func TestSkipsMalformedPointsAndKeepsTheRest(t *testing.T) {
	exp, cfg := newTestExporter(t, nil)
	md := sample(1)
	bad := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().AppendEmpty()
	bad.SetName("broken")
	bp := bad.SetEmptyHistogram().DataPoints().AppendEmpty()
	bp.ExplicitBounds().FromRaw([]float64{1, 2})
	bp.BucketCounts().FromRaw([]uint64{1}) // needs 3
	md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().AppendEmpty().SetName("typeless")
	require.NoError(t, exp.ConsumeMetrics(context.Background(), md))
	require.NoError(t, exp.Shutdown(context.Background()))
	points, _, _ := readAll(t, cfg.Directory)
	assert.Len(t, points["temp"], 1)
	assert.NotContains(t, points, "broken")
}

func TestSealsByAgeWithoutPushes(t *testing.T) {
	exp, cfg := newTestExporter(t, func(c *Config) { c.MaxSegmentAge = 50 * time.Millisecond; c.FsyncInterval = 10 * time.Millisecond })
	require.NoError(t, exp.ConsumeMetrics(context.Background(), sample(1)))
	require.Eventually(t, func() bool {
		files, _ := filepath.Glob(filepath.Join(cfg.Directory, segmentPrefix+"*"))
		return len(files) == 1 && strings.HasSuffix(files[0], sealedSuffix)
	}, 10*time.Second, 10*time.Millisecond, "the ticker seals an idle segment past max_segment_age")
	require.NoError(t, exp.Shutdown(context.Background()))
}

// TestAcknowledgedPushesSurviveACrash: every push that returned is in the file as a
// checkpoint; after a crash (no seal, nothing flushed) recovery turns them into blocks.
func TestAcknowledgedPushesSurviveACrash(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Directory = filepath.Join(t.TempDir(), "chunks")
	e := newExporter(cfg, exportertest.NewNopSettings(metadata.Type))
	require.NoError(t, e.start(context.Background(), componenttest.NewNopHost()))
	for sec := 1; sec <= 5; sec++ {
		require.NoError(t, e.push(context.Background(), sample(sec)))
	}
	crash(t, e)

	exp, _ := newTestExporter(t, func(c *Config) { c.Directory = cfg.Directory })
	require.NoError(t, exp.Shutdown(context.Background()))
	points, _, names := readAll(t, cfg.Directory)
	require.Len(t, names, 1)
	assert.True(t, strings.HasSuffix(names[0], sealedSuffix))
	require.Len(t, points["requests"], 5, "all five acknowledged pushes")
	for i, p := range points["requests"] {
		assert.True(t, p.Num.Equal(chunkfile.IntNumber(int64((i+1)*10))))
	}
	require.Len(t, points["latency"], 5)
}

// TestSealsBySeriesCount: a stream of new series (a cardinality flood) seals the segment each
// time it defines max_segment_series of them, so the writer's per-series state stays bounded;
// every point is stored once.
func TestSealsBySeriesCount(t *testing.T) {
	exp, cfg := newTestExporter(t, func(c *Config) { c.MaxSegmentSeries = 100 })
	const pushes, perPush = 25, 20
	for p := range pushes {
		md := pmetric.NewMetrics()
		ms := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics()
		for i := range perPush {
			m := ms.AppendEmpty()
			m.SetName(fmt.Sprintf("user.%d.%d", p, i))
			dp := m.SetEmptyGauge().DataPoints().AppendEmpty()
			dp.SetTimestamp(ts(p))
			dp.SetIntValue(int64(i))
		}
		require.NoError(t, exp.ConsumeMetrics(context.Background(), md))
	}
	require.NoError(t, exp.Shutdown(context.Background()))
	points, _, _ := readAll(t, cfg.Directory)
	assert.Len(t, points, pushes*perPush, "every series stored")
	for name, ps := range points {
		assert.Len(t, ps, 1, name)
	}
	_, _, names := readAll(t, cfg.Directory)
	assert.Len(t, names, pushes*perPush/100, "one sealed segment per 100 series")
}

// crash leaves e as kill -9 would: the open segment's file closed as it is, nothing sealed, the
// directory lock released (the kernel drops it with the process).
func crash(t *testing.T, e *chunkExporter) {
	t.Helper()
	close(e.stop)
	<-e.done
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.store.seg != nil {
		require.NoError(t, e.store.seg.Abandon())
		e.store.seg = nil
	}
	e.store.stopSealer() // seals what was already detached, as a sealer that got there first
	e.tiers.stop()       // abandons its rollups, as a crash would
	e.telemetry.Shutdown()
	require.NoError(t, e.unlock())
}
