package tiertest

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doghouse-otel/doghouse/chunkfile"
)

// writeSegment writes dir/<base>.chunk, sealed: an hour and a bit of a delta counter with int
// values, a cumulative counter that restarts, a float gauge with gaps, and a histogram (which
// Roll leaves out), points every 7 s from an offset that is not aligned to any window.
func writeSegment(t *testing.T, dir, base string) {
	t.Helper()
	seg, err := chunkfile.Create(filepath.Join(dir, base+".chunk"), chunkfile.Options{})
	require.NoError(t, err)
	add := func(s chunkfile.Series) chunkfile.SeriesRef {
		ref, err := seg.AddSeries(s)
		require.NoError(t, err)
		return ref
	}
	host := []chunkfile.Attr{{Key: "host", Value: chunkfile.StringValue("a")}}
	delta := add(chunkfile.Series{Name: "views", Kind: chunkfile.KindSum, Temporality: chunkfile.TemporalityDelta, Monotonic: true, Attrs: host})
	cum := add(chunkfile.Series{Name: "reqs", Kind: chunkfile.KindSum, Temporality: chunkfile.TemporalityCumulative, Monotonic: true,
		Resource: []chunkfile.Attr{{Key: "service.name", Value: chunkfile.StringValue("web")}}})
	gauge := add(chunkfile.Series{Name: "temp", Kind: chunkfile.KindGauge, Unit: "Cel", Attrs: host})
	hist := add(chunkfile.Series{Name: "lat", Kind: chunkfile.KindHistogram, Temporality: chunkfile.TemporalityDelta})
	rng := rand.New(rand.NewPCG(3, 4))
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).UnixMilli() + 4321
	var c int64
	for i := range 600 {
		ts := start + int64(i)*7000
		require.NoError(t, seg.AppendInt(delta, ts, int64(rng.IntN(10))))
		if rng.IntN(100) == 0 {
			c = 0 // a restart
		}
		c += int64(rng.IntN(5))
		require.NoError(t, seg.AppendInt(cum, ts, c))
		if i%4 != 3 {
			require.NoError(t, seg.AppendFloat(gauge, ts, math.Round(rng.NormFloat64()*1000)/100))
		}
		require.NoError(t, seg.Append(hist, chunkfile.Point{T: ts, Hist: &chunkfile.Histogram{Count: 1, Bounds: []float64{1}, Counts: []uint64{1, 0}}}))
	}
	require.NoError(t, seg.Close())
}

// readWindow is one statistic of one window of a tier file, read back.
type readWindow struct {
	start int64
	value float64
}

// readTier reads a tier file into raw series (without __rollup__) → statistic → window end.
func readTier(t *testing.T, path string) map[string]map[string]map[int64]readWindow {
	t.Helper()
	r, err := chunkfile.OpenFile(path, chunkfile.ReaderOptions{})
	require.NoError(t, err)
	defer r.Close()
	out := map[string]map[string]map[int64]readWindow{}
	for r.Next() {
		b := r.Batch()
		if b.Num == nil {
			continue
		}
		st, ok := b.Series.Attr("__rollup__")
		require.True(t, ok, b.Series.Name)
		raw := *b.Series
		raw.Attrs = slices.DeleteFunc(slices.Clone(raw.Attrs), func(a chunkfile.Attr) bool { return a.Key == "__rollup__" })
		key := fmt.Sprintf("%s %+v %+v %v %v", raw.Name, raw.Attrs, raw.Resource, raw.Kind, raw.Temporality)
		if out[key] == nil {
			out[key] = map[string]map[int64]readWindow{}
		}
		if out[key][st.Str] == nil {
			out[key][st.Str] = map[int64]readWindow{}
		}
		for i := range b.Len() {
			_, dup := out[key][st.Str][b.T[i]]
			require.False(t, dup, "%s %s: two points for window %d", key, st.Str, b.T[i])
			out[key][st.Str][b.T[i]] = readWindow{start: b.Start[i], value: b.Num[i].Float64()}
		}
	}
	require.NoError(t, r.Err())
	require.True(t, r.Sealed())
	return out
}

// TestRollMatchesChunkfileRollup: the tiers chunkfile.RollupFile writes (what the chunkfile
// exporter writes) and the tiers Roll writes straight from docs/read-side.md hold the same
// windows with the same statistics, read back, at both resolutions.
func TestRollMatchesChunkfileRollup(t *testing.T) {
	dir, other := t.TempDir(), t.TempDir()
	base := "segment-00000001761955204321-000001"
	writeSegment(t, dir, base)
	for _, res := range []time.Duration{time.Minute, time.Hour} {
		require.NoError(t, Roll(dir, base, res))
		path := filepath.Join(other, chunkfile.RollupDirName(res), base+".chunk")
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		seg, err := chunkfile.Create(path, chunkfile.Options{})
		require.NoError(t, err)
		_, err = chunkfile.RollupFile(context.Background(), seg.Writer, filepath.Join(dir, base+".chunk"), chunkfile.RollupOptions{Resolution: res})
		require.NoError(t, err)
		require.NoError(t, seg.Close())

		want := readTier(t, filepath.Join(dir, "rollup-"+short(res), base+".chunk"))
		got := readTier(t, path)
		require.Len(t, want, 3, "three number series")
		assert.Equal(t, want, got, res)
		windows := 0
		for _, stats := range want {
			require.Len(t, stats, 7)
			windows += len(stats["count"])
		}
		t.Logf("%s: %d series windows compared", res, windows)
	}
}
