package chunkfile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"time"
)

// RollupAttr is the point attribute that names the statistic of a rollup series
// (docs/chunk-format.md, "Rollup tiers").
const RollupAttr = "__rollup__"

// Statistic is what a rollup series holds of its raw series in each window.
type Statistic uint8

// The statistics, in the order a rollup file defines and writes them.
const (
	StatSum      Statistic = iota // sum of the values (gauges and sums)
	StatIncrease                  // sum of the increases between consecutive values, a drop counting as a reset
	StatCount                     // number of points, an int
	StatMin                       // smallest value
	StatMax                       // largest value
	StatFirst                     // first value
	StatLast                      // last value
	StatMerge                     // histograms, exponential histograms and summaries: the points merged
	numStats
)

var statNames = [numStats]string{"sum", "increase", "count", "min", "max", "first", "last", "merge"}

// String returns the statistic's name, the value of its RollupAttr attribute.
func (s Statistic) String() string {
	if s < numStats {
		return statNames[s]
	}
	return fmt.Sprintf("statistic(%d)", uint8(s))
}

// ParseStatistic is the inverse of Statistic.String.
func ParseStatistic(name string) (Statistic, error) {
	for s, n := range statNames {
		if n == name {
			return Statistic(s), nil
		}
	}
	return 0, fmt.Errorf("unknown rollup statistic %q", name)
}

// ErrRollupTooSpread is returned by RollupAt and RollupFile for a file whose windows do not fit
// opts.MaxWindows in a reasonable number of passes: it has more distinct windows than
// MaxWindows, or its passes would decode more than maxRollupRereads times its points (blocks
// that span many passes: late or future timestamps). A larger MaxWindows, or Rollup in one
// pass, rolls it up.
var ErrRollupTooSpread = errors.New("rollup: the file's points are spread over too many windows for MaxWindows")

// maxRollupRereads bounds the decoding work of RollupAt: the points its passes decode, summed,
// are at most this many times the file's points. A file written in time order is decoded about
// once; blocks that span many passes (a point far in the future makes every later point of its
// segment join one block) are decoded by each.
const maxRollupRereads = 16

// ErrNotSealed is returned by the rollup functions for a source that is not a sealed file: a
// rollup summarises a whole segment, and an unsealed one may still grow.
var ErrNotSealed = errors.New("chunk file is not sealed")

// DefaultRollupMaxWindows bounds the series windows RollupAt holds at once: 2^16 windows of
// 72 bytes, plus the output block of a statistic (about 60 bytes a point), take about 10 MB
// however many points the segment has; the rest of a rollup's memory grows with the segment's
// series (the eight rollup series defined for each) and its largest block. BenchmarkRollupMemory
// (20,000 series, 1.22 M windows) peaks at 56 MiB of live heap with it, 85 MiB with 2^18 and
// 190 MiB in one pass.
const DefaultRollupMaxWindows = 1 << 16

// RollupOptions configure a rollup.
type RollupOptions struct {
	// Resolution is the length of the windows, a positive whole number of milliseconds.
	// Windows are aligned to multiples of it since the Unix epoch.
	Resolution time.Duration
	// MaxWindows bounds the (series, window) pairs RollupAt and RollupFile hold in memory: they
	// read the file in passes over consecutive windows holding at most this many pairs each.
	// 0 means DefaultRollupMaxWindows. Rollup, on a stream, makes one pass and holds them all.
	MaxWindows int
	// MaxFrameSize and MaxBlockValues are the limits of the reader of the source (ReaderOptions);
	// 0 means their defaults.
	MaxFrameSize, MaxBlockValues int
	// MinPointsPerSeries makes RollupAt and RollupFile refuse, with ErrRollupSparse and before
	// reading anything but the footer, a file holding fewer points than this many per series
	// it defines: a cardinality flood's segment, where each series has a point or two. Its
	// rollup would hold about a window per point, eight series per raw one (several times the
	// file's bytes, and the dictionary's memory while it is written) and answer no faster than
	// the raw points. 0 rolls up every file.
	MinPointsPerSeries float64
}

// ErrRollupSparse is returned by RollupAt and RollupFile for a file with fewer points per
// series than RollupOptions.MinPointsPerSeries.
var ErrRollupSparse = errors.New("too few points per series to roll up")

// RollupStats counts what a rollup read and wrote.
type RollupStats struct {
	Series        int   // raw series rolled up (every series of the file but those skipped)
	SkippedSeries int   // raw series with a RollupAttr attribute of their own: not rolled up
	RawPoints     int64 // raw points read
	SkippedPoints int64 // raw points in no rollup: of skipped series, within one resolution of the int64 range's ends, or exponential histograms of a scale beyond ±2^20
	Windows       int64 // (series, window) pairs written
	Points        int64 // rollup points written
	Passes        int   // passes over the source (RollupAt: the one that counts the windows included)
}

// RollupDirName returns the name of the directory of the tier of resolution res, next to the
// raw segments: "rollup-1m", "rollup-1h", "rollup-90s", "rollup-1500ms".
func RollupDirName(res time.Duration) string {
	switch {
	case res%time.Hour == 0:
		return fmt.Sprintf("rollup-%dh", res/time.Hour)
	case res%time.Minute == 0:
		return fmt.Sprintf("rollup-%dm", res/time.Minute)
	case res%time.Second == 0:
		return fmt.Sprintf("rollup-%ds", res/time.Second)
	}
	return fmt.Sprintf("rollup-%dms", res/time.Millisecond)
}

// Rollup reads the sealed file src to its end in one pass and appends its rollup at
// opts.Resolution to dst (docs/chunk-format.md, "Rollup tiers"). It holds every window of
// every series of the file until the end (about 72 bytes each); RollupAt and RollupFile, which
// can read a file more than once, bound that by opts.MaxWindows instead.
//
// dst is flushed before and after; Rollup cuts dst's blocks itself (between statistics), so
// dst's BlockDuration and series limits do not apply while it runs. dst is not closed. On
// error or cancellation dst holds part of the rollup: discard it.
func Rollup(ctx context.Context, dst *Writer, src *Reader, opts RollupOptions) (RollupStats, error) {
	ro, err := newRoller(ctx, dst, opts)
	if err != nil {
		return RollupStats{}, err
	}
	defer ro.restore()
	ro.lo, ro.hi = math.MinInt64, math.MaxInt64
	if err := ro.read(src); err != nil {
		return ro.stats, err
	}
	if !src.Sealed() {
		return ro.stats, ErrNotSealed
	}
	ro.stats.Passes = 1
	for i := range src.NumSeries() {
		s, _ := src.Series(SeriesRef(i))
		ro.series = append(ro.series, s)
	}
	ro.classify()
	if err := ro.define(); err != nil {
		return ro.stats, err
	}
	return ro.stats, ro.emit()
}

// RollupFile is RollupAt on the file at path.
func RollupFile(ctx context.Context, dst *Writer, path string, opts RollupOptions) (RollupStats, error) {
	f, err := os.Open(path)
	if err != nil {
		return RollupStats{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return RollupStats{}, err
	}
	return RollupAt(ctx, dst, f, st.Size(), opts)
}

// RollupAt appends to dst the rollup at opts.Resolution of the sealed file in r, of the given
// size, holding at most opts.MaxWindows (series, window) pairs at once. When the file's
// series times the windows its time range spans fit, it reads the file once. Otherwise it
// first reads it to count the pairs of every window, then reads it again in passes over
// consecutive windows holding up to MaxWindows pairs each, every pass decoding only the blocks
// that overlap its windows (a file written in time order is decoded about twice in all), and
// writes each pass's windows, statistic by statistic, before the next. dst is treated as by
// Rollup.
//
// It fails with ErrRollupTooSpread, before writing any point, when the file has more distinct
// windows than MaxWindows, or when its blocks overlap so many passes that they would decode
// more than 16 times the file's points.
func RollupAt(ctx context.Context, dst *Writer, r io.ReaderAt, size int64, opts RollupOptions) (RollupStats, error) {
	ro, err := newRoller(ctx, dst, opts)
	if err != nil {
		return RollupStats{}, err
	}
	defer ro.restore()
	if opts.MinPointsPerSeries > 0 {
		maxFrame := opts.MaxFrameSize
		if maxFrame <= 0 {
			maxFrame = DefaultMaxFrameSize
		}
		foot, _, err := readSealedFooter(r, size, maxFrame)
		if err != nil {
			return ro.stats, err
		}
		if foot != nil {
			var points int64
			for _, b := range foot.blocks {
				points += int64(b.nPoints)
			}
			if float64(points) < opts.MinPointsPerSeries*float64(foot.nSeries) {
				return ro.stats, fmt.Errorf("%w: %d points of %d series, fewer than %g per series", ErrRollupSparse, points, foot.nSeries, opts.MinPointsPerSeries)
			}
		}
	}
	ix, err := NewIndex(r, size, ReaderOptions{MaxFrameSize: opts.MaxFrameSize, MaxBlockValues: opts.MaxBlockValues})
	if err != nil {
		return ro.stats, err
	}
	if !ix.Sealed() {
		return ro.stats, ErrNotSealed
	}
	ro.series = ix.series
	ro.classify()
	maxWindows := opts.MaxWindows
	if maxWindows <= 0 {
		maxWindows = DefaultRollupMaxWindows
	}
	passes, err := ro.plan(ix, r, int64(maxWindows))
	if err != nil {
		return ro.stats, err
	}
	if err := ro.define(); err != nil {
		return ro.stats, err
	}
	for _, p := range passes {
		ro.lo, ro.hi = p.Min, p.Max
		rd := ix.NewReader(r, ReaderOptions{})
		rd.blockRange = ro.times(p)
		err := ro.read(rd)
		rd.Close()
		if err != nil {
			return ro.stats, err
		}
		ro.stats.Passes++
		if err := ro.emit(); err != nil {
			return ro.stats, err
		}
	}
	return ro.stats, nil
}

// windowEnd returns the end of the window (end − res, end] that holds t. Timestamps within res
// of the int64 range's ends, whose windows or start times would overflow, get the sentinels
// math.MinInt64 and math.MaxInt64, which no real window has: end − res > MinInt64 and
// end < MaxInt64 for every t in (MinInt64 + res, MaxInt64 − res].
func windowEnd(t, res int64) int64 {
	switch {
	case t <= math.MinInt64+res:
		return math.MinInt64
	case t > math.MaxInt64-res:
		return math.MaxInt64
	}
	r := t % res
	switch {
	case r == 0:
		return t
	case r > 0:
		return t - r + res
	}
	return t - r
}

// satAdd returns a + b, saturated to the int64 range.
func satAdd(a, b int64) int64 {
	s := a + b
	switch {
	case b > 0 && s < a:
		return math.MaxInt64
	case b < 0 && s > a:
		return math.MinInt64
	}
	return s
}
