package chunkfile

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"

	"github.com/doghouse-otel/doghouse/chunkfile/internal/enc"
)

// TimeRange is an inclusive range of millisecond timestamps.
type TimeRange struct {
	Min, Max int64
}

// ReaderOptions configure a Reader. The zero value reads everything with default limits.
type ReaderOptions struct {
	// Time keeps only points with Min <= T <= Max; nil keeps all. Blocks outside the range
	// are not decoded.
	Time *TimeRange
	// Match keeps only series for which it returns true; nil keeps all.
	Match func(*Series) bool
	// Refs, when not nil, keeps only the series whose ref indexes a true value (and none
	// beyond its length) instead of Match: for a caller that already knows the refs it wants
	// (from an Index), without a call per series of the file. Index.NewReader only.
	Refs []bool
	// MaxFrameSize caps the bytes of one frame (compressed or not); 0 means DefaultMaxFrameSize.
	MaxFrameSize int
	// MaxBlockValues caps the values one block may decode to; 0 means DefaultMaxBlockValues.
	MaxBlockValues int
}

// Batch is the points of one series from one block. Its slices belong to the Reader and are
// overwritten by the next call to Next; Clone makes a copy that stays valid. Series strings are
// owned by the Reader and never change.
type Batch struct {
	Ref     SeriesRef
	Series  *Series
	T       []int64
	Start   []int64 // nil when no point of the batch has a start time
	Num     []Number
	Hist    []Histogram
	Exp     []ExpHistogram
	Summary []Summary
}

// Len returns the number of points.
func (b *Batch) Len() int { return len(b.T) }

// Point returns point i.
func (b *Batch) Point(i int) Point {
	p := Point{T: b.T[i]}
	if b.Start != nil {
		p.Start = b.Start[i]
	}
	switch {
	case b.Num != nil:
		p.Num = b.Num[i]
	case b.Hist != nil:
		p.Hist = &b.Hist[i]
	case b.Exp != nil:
		p.Exp = &b.Exp[i]
	case b.Summary != nil:
		p.Summary = &b.Summary[i]
	}
	return p
}

// Clone returns a deep copy of b.
func (b *Batch) Clone() *Batch {
	c := &Batch{Ref: b.Ref, Series: b.Series, T: clone(b.T), Start: clone(b.Start), Num: clone(b.Num)}
	for _, h := range b.Hist {
		h.Bounds, h.Counts = clone(h.Bounds), clone(h.Counts)
		c.Hist = append(c.Hist, h)
	}
	for _, h := range b.Exp {
		h.Positive.Counts, h.Negative.Counts = clone(h.Positive.Counts), clone(h.Negative.Counts)
		c.Exp = append(c.Exp, h)
	}
	for _, s := range b.Summary {
		s.Quantiles = clone(s.Quantiles)
		c.Summary = append(c.Summary, s)
	}
	return c
}

func clone[T any](s []T) []T {
	if s == nil {
		return nil
	}
	return append(make([]T, 0, len(s)), s...)
}

// Reader reads a chunk file frame by frame without loading it whole. A Reader is not safe
// for concurrent use.
type Reader struct {
	fr       frameReader
	opts     ReaderOptions
	budget   int
	series   []*Series
	kinds    []Kind
	keep     []bool
	bd       *blockDecoder // from decoders at the first block; back there at Close
	closed   bool
	blk      *decodedBlock
	next     int
	batch    Batch
	err      error
	sealed   bool
	closer   io.Closer
	seen     []blockIndex
	defSeen  []int64
	skipped  bool
	fb       filterBuf
	lastBlk  blockIndex
	file     io.ReaderAt
	foot     *footer
	fblk     int
	fileSize int64
	// blockRange, when set (by RollupAt), selects the blocks of a footer-indexed read by time
	// like opts.Time, but hands over their points unfiltered.
	blockRange *TimeRange
}

// NewReader reads and checks the file header from r and returns a Reader.
func NewReader(r io.Reader, opts ReaderOptions) (*Reader, error) {
	rd := newReader(r, opts)
	var h [headerSize]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, corrupt(0, "truncated header", ErrNotChunkFile)
		}
		return nil, err
	}
	if err := checkHeader(h[:]); err != nil {
		return nil, err
	}
	return rd, nil
}

func newReader(r io.Reader, opts ReaderOptions) *Reader {
	if opts.MaxFrameSize <= 0 {
		opts.MaxFrameSize = DefaultMaxFrameSize
	}
	if opts.MaxBlockValues <= 0 {
		opts.MaxBlockValues = DefaultMaxBlockValues
	}
	return &Reader{
		fr:     frameReader{r: r, off: headerSize, maxFrame: opts.MaxFrameSize},
		opts:   opts,
		budget: opts.MaxBlockValues,
	}
}

// OpenFile opens a chunk file. When the file is sealed and a time range or series filter is
// set, it uses the footer to read only the dictionary and the blocks that can match.
func OpenFile(path string, opts ReaderOptions) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	r, err := NewReader(bufio.NewReaderSize(f, 1<<16), opts)
	if err != nil {
		f.Close()
		return nil, err
	}
	r.closer = f
	if opts.Time == nil && opts.Match == nil {
		return r, nil
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	foot, _, err := readSealedFooter(f, st.Size(), r.opts.MaxFrameSize)
	if err != nil || foot == nil {
		return r, nil // not sealed (or footer unusable): a forward scan still reads everything
	}
	r.file, r.foot, r.fileSize = f, foot, st.Size()
	r.sealed = true
	if err := r.loadDictionary(); err != nil {
		f.Close()
		return nil, err
	}
	return r, nil
}

// readSealedFooter returns the footer of a sealed file, nil if the file is not sealed, and the
// footer frame's offset.
func readSealedFooter(f io.ReaderAt, size int64, maxFrame int) (*footer, int64, error) {
	if size < headerSize+trailerSize {
		return nil, 0, nil
	}
	var t [trailerSize]byte
	if _, err := f.ReadAt(t[:], size-trailerSize); err != nil {
		return nil, 0, err
	}
	if t[0] != frameTrailer || t[1] != 8 ||
		crc32.Checksum(t[:10], castagnoli) != binary.LittleEndian.Uint32(t[10:]) {
		return nil, 0, nil
	}
	off := int64(binary.LittleEndian.Uint64(t[2:10]))
	if off < headerSize || off >= size-trailerSize {
		return nil, 0, nil
	}
	fr := frameReader{r: io.NewSectionReader(f, off, size-trailerSize-off), off: off, maxFrame: maxFrame}
	fm, err := fr.next()
	if err != nil || fm.typ != frameFooter || fm.off+fm.size != size-trailerSize {
		return nil, 0, nil
	}
	foot, err := readFooter(fm.payload, size)
	if err != nil {
		return nil, 0, nil
	}
	return &foot, off, nil
}

func (r *Reader) loadDictionary() error {
	for _, off := range r.foot.defFrames {
		fr := frameReader{r: io.NewSectionReader(r.file, off, r.fileSize-off), off: off, maxFrame: r.opts.MaxFrameSize}
		f, err := fr.next()
		fr.close()
		if err != nil {
			return err
		}
		if f.typ&frameKindMask != frameSeries {
			return corrupt(off, "footer points at a non-dictionary frame", nil)
		}
		if err := r.addSeries(f); err != nil {
			return err
		}
	}
	return nil
}

// Series returns the descriptor of ref, if the reader has met its definition.
func (r *Reader) Series(ref SeriesRef) (*Series, bool) {
	if ref >= SeriesRef(len(r.series)) {
		return nil, false
	}
	return r.series[ref], true
}

// NumSeries returns how many series definitions the reader has met so far.
func (r *Reader) NumSeries() int { return len(r.series) }

// Sealed reports whether the reader met the footer and trailer of a sealed file.
func (r *Reader) Sealed() bool { return r.sealed }

// Offset returns the offset of the next frame to read.
func (r *Reader) Offset() int64 { return r.fr.off }

// Err returns the error that stopped Next, or nil at a clean end of file.
func (r *Reader) Err() error { return r.err }

// Batch returns the current batch; valid until the next call to Next or Close.
func (r *Reader) Batch() *Batch { return &r.batch }

// Close releases the file opened by OpenFile.
func (r *Reader) Close() error {
	r.fr.close()
	r.closed = true
	if r.bd != nil {
		r.blk = nil
		decoders.put(r.bd)
		r.bd = nil
	}
	if r.closer != nil {
		err := r.closer.Close()
		r.closer = nil
		return err
	}
	return nil
}

// Next advances to the next batch that passes the filters. It returns false at the end of
// the file or on error (see Err).
func (r *Reader) Next() bool {
	for r.err == nil {
		if r.blk != nil {
			for r.next < len(r.blk.spans) {
				sp := &r.blk.spans[r.next]
				r.next++
				if r.keep[sp.id] && r.fill(sp) {
					return true
				}
			}
			r.blk = nil
		}
		if r.foot != nil {
			r.err = r.nextIndexedBlock()
		} else {
			r.err = r.nextFrame()
		}
	}
	if errors.Is(r.err, io.EOF) {
		r.err = nil
	}
	return false
}

func (r *Reader) nextIndexedBlock() error {
	for r.fblk < len(r.foot.blocks) {
		b := r.foot.blocks[r.fblk]
		r.fblk++
		if t := r.opts.Time; t != nil && (b.maxT < t.Min || b.minT > t.Max) {
			continue
		}
		if t := r.blockRange; t != nil && (b.maxT < t.Min || b.minT > t.Max) {
			continue
		}
		if b.maxID >= uint64(len(r.keep)) {
			return corrupt(b.off, "footer block refers to undefined series", nil)
		}
		any := false
		for id := b.minID; id <= b.maxID && !any; id++ {
			any = r.keep[id]
		}
		if !any {
			continue
		}
		fr := frameReader{r: io.NewSectionReader(r.file, b.off, b.size), off: b.off, maxFrame: r.opts.MaxFrameSize}
		f, err := fr.next()
		fr.close()
		if err != nil {
			return err
		}
		want := byte(frameBlock)
		if b.checkpoint {
			want = frameCheckpoint
		}
		if f.typ&frameKindMask != want {
			return corrupt(b.off, "index points at another kind of frame", nil)
		}
		return r.decodeBlock(f)
	}
	return io.EOF
}

func (r *Reader) nextFrame() error {
	f, err := r.fr.next()
	if err != nil {
		if err == io.EOF && r.sealed {
			return io.EOF
		}
		return err
	}
	if r.sealed {
		return corrupt(f.off, "data after the trailer", nil)
	}
	switch f.typ & frameKindMask {
	case frameSeries:
		if f.typ&frameOptional != 0 {
			break
		}
		r.defSeen = append(r.defSeen, f.off)
		return r.addSeries(f)
	case frameBlock:
		head := enc.NewDecbuf(f.payload)
		h := readBlockHead(&head)
		if head.E != nil {
			return corrupt(f.off, "block header", head.E)
		}
		if t := r.opts.Time; t != nil && (h.maxT < t.Min || h.minT > t.Max) {
			r.skipped = true
			return nil
		}
		if err := r.decodeBlock(f); err != nil {
			return err
		}
		b := r.lastBlk
		b.off, b.size = f.off, f.size
		r.seen = append(r.seen, b)
	case frameFooter:
		foot, err := readFooter(f.payload, math.MaxInt64)
		if err != nil {
			return corrupt(f.off, "footer", err)
		}
		if err := r.checkFooter(&foot); err != nil {
			return corrupt(f.off, "footer does not match the file", err)
		}
		tf, err := r.fr.next()
		if err != nil {
			return err
		}
		if tf.typ != frameTrailer || len(tf.payload) != 8 || int64(binary.LittleEndian.Uint64(tf.payload)) != f.off {
			return corrupt(tf.off, "footer not followed by its trailer", nil)
		}
		r.sealed = true
	case frameTrailer:
		return corrupt(f.off, "trailer without footer", nil)
	case frameCheckpoint:
		// Its points are repeated in the next block; Recover turns trailing ones into blocks.
	default:
		if f.typ&frameOptional == 0 {
			return corrupt(f.off, fmt.Sprintf("unknown required frame type %#x", f.typ), nil)
		}
	}
	return nil
}

func (r *Reader) checkFooter(f *footer) error {
	if f.nSeries != len(r.series) {
		return fmt.Errorf("footer counts %d series, file defines %d", f.nSeries, len(r.series))
	}
	if len(f.defFrames) != len(r.defSeen) {
		return fmt.Errorf("footer lists %d dictionary frames, file has %d", len(f.defFrames), len(r.defSeen))
	}
	for i, o := range f.defFrames {
		if o != r.defSeen[i] {
			return fmt.Errorf("dictionary frame %d at %d, footer says %d", i, r.defSeen[i], o)
		}
	}
	if r.skipped || r.opts.Match != nil {
		return nil // blocks were not all decoded: only the counts above can be compared
	}
	if len(f.blocks) != len(r.seen) {
		return fmt.Errorf("footer lists %d blocks, file has %d", len(f.blocks), len(r.seen))
	}
	for i, b := range f.blocks {
		if b != r.seen[i] {
			return fmt.Errorf("block %d: footer %+v, file %+v", i, b, r.seen[i])
		}
	}
	return nil
}

func (r *Reader) addSeries(f frame) error {
	defs, err := parseSeriesFrame(f, len(r.series))
	if err != nil {
		return err
	}
	for _, sp := range defs {
		r.series = append(r.series, sp)
		r.kinds = append(r.kinds, sp.Kind)
		r.keep = append(r.keep, r.opts.Match == nil || r.opts.Match(sp))
	}
	return nil
}

func (r *Reader) decodeBlock(f frame) error {
	if r.closed {
		return ErrClosed
	}
	if r.bd == nil {
		r.bd = decoders.get() // at the first block: a reader made but not read yet holds none
	}
	blk, err := r.bd.decode(f.payload, r.kinds, r.budget)
	if err != nil {
		return corrupt(f.off, "block", err)
	}
	r.blk, r.next = blk, 0
	sp := blk.spans
	r.lastBlk = blockIndex{minT: blk.head.minT, maxT: blk.head.maxT, minID: sp[0].id, maxID: sp[len(sp)-1].id,
		nSeries: len(sp), nPoints: blk.head.nPoints}
	return nil
}
