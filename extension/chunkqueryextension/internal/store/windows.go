package store

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/bits"
	"runtime"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/doghouse-otel/doghouse/chunkfile"
)

// Stat is a statistic of a rollup tier (docs/read-side.md, "Rollup encoding").
type Stat uint8

// The statistics, in the order a tier file defines them.
const (
	StatNone Stat = iota // not a statistic this reader knows: ignored
	StatSum
	StatIncrease
	StatCount
	StatMin
	StatMax
	StatFirst
	StatLast
	StatMerge
)

var statNames = map[string]Stat{
	"sum": StatSum, "increase": StatIncrease, "count": StatCount, "min": StatMin, "max": StatMax,
	"first": StatFirst, "last": StatLast, "merge": StatMerge,
}

func statOf(name string) Stat { return statNames[name] }

// Window is what a series did in one window (End − res, End] of a tier: its points' sum,
// count, extremes, first and last values, and the increase between its consecutive points (a
// drop counting as a reset: the new value is the increase).
type Window struct {
	End              int64 // ms
	Sum, Count       float64
	Min, Max         float64
	First, Last, Inc float64
	// Has is set when the window holds points (a tier file has a window only then; the
	// statistics a query did not ask for stay zero).
	Has bool
}

// fold adds the points vs (in time order) to window k, reading and writing only the kept
// columns: the sum, count, extremes, first and last values, and the increase between
// consecutive points (a drop counting as a reset: the new value is the increase). The tests'
// oracle (Window.add, one point at a time) gives the same sums in the same order.
func (w *Windows) fold(k int, vs []chunkfile.Number) {
	sumC, incC, cntC := w.Col[StatSum], w.Col[StatIncrease], w.Col[StatCount]
	minC, maxC, firstC, lastC := w.Col[StatMin], w.Col[StatMax], w.Col[StatFirst], w.Col[StatLast]
	var sum, inc, cnt, mn, mx, last float64
	if !w.Has[k] {
		v := vs[0].Float64()
		sum, cnt, mn, mx, last = v, 1, v, v, v
		if firstC != nil {
			firstC[k] = v
		}
		w.Has[k] = true
		vs = vs[1:]
	} else {
		get := func(c []float64) float64 {
			if c != nil {
				return c[k]
			}
			return 0
		}
		sum, inc, cnt = get(sumC), get(incC), get(cntC)
		mn, mx, last = get(minC), get(maxC), get(lastC)
	}
	minMax := minC != nil || maxC != nil // math.Min and Max cost more than the rest together
	for _, n := range vs {
		v := n.Float64()
		if v < last {
			inc += v
		} else {
			inc += v - last
		}
		sum += v
		if minMax {
			mn, mx = math.Min(mn, v), math.Max(mx, v)
		}
		last = v
		cnt++
	}
	put := func(c []float64, v float64) {
		if c != nil {
			c[k] = v
		}
	}
	put(sumC, sum)
	put(incC, inc)
	put(cntC, cnt)
	put(minC, mn)
	put(maxC, mx)
	put(lastC, last)
}

// merge folds o, the same window seen later (in a later segment), into w.
func (w *Window) merge(o *Window) {
	if !o.Has {
		return
	}
	if !w.Has {
		*w = *o
		return
	}
	w.Inc += increase(w.Last, o.First) + o.Inc
	w.Sum += o.Sum
	w.Count += o.Count
	w.Min, w.Max = math.Min(w.Min, o.Min), math.Max(w.Max, o.Max)
	w.Last = o.Last
}

// increase is what a cumulative value gained from a to b: b − a, or b after a drop (a reset).
func increase(a, b float64) float64 {
	if b < a {
		return b
	}
	return b - a
}

// numStats bounds the Stat values.
const numStats = int(StatMerge) + 1

// Windows is one series' windows of a resolution over a query's range, in columns: window k
// ends at Start + k·Res and holds points when Has[k]; Col[st][k] is its statistic st, for the
// statistics the query kept (the other columns are nil).
type Windows struct {
	Series     *Series
	Start, Res int64
	Has        []bool
	Col        [numStats][]float64
	slab       *slab  // the columns' memory, shared by the windows of one SelectWindows
	kept       uint16 // bit st set: Col[st] is kept
	hi         int    // windows from hi on hold no point yet (absorb's fast path)
}

// ReleaseWindows gives the memory of a SelectWindows answer back for the next one; ws must not
// be used afterwards. Reusing it spares a large query the page faults of fresh memory, which
// cost more than decoding its points.
func ReleaseWindows(ws []*Windows) {
	if len(ws) == 0 || ws[0].slab == nil {
		return
	}
	sl := ws[0].slab
	for _, w := range ws {
		w.slab = nil
	}
	sl.reset()
	spare.put(sl)
}

// spare keeps the columns of the last answer released, up to spareMax bytes, for a minute.
var spare = &spareSlab{}

const spareMax = 256 << 20

type spareSlab struct {
	mu    sync.Mutex
	sl    *slab
	timer *time.Timer
}

func (p *spareSlab) get() *slab {
	p.mu.Lock()
	defer p.mu.Unlock()
	sl := p.sl
	p.sl = nil
	if sl == nil {
		sl = new(slab)
	}
	return sl
}

func (p *spareSlab) put(sl *slab) {
	if sl.bytes() > spareMax {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sl = sl
	if p.timer == nil {
		p.timer = time.AfterFunc(time.Minute, func() {
			p.mu.Lock()
			p.sl = nil
			p.mu.Unlock()
		})
	} else {
		p.timer.Reset(time.Minute)
	}
}

func newWindows(s *Series, start, res int64, n int, keep *[numStats]bool, sl *slab) *Windows {
	w := &carve(&sl.w, &sl.wc, &sl.wi, 1, windowsChunk)[0]
	*w = Windows{Series: s, Start: start, Res: res, Has: sl.bools(n)}
	for st := range numStats {
		if keep[st] {
			w.Col[st] = sl.floats(n)
			w.kept |= 1 << st
		}
	}
	return w
}

// slab hands out slices carved from large chunks: the windows of ten thousand series are a few
// allocations instead of tens of thousands, and a pooled slab is reused by the next segment's
// windows. Bool slices (Has) are zeroed; float slices (the columns) hold whatever a previous
// use left, as a column is only read where Has is set, and only after it was written there.
type slab struct {
	f          [][]float64
	b          [][]bool
	w          [][]Windows
	fc, bc, wc int // the chunk being carved
	fi, bi, wi int // its used length
}

const (
	slabChunk    = 1 << 18 // floats or bools
	windowsChunk = 1 << 10 // Windows structs
)

func (s *slab) floats(n int) []float64 { return carve(&s.f, &s.fc, &s.fi, n, slabChunk) }

func (s *slab) bools(n int) []bool { return carve(&s.b, &s.bc, &s.bi, n, slabChunk) }

// carve hands out n elements of chunks, from chunk *c at *i, adding a chunk of at least size
// elements when none has room.
func carve[T any](chunks *[][]T, c, i *int, n, size int) []T {
	for *c < len(*chunks) && *i+n > len((*chunks)[*c]) {
		*c, *i = *c+1, 0
	}
	if *c == len(*chunks) {
		*chunks = append(*chunks, make([]T, max(n, size)))
	}
	out := (*chunks)[*c][*i : *i+n : *i+n]
	*i += n
	return out
}

// bytes returns the memory the slab holds.
func (s *slab) bytes() int {
	n := 0
	for _, c := range s.f {
		n += 8 * len(c)
	}
	for _, c := range s.b {
		n += len(c)
	}
	for _, c := range s.w {
		n += int(unsafe.Sizeof(Windows{})) * len(c)
	}
	return n
}

// reset zeroes the bools handed out and keeps the chunks for reuse.
func (s *slab) reset() {
	for i := 0; i < len(s.b) && i <= s.bc; i++ {
		clear(s.b[i])
	}
	s.fc, s.bc, s.wc, s.fi, s.bi, s.wi = 0, 0, 0, 0, 0, 0
}

var slabs = sync.Pool{New: func() any { return new(slab) }}

// Len returns the number of windows.
func (w *Windows) Len() int { return len(w.Has) }

// At returns window k (the statistics not kept are zero).
func (w *Windows) At(k int) Window {
	out := Window{End: w.Start + int64(k)*w.Res, Has: w.Has[k]}
	get := func(st Stat) float64 {
		if c := w.Col[st]; c != nil {
			return c[k]
		}
		return 0
	}
	out.Sum, out.Inc, out.Count = get(StatSum), get(StatIncrease), get(StatCount)
	out.Min, out.Max, out.First, out.Last = get(StatMin), get(StatMax), get(StatFirst), get(StatLast)
	return out
}

// zero sets window k's kept statistics to 0.
func (w *Windows) zero(k int) {
	for m := w.kept; m != 0; m &= m - 1 {
		w.Col[bits.TrailingZeros16(m)][k] = 0
	}
}

// set stores window k.
func (w *Windows) set(k int, win *Window) {
	w.Has[k] = true
	put := func(st Stat, v float64) {
		if c := w.Col[st]; c != nil {
			c[k] = v
		}
	}
	put(StatSum, win.Sum)
	put(StatIncrease, win.Inc)
	put(StatCount, win.Count)
	put(StatMin, win.Min)
	put(StatMax, win.Max)
	put(StatFirst, win.First)
	put(StatLast, win.Last)
}

// absorb merges the windows of p (a later segment's), whose window 0 is w's window off, into
// w. Windows only one of them has are copied column by column; a window both have (a
// segment boundary inside it) is merged.
func (w *Windows) absorb(p *Windows, off int) {
	has := w.Has[off : off+len(p.Has)]
	if off >= w.hi {
		// No window of w there holds points yet (segments come in time order, so this is
		// the usual case): copy the columns whole; where p has no point, w has none either.
		copy(has, p.Has)
		for m := p.kept & w.kept; m != 0; m &= m - 1 {
			st := bits.TrailingZeros16(m)
			copy(w.Col[st][off:], p.Col[st])
		}
		w.hi = off + len(p.Has)
		return
	}
	w.hi = max(w.hi, off+len(p.Has))
	for k, ph := range p.Has {
		if ph && has[k] {
			win, o := w.At(off+k), p.At(k)
			win.merge(&o)
			w.set(off+k, &win)
			p.Has[k] = false // done
		}
	}
	for st, pc := range p.Col {
		wc := w.Col[st]
		if pc == nil || wc == nil {
			continue
		}
		wc = wc[off : off+len(pc)]
		for k, ph := range p.Has {
			if ph {
				wc[k] = pc[k]
			}
		}
	}
	for k, ph := range p.Has {
		if ph {
			has[k] = true
		}
	}
}

// Tiers returns the resolutions of the tiers present, finest first.
func (s *Store) Tiers() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	_ = s.refreshLocked(false)
	set := map[time.Duration]bool{}
	for _, seg := range s.files {
		if seg.tier > 0 {
			set[seg.tier] = true
		}
	}
	out := make([]time.Duration, 0, len(set))
	for d := range set {
		out = append(out, d)
	}
	slices.Sort(out)
	return out
}

// SelectWindows returns the matching series' windows of resolution res ending at mint,
// mint+res, … up to maxt (ms), one Windows per series with points there, sorted by labels. When
// the grid is the tiers' (res divides mint), a segment with a tier file of that resolution is
// read from it; one without (the open segment, or one not rolled up yet), and every segment
// when the grid is not the tiers', from its raw points, put into windows on the way, so the
// answer is the same either way. Windows that straddle segments are merged in segment order.
// Number series only. Segments are decoded in parallel (one per core) and merged in order.
//
// lim.MaxWindows bounds the windows of the answer (the selected series × the windows of the
// range) before anything is read: past it, the error is a *LimitError and ErrTooManyWindows.
//
// need says which statistics of a series the caller uses (nil: all); only those are kept, and
// from tier files only those are read (each statistic has blocks of its own). Keeping the
// increase keeps the first and last values too, which merging it across segments needs.
func (s *Store) SelectWindows(ctx context.Context, ms []*labels.Matcher, mint, maxt int64, res time.Duration, need func(*Series, Stat) bool, lim Limits) ([]*Windows, int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.refreshLocked(false); err != nil {
		return nil, 0, err
	}
	ids := s.match(ms)
	if lim.MaxSeries > 0 && len(ids) > lim.MaxSeries {
		return nil, 0, &LimitError{What: fmt.Sprintf("the query selects %d series, more than the limit of %d", len(ids), lim.MaxSeries)}
	}
	resMs := res.Milliseconds()
	if len(ids) == 0 || resMs <= 0 || maxt < mint {
		return nil, 0, nil
	}
	n := int((maxt-mint)/resMs) + 1
	if lim.MaxWindows > 0 && int64(len(ids))*int64(n) > int64(lim.MaxWindows) {
		return nil, 0, &LimitError{What: fmt.Sprintf("the query needs %d series × %d windows of %s, more than the limit of %d windows",
			len(ids), n, res, lim.MaxWindows), err: ErrTooManyWindows}
	}
	onGrid := mint%resMs == 0 // the tiers' windows end at multiples of their resolution
	// gridCeil is the end of the window that holds time t: the first grid time at or after it.
	gridCeil := func(t int64) int64 { return mint + ceilDiv(t-mint, resMs)*resMs }
	keep := make([]*[numStats]bool, len(s.series)) // by series id: the statistics kept, nil if not selected
	for _, id := range ids {
		var k [numStats]bool
		for st := StatSum; st < StatMerge; st++ {
			k[st] = need == nil || need(s.series[id], st)
		}
		if k[StatIncrease] {
			k[StatFirst], k[StatLast] = true, true
		}
		keep[id] = &k
	}
	// Per segment name: its tier file of this resolution, else its raw file.
	var bases map[string]*segment
	if onGrid {
		bases = s.bySegment(res)
	} else {
		bases = s.bySegment(0)
	}
	names := make([]string, 0, len(bases))
	for b := range bases {
		names = append(names, b)
	}
	sort.Strings(names)
	// A query over fewer segments than cores (the open segment alone, say) cuts each raw one
	// into time ranges at block boundaries, decoded in parallel like segments.
	procs, inRange := runtime.GOMAXPROCS(0), 0
	for _, b := range names {
		if tr, ok := bases[b].ix.TimeRange(); ok && tr.Max >= mint-resMs+1 && tr.Min <= maxt {
			inRange++
		}
	}
	pieces := 1
	if inRange > 0 && inRange < procs {
		pieces = (procs + inRange - 1) / inRange
	}
	var jobs []*windowJob
	for _, b := range names {
		seg := bases[b]
		// Raw points of the first window start after mint − res; tier points are stamped with
		// their window's end.
		lo := mint
		if seg.tier == 0 {
			lo = mint - resMs + 1
		}
		tr, ok := seg.ix.TimeRange()
		if !ok || tr.Max < lo || tr.Min > maxt {
			continue
		}
		refs, any := make([]bool, len(seg.global)), false // the series of the file to read
		for ref, id := range seg.global {
			k := keep[id]
			if k == nil || (seg.tier > 0 && (!useful(seg.stat[ref]) || !k[seg.stat[ref]])) {
				continue
			}
			refs[ref], any = true, true
		}
		if !any {
			continue
		}
		ranges := []chunkfile.TimeRange{{Min: lo, Max: maxt}}
		if seg.tier == 0 {
			ranges = splitRange(seg.ix, lo, maxt, pieces)
		}
		for _, rg := range ranges {
			// The windows this range can touch, clipped to the query.
			j := &windowJob{seg: seg}
			j.k0 = max(gridCeil(max(tr.Min, rg.Min)), mint)
			j.n = int((min(gridCeil(min(tr.Max, rg.Max)), maxt)-j.k0)/resMs) + 1
			if j.n <= 0 {
				continue
			}
			j.rd = seg.ix.NewReader(seg.f, chunkfile.ReaderOptions{Time: &rg, Refs: refs})
			j.done = make(chan struct{})
			jobs = append(jobs, j)
		}
	}
	// A window only one job can touch is written by that job straight into the answer; a
	// window two jobs share (a segment's or a range's boundary inside it, or segments that
	// overlap in time) goes through the job's own part and is merged in segment order below.
	ans := &answer{byID: make([]atomic.Pointer[Windows], len(s.series)), series: s.series, keep: keep,
		mint: mint, res: resMs, n: n, slab: spare.get(), cover: make([]uint8, n)}
	for _, j := range jobs {
		j.off = int((j.k0 - mint) / resMs)
		for k := j.off; k < j.off+j.n; k++ {
			ans.cover[k] = min(ans.cover[k]+1, 2)
			if mergeEveryWindow {
				ans.cover[k] = 2
			}
		}
	}
	// Decode in parallel, merge in segment order.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan *windowJob)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(jobs)) {
		wg.Go(func() {
			for j := range next {
				j.run(ctx, ans)
				close(j.done)
			}
		})
	}
	go func() {
		defer close(next)
		for _, j := range jobs {
			select {
			case next <- j:
			case <-ctx.Done():
				return
			}
		}
	}()
	defer wg.Wait()
	samples := 0
	var err error
	for _, j := range jobs {
		select {
		case <-j.done:
		case <-ctx.Done():
			err = ctx.Err()
		}
		if err != nil {
			break
		}
		if j.err != nil {
			err = fmt.Errorf("%s: %w", j.seg.name, j.err)
			break
		}
		samples += j.samples
		if lim.MaxSamples > 0 && samples > lim.MaxSamples {
			err = &LimitError{What: fmt.Sprintf("the query reads more than %d points, the limit", lim.MaxSamples)}
			break
		}
		for _, id := range j.ids {
			ans.get(id).absorb(j.byID[id], j.off)
		}
		j.byID, j.ids = nil, nil
		j.slab.reset()
		slabs.Put(j.slab)
		j.slab = nil
	}
	if err != nil {
		cancel()
		for _, j := range jobs {
			if j.rd != nil {
				<-j.done
			}
		}
		return nil, 0, err
	}
	list := make([]*Windows, 0, len(ans.ids))
	for _, id := range ans.ids {
		list = append(list, ans.byID[id].Load())
	}
	slices.SortFunc(list, func(a, b *Windows) int { return labels.Compare(a.Series.Labels, b.Series.Labels) })
	return list, samples, nil
}

// mergeEveryWindow, set by tests, sends every window through the jobs' parts and absorb, as if
// every job shared all its windows.
var mergeEveryWindow = false

// answer is what a SelectWindows fills: one Windows per series with points, made on the first
// point of any job.
type answer struct {
	mu     sync.Mutex
	byID   []atomic.Pointer[Windows]
	ids    []uint32 // the series made, in the order they were
	series []*Series
	keep   []*[numStats]bool
	mint   int64
	res    int64
	n      int
	slab   *slab
	// cover[k] is how many jobs can touch window k, up to 2: a job writes the windows only it
	// covers into the answer directly.
	cover []uint8
}

func (a *answer) get(id uint32) *Windows {
	if w := a.byID[id].Load(); w != nil {
		return w
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if w := a.byID[id].Load(); w != nil {
		return w
	}
	w := newWindows(a.series[id], a.mint, a.res, a.n, a.keep[id], a.slab)
	w.slab = a.slab
	w.hi = a.n // jobs write into it: absorb must merge window by window
	a.byID[id].Store(w)
	a.ids = append(a.ids, id)
	return w
}

// windowJob is one segment's part of a SelectWindows: its reader and, once run, the windows
// it holds per series that another job may hold too.
type windowJob struct {
	seg     *segment
	k0      int64 // end of the segment's first window in range
	n       int   // windows in range
	off     int   // the answer's index of window k0
	rd      *chunkfile.Reader
	byID    []*Windows // by series id, the windows of the series read
	ids     []uint32   // the ids of byID's windows, in the order they came
	slab    *slab      // the parts' columns, back to the pool once merged
	samples int
	err     error
	done    chan struct{}
}

func (j *windowJob) run(ctx context.Context, ans *answer) {
	defer j.rd.Close()
	keep, resMs := ans.keep, ans.res
	j.slab = slabs.Get().(*slab)
	j.byID = make([]*Windows, len(keep))
	part := func(id uint32) *Windows {
		p := j.byID[id]
		if p == nil {
			p = newWindows(nil, j.k0, resMs, j.n, keep[id], j.slab)
			j.byID[id] = p
			j.ids = append(j.ids, id)
		}
		return p
	}
	cover := ans.cover[j.off : j.off+j.n]
	for n := 0; j.rd.Next(); n++ {
		if n%64 == 0 && ctx.Err() != nil {
			j.err = ctx.Err()
			return
		}
		bt := j.rd.Batch()
		if bt.Num == nil {
			continue
		}
		j.samples += bt.Len()
		ref := int(bt.Ref)
		id := j.seg.global[ref]
		var g *Windows // the answer's windows of the series, taken at the first direct write
		if j.seg.tier > 0 {
			st := j.seg.stat[ref]
			next, k := int64(math.MinInt64), 0 // the time of window k+1, and k
			for i, t := range bt.T {
				if t == next { // the usual case: consecutive windows, no division
					k++
				} else {
					if (t-j.k0)%resMs != 0 {
						next = math.MinInt64
						continue
					}
					k = int((t - j.k0) / resMs)
				}
				next = t + resMs
				if k < 0 || k >= j.n {
					continue
				}
				w, wk := g, j.off+k
				if cover[k] > 1 {
					w, wk = part(id), k
				} else if g == nil {
					g = ans.get(id)
					w = g
				}
				if !w.Has[wk] {
					if w.kept&(w.kept-1) != 0 {
						w.zero(wk) // a statistic the file lacks for this window reads 0
					}
					w.Has[wk] = true
				}
				w.Col[st][wk] = bt.Num[i].Float64()
			}
			continue
		}
		// Raw points, in time order: each run of points in one window is folded at once.
		ts := bt.T
		for i := 0; i < len(ts); {
			kk := ceilDiv(ts[i]-j.k0, resMs)
			end := j.k0 + kk*resMs
			e := i + 1
			for e < len(ts) && ts[e] <= end {
				e++
			}
			if kk >= 0 && kk < int64(j.n) {
				switch k := int(kk); {
				case cover[k] > 1:
					part(id).fold(k, bt.Num[i:e])
				default:
					if g == nil {
						g = ans.get(id)
					}
					g.fold(j.off+k, bt.Num[i:e])
				}
			}
			i = e
		}
	}
	j.err = j.rd.Err()
}

// splitRange cuts [lo, hi] into at most n ranges holding about as many of the index's points
// each, at the starts of blocks (a block that overlaps another's time is read by both ranges,
// each keeping its own points).
func splitRange(ix *chunkfile.Index, lo, hi int64, n int) []chunkfile.TimeRange {
	whole := []chunkfile.TimeRange{{Min: lo, Max: hi}}
	if n < 2 {
		return whole
	}
	var blocks []chunkfile.BlockInfo
	total := 0
	for _, b := range ix.Blocks() {
		if b.MaxT >= lo && b.MinT <= hi {
			blocks = append(blocks, b)
			total += b.Points
		}
	}
	if len(blocks) < 2 {
		return whole
	}
	slices.SortStableFunc(blocks, func(a, b chunkfile.BlockInfo) int { return cmp.Compare(a.MinT, b.MinT) })
	var out []chunkfile.TimeRange
	start, acc := lo, 0
	for i, b := range blocks[:len(blocks)-1] {
		acc += b.Points
		if len(out) < n-1 && acc*n >= total*(len(out)+1) {
			if cut := blocks[i+1].MinT - 1; cut >= start && cut < hi {
				out = append(out, chunkfile.TimeRange{Min: start, Max: cut})
				start = cut + 1
			}
		}
	}
	return append(out, chunkfile.TimeRange{Min: start, Max: hi})
}

// useful reports whether a tier statistic is one the windows are built from.
func useful(st Stat) bool { return st != StatNone && st != StatMerge }

func ceilDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a > 0) == (b > 0) {
		q++
	}
	return q
}
