// Package tiertest writes rollup tier files for tests, straight from docs/read-side.md
// ("Rollup encoding") and independently of the store's reading code, so that tests comparing
// answers from tiers with answers from raw points compare two implementations.
package tiertest

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/doghouse-otel/doghouse/chunkfile"
)

// stats in the order a tier file defines them.
var stats = []string{"sum", "increase", "count", "min", "max", "first", "last"}

type window struct {
	end  int64
	vals []float64
}

// Roll writes dir/rollup-<res>/<base>.chunk from the sealed raw segment dir/<base>.chunk.
func Roll(dir, base string, res time.Duration) error {
	r, err := chunkfile.OpenFile(filepath.Join(dir, base+".chunk"), chunkfile.ReaderOptions{})
	if err != nil {
		return err
	}
	defer r.Close()
	type series struct {
		cs *chunkfile.Series
		ws []window
	}
	var order []*series
	by := map[*chunkfile.Series]*series{}
	resMs := res.Milliseconds()
	for r.Next() {
		b := r.Batch()
		if b.Num == nil {
			continue
		}
		s := by[b.Series]
		if s == nil {
			s = &series{cs: b.Series}
			by[b.Series] = s
			order = append(order, s)
		}
		for i := range b.Len() {
			end := (b.T[i] + resMs - 1) / resMs * resMs // window (end-res, end]; times are positive
			if n := len(s.ws); n == 0 || s.ws[n-1].end != end {
				s.ws = append(s.ws, window{end: end})
			}
			w := &s.ws[len(s.ws)-1]
			w.vals = append(w.vals, b.Num[i].Float64())
		}
	}
	if err := r.Err(); err != nil {
		return err
	}
	tierDir := filepath.Join(dir, "rollup-"+short(res))
	if err := os.MkdirAll(tierDir, 0o755); err != nil {
		return err
	}
	w, err := chunkfile.Create(filepath.Join(tierDir, base+".chunk"), chunkfile.Options{BlockDuration: 1000 * time.Hour})
	if err != nil {
		return err
	}
	for _, st := range stats {
		for _, s := range order {
			cs := *s.cs
			cs.Attrs = append(slices.Clone(cs.Attrs), chunkfile.Attr{Key: "__rollup__", Value: chunkfile.StringValue(st)})
			ref, err := w.AddSeries(cs)
			if err != nil {
				return err
			}
			for _, win := range s.ws {
				if err := w.Append(ref, chunkfile.Point{T: win.end, Start: win.end - resMs, Num: chunkfile.FloatNumber(stat(st, win.vals))}); err != nil {
					return err
				}
			}
		}
		if err := w.Flush(); err != nil {
			return err
		}
	}
	return w.Close()
}

func stat(name string, vs []float64) float64 {
	switch name {
	case "sum":
		var s float64
		for _, v := range vs {
			s += v
		}
		return s
	case "increase":
		var s float64
		for i := 1; i < len(vs); i++ {
			if vs[i] < vs[i-1] {
				s += vs[i]
			} else {
				s += vs[i] - vs[i-1]
			}
		}
		return s
	case "count":
		return float64(len(vs))
	case "min":
		return slices.Min(vs)
	case "max":
		return slices.Max(vs)
	case "first":
		return vs[0]
	}
	return vs[len(vs)-1]
}

func short(d time.Duration) string {
	if d%time.Hour == 0 {
		return fmt.Sprintf("%dh", d/time.Hour)
	}
	return fmt.Sprintf("%dm", d/time.Minute)
}

// Series describes one synthetic series for WriteTier.
type Series struct {
	Series chunkfile.Series
	// Value returns the statistics of window k: sum, increase, count, min, max, first, last.
	Value func(k int) [7]float64
}

// WriteTier writes dir/rollup-<res>/<base>.chunk directly: windows ending at first,
// first+res, … (n of them) for every series, laid out as the specification says. It builds
// tiers too large to roll from raw points in a benchmark's set-up.
func WriteTier(dir, base string, res time.Duration, first int64, n int, series []Series) error {
	tierDir := filepath.Join(dir, "rollup-"+short(res))
	if err := os.MkdirAll(tierDir, 0o755); err != nil {
		return err
	}
	w, err := chunkfile.Create(filepath.Join(tierDir, base+".chunk"), chunkfile.Options{BlockDuration: 1000 * time.Hour})
	if err != nil {
		return err
	}
	resMs := res.Milliseconds()
	for si, st := range stats {
		for _, s := range series {
			cs := s.Series
			cs.Attrs = append(slices.Clone(cs.Attrs), chunkfile.Attr{Key: "__rollup__", Value: chunkfile.StringValue(st)})
			ref, err := w.AddSeries(cs)
			if err != nil {
				return err
			}
			for k := range n {
				end := first + int64(k)*resMs
				if err := w.Append(ref, chunkfile.Point{T: end, Start: end - resMs, Num: chunkfile.FloatNumber(s.Value(k)[si])}); err != nil {
					return err
				}
			}
		}
		if err := w.Flush(); err != nil {
			return err
		}
	}
	return w.Close()
}
