package chunkfile

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
)

// Segment is a Writer on a file. Appends go to the file as blocks are cut; Sync makes them
// durable; Close seals the file (footer, trailer, fsync). A failed write is rolled back to the
// last frame boundary, so the file never holds a torn frame while the process lives; after a
// crash, Recover cuts a torn tail.
type Segment struct {
	*Writer
	f    segmentFile
	path string
}

// segmentFile is what a Segment needs of its *os.File; tests put faults in between.
type segmentFile interface {
	io.Writer
	Truncate(size int64) error
	Seek(offset int64, whence int) (int64, error)
	Sync() error
	Close() error
}

// wrapSegmentFile, when set (by tests), wraps the file of every segment created.
var wrapSegmentFile func(*os.File) segmentFile

// Create creates a new segment file at path (it must not exist) and writes its header.
func Create(path string, opts Options) (*Segment, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	s := &Segment{f: f, path: path}
	if wrapSegmentFile != nil {
		s.f = wrapSegmentFile(f)
	}
	s.Writer = newWriter(s.f, opts)
	s.Writer.rollback = s.truncate
	if err := s.Writer.commit(appendHeader(nil)); err != nil {
		f.Close()
		os.Remove(path)
		return nil, err
	}
	return s, nil
}

func (s *Segment) truncate(off int64) error {
	if err := s.f.Truncate(off); err != nil {
		return err
	}
	_, err := s.f.Seek(off, io.SeekStart)
	return err
}

// Path returns the file's path.
func (s *Segment) Path() string { return s.path }

// Size returns the bytes written to the file so far.
func (s *Segment) Size() int64 { return s.Writer.off }

// Sync flushes the file's written frames to stable storage (fsync). Buffered points that
// were not flushed yet are not included: call Flush first.
func (s *Segment) Sync() error { return s.f.Sync() }

// Close seals the segment (flush, footer, trailer), fsyncs and closes the file. If sealing
// fails the file is closed unsealed and Recover can seal it later.
//
// A segment that wrote checkpoints is compacted: the sealed file is rewritten without them
// (to path + ".compact", fsynced, then renamed over path), so checkpoints cost nothing once
// sealed. The caller syncs the directory if it needs the rename to be durable. If the rewrite
// fails, the file is sealed as it is.
func (s *Segment) Close() error {
	if s.Writer.nCkpt > 0 && !s.Writer.closed {
		if err := s.Writer.Flush(); err != nil {
			return errors.Join(err, s.f.Close())
		}
		if err := s.compact(); err == nil {
			s.Writer.closed = true
			s.Writer.releaseScratch()
			if s.Writer.ck != nil {
				s.Writer.ck.releaseScratch()
			}
			return s.f.Close()
		}
		os.Remove(s.path + ".compact")
	}
	err := s.Writer.Close()
	if err == nil {
		err = s.f.Sync()
	}
	return errors.Join(err, s.f.Close())
}

// compact writes the segment's frames except checkpoints, then the footer, to a new file and
// renames it over the segment.
func (s *Segment) compact() (err error) {
	w := s.Writer
	in, err := os.Open(s.path)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp := s.path + ".compact"
	out, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := out.Close(); err == nil {
			err = cerr
		}
	}()
	bw := bufio.NewWriterSize(out, 1<<16)
	br := bufio.NewReaderSize(in, 1<<16)
	if _, err := br.Discard(headerSize); err != nil {
		return err
	}
	bw.Write(appendHeader(nil))
	fr := frameReader{r: br, off: headerSize, maxFrame: maxWriteFrame + 64}
	defer fr.close()
	off := int64(headerSize)
	var defs []int64
	var blocks []blockIndex
	for {
		f, err := fr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		switch f.typ & frameKindMask {
		case frameCheckpoint:
			continue
		case frameSeries:
			defs = append(defs, off)
		case frameBlock:
			if len(blocks) == len(w.blocks) {
				return errors.New("compact: more blocks in the file than written")
			}
			b := w.blocks[len(blocks)]
			b.off = off
			blocks = append(blocks, b)
		}
		if _, err := bw.Write(f.raw); err != nil {
			return err
		}
		off += f.size
	}
	if len(blocks) != len(w.blocks) || len(defs) != len(w.defFrames) {
		return errors.New("compact: the file does not hold what was written")
	}
	if _, err := bw.Write(appendFooterFrames(nil, off, w.nDone, defs, blocks)); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := out.Sync(); err != nil {
		return err
	}
	return os.Rename(tmp, s.path)
}

// Abandon closes the file without flushing or sealing, as a crash would leave it (buffered
// points are lost). Recover seals such a file.
func (s *Segment) Abandon() error {
	s.Writer.closed = true
	s.Writer.releaseScratch()
	return s.f.Close()
}

// RecoverResult tells what Recover found and did.
type RecoverResult struct {
	AlreadySealed bool  // the file was sealed; nothing was changed
	BytesDropped  int64 // bytes cut from the end
	CutReason     string
	Series        int // series definitions kept
	Blocks        int // blocks kept, converted checkpoints included
	Checkpoints   int // checkpoints after the last block, turned into blocks
	Points        int64
}

// Recover seals a segment that was not closed: it scans the frames from the start, truncates
// the file at the first frame that is torn, fails its CRC or does not decode, then writes a
// footer and trailer and fsyncs. Every frame before the cut stays readable. A sealed file is
// left alone. A file whose header itself is torn or damaged is reset to an empty segment; a file
// of a major version this package does not read is left untouched and Recover returns an error
// wrapping ErrUnsupportedVersion.
func Recover(path string) (RecoverResult, error) {
	var res RecoverResult
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return res, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return res, err
	}
	size := st.Size()
	// A file of a newer major version (written before a downgrade) is not ours to cut: refuse
	// and leave it as it is, for the version that wrote it.
	var h [headerSize]byte
	if _, err := f.ReadAt(h[:], 0); err == nil {
		if err := checkHeader(h[:]); errors.Is(err, ErrUnsupportedVersion) {
			return res, fmt.Errorf("%s left untouched: %w", path, err)
		}
	}
	if foot, _, err := readSealedFooter(f, size, DefaultMaxFrameSize); err != nil {
		return res, err
	} else if foot != nil {
		res.AlreadySealed = true
		res.Series = foot.nSeries
		res.Blocks = len(foot.blocks)
		for _, b := range foot.blocks {
			res.Points += int64(b.nPoints)
		}
		return res, nil
	}
	sc, err := scanValid(f)
	if err != nil {
		return res, err
	}
	cut := sc.cut
	res.BytesDropped = size - cut
	res.CutReason = sc.reason
	res.Series = sc.nSeries
	var tail []byte
	if cut < headerSize {
		cut = 0
		tail = appendHeader(tail)
	}
	if err := f.Truncate(cut); err != nil {
		return res, err
	}
	// Checkpoints after the last block hold points no block has: append them as blocks.
	blocks := sc.blocks
	for _, p := range sc.pending {
		b := p.idx
		b.off, b.size = cut+int64(len(tail)), int64(len(p.raw))
		tail = append(tail, p.raw...)
		fr := tail[len(tail)-len(p.raw):]
		fr[0] = fr[0]&frameCompressed | frameBlock
		binary.LittleEndian.PutUint32(fr[len(fr)-4:], crc32.Checksum(fr[:len(fr)-4], castagnoli))
		blocks = append(blocks, b)
		res.Checkpoints++
	}
	res.Blocks = len(blocks)
	for _, b := range blocks {
		res.Points += int64(b.nPoints)
	}
	off := cut + int64(len(tail))
	tail = appendFooterFrames(tail, off, sc.nSeries, sc.defFrames, blocks)
	if _, err := f.WriteAt(tail, cut); err != nil {
		_ = f.Truncate(cut) // best effort: the next Recover also copes with a torn tail
		return res, fmt.Errorf("writing footer: %w", err)
	}
	return res, f.Sync()
}

// sameFrameBody reports whether two frames are equal but for their kind and checksum, as a
// checkpoint and the block Recover copies from it are.
func sameFrameBody(a, b []byte) bool {
	return len(a) == len(b) && len(a) > 5 && a[0]&frameCompressed == b[0]&frameCompressed &&
		bytes.Equal(a[1:len(a)-4], b[1:len(b)-4])
}

// scanResult is the valid part of an unsealed file.
type scanResult struct {
	cut       int64 // offset just after the last valid frame
	defFrames []int64
	blocks    []blockIndex
	pending   []pendingCheckpoint // valid checkpoints after the last block
	nSeries   int
	reason    string // why the scan stopped before the end, if it did
}

type pendingCheckpoint struct {
	idx blockIndex
	raw []byte
}

// scanValid reads frames from the start of f and returns the valid part: every frame up to the
// first one that is torn, fails its CRC or does not decode.
func scanValid(f *os.File) (scanResult, error) {
	var sc scanResult
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return sc, err
	}
	r, err := NewReader(bufio.NewReaderSize(f, 1<<16), ReaderOptions{})
	if err != nil {
		var ce *CorruptionError
		if errors.As(err, &ce) {
			sc.reason = err.Error()
			return sc, nil
		}
		return sc, err
	}
	defer r.Close()
	sc.cut = headerSize
	done := func(reason string) (scanResult, error) {
		sc.defFrames, sc.blocks, sc.nSeries, sc.reason = r.defSeen, r.seen, len(r.series), reason
		return sc, nil
	}
	for {
		fr, ferr := r.fr.next()
		if ferr == io.EOF {
			return done("")
		}
		var ce *CorruptionError
		if ferr != nil && !errors.As(ferr, &ce) {
			return sc, ferr
		}
		if ferr == nil {
			switch fr.typ & frameKindMask {
			case frameSeries:
				if fr.typ&frameOptional == 0 {
					if aerr := r.addSeries(fr); aerr != nil {
						ferr = aerr
					} else {
						r.defSeen = append(r.defSeen, fr.off)
					}
				}
			case frameBlock:
				if derr := r.decodeBlock(fr); derr != nil {
					ferr = derr
				} else {
					b := r.lastBlk
					b.off, b.size = fr.off, fr.size
					r.seen = append(r.seen, b)
					if len(sc.pending) > 0 && sameFrameBody(fr.raw, sc.pending[0].raw) {
						// A copy of the first pending checkpoint, made by an earlier Recover
						// that did not finish: it stands for that checkpoint only.
						sc.pending = sc.pending[1:]
					} else {
						sc.pending = sc.pending[:0] // the block repeats the checkpoints before it
					}
				}
			case frameCheckpoint:
				if derr := r.decodeBlock(fr); derr != nil {
					ferr = derr
				} else {
					sc.pending = append(sc.pending, pendingCheckpoint{idx: r.lastBlk, raw: bytes.Clone(fr.raw)})
				}
			case frameFooter, frameTrailer:
				// An old footer without a valid trailer (the file is not sealed): cut here.
				ferr = corrupt(fr.off, "footer of an unsealed file", nil)
			default:
				if fr.typ&frameOptional == 0 {
					ferr = corrupt(fr.off, fmt.Sprintf("unknown required frame type %#x", fr.typ), nil)
				}
			}
		}
		if ferr != nil {
			return done(ferr.Error())
		}
		sc.cut = fr.off + fr.size
	}
}
