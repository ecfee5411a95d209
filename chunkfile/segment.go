package chunkfile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
)

// Segment is a Writer on a file. Appends go to the file as blocks are cut; Sync makes them
// durable; Close seals the file (footer, trailer, fsync). A failed write is rolled back to the
// last frame boundary, so the file never holds a torn frame while the process lives; after a
// crash, Recover cuts a torn tail.
type Segment struct {
	*Writer
	f    *os.File
	path string
}

// Create creates a new segment file at path (it must not exist) and writes its header.
func Create(path string, opts Options) (*Segment, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	s := &Segment{f: f, path: path}
	s.Writer = newWriter(f, opts)
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
func (s *Segment) Close() error {
	err := s.Writer.Close()
	if err == nil {
		err = s.f.Sync()
	}
	return errors.Join(err, s.f.Close())
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
	Blocks        int // blocks kept
	Points        int64
}

// Recover seals a segment that was not closed: it scans the frames from the start, truncates
// the file at the first frame that is torn, fails its CRC or does not decode, then writes a
// footer and trailer and fsyncs. Every frame before the cut stays readable. A sealed file is
// left alone. A file whose header itself is torn or damaged is reset to an empty segment.
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
	cut, defFrames, blocks, nSeries, reason, err := scanValid(f)
	if err != nil {
		return res, err
	}
	res.BytesDropped = size - cut
	res.CutReason = reason
	res.Series = nSeries
	res.Blocks = len(blocks)
	for _, b := range blocks {
		res.Points += int64(b.nPoints)
	}
	var tail []byte
	if cut < headerSize {
		cut = 0
		tail = appendHeader(tail)
	}
	if err := f.Truncate(cut); err != nil {
		return res, err
	}
	off := cut + int64(len(tail))
	tail = appendFooterFrames(tail, off, nSeries, defFrames, blocks)
	if _, err := f.WriteAt(tail, cut); err != nil {
		return res, fmt.Errorf("writing footer: %w", err)
	}
	return res, f.Sync()
}

// scanValid reads frames from the start of f and returns the offset just after the last
// valid frame, with the dictionary frame offsets and block index of the valid part.
func scanValid(f *os.File) (cut int64, defFrames []int64, blocks []blockIndex, nSeries int, reason string, err error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return 0, nil, nil, 0, "", err
	}
	r, err := NewReader(bufio.NewReaderSize(f, 1<<16), ReaderOptions{})
	if err != nil {
		var ce *CorruptionError
		if errors.As(err, &ce) || errors.Is(err, ErrUnsupportedVersion) {
			return 0, nil, nil, 0, err.Error(), nil
		}
		return 0, nil, nil, 0, "", err
	}
	defer r.Close()
	cut = headerSize
	for {
		fr, ferr := r.fr.next()
		if ferr == io.EOF {
			return cut, r.defSeen, r.seen, len(r.series), "", nil
		}
		var ce *CorruptionError
		if ferr != nil && !errors.As(ferr, &ce) {
			return 0, nil, nil, 0, "", ferr
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
			return cut, r.defSeen, r.seen, len(r.series), ferr.Error(), nil
		}
		cut = fr.off + fr.size
	}
}
