package chunkfile

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// writeUnsealed writes a segment in several flushes (a new series appears in the middle) and
// abandons it as a crash would. It returns the file bytes.
func writeUnsealed(t *testing.T, dir string) []byte {
	t.Helper()
	path := filepath.Join(dir, "seg.open")
	s, err := Create(path, Options{BlockDuration: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	refs := []SeriesRef{}
	for flush := range 5 {
		if flush == 0 || flush == 3 {
			ref, err := s.AddSeries(Series{Name: "m", Kind: KindSum, Attrs: []Attr{{Key: "n", Value: StringValue(string(rune('a' + flush)))}}})
			if err != nil {
				t.Fatal(err)
			}
			refs = append(refs, ref)
		}
		for j := range 20 {
			for _, ref := range refs {
				if err := s.AppendInt(ref, int64(flush*20+j)*1000, int64(j*j)); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := s.Flush(); err != nil {
			t.Fatal(err)
		}
		if err := s.Sync(); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Abandon(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// frameEnds lists every frame of data with its end offset and points.
func frameEnds(t *testing.T, data []byte) (ends []int64, points []int, series []int) {
	t.Helper()
	r, err := NewReader(bytes.NewReader(data), ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for {
		f, err := r.fr.next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		switch f.typ & frameKindMask {
		case frameSeries:
			if err := r.addSeries(f); err != nil {
				t.Fatal(err)
			}
		case frameBlock:
			if err := r.decodeBlock(f); err != nil {
				t.Fatal(err)
			}
			n = r.blk.head.nPoints
		}
		ends = append(ends, f.off+f.size)
		points = append(points, n)
		series = append(series, len(r.series))
	}
}

func countPoints(t *testing.T, path string) (int, int, bool) {
	t.Helper()
	r, err := OpenFile(path, ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	n := 0
	for r.Next() {
		n += r.Batch().Len()
	}
	if err := r.Err(); err != nil {
		t.Fatalf("recovered file unreadable: %v", err)
	}
	return n, r.NumSeries(), r.Sealed()
}

// TestRecoverEveryCut cuts the segment at every byte offset of its last three frames and
// checks that Recover keeps exactly the frames that end before the cut.
func TestRecoverEveryCut(t *testing.T) {
	dir := t.TempDir()
	data := writeUnsealed(t, dir)
	ends, points, series := frameEnds(t, data)
	if len(ends) < 4 {
		t.Fatalf("only %d frames", len(ends))
	}
	from := ends[len(ends)-4]
	path := filepath.Join(dir, "cut.open")
	for cut := from; cut <= int64(len(data)); cut++ {
		if err := os.WriteFile(path, data[:cut], 0o644); err != nil {
			t.Fatal(err)
		}
		res, err := Recover(path)
		if err != nil {
			t.Fatalf("cut %d: %v", cut, err)
		}
		wantPoints, wantSeries, kept := 0, 0, int64(headerSize)
		for i, e := range ends {
			if e <= cut {
				wantPoints += points[i]
				wantSeries = series[i]
				kept = e
			}
		}
		if res.BytesDropped != cut-kept || res.AlreadySealed {
			t.Fatalf("cut %d: dropped %d bytes, want %d", cut, res.BytesDropped, cut-kept)
		}
		n, ns, sealed := countPoints(t, path)
		if n != wantPoints || ns != wantSeries || !sealed || res.Points != int64(wantPoints) {
			t.Fatalf("cut %d: %d points %d series sealed=%v, want %d points %d series sealed", cut, n, ns, sealed, wantPoints, wantSeries)
		}
		// Recovering again is a no-op.
		res, err = Recover(path)
		if err != nil || !res.AlreadySealed || res.BytesDropped != 0 {
			t.Fatalf("cut %d: second recover %+v, %v", cut, res, err)
		}
	}
}

func TestRecoverCorruptFrame(t *testing.T) {
	dir := t.TempDir()
	data := writeUnsealed(t, dir)
	ends, points, _ := frameEnds(t, data)
	// Damage a byte inside the third frame: it and everything after it is dropped.
	bad := bytes.Clone(data)
	bad[ends[1]+3] ^= 0xff
	path := filepath.Join(dir, "bad.open")
	if err := os.WriteFile(path, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Recover(path)
	if err != nil {
		t.Fatal(err)
	}
	if res.BytesDropped != int64(len(data))-ends[1] || res.CutReason == "" {
		t.Fatalf("dropped %d (%q), want %d", res.BytesDropped, res.CutReason, int64(len(data))-ends[1])
	}
	if n, _, _ := countPoints(t, path); n != points[0]+points[1] {
		t.Fatalf("kept %d points, want %d", n, points[0]+points[1])
	}
}

func TestRecoverTornHeader(t *testing.T) {
	path := filepath.Join(t.TempDir(), "torn.open")
	if err := os.WriteFile(path, []byte("DHC"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Recover(path)
	if err != nil || res.BytesDropped != 3 {
		t.Fatalf("%+v %v", res, err)
	}
	if n, ns, sealed := countPoints(t, path); n != 0 || ns != 0 || !sealed {
		t.Fatalf("reset file: %d points %d series sealed=%v", n, ns, sealed)
	}
}

func TestSegmentSealedOnClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.chunk")
	s, err := Create(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Create(path, Options{}); err == nil {
		t.Fatal("Create overwrote an existing file")
	}
	ref, _ := s.AddSeries(Series{Name: "g", Kind: KindGauge})
	for i := range 100 {
		if err := s.AppendFloat(ref, int64(i), float64(i)/4); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if n, ns, sealed := countPoints(t, path); n != 100 || ns != 1 || !sealed {
		t.Fatalf("%d points %d series sealed=%v", n, ns, sealed)
	}
	if res, err := Recover(path); err != nil || !res.AlreadySealed || res.Points != 100 {
		t.Fatalf("%+v %v", res, err)
	}
}

// failingWriter fails writes while fail is set and supports rollback by truncation.
type failingWriter struct {
	buf  bytes.Buffer
	fail bool
}

func (f *failingWriter) Write(p []byte) (int, error) {
	if f.fail {
		f.buf.Write(p[:len(p)/2]) // a torn write
		return len(p) / 2, errors.New("no space left on device")
	}
	return f.buf.Write(p)
}

func TestFailedFlushRollsBackAndRetries(t *testing.T) {
	fw := &failingWriter{}
	w := newWriter(fw, Options{})
	w.rollback = func(off int64) error { fw.buf.Truncate(int(off)); return nil }
	if err := w.commit(appendHeader(nil)); err != nil {
		t.Fatal(err)
	}
	ref, _ := w.AddSeries(Series{Name: "g", Kind: KindGauge})
	for i := range 10 {
		w.AppendInt(ref, int64(i), int64(i))
	}
	fw.fail = true
	if err := w.Flush(); err == nil {
		t.Fatal("flush on a full disk succeeded")
	}
	if fw.buf.Len() != headerSize {
		t.Fatalf("file holds %d bytes after rollback, want the %d-byte header", fw.buf.Len(), headerSize)
	}
	fw.fail = false
	for i := 10; i < 20; i++ {
		w.AppendInt(ref, int64(i), int64(i))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	_, got := readAll(t, fw.buf.Bytes(), ReaderOptions{})
	if len(got[ref]) != 20 || got[ref][19].Num.Int != 19 {
		t.Fatalf("after retry read %d points", len(got[ref]))
	}
	// Without rollback (a plain io.Writer) the writer closes itself.
	fw2 := &failingWriter{fail: true}
	if _, err := NewWriter(fw2, Options{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("got %v, want ErrClosed", err)
	}
}
