package chunkfile

import (
	"context"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"sort"
	"time"
)

// Roles of raw series in a rollup.
const (
	roleUnknown = iota // not looked at yet
	roleNumber         // gauge or sum: the seven number statistics
	roleMerge          // histogram, exponential histogram or summary: merge
	roleSkip           // has a RollupAttr attribute of its own: not rolled up
)

// roller computes the rollup of one file: the windows of its series in the windows
// [lo, hi] of the current pass, then writes them.
type roller struct {
	ctx    context.Context
	dst    *Writer
	res    int64
	series []*Series // the raw dictionary
	role   []uint8   // by raw ref
	nums   [][]numWindow
	merges [][]mergeWindow
	refs   []SeriesRef // refs[stat*len(series)+raw]: the rollup series in dst

	lo, hi int64 // window ends of this pass, inclusive
	stats  RollupStats

	saved   Options // dst's options, restored when done
	dur     int64
	sizeCut int
}

func newRoller(ctx context.Context, dst *Writer, opts RollupOptions) (*roller, error) {
	if opts.Resolution <= 0 || opts.Resolution%time.Millisecond != 0 {
		return nil, fmt.Errorf("rollup resolution %s must be a positive whole number of milliseconds", opts.Resolution)
	}
	if err := dst.Flush(); err != nil {
		return nil, err
	}
	ro := &roller{ctx: ctx, dst: dst, res: opts.Resolution.Milliseconds(), saved: dst.opts, dur: dst.dur, sizeCut: dst.sizeCut}
	// Blocks are cut between statistics (and by MaxBlockPoints), never by time or series count:
	// a window of every series of a statistic goes in the same block.
	dst.dur, dst.sizeCut = -1, 0
	dst.opts.MaxBlockSeries, dst.opts.MaxBlockNewSeries = math.MaxInt, math.MaxInt
	return ro, nil
}

// restore gives dst back its block limits.
func (ro *roller) restore() {
	ro.dst.opts, ro.dst.dur, ro.dst.sizeCut = ro.saved, ro.dur, ro.sizeCut
}

// roleOf returns the role of raw series ref.
func (ro *roller) roleOf(ref SeriesRef, s *Series) uint8 {
	for SeriesRef(len(ro.role)) <= ref {
		ro.role = append(ro.role, roleUnknown)
		ro.nums = append(ro.nums, nil)
		ro.merges = append(ro.merges, nil)
	}
	if r := ro.role[ref]; r != roleUnknown {
		return r
	}
	r := uint8(roleMerge)
	switch {
	case hasAttr(s.Attrs, RollupAttr) || hasAttr(s.Resource, RollupAttr):
		r = roleSkip
	case s.Kind.isNumber():
		r = roleNumber
	}
	ro.role[ref] = r
	return r
}

func hasAttr(attrs []Attr, key string) bool {
	for _, a := range attrs {
		if a.Key == key {
			return true
		}
	}
	return false
}

// read folds the points of src in this pass's windows into the series' windows and notes the
// first window after them.
func (ro *roller) read(src *Reader) error {
	for n := 0; src.Next(); n++ {
		if n%64 == 0 {
			if err := ro.ctx.Err(); err != nil {
				return err
			}
		}
		ro.add(src.Batch())
	}
	return src.Err()
}

// add folds the points of one batch that fall in this pass's windows.
func (ro *roller) add(b *Batch) {
	role := ro.roleOf(b.Ref, b.Series)
	for i, t := range b.T {
		end := windowEnd(t, ro.res)
		if end < ro.lo || end > ro.hi {
			continue // another pass has it
		}
		ro.stats.RawPoints++
		if role == roleSkip || end == math.MinInt64 || end == math.MaxInt64 ||
			b.Exp != nil && (b.Exp[i].Scale > maxRollupScale || b.Exp[i].Scale < -maxRollupScale) {
			ro.stats.SkippedPoints++
			continue
		}
		if role == roleNumber {
			ro.numAt(b.Ref, end).add(b.Num[i])
		} else {
			ro.mergeAt(b.Ref, end).add(b.Series.Kind, b.Point(i))
		}
	}
}

// numAt returns the window of series ref ending at end, adding it if needed. Windows are
// kept sorted by end; points come in time order but for late ones, so it is nearly always
// the last window or a new one after it.
func (ro *roller) numAt(ref SeriesRef, end int64) *numWindow {
	ws := ro.nums[ref]
	n := len(ws)
	if n > 0 && ws[n-1].end == end {
		return &ws[n-1]
	}
	i := n
	if n > 0 && ws[n-1].end > end {
		var found bool
		if i, found = slices.BinarySearchFunc(ws, end, func(w numWindow, e int64) int { return cmpInt(w.end, e) }); found {
			return &ws[i]
		}
	}
	ws = slices.Insert(ws, i, numWindow{end: end})
	ro.nums[ref] = ws
	return &ws[i]
}

func (ro *roller) mergeAt(ref SeriesRef, end int64) *mergeWindow {
	ws := ro.merges[ref]
	n := len(ws)
	if n > 0 && ws[n-1].end == end {
		return &ws[n-1]
	}
	i := n
	if n > 0 && ws[n-1].end > end {
		var found bool
		if i, found = slices.BinarySearchFunc(ws, end, func(w mergeWindow, e int64) int { return cmpInt(w.end, e) }); found {
			return &ws[i]
		}
	}
	ws = slices.Insert(ws, i, mergeWindow{end: end})
	ro.merges[ref] = ws
	return &ws[i]
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// plan returns the passes of RollupAt: ranges of window ends, each holding at most maxWindows
// (series, window) pairs. One pass when every series could have a point in every window of
// the file's time range and that fits; otherwise the pairs are counted in a first read.
func (ro *roller) plan(ix *Index, r io.ReaderAt, maxWindows int64) ([]TimeRange, error) {
	tr, ok := ix.TimeRange()
	if !ok {
		return nil, nil
	}
	lo, hi := windowEnd(tr.Min, ro.res), windowEnd(tr.Max, ro.res)
	if span := (float64(hi) - float64(lo)) / float64(ro.res); span+1 <= float64(maxWindows)/float64(max(1, ro.stats.Series)) {
		return []TimeRange{{Min: lo, Max: hi}}, nil
	}
	pairs, err := ro.countPairs(ix, r, maxWindows)
	if err != nil {
		return nil, err
	}
	ends := slices.Sorted(maps.Keys(pairs))
	var passes []TimeRange
	var held int64
	for _, e := range ends {
		if n := len(passes); n > 0 && held+pairs[e] <= maxWindows {
			passes[n-1].Max = e
			held += pairs[e]
			continue
		}
		passes = append(passes, TimeRange{Min: e, Max: e})
		held = pairs[e]
	}
	// Blocks that overlap several passes are decoded by each: bound that work.
	var points, decoded int64
	for _, b := range ix.Blocks() {
		points += int64(b.Points)
		for _, p := range passes {
			if tr := ro.times(p); b.MaxT >= tr.Min && b.MinT <= tr.Max {
				decoded += int64(b.Points)
			}
		}
	}
	if decoded > maxRollupRereads*points {
		return nil, fmt.Errorf("%w: %d passes would decode %d points of a file of %d", ErrRollupTooSpread, len(passes), decoded, points)
	}
	return passes, nil
}

// times returns the timestamps of the points in the windows ending in ends.
func (ro *roller) times(ends TimeRange) *TimeRange {
	tr := &TimeRange{Min: satAdd(ends.Min, 1-ro.res), Max: ends.Max}
	if ends.Max == math.MinInt64 {
		tr.Max = math.MinInt64 + ro.res // the window of the timestamps too low for one (windowEnd)
	}
	return tr
}

// countPairs reads the file once and counts, for each window end, the series with points in
// that window (a series whose points return to a window after another counts again, which only
// overestimates). It fails once there are more than maxWindows distinct windows.
func (ro *roller) countPairs(ix *Index, r io.ReaderAt, maxWindows int64) (map[int64]int64, error) {
	const none = math.MinInt64 + 1 // no window ends there (windowEnd)
	last := make([]int64, len(ro.series))
	for i := range last {
		last[i] = none
	}
	pairs := map[int64]int64{}
	rd := ix.NewReader(r, ReaderOptions{})
	defer rd.Close()
	for n := 0; rd.Next(); n++ {
		if n%64 == 0 {
			if err := ro.ctx.Err(); err != nil {
				return nil, err
			}
		}
		b := rd.Batch()
		for _, t := range b.T {
			if e := windowEnd(t, ro.res); e != last[b.Ref] {
				last[b.Ref] = e
				pairs[e]++
			}
		}
		if int64(len(pairs)) > maxWindows {
			return nil, fmt.Errorf("%w: more than %d distinct windows", ErrRollupTooSpread, maxWindows)
		}
	}
	ro.stats.Passes++
	return pairs, rd.Err()
}

// classify looks at every raw series and counts those rolled up and those skipped.
func (ro *roller) classify() {
	for ref, s := range ro.series {
		if ro.roleOf(SeriesRef(ref), s) == roleSkip {
			ro.stats.SkippedSeries++
		} else {
			ro.stats.Series++
		}
	}
}

// define adds the rollup series to dst, grouped by statistic (every sum series, then every
// increase series, …, then every merge series), raw series in dictionary order within each,
// and writes each statistic's definitions as a frame of their own. The series are classified.
func (ro *roller) define() error {
	n := len(ro.series)
	ro.refs = make([]SeriesRef, int(numStats)*n)
	for st := range numStats {
		added := false
		for ref, s := range ro.series {
			role := ro.role[ref]
			if role == roleSkip || (role == roleMerge) != (st == StatMerge) {
				continue
			}
			r, err := ro.dst.AddSeries(withRollupAttr(s, st))
			if err != nil {
				return err
			}
			ro.refs[int(st)*n+ref] = r
			added = true
		}
		if added {
			if err := ro.dst.Flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

// withRollupAttr returns s with the attribute RollupAttr = st added (s has none).
func withRollupAttr(s *Series, st Statistic) Series {
	c := *s
	i := sort.Search(len(s.Attrs), func(i int) bool { return s.Attrs[i].Key > RollupAttr })
	c.Attrs = make([]Attr, 0, len(s.Attrs)+1)
	c.Attrs = append(c.Attrs, s.Attrs[:i]...)
	c.Attrs = append(c.Attrs, Attr{Key: RollupAttr, Value: StringValue(st.String())})
	c.Attrs = append(c.Attrs, s.Attrs[i:]...)
	return c
}

// emit writes the windows of this pass, statistic by statistic (each in blocks of its own),
// and empties them for the next pass.
func (ro *roller) emit() error {
	n := len(ro.series)
	for st := range StatMerge {
		added := false
		for ref := range min(n, len(ro.nums)) {
			for k := range ro.nums[ref] {
				w := &ro.nums[ref][k]
				p := Point{T: w.end, Start: w.end - ro.res, Num: w.stat(st)}
				if err := ro.dst.Append(ro.refs[int(st)*n+ref], p); err != nil {
					return err
				}
				ro.stats.Points++
				added = true
			}
		}
		if added {
			if err := ro.dst.Flush(); err != nil {
				return err
			}
		}
	}
	added := false
	for ref := range min(n, len(ro.merges)) {
		for k := range ro.merges[ref] {
			w := &ro.merges[ref][k]
			for _, p := range w.pts {
				p.Start = w.end - ro.res
				if err := ro.dst.Append(ro.refs[int(StatMerge)*n+ref], p); err != nil {
					return err
				}
				ro.stats.Points++
				added = true
			}
		}
	}
	if added {
		if err := ro.dst.Flush(); err != nil {
			return err
		}
	}
	for ref := range ro.nums {
		ro.stats.Windows += int64(len(ro.nums[ref]) + len(ro.merges[ref]))
		ro.nums[ref] = ro.nums[ref][:0]
		clear(ro.merges[ref])
		ro.merges[ref] = ro.merges[ref][:0]
	}
	return nil
}
