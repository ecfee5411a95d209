package chunkfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// quotaFile fails a write that would take the file past limit bytes, as a full disk or a
// file-size limit does: it writes what fits, then returns an error.
type quotaFile struct {
	*os.File
	limit  int64 // < 0: no limit
	writes []int // lengths of the writes attempted
}

func (q *quotaFile) Write(p []byte) (int, error) {
	q.writes = append(q.writes, len(p))
	off, err := q.File.Seek(0, 1)
	if err != nil {
		return 0, err
	}
	if q.limit >= 0 && off+int64(len(p)) > q.limit {
		n, _ := q.File.Write(p[:max(q.limit-off, 0)])
		return n, syscall.ENOSPC
	}
	return q.File.Write(p)
}

// withQuotaFiles makes every segment created by the test write through a quotaFile.
func withQuotaFiles(t *testing.T) *[]*quotaFile {
	t.Helper()
	var files []*quotaFile
	wrapSegmentFile = func(f *os.File) segmentFile {
		q := &quotaFile{File: f, limit: -1}
		files = append(files, q)
		return q
	}
	t.Cleanup(func() { wrapSegmentFile = nil })
	return &files
}

// atomicPush appends points from..to-1 of two series (1 s apart, blocks of 10 s), as one
// exporter push does, and checkpoints them.
func atomicPush(w *Writer, g, h SeriesRef, from, to int) error {
	for i := from; i < to; i++ {
		if err := w.AppendFloat(g, int64(i)*1000, float64(i)/100); err != nil {
			return err
		}
		bounds := []float64{1, 2} // as ckAppend, so checkPoints can read them back
		if i > 25 {
			bounds = []float64{1, 2, 4}
		}
		counts := make([]uint64, len(bounds)+1)
		counts[i%len(counts)] = uint64(i)
		if err := w.Append(h, Point{T: int64(i) * 1000, Hist: &Histogram{Count: uint64(i), Bounds: bounds, Counts: counts}}); err != nil {
			return err
		}
	}
	return w.Checkpoint()
}

// TestPushCrossingABlockLandsWholeOrNotAtAll: a push whose points cut a block, followed by a
// failed write (disk full), leaves nothing of that push in the file once it is recovered; its
// retry, into a new segment as the exporter does, is then the only copy.
func TestPushCrossingABlockLandsWholeOrNotAtAll(t *testing.T) {
	files := withQuotaFiles(t)
	dir := t.TempDir()
	opts := Options{BlockDuration: 10 * time.Second, Checkpoints: true}

	// The same pushes into an unlimited twin give the bytes the second push writes.
	twin, err := Create(filepath.Join(dir, "twin"), opts)
	if err != nil {
		t.Fatal(err)
	}
	g, h := ckSeries(t, twin.Writer)
	if err := atomicPush(twin.Writer, g, h, 0, 5); err != nil {
		t.Fatal(err)
	}
	before := twin.Size()
	if err := atomicPush(twin.Writer, g, h, 5, 15); err != nil { // crosses t = 10 s
		t.Fatal(err)
	}
	push2 := twin.Size() - before
	if err := twin.Abandon(); err != nil {
		t.Fatal(err)
	}

	// The real segment: the disk fills up one byte before the second push is written.
	path := filepath.Join(dir, "seg")
	s, err := Create(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	q := (*files)[len(*files)-1]
	g, h = ckSeries(t, s.Writer)
	if err := atomicPush(s.Writer, g, h, 0, 5); err != nil {
		t.Fatal(err)
	}
	if s.Size() != before {
		t.Fatalf("first push wrote %d bytes, the twin %d: encoding is not deterministic", s.Size(), before)
	}
	q.limit = before + push2 - 1
	q.writes = q.writes[:0]
	err = atomicPush(s.Writer, g, h, 5, 15)
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("second push: %v, want ENOSPC", err)
	}
	if st, _ := os.Stat(path); st.Size() != before {
		t.Fatalf("after the failed push the file holds %d bytes, want the %d of the first push", st.Size(), before)
	}
	// The exporter abandons the segment; recovery must keep exactly the first push.
	if err := s.Abandon(); err != nil {
		t.Fatal(err)
	}
	if _, err := Recover(path); err != nil {
		t.Fatal(err)
	}
	checkPoints(t, path, 5)
}

// TestFailedCheckpointIsWrittenByTheNextOne: after a failed write a Segment keeps the frames,
// and the next Checkpoint writes them once the disk has room again.
func TestFailedCheckpointIsWrittenByTheNextOne(t *testing.T) {
	files := withQuotaFiles(t)
	path := filepath.Join(t.TempDir(), "seg")
	s, err := Create(path, Options{BlockDuration: 10 * time.Second, Checkpoints: true})
	if err != nil {
		t.Fatal(err)
	}
	q := (*files)[0]
	g, h := ckSeries(t, s.Writer)
	if err := atomicPush(s.Writer, g, h, 0, 5); err != nil {
		t.Fatal(err)
	}
	q.limit = s.Size() + 10
	if err := atomicPush(s.Writer, g, h, 5, 25); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("push: %v, want ENOSPC", err)
	}
	q.limit = -1
	if err := atomicPush(s.Writer, g, h, 25, 30); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	checkPoints(t, path, 30)
}

// TestRecoverLeavesANewerVersionUntouched: after a crash and a downgrade, the open segment of
// the newer version must not be "recovered" (reset) by the older one.
func TestRecoverLeavesANewerVersionUntouched(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seg")
	s, err := Create(path, Options{Checkpoints: true})
	if err != nil {
		t.Fatal(err)
	}
	g, h := ckSeries(t, s.Writer)
	if err := atomicPush(s.Writer, g, h, 0, 5); err != nil {
		t.Fatal(err)
	}
	if err := s.Abandon(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[4] = versionMajor + 1
	binary.LittleEndian.PutUint32(b[8:12], crc32.Checksum(b[:8], castagnoli))
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Recover(path); !errors.Is(err, ErrUnsupportedVersion) {
		t.Fatalf("Recover: %v, want ErrUnsupportedVersion", err)
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(after, b) {
		t.Fatalf("Recover changed the file: %d bytes before, %d after", len(b), len(after))
	}
}

// TestRecoveryInterruptedAndRetried: a crash (or a full disk) while Recover writes its tail
// (the trailing checkpoints copied as blocks, then the footer) leaves some of those blocks;
// the next Recover must still keep every checkpoint's points, once.
func TestRecoveryInterruptedAndRetried(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "seg")
	s, err := Create(path, Options{BlockDuration: time.Hour, Checkpoints: true})
	if err != nil {
		t.Fatal(err)
	}
	g, h := ckSeries(t, s.Writer)
	for i := range 12 { // four checkpoints, no block
		ckAppend(t, s.Writer, g, h, i)
		if i%3 == 2 {
			if err := s.Checkpoint(); err != nil {
				t.Fatal(err)
			}
		}
	}
	s.Abandon()
	crashed, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Recover(path); err != nil {
		t.Fatal(err)
	}
	recovered, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	checkPoints(t, path, 12)
	cutPath := filepath.Join(dir, "cut")
	for cut := len(crashed) + 1; cut < len(recovered); cut++ {
		if err := os.WriteFile(cutPath, recovered[:cut], 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Recover(cutPath); err != nil {
			t.Fatal(err)
		}
		checkPoints(t, cutPath, 12)
	}
}
