package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doghouse-otel/doghouse/chunkfile"
)

// writer writes one segment the way the chunkfile exporter does: checkpoints on, named
// segment-<ms>-<seq>.chunk.open while open.
type writer struct {
	t    *testing.T
	dir  string
	name string
	seg  *chunkfile.Segment
	refs map[string]chunkfile.SeriesRef
}

func newWriter(t *testing.T, dir string, seq int) *writer {
	t.Helper()
	name := fmt.Sprintf("segment-1700000000000-%06d", seq)
	seg, err := chunkfile.Create(filepath.Join(dir, name+openSuffix), chunkfile.Options{BlockDuration: time.Minute, Checkpoints: true})
	require.NoError(t, err)
	return &writer{t: t, dir: dir, name: name, seg: seg, refs: map[string]chunkfile.SeriesRef{}}
}

// add appends a delta-sum point of metric name with attributes host and env.
func (w *writer) add(name, host, env string, tMs int64, v float64) {
	w.t.Helper()
	key := name + "/" + host + "/" + env
	ref, ok := w.refs[key]
	if !ok {
		var err error
		ref, err = w.seg.AddSeries(chunkfile.Series{
			Name: name, Kind: chunkfile.KindSum, Temporality: chunkfile.TemporalityDelta, Monotonic: true,
			Attrs:    []chunkfile.Attr{{Key: "env", Value: chunkfile.StringValue(env)}},
			Resource: []chunkfile.Attr{{Key: "host.name", Value: chunkfile.StringValue(host)}},
		})
		require.NoError(w.t, err)
		w.refs[key] = ref
	}
	require.NoError(w.t, w.seg.Append(ref, chunkfile.Point{T: tMs, Start: tMs - 1000, Num: chunkfile.FloatNumber(v)}))
}

func (w *writer) checkpoint() { w.t.Helper(); require.NoError(w.t, w.seg.Checkpoint()) }

// seal closes the segment (rewritten in place with a footer) and renames it, as the exporter.
func (w *writer) seal() {
	w.t.Helper()
	require.NoError(w.t, w.seg.Close())
	require.NoError(w.t, os.Rename(filepath.Join(w.dir, w.name+openSuffix), filepath.Join(w.dir, w.name+sealedSuffix)))
}

func selectAll(t *testing.T, s *Store, ms ...*labels.Matcher) map[string][]float64 {
	t.Helper()
	pts, err := s.Select(context.Background(), ms, 0, 1<<62, Limits{})
	require.NoError(t, err)
	out := map[string][]float64{}
	for _, p := range pts {
		require.Len(t, p.T, len(p.V))
		for i := 1; i < len(p.T); i++ {
			require.Less(t, p.T[i-1], p.T[i], "points out of order or doubled")
		}
		out[p.Series.Labels.String()] = append([]float64(nil), p.V...)
	}
	return out
}

func eq(name, value string) *labels.Matcher {
	return labels.MustNewMatcher(labels.MatchEqual, name, value)
}

func TestSelectSealedAndLiveSegments(t *testing.T) {
	dir := t.TempDir()
	w1 := newWriter(t, dir, 1)
	for i := range 10 {
		w1.add("page.views", "a", "prod", int64(i+1)*1000, float64(i))
		w1.add("page.views", "b", "dev", int64(i+1)*1000, 1)
	}
	w1.seal()
	w2 := newWriter(t, dir, 2)
	w2.add("page.views", "a", "prod", 11000, 10)
	w2.checkpoint() // only in a checkpoint frame: a live segment's latest push
	s := New(Options{Dir: dir})
	defer s.Close()

	got := selectAll(t, s, eq(labels.MetricName, "page.views"), eq("env", "prod"))
	assert.Equal(t, map[string][]float64{
		`{__name__="page.views", env="prod", "host.name"="a"}`: {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10},
	}, got)

	// The live segment grows: its new push is read at the next query.
	w2.add("page.views", "a", "prod", 12000, 11)
	w2.checkpoint()
	got = selectAll(t, s, eq(labels.MetricName, "page.views"), eq("env", "prod"))
	assert.Equal(t, []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, got[`{__name__="page.views", env="prod", "host.name"="a"}`])

	// Sealing rewrites the open file and renames it: the same points, once.
	w2.seal()
	require.NoError(t, s.Refresh(true))
	got = selectAll(t, s, eq(labels.MetricName, "page.views"))
	assert.Equal(t, map[string][]float64{
		`{__name__="page.views", env="prod", "host.name"="a"}`: {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11},
		`{__name__="page.views", env="dev", "host.name"="b"}`:  {1, 1, 1, 1, 1, 1, 1, 1, 1, 1},
	}, got)

	// Retention removes a segment: its points are gone.
	require.NoError(t, os.Remove(filepath.Join(dir, w1.name+sealedSuffix)))
	require.NoError(t, s.Refresh(true))
	got = selectAll(t, s, labels.MustNewMatcher(labels.MatchRegexp, "host.name", "a|b"))
	assert.Equal(t, map[string][]float64{`{__name__="page.views", env="prod", "host.name"="a"}`: {10, 11}}, got)
}

func TestSelectTimeRangeAndMatchers(t *testing.T) {
	dir := t.TempDir()
	w := newWriter(t, dir, 1)
	for i := range 100 {
		w.add("req", fmt.Sprintf("h%d", i%4), []string{"prod", "dev"}[i%2], int64(i+1)*1000, float64(i))
	}
	w.checkpoint()
	s := New(Options{Dir: dir})
	defer s.Close()
	pts, err := s.Select(context.Background(), []*labels.Matcher{
		eq(labels.MetricName, "req"),
		labels.MustNewMatcher(labels.MatchNotEqual, "host.name", "h0"),
		labels.MustNewMatcher(labels.MatchNotRegexp, "host.name", "h2"),
	}, 10001, 20000, Limits{})
	require.NoError(t, err)
	var hosts []string
	n := 0
	for _, p := range pts {
		hosts = append(hosts, p.Series.Labels.Get("host.name"))
		for i, tm := range p.T {
			assert.True(t, tm >= 10001 && tm <= 20000, "point at %d outside the range", tm)
			assert.Equal(t, float64(tm/1000-1), p.V[i])
			assert.Equal(t, tm-1000, p.Start[i])
			n++
		}
	}
	assert.Equal(t, []string{"h1", "h3"}, hosts)
	assert.Equal(t, 5, n) // 11..20 s, hosts 1 and 3
}

func TestSelectLimits(t *testing.T) {
	dir := t.TempDir()
	w := newWriter(t, dir, 1)
	for i := range 50 {
		w.add("m", fmt.Sprintf("h%d", i%10), "x", int64(i+1)*1000, 1)
	}
	w.checkpoint()
	s := New(Options{Dir: dir})
	defer s.Close()
	var le *LimitError
	_, err := s.Select(context.Background(), []*labels.Matcher{eq(labels.MetricName, "m")}, 0, 1<<62, Limits{MaxSeries: 9})
	require.True(t, errors.As(err, &le), "%v", err)
	assert.Contains(t, err.Error(), "10 series")
	_, err = s.Select(context.Background(), []*labels.Matcher{eq(labels.MetricName, "m")}, 0, 1<<62, Limits{MaxSamples: 49})
	require.True(t, errors.As(err, &le), "%v", err)
	pts, err := s.Select(context.Background(), []*labels.Matcher{eq(labels.MetricName, "m")}, 0, 1<<62, Limits{MaxSeries: 10, MaxSamples: 50})
	require.NoError(t, err)
	assert.Len(t, pts, 10)
}

func TestLabelsOfASeries(t *testing.T) {
	cs := &chunkfile.Series{
		Name: "x.y",
		Attrs: []chunkfile.Attr{
			{Key: "b", Value: chunkfile.Value{Type: chunkfile.ValueBool, Bool: true}},
			{Key: "host.name", Value: chunkfile.StringValue("point")},
			{Key: "i", Value: chunkfile.Value{Type: chunkfile.ValueInt, Int: -3}},
			{Key: "raw", Value: chunkfile.Value{Type: chunkfile.ValueBytes, Bytes: []byte{0xff, 0}}},
			{Key: "z", Value: chunkfile.StringValue("")},
		},
		Resource: []chunkfile.Attr{
			{Key: "d", Value: chunkfile.Value{Type: chunkfile.ValueDouble, Double: 0.1}},
			{Key: "host.name", Value: chunkfile.StringValue("resource")},
		},
	}
	assert.Equal(t, `{__name__="x.y", b="true", d="0.1", "host.name"="point", i="-3", raw="/wA="}`, Labels(cs).String())
}

func TestMissingDirectoryIsEmpty(t *testing.T) {
	s := New(Options{Dir: filepath.Join(t.TempDir(), "not-yet")})
	defer s.Close()
	pts, err := s.Select(context.Background(), []*labels.Matcher{eq(labels.MetricName, "m")}, 0, 1<<62, Limits{})
	require.NoError(t, err)
	assert.Empty(t, pts)
}

// TestASegmentUnderTwoNamesIsReadOnce: a listing made while the exporter renamed a sealed
// segment can hold it under its open and its sealed name; its points are read once, from the
// sealed file, by both Select and SelectWindows.
func TestASegmentUnderTwoNamesIsReadOnce(t *testing.T) {
	dir := t.TempDir()
	w := newWriter(t, dir, 1)
	for i := range 10 {
		w.add("page.views", "a", "prod", int64(i+1)*1000, float64(i))
	}
	w.seal()
	require.NoError(t, os.Link(filepath.Join(dir, w.name+sealedSuffix), filepath.Join(dir, w.name+openSuffix)))
	s := New(Options{Dir: dir})
	defer s.Close()
	require.NoError(t, s.Refresh(true))
	require.Len(t, s.files, 2)
	got := selectAll(t, s, eq(labels.MetricName, "page.views"))
	assert.Equal(t, []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, got[`{__name__="page.views", env="prod", "host.name"="a"}`])
	ws, n, err := s.SelectWindows(context.Background(), []*labels.Matcher{eq(labels.MetricName, "page.views")}, 10_000, 10_000, 10*time.Second, nil, Limits{})
	require.NoError(t, err)
	assert.Equal(t, 10, n)
	require.Len(t, ws, 1)
	assert.Equal(t, 45.0, ws[0].At(0).Sum)
	for base, seg := range s.bySegment(0) {
		assert.Equal(t, w.name, base)
		assert.Equal(t, w.name+sealedSuffix, seg.name)
	}
}
