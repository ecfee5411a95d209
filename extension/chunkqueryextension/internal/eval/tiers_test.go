package eval

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doghouse-otel/doghouse/chunkfile"
	"github.com/doghouse-otel/doghouse/extension/chunkqueryextension/internal/store"
	"github.com/doghouse-otel/doghouse/extension/chunkqueryextension/internal/tiertest"
)

// writeRaw writes three sealed segments of an hour each and an open one: delta counters,
// a cumulative counter that restarts, and a gauge, a point every 10 s, integer values (so sums
// are exact in any order).
func writeRaw(t *testing.T, dir string, start int64) []string {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	var bases []string
	cum := map[string]float64{}
	for seg := range 4 {
		base := fmt.Sprintf("segment-%d-%06d", start+int64(seg)*3_600_000, seg+1)
		s, err := chunkfile.Create(filepath.Join(dir, base+".chunk.open"), chunkfile.Options{BlockDuration: 10 * time.Minute, Checkpoints: true})
		require.NoError(t, err)
		refs := map[string]chunkfile.SeriesRef{}
		add := func(key string, cs chunkfile.Series, ts int64, v float64) {
			ref, ok := refs[key]
			if !ok {
				ref, err = s.AddSeries(cs)
				require.NoError(t, err)
				refs[key] = ref
			}
			require.NoError(t, s.Append(ref, chunkfile.Point{T: ts, Num: chunkfile.FloatNumber(v)}))
		}
		for i := range 360 {
			ts := start + int64(seg)*3_600_000 + int64(i+1)*10_000
			for _, host := range []string{"a", "b", "c"} {
				attrs := []chunkfile.Attr{{Key: "host", Value: chunkfile.StringValue(host)}}
				add("v"+host, chunkfile.Series{Name: "views", Kind: chunkfile.KindSum, Temporality: chunkfile.TemporalityDelta, Monotonic: true, Attrs: attrs},
					ts, float64(rng.IntN(10)))
				if rng.IntN(500) == 0 {
					cum[host] = 0 // a restart
				}
				cum[host] += float64(rng.IntN(7))
				add("c"+host, chunkfile.Series{Name: "reqs", Kind: chunkfile.KindSum, Temporality: chunkfile.TemporalityCumulative, Monotonic: true, Attrs: attrs},
					ts, cum[host])
				if i%3 != 1 { // a gauge with gaps
					add("g"+host, chunkfile.Series{Name: "temp", Kind: chunkfile.KindGauge, Attrs: attrs}, ts, float64(rng.IntN(100)-50))
				}
			}
			if i%30 == 29 {
				require.NoError(t, s.Checkpoint())
			}
		}
		if seg == 3 {
			t.Cleanup(func() { s.Abandon() })
			break
		}
		require.NoError(t, s.Close())
		require.NoError(t, os.Rename(filepath.Join(dir, base+".chunk.open"), filepath.Join(dir, base+".chunk")))
		bases = append(bases, base)
	}
	return bases
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	entries, err := os.ReadDir(from)
	require.NoError(t, err)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(to, e.Name()), b, 0o644))
	}
}

// rollup writes dir/rollup-<res>/<base>.chunk from the sealed segment dir/<base>.chunk with
// chunkfile.RollupFile, as the chunkfile exporter writes its tiers.
func rollup(t *testing.T, dir, base string, res time.Duration) {
	t.Helper()
	path := filepath.Join(dir, chunkfile.RollupDirName(res), base+".chunk")
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	seg, err := chunkfile.Create(path, chunkfile.Options{})
	require.NoError(t, err)
	_, err = chunkfile.RollupFile(context.Background(), seg.Writer, filepath.Join(dir, base+".chunk"), chunkfile.RollupOptions{Resolution: res})
	require.NoError(t, err)
	require.NoError(t, seg.Close())
}

// TestTiersAnswerAsRawData: the same queries on a directory with 1-minute and 1-hour tiers
// and on the same directory without them give the same answers, bit for bit, while the tiers
// are read (far fewer samples). The last hour is an open segment, read raw either way. The
// tiers are written by chunkfile.RollupFile, as the chunkfile exporter writes them; tiers
// written by tiertest.Roll, straight from the specification, give the same answers too.
func TestTiersAnswerAsRawData(t *testing.T) {
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	rawDir, tierDir, specDir := t.TempDir(), t.TempDir(), t.TempDir()
	bases := writeRaw(t, rawDir, start)
	copyDir(t, rawDir, tierDir)
	copyDir(t, rawDir, specDir)
	for _, b := range bases {
		rollup(t, tierDir, b, time.Minute)
		rollup(t, tierDir, b, time.Hour)
		require.NoError(t, tiertest.Roll(specDir, b, time.Minute))
		require.NoError(t, tiertest.Roll(specDir, b, time.Hour))
	}
	raw := store.New(store.Options{Dir: rawDir})
	defer raw.Close()
	tiered := store.New(store.Options{Dir: tierDir})
	defer tiered.Close()
	spec := store.New(store.Options{Dir: specDir})
	defer spec.Close()
	require.Equal(t, []time.Duration{time.Minute, time.Hour}, tiered.Tiers())
	require.Equal(t, []time.Duration{time.Minute, time.Hour}, spec.Tiers())
	ep := New(pointsOnly{raw}, Limits{MaxSteps: 11000}, 5*time.Minute)
	er := New(raw, Limits{MaxSteps: 11000}, 5*time.Minute)
	et := New(tiered, Limits{MaxSteps: 11000}, 5*time.Minute)
	es := New(spec, Limits{MaxSteps: 11000}, 5*time.Minute)
	from, to := time.UnixMilli(start).Add(time.Hour), time.UnixMilli(start).Add(4*time.Hour)
	for _, c := range []struct {
		q    string
		step time.Duration
		tier bool // a tier can answer it
	}{
		{`rate(views[5m])`, time.Minute, true},
		{`sum by (host) (increase(views[1h]))`, time.Hour, true},
		{`sum(rate(views[10m]))`, 5 * time.Minute, true},
		{`increase(reqs[1h])`, time.Hour, true},
		{`rate(reqs[5m])`, time.Minute, true},
		{`sum_over_time(temp[10m])`, time.Minute, true},
		{`avg_over_time(temp[30m])`, 10 * time.Minute, true},
		{`min_over_time(temp[1h])`, time.Hour, true},
		{`max_over_time(temp[2h])`, time.Hour, true},
		{`count_over_time(temp[5m])`, time.Minute, true},
		{`last_over_time(temp[1m])`, time.Minute, true},
		{`temp`, time.Minute, true},
		{`topk(1, sum_over_time(views[1h]))`, time.Hour, true},
		{`rate(views[90s])`, 30 * time.Second, false}, // no tier fits: raw either way
	} {
		rr, err := er.Range(context.Background(), c.q, from, to, c.step)
		require.NoError(t, err, c.q)
		rp, err := ep.Range(context.Background(), c.q, from, to, c.step)
		require.NoError(t, err, c.q)
		assert.Equal(t, rp.Series, rr.Series, "%s: raw points in windows and as they are", c.q)
		rt, err := et.Range(context.Background(), c.q, from, to, c.step)
		require.NoError(t, err, c.q)
		rs, err := es.Range(context.Background(), c.q, from, to, c.step)
		require.NoError(t, err, c.q)
		require.NotEmpty(t, rr.Series, c.q)
		assert.Equal(t, rr.Series, rt.Series, c.q)
		assert.Equal(t, rr.Series, rs.Series, "%s: tiers written by tiertest", c.q)
		assert.Equal(t, rs.Samples, rt.Samples, "%s: both tiers read the same windows", c.q)
		if c.tier {
			assert.Less(t, rt.Samples, rr.Samples, "%s: the tier was not used (%d samples vs %d raw)", c.q, rt.Samples, rr.Samples)
		} else {
			assert.Equal(t, rr.Samples, rt.Samples, c.q)
		}
	}
}

// pointsOnly hides a store's windows: the engine reads raw points as they are.
type pointsOnly struct{ st *store.Store }

func (p pointsOnly) Select(ctx context.Context, ms []*labels.Matcher, mint, maxt int64, lim store.Limits) ([]*store.Points, error) {
	return p.st.Select(ctx, ms, mint, maxt, lim)
}

// TestRawWindowsAnswerAsPoints: raw points put into windows off the tiers' grid (instant
// queries at any time, range queries whose step and range are not whole minutes) give the same
// answers, bit for bit, as the points read as they are, with and without tiers present; and a
// query that would need too many windows is answered from the points.
func TestRawWindowsAnswerAsPoints(t *testing.T) {
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	dir := t.TempDir()
	bases := writeRaw(t, dir, start)
	rollup(t, dir, bases[0], time.Minute)
	st := store.New(store.Options{Dir: dir})
	defer st.Close()
	ep := New(pointsOnly{st}, Limits{MaxSteps: 11000}, 5*time.Minute)
	ew := New(st, Limits{MaxSteps: 11000}, 5*time.Minute)
	t0 := time.UnixMilli(start)
	for _, at := range []time.Duration{time.Hour + 7*time.Second, 2*time.Hour + 30*time.Minute + 1234*time.Millisecond, 3*time.Hour + 59*time.Minute + 59*time.Second} {
		for _, q := range []string{`rate(views[5m])`, `sum by (host) (increase(reqs[17m]))`, `temp`, `max_over_time(temp[95s])`,
			`count_over_time(temp[1h])`, `avg_over_time(temp[3m])`, `last_over_time(reqs[2m])`} {
			rp, err := ep.Instant(context.Background(), q, t0.Add(at))
			require.NoError(t, err, q)
			rw, err := ew.Instant(context.Background(), q, t0.Add(at))
			require.NoError(t, err, q)
			require.NotEmpty(t, rp.Series, "%s at %s", q, at)
			assert.Equal(t, rp.Series, rw.Series, "%s at %s", q, at)
			assert.Equal(t, rp.Samples, rw.Samples, "%s at %s: the same points are read", q, at)
		}
	}
	from, to := t0.Add(time.Hour+13*time.Second), t0.Add(3*time.Hour+50*time.Minute)
	for _, c := range []struct {
		q    string
		step time.Duration
	}{
		{`rate(views[5m])`, 15 * time.Second},
		{`sum(rate(reqs[2m]))`, 40 * time.Second},
		{`temp`, 20 * time.Second},
		{`min_over_time(temp[90s])`, 30 * time.Second},
		{`rate(views[70s])`, 7 * time.Second}, // gcd 7 s: windows
		{`rate(views[71s])`, 7 * time.Second}, // gcd 1 s, under a quarter of the step: points
	} {
		rp, err := ep.Range(context.Background(), c.q, from, to, c.step)
		require.NoError(t, err, c.q)
		rw, err := ew.Range(context.Background(), c.q, from, to, c.step)
		require.NoError(t, err, c.q)
		require.NotEmpty(t, rp.Series, c.q)
		assert.Equal(t, rp.Series, rw.Series, c.q)
	}
	// Too many windows for the limit: the points are read (and fit theirs).
	small := New(st, Limits{MaxSteps: 11000, MaxSamples: 400}, 5*time.Minute) // 3 series × 181 windows > 400 > 270 points
	q := `rate(views[5m])`
	rp, err := ep.Range(context.Background(), q, from, from.Add(10*time.Minute), 5*time.Second)
	require.NoError(t, err)
	rw, err := small.Range(context.Background(), q, from, from.Add(10*time.Minute), 5*time.Second)
	require.NoError(t, err)
	assert.Equal(t, rp.Series, rw.Series)
}
