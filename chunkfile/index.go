package chunkfile

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"slices"

	"github.com/doghouse-otel/doghouse/chunkfile/internal/enc"
)

// ErrFileShrank is returned by Index.Update when an unsealed file is shorter than what was
// indexed: a writer rolled back a failed write. The index is stale; make a new one.
var ErrFileShrank = errors.New("chunk file shrank below its indexed size")

// BlockInfo locates one BLOCK frame, or in an unsealed file one CHECKPOINT frame whose points
// no block holds yet, with the time range of its points.
type BlockInfo struct {
	Offset, Size int64 // the whole frame
	MinT, MaxT   int64 // milliseconds, inclusive
	// MinRef and MaxRef bound the series of the block; for blocks of an unsealed file they are
	// the whole dictionary known when the block was indexed.
	MinRef, MaxRef SeriesRef
	Points         int
	Checkpoint     bool
}

// Index holds what a reader needs to find points in one file without decoding them: the
// series dictionary and where every block is, with its time range. A sealed file's index comes
// from its footer; an unsealed file's from a scan of its frames, which Update extends as a
// writer appends, so a reader can follow a live segment: its blocks and, after the last block,
// the checkpoints that hold points not yet in a block.
//
// An Index is not safe for concurrent use; readers made by NewReader are independent of it
// and of later Updates.
type Index struct {
	series  []*Series
	kinds   []Kind
	blocks  []BlockInfo // blocks in file order
	pending []BlockInfo // checkpoints after the last block (unsealed files)
	pendSum []uint32    // CRC32C of each pending checkpoint's payload
	sealed  bool
	off     int64 // the next frame to scan
	opts    ReaderOptions
}

// NewIndex indexes the file in r, whose current size is size. Only the header must be
// readable: an unsealed file is indexed up to its last complete frame.
func NewIndex(r io.ReaderAt, size int64, opts ReaderOptions) (*Index, error) {
	if opts.MaxFrameSize <= 0 {
		opts.MaxFrameSize = DefaultMaxFrameSize
	}
	if opts.MaxBlockValues <= 0 {
		opts.MaxBlockValues = DefaultMaxBlockValues
	}
	var h [headerSize]byte
	if size < headerSize {
		return nil, corrupt(0, "truncated header", ErrNotChunkFile)
	}
	if _, err := r.ReadAt(h[:], 0); err != nil {
		return nil, err
	}
	if err := checkHeader(h[:]); err != nil {
		return nil, err
	}
	ix := &Index{off: headerSize, opts: opts}
	foot, _, err := readSealedFooter(r, size, opts.MaxFrameSize)
	if err != nil {
		return nil, err
	}
	if foot == nil {
		return ix, ix.Update(r, size)
	}
	ix.sealed, ix.off = true, size
	for _, off := range foot.defFrames {
		fr := frameReader{r: io.NewSectionReader(r, off, size-off), off: off, maxFrame: opts.MaxFrameSize}
		f, err := fr.next()
		fr.close()
		if err != nil {
			return nil, err
		}
		if f.typ&frameKindMask != frameSeries {
			return nil, corrupt(off, "footer points at a non-dictionary frame", nil)
		}
		if err := ix.addSeries(f); err != nil {
			return nil, err
		}
	}
	for _, b := range foot.blocks {
		if b.maxID >= uint64(len(ix.series)) {
			return nil, corrupt(b.off, "footer block refers to undefined series", nil)
		}
		ix.blocks = append(ix.blocks, BlockInfo{Offset: b.off, Size: b.size, MinT: b.minT, MaxT: b.maxT,
			MinRef: SeriesRef(b.minID), MaxRef: SeriesRef(b.maxID), Points: b.nPoints})
	}
	return ix, nil
}

// Update indexes the frames appended since the last call, up to size. It stops without error
// at a frame that is not complete yet (a writer is appending it) and starts there next time.
// A complete frame that fails its checksum or does not decode also stops the scan there: the
// file's later frames stay out of the index until recovery seals the file.
func (ix *Index) Update(r io.ReaderAt, size int64) error {
	if size < ix.off && !ix.sealed {
		return fmt.Errorf("%w: %d bytes, %d indexed", ErrFileShrank, size, ix.off)
	}
	if ix.sealed || size == ix.off {
		return nil
	}
	fr := frameReader{r: bufio.NewReaderSize(io.NewSectionReader(r, ix.off, size-ix.off), 1<<16), off: ix.off,
		maxFrame: ix.opts.MaxFrameSize}
	defer fr.close()
	for {
		f, err := fr.next()
		if err != nil {
			var ce *CorruptionError
			if errors.Is(err, io.EOF) || errors.As(err, &ce) {
				return nil
			}
			return err
		}
		if err := ix.add(f); err != nil {
			return nil //nolint:nilerr // a frame that does not decode ends the readable part for now
		}
		ix.off = fr.off
		if ix.sealed {
			return nil
		}
	}
}

func (ix *Index) add(f frame) error {
	switch f.typ & frameKindMask {
	case frameSeries:
		if f.typ&frameOptional != 0 {
			return nil
		}
		return ix.addSeries(f)
	case frameBlock, frameCheckpoint:
		d := enc.NewDecbuf(f.payload)
		h := readBlockHead(&d)
		if d.E != nil {
			return corrupt(f.off, "block header", d.E)
		}
		if len(ix.series) == 0 {
			return corrupt(f.off, "block before any series definition", nil)
		}
		b := BlockInfo{Offset: f.off, Size: f.size, MinT: h.minT, MaxT: h.maxT,
			MaxRef: SeriesRef(len(ix.series) - 1), Points: h.nPoints}
		sum := crc32.Checksum(f.payload, castagnoli)
		if f.typ&frameKindMask == frameCheckpoint {
			b.Checkpoint = true
			ix.pending = append(ix.pending, b)
			ix.pendSum = append(ix.pendSum, sum)
			return nil
		}
		// A block repeats every pending checkpoint, unless it is the copy an interrupted
		// recovery made of the first one (same payload): then it stands for that one only.
		if len(ix.pending) > 0 && ix.pendSum[0] == sum && ix.pending[0].Points == h.nPoints &&
			ix.pending[0].MinT == h.minT && ix.pending[0].MaxT == h.maxT {
			ix.pending, ix.pendSum = slices.Delete(ix.pending, 0, 1), slices.Delete(ix.pendSum, 0, 1)
		} else {
			ix.pending, ix.pendSum = ix.pending[:0], ix.pendSum[:0]
		}
		ix.blocks = append(ix.blocks, b)
	case frameFooter, frameTrailer:
		// Sealed in place: everything before is indexed; what follows is not data.
		ix.sealed = true
		ix.pending, ix.pendSum = nil, nil
	default:
		if f.typ&frameOptional == 0 {
			return corrupt(f.off, fmt.Sprintf("unknown required frame type %#x", f.typ), nil)
		}
	}
	return nil
}

func (ix *Index) addSeries(f frame) error {
	defs, err := parseSeriesFrame(f, len(ix.series))
	if err != nil {
		return err
	}
	for _, s := range defs {
		ix.series = append(ix.series, s)
		ix.kinds = append(ix.kinds, s.Kind)
	}
	return nil
}

// parseSeriesFrame decodes a SERIES frame whose first id must be first.
func parseSeriesFrame(f frame, first int) ([]*Series, error) {
	d := enc.NewDecbuf(f.payload)
	id := d.Uvarint()
	n := d.Uvarint()
	if d.E != nil {
		return nil, corrupt(f.off, "dictionary frame", d.E)
	}
	if id != uint64(first) {
		return nil, corrupt(f.off, fmt.Sprintf("dictionary frame starts at id %d, expected %d", id, first), nil)
	}
	if n > uint64(d.Len()/10) { // a definition takes at least 10 bytes
		return nil, corrupt(f.off, fmt.Sprintf("dictionary frame claims %d series in %d bytes", n, d.Len()), nil)
	}
	defs := make([]*Series, 0, n)
	for range n {
		s := readSeries(&d)
		if d.E != nil {
			return nil, corrupt(f.off, "series definition", d.E)
		}
		defs = append(defs, &s)
	}
	if d.Len() != 0 {
		return nil, corrupt(f.off, "dictionary frame has trailing bytes", nil)
	}
	return defs, nil
}

// Sealed reports whether the indexed file is sealed: it will not grow.
func (ix *Index) Sealed() bool { return ix.sealed }

// Offset returns where the indexed frames end: the next Update scans from there.
func (ix *Index) Offset() int64 { return ix.off }

// NumSeries returns the number of series the file defines (so far).
func (ix *Index) NumSeries() int { return len(ix.series) }

// Series returns the descriptor of ref. Descriptors never change once defined.
func (ix *Index) Series(ref SeriesRef) (*Series, bool) {
	if ref >= SeriesRef(len(ix.series)) {
		return nil, false
	}
	return ix.series[ref], true
}

// Blocks returns the file's blocks followed by the checkpoints that hold points no block has
// yet, as of the last Update. The slice is a copy.
func (ix *Index) Blocks() []BlockInfo {
	out := make([]BlockInfo, 0, len(ix.blocks)+len(ix.pending))
	return append(append(out, ix.blocks...), ix.pending...)
}

// TimeRange returns the range of the points indexed, false when there are none.
func (ix *Index) TimeRange() (TimeRange, bool) {
	tr, ok := TimeRange{}, false
	for _, list := range [][]BlockInfo{ix.blocks, ix.pending} {
		for _, b := range list {
			if !ok {
				tr, ok = TimeRange{Min: b.MinT, Max: b.MaxT}, true
				continue
			}
			tr.Min, tr.Max = min(tr.Min, b.MinT), max(tr.Max, b.MaxT)
		}
	}
	return tr, ok
}

// NewReader returns a Reader over the points the index locates in r (the same file), as of
// the last Update, filtered by opts.Time and opts.Match; opts' frame and value limits apply.
// Only blocks that can hold a matching point are read. The Reader does not use the Index
// afterwards, so the Index may be updated while it reads.
func (ix *Index) NewReader(r io.ReaderAt, opts ReaderOptions) *Reader {
	if opts.MaxFrameSize <= 0 {
		opts.MaxFrameSize = ix.opts.MaxFrameSize
	}
	if opts.MaxBlockValues <= 0 {
		opts.MaxBlockValues = ix.opts.MaxBlockValues
	}
	rd := newReader(bytes.NewReader(nil), opts)
	n := len(ix.series)
	rd.series, rd.kinds = ix.series[:n:n], ix.kinds[:n:n]
	rd.keep = make([]bool, n)
	if opts.Refs != nil {
		copy(rd.keep, opts.Refs)
	} else {
		for i, s := range rd.series {
			rd.keep[i] = opts.Match == nil || opts.Match(s)
		}
	}
	foot := &footer{nSeries: n}
	for _, list := range [][]BlockInfo{ix.blocks, ix.pending} {
		for _, b := range list {
			foot.blocks = append(foot.blocks, blockIndex{off: b.Offset, size: b.Size, minT: b.MinT, maxT: b.MaxT,
				minID: uint64(b.MinRef), maxID: uint64(b.MaxRef), nPoints: b.Points, checkpoint: b.Checkpoint})
		}
	}
	rd.file, rd.foot, rd.fileSize, rd.sealed = r, foot, ix.off, ix.sealed
	return rd
}
