package chunkfile

import (
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/doghouse-otel/doghouse/chunkfile/internal/enc"
)

// Compression says whether frames are zstd-compressed.
type Compression uint8

const (
	// CompressionAuto compresses a frame with zstd when that makes it smaller. Blocks are
	// already entropy coded, so it pays mostly for the dictionary and for float-heavy blocks.
	CompressionAuto Compression = iota
	// CompressionNone never compresses.
	CompressionNone
)

// Default block limits.
const (
	// DefaultBlockDuration is the time window of a block: 60 s keeps the per-series header cost
	// of a block (base timestamp, first value) near 5% of the reference workload's bytes.
	DefaultBlockDuration = time.Minute
	// DefaultMaxBlockPoints cuts a block early when many series write at once; 1 M points keep
	// a block's encoder memory around 40 MB.
	DefaultMaxBlockPoints = 1 << 20
	// maxBlockValues keeps the values of a block (buckets included) far below what readers
	// accept by default (DefaultMaxBlockValues).
	maxBlockValues = 1 << 24
)

// Options configure a Writer. The zero value is valid.
type Options struct {
	// BlockDuration is the time window of a block: a point at or after the end of the current
	// window cuts the block first. Windows are aligned to multiples of the duration since the
	// epoch. 0 means DefaultBlockDuration; negative means blocks are cut only by size or Flush.
	BlockDuration time.Duration
	// MaxBlockPoints cuts a block when it holds this many points. 0 means DefaultMaxBlockPoints.
	MaxBlockPoints int
	// Compression chooses zstd for frames. The zero value is CompressionAuto.
	Compression Compression
}

// SeriesRef identifies a series within one file: its dense id in the dictionary.
type SeriesRef uint64

// WriterStats counts what a Writer has written.
type WriterStats struct {
	Series int   // series defined
	Blocks int   // blocks written
	Points int64 // points written in blocks
	Bytes  int64 // bytes written, header included
}

// Writer appends frames to an io.Writer. Points are buffered per series and written as one
// BLOCK frame when the block window ends, the block is full, or Flush is called; nothing is
// durable before that (and, on files, before Sync). A Writer is not safe for concurrent use.
//
// A failed write on a plain io.Writer makes the Writer unusable (ErrClosed afterwards), since a
// partial frame cannot be taken back; a Segment rolls the file back to the last frame boundary
// instead, keeps the buffered points, and a later Flush may succeed.
type Writer struct {
	out      io.Writer
	rollback func(off int64) error
	opts     Options
	dur      int64

	series []*seriesBuf
	index  map[string]SeriesRef
	defs   []byte // encoded definitions not yet written
	nDefs  int
	nDone  int // definitions written

	active    []*seriesBuf
	blockEnd  int64
	points    int
	values    int
	closed    bool
	err       error
	off       int64
	stats     WriterStats
	blocks    []blockIndex
	defFrames []int64

	ce   colEncoder
	hw   enc.HcolWriter
	sc   enc.StreamCoder
	fc   frameCompressor
	buf  []byte
	body []byte
	hv   [4][]uint64
}

// NewWriter writes the file header to w and returns a Writer.
func NewWriter(w io.Writer, opts Options) (*Writer, error) {
	wr := newWriter(w, opts)
	if err := wr.commit(appendHeader(nil)); err != nil {
		return nil, err
	}
	return wr, nil
}

func newWriter(w io.Writer, opts Options) *Writer {
	if opts.BlockDuration == 0 {
		opts.BlockDuration = DefaultBlockDuration
	}
	if opts.MaxBlockPoints <= 0 {
		opts.MaxBlockPoints = DefaultMaxBlockPoints
	}
	dur := int64(-1)
	if opts.BlockDuration > 0 {
		dur = max(opts.BlockDuration.Milliseconds(), 1)
	}
	return &Writer{out: w, opts: opts, dur: dur, index: map[string]SeriesRef{}}
}

// AddSeries interns a series descriptor and returns its ref; adding an identical descriptor
// again returns the same ref. Attribute lists are sorted by key (the caller's slices are not
// modified); duplicate keys are an error. The definition is written with the next frame.
func (w *Writer) AddSeries(s Series) (SeriesRef, error) {
	if w.closed {
		return 0, ErrClosed
	}
	ns, err := s.normalize()
	if err != nil {
		return 0, err
	}
	start := len(w.defs)
	w.defs = appendSeries(w.defs, &ns)
	key := string(w.defs[start:])
	if ref, ok := w.index[key]; ok {
		w.defs = w.defs[:start]
		return ref, nil
	}
	ref := SeriesRef(len(w.series))
	w.index[key] = ref
	w.series = append(w.series, &seriesBuf{id: uint64(ref), kind: ns.Kind})
	w.nDefs++
	return ref, nil
}

func (w *Writer) buffer(ref SeriesRef, t int64) (*seriesBuf, error) {
	if w.closed {
		return nil, ErrClosed
	}
	if ref >= SeriesRef(len(w.series)) {
		return nil, fmt.Errorf("unknown series ref %d", ref)
	}
	if w.points > 0 && (t >= w.blockEnd || w.points >= w.opts.MaxBlockPoints || w.values >= maxBlockValues) {
		if err := w.Flush(); err != nil {
			return nil, err
		}
	}
	if w.points == 0 {
		w.blockEnd = math.MaxInt64
		if w.dur > 0 {
			start := t - ((t%w.dur)+w.dur)%w.dur
			if start <= math.MaxInt64-w.dur {
				w.blockEnd = start + w.dur
			}
		}
	}
	b := w.series[ref]
	if !b.active {
		b.active = true
		w.active = append(w.active, b)
	}
	return b, nil
}

// AppendFloat appends a float point to a gauge or sum series.
func (w *Writer) AppendFloat(ref SeriesRef, t int64, v float64) error {
	b, err := w.buffer(ref, t)
	if err != nil {
		return err
	}
	if !b.kind.isNumber() {
		return fmt.Errorf("series %d is a %s: AppendFloat needs a gauge or sum", ref, b.kind)
	}
	b.ts = append(b.ts, t)
	if b.hasStart {
		b.start = append(b.start, 0)
	}
	b.num = append(b.num, math.Float64bits(v))
	b.numInt = append(b.numInt, false)
	b.nValues++
	w.points++
	w.values++
	return nil
}

// AppendInt appends an int point to a gauge or sum series.
func (w *Writer) AppendInt(ref SeriesRef, t int64, v int64) error {
	b, err := w.buffer(ref, t)
	if err != nil {
		return err
	}
	if !b.kind.isNumber() {
		return fmt.Errorf("series %d is a %s: AppendInt needs a gauge or sum", ref, b.kind)
	}
	b.ts = append(b.ts, t)
	if b.hasStart {
		b.start = append(b.start, 0)
	}
	b.num = append(b.num, uint64(v))
	b.numInt = append(b.numInt, true)
	b.nInt++
	b.nValues++
	w.points++
	w.values++
	return nil
}

// Append appends a point of any kind; the field of p that matches the series kind is used and
// copied (the caller may reuse p's slices afterwards).
func (w *Writer) Append(ref SeriesRef, p Point) error {
	b, err := w.buffer(ref, p.T)
	if err != nil {
		return err
	}
	before := b.nValues
	if err := b.addPoint(&p); err != nil {
		return err
	}
	w.points++
	w.values += b.nValues - before
	return nil
}

// Flush writes the pending series definitions and the current block, if any.
func (w *Writer) Flush() error {
	if w.closed {
		return ErrClosed
	}
	if w.nDefs == 0 && w.points == 0 {
		return nil
	}
	w.buf = w.buf[:0]
	defOff := int64(-1)
	if w.nDefs > 0 {
		defOff = w.off
		w.body = enc.AppendUvarint(w.body[:0], uint64(w.nDone))
		w.body = enc.AppendUvarint(w.body, uint64(w.nDefs))
		w.body = append(w.body, w.defs...)
		w.buf = w.fc.appendMaybeCompressed(w.buf, frameSeries, w.body, w.opts.Compression == CompressionAuto)
	}
	var bi blockIndex
	if w.points > 0 {
		bi = w.encodeBlock()
		bi.off = w.off + int64(len(w.buf))
		start := len(w.buf)
		w.buf = w.fc.appendMaybeCompressed(w.buf, frameBlock, w.body, w.opts.Compression == CompressionAuto)
		bi.size = int64(len(w.buf) - start)
		if bi.size > maxWriteFrame {
			return fmt.Errorf("block frame of %d bytes exceeds the format limit", bi.size)
		}
	}
	if err := w.commit(w.buf); err != nil {
		return err
	}
	if defOff >= 0 {
		w.defFrames = append(w.defFrames, defOff)
		w.nDone += w.nDefs
		w.nDefs = 0
		w.defs = w.defs[:0]
		w.stats.Series = w.nDone
	}
	if w.points > 0 {
		w.blocks = append(w.blocks, bi)
		w.stats.Blocks++
		w.stats.Points += int64(w.points)
		for _, b := range w.active {
			b.reset()
		}
		w.active = w.active[:0]
		w.points, w.values = 0, 0
	}
	return nil
}

// commit writes b in one call. On failure it rolls back to the last frame boundary when it
// can; otherwise the writer is closed.
func (w *Writer) commit(b []byte) error {
	if w.err != nil {
		return w.err
	}
	n, err := w.out.Write(b)
	if err == nil && n != len(b) {
		err = io.ErrShortWrite
	}
	if err != nil {
		if w.rollback != nil {
			if rerr := w.rollback(w.off); rerr == nil {
				return err
			} else {
				err = errors.Join(err, rerr)
			}
		}
		w.err = fmt.Errorf("%w: write failed: %w", ErrClosed, err)
		w.closed = true
		return w.err
	}
	w.off += int64(len(b))
	w.stats.Bytes = w.off
	return nil
}

// Close flushes and seals: it writes the footer (block index) and the trailer. It does not
// close the underlying io.Writer.
func (w *Writer) Close() error {
	if w.closed {
		if w.err != nil {
			return w.err
		}
		return ErrClosed
	}
	if err := w.Flush(); err != nil {
		return err
	}
	w.buf = appendFooterFrames(w.buf[:0], w.off, w.nDone, w.defFrames, w.blocks)
	if err := w.commit(w.buf); err != nil {
		return err
	}
	w.closed = true
	return nil
}

// Stats returns what the writer has written so far.
func (w *Writer) Stats() WriterStats { return w.stats }

// Pending returns the number of buffered points not yet written.
func (w *Writer) Pending() int { return w.points }
