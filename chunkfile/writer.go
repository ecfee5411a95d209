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
	// CompressionAuto compresses a block or dictionary frame with zstd when that makes it
	// smaller. Blocks are already entropy coded, so it pays mostly for the dictionary and for
	// float-heavy blocks. Checkpoint frames, which a sealed file drops, are not compressed.
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
	// a block's encoder memory around 60 MB.
	DefaultMaxBlockPoints = 1 << 20
	// A block of few series is cut for size earlier: once it holds sizeCutPoints points and its
	// series hold sizeCutPerSeries points each on average. Past that, a bigger block compresses
	// little better but holds more memory (its arrival log, its sorted columns, and what waits
	// upstream while it is encoded), so a few busy series fill 256 K-point blocks, not 1 M.
	sizeCutPoints    = 1 << 18
	sizeCutPerSeries = 256
	// DefaultMaxBlockSeries cuts a block early when it holds points of this many series: an
	// encoder holds a few hundred bytes per series of a block, so a cardinality flood of one
	// point per series is encoded 8192 series at a time (a few MB), not a whole segment at once.
	DefaultMaxBlockSeries = 8192
	// maxBlockValues keeps the values of a block (buckets included) at half of what readers
	// accept by default (DefaultMaxBlockValues), leaving room for timestamps and lengths.
	maxBlockValues = 1 << 22
)

// Options configure a Writer. The zero value is valid.
type Options struct {
	// BlockDuration is the time window of a block: a point at or after the end of the current
	// window cuts the block first. Windows are aligned to multiples of the duration since the
	// epoch. 0 means DefaultBlockDuration; negative means blocks are cut only by size or Flush.
	BlockDuration time.Duration
	// MaxBlockPoints cuts a block when it holds this many points. 0 means DefaultMaxBlockPoints.
	// Above 256 K, a block is also cut at 256 K points or more once its series hold 256 points
	// each on average.
	MaxBlockPoints int
	// MaxBlockSeries cuts a block before a point of a series it does not hold yet when it holds
	// this many series. 0 means DefaultMaxBlockSeries.
	MaxBlockSeries int
	// MaxBlockNewSeries cuts a block before a point of a series it does not hold yet when this
	// many series were defined (AddSeries) since the block began: a flood of new series is
	// encoded a few thousand at a time, while series the file already knows may fill a block
	// up to MaxBlockSeries. 0 means DefaultMaxBlockSeries.
	MaxBlockNewSeries int
	// Compression chooses zstd for frames. The zero value is CompressionAuto.
	Compression Compression
	// Checkpoints keeps what Checkpoint needs: a copy of every histogram, exponential
	// histogram and summary point until the block is cut (number points cost nothing extra).
	// Without it Checkpoint fails.
	//
	// It also makes batches atomic: a block cut by an append is not written at once but held
	// in memory until the next Checkpoint, Flush or Close, which writes it with its own frames
	// in one call. So the points appended between two checkpoints reach the file together or
	// (after a failed write, rolled back by a Segment) not at all, and a retried batch is never
	// stored twice.
	Checkpoints bool
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
	sizeCut  int // points from which a block of few series is cut (0: only MaxBlockPoints)

	series []*seriesBuf // nil while the series has no point in the current block
	free   [numKinds][]*seriesBuf
	index  map[seriesKey]SeriesRef
	defs   []byte // encoded definitions not yet written
	nDefs  int
	nDone  int // definitions written

	kinds     []Kind
	stamp     []uint32 // block sequence number in which the series was last active
	cnt       []int32  // points of the series in the current block
	seq       uint32
	log       entryLog
	starts    []int64
	anyStart  bool
	sortT     []int64
	sortStart []int64
	sortV     []uint64
	sortInt   []bool
	active    []*seriesBuf
	activeNum []uint32 // number series of the block not yet given a buffer
	blockEnd  int64
	points    int
	values    int
	blockNew  int // series defined since the block began
	closed    bool
	err       error
	off       int64
	stats     WriterStats
	blocks    []blockIndex
	defFrames []int64

	// Checkpoint state: points since the last checkpoint start at log[ckLog], starts[ckStarts]
	// and ckPoints; ck encodes them.
	ckLog, ckStarts int
	ckPoints        []ckPoint
	ck              *Writer
	noCut           bool // ck never cuts blocks
	nCkpt           int

	// numSlab holds the buffers (headers aliasing the sort arrays) of the number series of
	// the block being encoded.
	numSlab []seriesBuf

	// held are encoded frames not written yet (offsets already assigned from off): without
	// checkpoints a block is written as soon as it is cut; with them, the frames of blocks cut
	// by appends wait for the next Checkpoint, Flush or Close and go out with it in one write.
	held []byte

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
	if opts.MaxBlockSeries <= 0 {
		opts.MaxBlockSeries = DefaultMaxBlockSeries
	}
	if opts.MaxBlockNewSeries <= 0 {
		opts.MaxBlockNewSeries = DefaultMaxBlockSeries
	}
	dur := int64(-1)
	if opts.BlockDuration > 0 {
		dur = max(opts.BlockDuration.Milliseconds(), 1)
	}
	wr := &Writer{out: w, opts: opts, dur: dur, index: map[seriesKey]SeriesRef{}, seq: 1}
	if opts.MaxBlockPoints > sizeCutPoints {
		wr.sizeCut = sizeCutPoints
	}
	return wr
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
	key := keyOf(w.defs[start:])
	if ref, ok := w.index[key]; ok {
		w.defs = w.defs[:start]
		return ref, nil
	}
	ref := SeriesRef(len(w.series))
	if ref > math.MaxUint32 {
		return 0, errors.New("a writer holds at most 2^32 series per file")
	}
	w.index[key] = ref
	w.blockNew++
	w.series = append(w.series, nil)
	w.kinds = append(w.kinds, ns.Kind)
	w.stamp = append(w.stamp, 0)
	w.cnt = append(w.cnt, 0)
	w.nDefs++
	return ref, nil
}

// Flush writes the pending series definitions and the current block, if any, together with
// the frames of blocks cut since the last write (see Options.Checkpoints).
func (w *Writer) Flush() error {
	if w.closed {
		return ErrClosed
	}
	if err := w.cutBlock(); err != nil {
		return err
	}
	return w.commitHeld()
}

// cutBlock encodes the pending series definitions and the current block, if any, into held
// frames and empties the block. The frames reach the file with the next commitHeld.
func (w *Writer) cutBlock() error {
	if w.nDefs == 0 && w.points == 0 {
		return nil
	}
	start := len(w.held)
	defOff := w.appendDefs()
	var bi blockIndex
	if w.points > 0 {
		bi = w.encodeBlock()
		bi.off = w.off + int64(len(w.held))
		fstart := len(w.held)
		w.held = w.fc.appendMaybeCompressed(w.held, frameBlock, w.body, w.opts.Compression == CompressionAuto && w.fc.tryBlock())
		bi.size = int64(len(w.held) - fstart)
		if bi.size > maxWriteFrame {
			w.held = w.held[:start]
			return fmt.Errorf("block frame of %d bytes exceeds the format limit", bi.size)
		}
	}
	w.defsWritten(defOff)
	if w.points > 0 {
		w.blocks = append(w.blocks, bi)
		w.stats.Blocks++
		w.stats.Points += int64(w.points)
		w.resetBlock()
	}
	return nil
}

// commitHeld writes the held frames in one call. On failure they stay held (the file is rolled
// back to the last frame boundary) and the next commit writes them again.
func (w *Writer) commitHeld() error {
	if len(w.held) == 0 {
		return nil
	}
	if err := w.commit(w.held); err != nil {
		return err
	}
	w.held = w.held[:0]
	if cap(w.held) > maxHeldCap {
		w.held = nil
	}
	return nil
}

// maxSlab is the most number-series headers (about 200 bytes each) a writer keeps between
// blocks.
const maxSlab = 1 << 16

// maxHeldCap is the largest held-frames buffer kept for reuse after a commit.
const maxHeldCap = 4 << 20

// appendDefs appends a SERIES frame with the pending definitions to w.held and returns its
// offset, or -1 when there are none.
func (w *Writer) appendDefs() int64 {
	if w.nDefs == 0 {
		return -1
	}
	off := w.off + int64(len(w.held))
	w.body = enc.AppendUvarint(w.body[:0], uint64(w.nDone))
	w.body = enc.AppendUvarint(w.body, uint64(w.nDefs))
	w.body = append(w.body, w.defs...)
	w.held = w.fc.appendMaybeCompressed(w.held, frameSeries, w.body, w.opts.Compression == CompressionAuto)
	return off
}

// defsWritten records that the definitions frame appended at off was committed.
func (w *Writer) defsWritten(off int64) {
	if off < 0 {
		return
	}
	w.defFrames = append(w.defFrames, off)
	w.nDone += w.nDefs
	w.nDefs = 0
	w.defs = w.defs[:0]
	w.stats.Series = w.nDone
}

// resetBlock empties the block buffers after the block was written.
func (w *Writer) resetBlock() {
	for i, b := range w.active {
		w.series[b.id] = nil
		w.active[i] = nil
		if b.kind.isNumber() {
			continue // a header in numSlab
		}
		b.reset()
		if len(w.free[b.kind]) < maxFreeBufs {
			w.free[b.kind] = append(w.free[b.kind], b)
		}
	}
	if cap(w.numSlab) > maxSlab {
		w.numSlab = nil // a block of unusually many series: do not keep its headers
	} else {
		clear(w.numSlab) // drop the aliases of the sort arrays
	}
	w.active = w.active[:0]
	w.activeNum = w.activeNum[:0]
	w.log.reset()
	w.starts = w.starts[:0]
	w.anyStart = false
	w.seq++
	w.points, w.values, w.blockNew = 0, 0, 0
	w.ckLog, w.ckStarts = 0, 0
	clear(w.ckPoints)
	w.ckPoints = w.ckPoints[:0]
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
	w.releaseScratch()
	if w.ck != nil {
		w.ck.releaseScratch()
	}
	return nil
}

// Stats returns what the writer has written so far.
func (w *Writer) Stats() WriterStats { return w.stats }

// NumSeries returns the series defined in the file so far; the Writer keeps an entry of each
// until it is closed.
func (w *Writer) NumSeries() int { return len(w.series) }

// Pending returns the number of buffered points not yet written.
func (w *Writer) Pending() int { return w.points }
