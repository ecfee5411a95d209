package store

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doghouse-otel/doghouse/chunkfile"
)

// rollFile writes the tier file of a sealed raw segment the way docs/read-side.md specifies it
// (series grouped by statistic, each statistic's points in blocks of their own), computing the
// windows from the raw points with Window.add. The exporter's own rollup writer is tested
// against the same specification in the chunkfile package.
func rollFile(t *testing.T, dir, base string, res time.Duration) {
	t.Helper()
	r, err := chunkfile.OpenFile(filepath.Join(dir, base+sealedSuffix), chunkfile.ReaderOptions{})
	require.NoError(t, err)
	defer r.Close()
	type acc struct {
		cs *chunkfile.Series
		ws []Window
	}
	var order []*acc
	bySeries := map[*chunkfile.Series]*acc{}
	resMs := res.Milliseconds()
	for r.Next() {
		b := r.Batch()
		a := bySeries[b.Series]
		if a == nil {
			a = &acc{cs: b.Series}
			bySeries[b.Series] = a
			order = append(order, a)
		}
		for i := range b.Len() {
			a.ws = windowAt(a.ws, ceilDiv(b.T[i], resMs)*resMs)
			a.ws[len(a.ws)-1].add(b.Num[i].Float64())
		}
	}
	require.NoError(t, r.Err())
	tierDir := filepath.Join(dir, tierPrefix+shortDur(res))
	require.NoError(t, os.MkdirAll(tierDir, 0o755))
	w, err := chunkfile.Create(filepath.Join(tierDir, base+sealedSuffix), chunkfile.Options{BlockDuration: 1000 * time.Hour})
	require.NoError(t, err)
	stats := []struct {
		name string
		get  func(*Window) float64
	}{
		{"sum", func(w *Window) float64 { return w.Sum }},
		{"increase", func(w *Window) float64 { return w.Inc }},
		{"count", func(w *Window) float64 { return w.Count }},
		{"min", func(w *Window) float64 { return w.Min }},
		{"max", func(w *Window) float64 { return w.Max }},
		{"first", func(w *Window) float64 { return w.First }},
		{"last", func(w *Window) float64 { return w.Last }},
	}
	for _, st := range stats {
		for _, a := range order {
			cs := *a.cs
			cs.Attrs = append(slices.Clone(cs.Attrs), chunkfile.Attr{Key: RollupAttr, Value: chunkfile.StringValue(st.name)})
			ref, err := w.AddSeries(cs)
			require.NoError(t, err)
			for i := range a.ws {
				require.NoError(t, w.Append(ref, chunkfile.Point{T: a.ws[i].End, Start: a.ws[i].End - resMs, Num: chunkfile.FloatNumber(st.get(&a.ws[i]))}))
			}
		}
		require.NoError(t, w.Flush())
	}
	require.NoError(t, w.Close())
}

func shortDur(d time.Duration) string {
	if d%time.Hour == 0 {
		return fmt.Sprintf("%dh", d/time.Hour)
	}
	return fmt.Sprintf("%dm", d/time.Minute)
}

// oracle puts every raw point of the directory into windows in one pass.
func oracle(t *testing.T, s *Store, ms []*labels.Matcher, res time.Duration) map[string][]Window {
	t.Helper()
	pts, err := s.Select(context.Background(), ms, 0, 1<<62, Limits{})
	require.NoError(t, err)
	out := map[string][]Window{}
	resMs := res.Milliseconds()
	for _, p := range pts {
		var ws []Window
		for i, tm := range p.T {
			ws = windowAt(ws, ceilDiv(tm, resMs)*resMs)
			ws[len(ws)-1].add(p.V[i])
		}
		out[p.Series.Labels.String()] = ws
	}
	return out
}

// hasWindows lists the windows that hold points.
func hasWindows(w *Windows) []Window {
	var out []Window
	for k := range w.Len() {
		if w.Has[k] {
			out = append(out, w.At(k))
		}
	}
	return out
}

func windowsOf(t *testing.T, s *Store, ms []*labels.Matcher, res time.Duration) map[string][]Window {
	t.Helper()
	got, _, err := s.SelectWindows(context.Background(), ms, 0, 10_000_000, res, nil, Limits{})
	require.NoError(t, err)
	out := map[string][]Window{}
	for _, w := range got {
		out[w.Series.Labels.String()] = hasWindows(w)
	}
	return out
}

// TestWindowsFromTiersEqualWindowsFromRaw: a sealed segment read through its 1-minute tier file
// and the open segment put into windows from its raw points give the same windows as all raw
// points put into windows at once, including the window the two segments share and a
// cumulative counter that resets in the middle.
func TestWindowsFromTiersEqualWindowsFromRaw(t *testing.T) {
	dir := t.TempDir()
	cum := func(w *writer, i int) {
		v := float64(i * 3)
		if i >= 40 { // a restart at 400 s
			v = float64((i - 40) * 2)
		}
		ref, ok := w.refs["cum"]
		if !ok {
			var err error
			ref, err = w.seg.AddSeries(chunkfile.Series{Name: "reqs", Kind: chunkfile.KindSum, Temporality: chunkfile.TemporalityCumulative, Monotonic: true})
			require.NoError(t, err)
			w.refs["cum"] = ref
		}
		require.NoError(t, w.seg.Append(ref, chunkfile.Point{T: int64(i) * 10_000, Num: chunkfile.FloatNumber(v)}))
	}
	w1 := newWriter(t, dir, 1)
	for i := 1; i <= 63; i++ { // up to 630 s: the window (600 s, 660 s] continues in segment 2
		w1.add("views", "a", "prod", int64(i)*10_000, float64(i%5))
		cum(w1, i)
	}
	w1.seal()
	w2 := newWriter(t, dir, 2)
	for i := 64; i <= 80; i++ {
		w2.add("views", "a", "prod", int64(i)*10_000, float64(i%5))
		cum(w2, i)
	}
	w2.checkpoint()
	rollFile(t, dir, w1.name, time.Minute)

	s := New(Options{Dir: dir})
	defer s.Close()
	assert.Equal(t, []time.Duration{time.Minute}, s.Tiers())
	all := []*labels.Matcher{labels.MustNewMatcher(labels.MatchRegexp, labels.MetricName, ".+")}
	want := oracle(t, s, all, time.Minute)
	got := windowsOf(t, s, all, time.Minute)
	require.Len(t, got, 2)
	assert.Equal(t, want, got)
	// The shared window is complete: 610..660 s from both segments.
	views := got[`{__name__="views", env="prod", "host.name"="a"}`]
	shared := views[slices.IndexFunc(views, func(w Window) bool { return w.End == 660_000 })]
	assert.Equal(t, 6.0, shared.Count)

	// Asking for the sums only reads the sum blocks of the tier file; the raw segment's windows
	// are complete.
	_, allSamples, err := s.SelectWindows(context.Background(), all, 0, 10_000_000, time.Minute, nil, Limits{})
	require.NoError(t, err)
	sums, sumSamples, err := s.SelectWindows(context.Background(), all, 0, 10_000_000, time.Minute, func(_ *Series, st Stat) bool { return st == StatSum }, Limits{})
	require.NoError(t, err)
	for _, w := range sums {
		exp := want[w.Series.Labels.String()]
		got := hasWindows(w)
		require.Len(t, got, len(exp))
		for i := range got {
			assert.Equal(t, exp[i].Sum, got[i].Sum)
		}
		assert.Nil(t, w.Col[StatCount])
	}
	// Tier points of the other six statistics were not decoded: the 11 windows of each of the
	// two series in segment 1 cost 7 points each with every statistic, 1 with the sums. The
	// raw points of segment 2 are read either way.
	assert.Equal(t, 2*11*6, allSamples-sumSamples)

	// The raw segment is gone (a shorter retention than the tier's): its windows stay.
	require.NoError(t, os.Remove(filepath.Join(dir, w1.name+sealedSuffix)))
	require.NoError(t, s.Refresh(true))
	got = windowsOf(t, s, all, time.Minute)
	assert.Equal(t, want[`{__name__="reqs"}`], got[`{__name__="reqs"}`])
}

// TestWindowsMergeAcrossSegments checks Window.merge against adding the points one by one.
func TestWindowsMergeAcrossSegments(t *testing.T) {
	vals := []float64{5, 7, 2, 9, 9, 1, 4}
	for cut := range len(vals) + 1 {
		var whole, a, b Window
		for _, v := range vals {
			whole.add(v)
		}
		for _, v := range vals[:cut] {
			a.add(v)
		}
		for _, v := range vals[cut:] {
			b.add(v)
		}
		a.merge(&b)
		assert.Equal(t, whole, a, "cut at %d", cut)
	}
}

// TestTierStatisticsWithDifferentWindows: a tier file whose statistics do not list the same
// windows in the same order (not what the writer produces, but readable) is still read into
// the right windows.
func TestTierStatisticsWithDifferentWindows(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "rollup-1m"), 0o755))
	w, err := chunkfile.Create(filepath.Join(dir, "rollup-1m", "segment-1-000001.chunk"), chunkfile.Options{BlockDuration: 1000 * time.Hour})
	require.NoError(t, err)
	add := func(stat string, pts ...[2]float64) {
		ref, err := w.AddSeries(chunkfile.Series{Name: "g", Kind: chunkfile.KindGauge,
			Attrs: []chunkfile.Attr{{Key: RollupAttr, Value: chunkfile.StringValue(stat)}}})
		require.NoError(t, err)
		for _, p := range pts {
			require.NoError(t, w.Append(ref, chunkfile.Point{T: int64(p[0]) * 60_000, Num: chunkfile.FloatNumber(p[1])}))
		}
		require.NoError(t, w.Flush())
	}
	add("sum", [2]float64{1, 10}, [2]float64{2, 20}, [2]float64{3, 30})
	add("count", [2]float64{2, 2}, [2]float64{3, 3}, [2]float64{4, 4})
	add("last", [2]float64{4, 9}, [2]float64{1, 7})
	require.NoError(t, w.Close())
	s := New(Options{Dir: dir})
	defer s.Close()
	got := windowsOf(t, s, []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, labels.MetricName, "g")}, time.Minute)
	assert.Equal(t, []Window{
		{End: 60_000, Sum: 10, Last: 7, Has: true},
		{End: 120_000, Sum: 20, Count: 2, Has: true},
		{End: 180_000, Sum: 30, Count: 3, Has: true},
		{End: 240_000, Count: 4, Last: 9, Has: true},
	}, got[`{__name__="g"}`])
}

// windowAt returns ws with a window ending at end last: the last one if it ends there (the
// tests' points come in time order).
func windowAt(ws []Window, end int64) []Window {
	if n := len(ws); n > 0 && ws[n-1].End == end {
		return ws
	}
	return append(ws, Window{End: end})
}

// TestOneSegmentCutIntoRangesGivesTheSameWindows: the open segment alone, cut into time ranges
// decoded in parallel (as many as cores, here forced to 1, 2, 3 and 8), gives the windows of
// one pass over its points, on the tiers' grid and off it, with windows that straddle the cuts
// merged (a cumulative counter that resets inside one of them included); splitRange cuts at
// block starts into ranges of about equal points.
func TestOneSegmentCutIntoRangesGivesTheSameWindows(t *testing.T) {
	dir := t.TempDir()
	w := newWriter(t, dir, 1)
	ref, err := w.seg.AddSeries(chunkfile.Series{Name: "reqs", Kind: chunkfile.KindSum, Temporality: chunkfile.TemporalityCumulative, Monotonic: true})
	require.NoError(t, err)
	for i := 1; i <= 600; i++ { // 10 minutes at 1 s: ten 1-minute blocks, then checkpoints
		w.add("views", "a", "prod", int64(i)*1000, float64(i%7))
		v := float64(i * 3)
		if i > 333 {
			v = float64(i - 333) // a restart
		}
		require.NoError(t, w.seg.Append(ref, chunkfile.Point{T: int64(i) * 1000, Num: chunkfile.FloatNumber(v)}))
		if i%10 == 0 {
			w.checkpoint()
		}
	}
	s := New(Options{Dir: dir})
	defer s.Close()
	all := []*labels.Matcher{labels.MustNewMatcher(labels.MatchRegexp, labels.MetricName, ".+")}
	pts, err := s.Select(context.Background(), all, 0, 1<<62, Limits{})
	require.NoError(t, err)
	for _, c := range []struct{ mint, maxt, res int64 }{
		{60_000, 600_000, 60_000},   // the tiers' grid
		{7_500, 607_500, 100_000},   // off it
		{300_000, 600_000, 300_000}, // one 5-minute window per series
		{1_000, 600_000, 1_000},     // a window per point
	} {
		want := map[string][]Window{}
		for _, p := range pts {
			var ws []Window
			for i, tm := range p.T {
				end := c.mint + ceilDiv(tm-c.mint, c.res)*c.res
				if end < c.mint || end > c.maxt {
					continue
				}
				ws = windowAt(ws, end)
				ws[len(ws)-1].add(p.V[i])
			}
			want[p.Series.Labels.String()] = ws
		}
		for _, procs := range []int{1, 2, 3, 8} {
			prev := runtime.GOMAXPROCS(procs)
			got, _, err := s.SelectWindows(context.Background(), all, c.mint, c.maxt, time.Duration(c.res)*time.Millisecond, nil, Limits{})
			runtime.GOMAXPROCS(prev)
			require.NoError(t, err)
			out := map[string][]Window{}
			for _, w := range got {
				out[w.Series.Labels.String()] = hasWindows(w)
			}
			assert.Equal(t, want, out, "%+v, %d cores", c, procs)
		}
	}
	ix := s.files[w.name+openSuffix].ix
	total := 0
	for _, b := range ix.Blocks() {
		total += b.Points
	}
	ranges := splitRange(ix, 0, 600_000, 3)
	require.Len(t, ranges, 3)
	assert.Equal(t, int64(0), ranges[0].Min)
	assert.Equal(t, int64(600_000), ranges[2].Max)
	for i, rg := range ranges {
		n := 0
		for _, p := range pts {
			for _, tm := range p.T {
				if tm >= rg.Min && tm <= rg.Max {
					n++
				}
			}
		}
		assert.InDelta(t, total/3, n, float64(total)/5, "range %d %+v: a block of 120 points either way", i, rg)
		if i > 0 {
			assert.Equal(t, ranges[i-1].Max+1, rg.Min)
		}
	}
	assert.Len(t, splitRange(ix, 0, 600_000, 1), 1)
	assert.Len(t, splitRange(ix, 545_000, 555_000, 4), 1, "one block in range: nothing to cut")
}

// add folds point v into the window (points come in time order): the oracle of Windows.fold.
func (w *Window) add(v float64) {
	if !w.Has {
		w.Min, w.Max, w.First = v, v, v
	} else {
		w.Inc += increase(w.Last, v)
		w.Min, w.Max = math.Min(w.Min, v), math.Max(w.Max, v)
	}
	w.Sum += v
	w.Last = v
	w.Count++
	w.Has = true
}

// TestDirectWindowsEqualMergedWindows: segments that overlap in time (a restart that wrote
// older timestamps again, a backfill), share boundary windows and are cut into ranges give the
// same windows whether each job writes the windows only it covers straight into the answer
// or every window goes through the jobs' parts and is merged in segment order.
func TestDirectWindowsEqualMergedWindows(t *testing.T) {
	dir := t.TempDir()
	w1 := newWriter(t, dir, 1)
	for i := 1; i <= 300; i++ {
		w1.add("views", "a", "prod", int64(i)*1000, float64(i%7))
		w1.add("views", "b", "prod", int64(i)*2000, float64(i%5))
		if i%20 == 0 {
			w1.checkpoint()
		}
	}
	w1.seal()
	w2 := newWriter(t, dir, 2)
	for i := 250; i <= 500; i++ { // overlaps segment 1 from 250 s to 300 s (and b's to 600 s)
		w2.add("views", "a", "prod", int64(i)*1000, float64(i%3))
		w2.add("views", "c", "prod", int64(i)*1000+500, float64(i%11))
		if i%20 == 0 {
			w2.checkpoint()
		}
	}
	w2.checkpoint()
	rollFile(t, dir, w1.name, time.Minute)
	s := New(Options{Dir: dir})
	defer s.Close()
	all := []*labels.Matcher{labels.MustNewMatcher(labels.MatchRegexp, labels.MetricName, ".+")}
	for _, c := range []struct{ mint, maxt, res int64 }{
		{60_000, 600_000, 60_000}, {7_500, 607_500, 100_000}, {300_000, 600_000, 300_000}, {1_000, 600_000, 1_000},
	} {
		for _, procs := range []int{1, 2, 3} {
			prev := runtime.GOMAXPROCS(procs)
			got, _, err := s.SelectWindows(context.Background(), all, c.mint, c.maxt, time.Duration(c.res)*time.Millisecond, nil, Limits{})
			require.NoError(t, err)
			mergeEveryWindow = true
			want, _, err := s.SelectWindows(context.Background(), all, c.mint, c.maxt, time.Duration(c.res)*time.Millisecond, nil, Limits{})
			mergeEveryWindow = false
			runtime.GOMAXPROCS(prev)
			require.NoError(t, err)
			require.Len(t, got, len(want))
			require.Len(t, got, 3)
			for i := range want {
				assert.Equal(t, want[i].Series.Labels, got[i].Series.Labels)
				assert.Equal(t, hasWindows(want[i]), hasWindows(got[i]), "%+v, %d cores, %s", c, procs, want[i].Series.Labels)
			}
		}
	}
}
