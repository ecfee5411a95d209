package eval

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/doghouse-otel/doghouse/chunkfile"
	"github.com/doghouse-otel/doghouse/extension/chunkqueryextension/internal/store"
	"github.com/doghouse-otel/doghouse/extension/chunkqueryextension/internal/tiertest"
)

// BenchmarkQueryRangeDayThroughMinuteTier: the target workload, 10,000 series stored at
// 1 s for 24 h (864 M raw points), read through the 1-minute tier (24 hourly tier files of
// 10,000 series × 60 windows × 7 statistics): `sum by (host) (rate(x[5m]))` at a 60 s step,
// 1,440 steps. Each iteration opens a new store (cold: the files are indexed again; the
// operating system's page cache is warm after the set-up).
func BenchmarkQueryRangeDayThroughMinuteTier(b *testing.B) {
	const nSeries, hours = 10_000, 24
	dir := b.TempDir()
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	series := make([]tiertest.Series, nSeries)
	for i := range series {
		series[i] = tiertest.Series{
			Series: chunkfile.Series{Name: "req", Kind: chunkfile.KindSum, Temporality: chunkfile.TemporalityDelta, Monotonic: true,
				Attrs: []chunkfile.Attr{{Key: "host", Value: chunkfile.StringValue(fmt.Sprintf("h%02d", i%50))},
					{Key: "path", Value: chunkfile.StringValue(fmt.Sprintf("/p%d", i))}}},
			Value: func(k int) [7]float64 {
				v := float64((i + k) % 13)
				return [7]float64{v * 60, 0, 60, v, v, v, v}
			},
		}
	}
	for h := range hours {
		first := start.Add(time.Duration(h)*time.Hour + time.Minute).UnixMilli()
		base := fmt.Sprintf("segment-%d-%06d", first, h+1)
		if err := tiertest.WriteTier(dir, base, time.Minute, first, 60, series); err != nil {
			b.Fatal(err)
		}
	}
	q := `sum by (host) (rate(req[5m]))`
	query := func(b *testing.B, st *store.Store) {
		e := New(st, Limits{MaxSteps: 11000, MaxSeries: 10_000, MaxSamples: 20_000_000}, 5*time.Minute)
		res, err := e.Range(context.Background(), q, start.Add(5*time.Minute), start.Add(24*time.Hour), time.Minute)
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Series) != 50 {
			b.Fatalf("%d series", len(res.Series))
		}
	}
	// warm: the store has indexed the files (a running extension); every query still decodes
	// the points it needs, nothing caches results.
	b.Run("warm", func(b *testing.B) {
		st := store.New(store.Options{Dir: dir, RescanInterval: time.Hour})
		defer st.Close()
		query(b, st)
		for b.Loop() {
			query(b, st)
		}
	})
	// cold: a new store per query, which first indexes the 24 files (a collector just started).
	b.Run("cold", func(b *testing.B) {
		for b.Loop() {
			st := store.New(store.Options{Dir: dir})
			query(b, st)
			st.Close()
		}
	})
}

// openSegment creates an open segment in dir with the exporter's writer options at its
// defaults: blocks of a minute, a checkpoint per push, and up to max_segment_series (50,000)
// series in a block (chunkfileexporter's blockSeries; the writer's own default of 8,192 would
// cut a push of 10,000 series into blocks of one point per series, a layout the exporter does
// not write).
func openSegment(b *testing.B, dir string) *chunkfile.Segment {
	b.Helper()
	seg, err := chunkfile.Create(dir+"/segment-1-000001.chunk.open", chunkfile.Options{BlockDuration: time.Minute, Checkpoints: true, MaxBlockSeries: 50_000})
	if err != nil {
		b.Fatal(err)
	}
	return seg
}

// BenchmarkInstantLastFiveMinutes: the second target, an instant query over the last
// 5 minutes of 10,000 series stored at 1 s, answered from raw points (the open segment of the
// last 10 minutes, with checkpoints, as the exporter leaves it between seals).
func BenchmarkInstantLastFiveMinutes(b *testing.B) {
	const nSeries, seconds = 10_000, 600
	dir := b.TempDir()
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	seg := openSegment(b, dir)
	defer seg.Abandon()
	refs := make([]chunkfile.SeriesRef, nSeries)
	for i := range refs {
		var err error
		refs[i], err = seg.AddSeries(chunkfile.Series{Name: "req", Kind: chunkfile.KindSum, Temporality: chunkfile.TemporalityDelta, Monotonic: true,
			Attrs: []chunkfile.Attr{{Key: "host", Value: chunkfile.StringValue(fmt.Sprintf("h%02d", i%50))},
				{Key: "path", Value: chunkfile.StringValue(fmt.Sprintf("/p%d", i))}}})
		if err != nil {
			b.Fatal(err)
		}
	}
	for s := 1; s <= seconds; s++ {
		ts := start.Add(time.Duration(s) * time.Second).UnixMilli()
		for i, ref := range refs {
			if err := seg.Append(ref, chunkfile.Point{T: ts, Start: ts - 1000, Num: chunkfile.IntNumber(int64((i + s) % 13))}); err != nil {
				b.Fatal(err)
			}
		}
		if err := seg.Checkpoint(); err != nil {
			b.Fatal(err)
		}
	}
	at := start.Add(seconds * time.Second)
	lim := Limits{MaxSteps: 11000, MaxSeries: 10_000, MaxSamples: 20_000_000}
	for _, q := range []string{`sum by (host) (rate(req[5m]))`, `sum(req)`} {
		// warm: a running extension, which has indexed the segment; cold: a new store per
		// query, which indexes it first.
		b.Run(q+"/warm", func(b *testing.B) {
			st := store.New(store.Options{Dir: dir, RescanInterval: time.Hour})
			defer st.Close()
			e := New(st, lim, 5*time.Minute)
			for b.Loop() {
				if _, err := e.Instant(context.Background(), q, at); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(q+"/cold", func(b *testing.B) {
			for b.Loop() {
				st := store.New(store.Options{Dir: dir})
				e := New(st, lim, 5*time.Minute)
				if _, err := e.Instant(context.Background(), q, at); err != nil {
					b.Fatal(err)
				}
				st.Close()
			}
		})
	}
}

// BenchmarkQueryRangeOpenSegment: the VictoriaMetrics comparison's workload (testbed scenario
// 10), 1,000 cumulative counters × 5,000 points at 1 s in the open segment (no tier yet), as
// the exporter leaves it: a checkpoint per push of one second of points, blocks of a minute.
// `sum by (host) (rate(req[5m]))` at a 60 s step over the whole range, on a store that has
// indexed the segment (a running extension).
func BenchmarkQueryRangeOpenSegment(b *testing.B) {
	const nSeries, seconds = 1000, 5000
	dir := b.TempDir()
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	seg := openSegment(b, dir)
	defer seg.Abandon()
	refs := make([]chunkfile.SeriesRef, nSeries)
	for i := range refs {
		var err error
		refs[i], err = seg.AddSeries(chunkfile.Series{Name: "req", Kind: chunkfile.KindGauge,
			Attrs: []chunkfile.Attr{{Key: "host", Value: chunkfile.StringValue(fmt.Sprintf("h%02d", i%10))},
				{Key: "path", Value: chunkfile.StringValue(fmt.Sprintf("/p%04d", i))}}})
		if err != nil {
			b.Fatal(err)
		}
	}
	for s := range seconds {
		ts := start.Add(time.Duration(s) * time.Second).UnixMilli()
		for i, ref := range refs {
			if err := seg.Append(ref, chunkfile.Point{T: ts, Num: chunkfile.IntNumber(int64(s * (1 + i%5)))}); err != nil {
				b.Fatal(err)
			}
		}
		if err := seg.Checkpoint(); err != nil {
			b.Fatal(err)
		}
	}
	st := store.New(store.Options{Dir: dir, RescanInterval: time.Hour})
	defer st.Close()
	e := New(st, Limits{MaxSteps: 11000, MaxSeries: 10_000, MaxSamples: 50_000_000}, 5*time.Minute)
	end := start.Add(seconds * time.Second).Truncate(time.Minute)
	query := func(b *testing.B) {
		res, err := e.Range(context.Background(), `sum by (host) (rate(req[5m]))`, start.Add(5*time.Minute), end, time.Minute)
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Series) != 10 {
			b.Fatalf("%d series", len(res.Series))
		}
	}
	query(b)
	for b.Loop() {
		query(b)
	}
}
