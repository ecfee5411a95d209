package chunkfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// smallFile writes 3 gauges with a point every second for 10 minutes, 60 s blocks.
func smallFile(t testing.TB) []byte {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, Options{BlockDuration: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	for i, host := range []string{"a", "b", "c"} {
		ref, err := w.AddSeries(Series{Name: "cpu", Kind: KindGauge, Attrs: []Attr{{Key: "host", Value: StringValue(host)}}})
		if err != nil || ref != SeriesRef(i) {
			t.Fatal(ref, err)
		}
	}
	for s := range int64(600) {
		for i := range 3 {
			if err := w.AppendFloat(SeriesRef(i), s*1000, float64(s)+float64(i)/10); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestReaderFilters(t *testing.T) {
	data := smallFile(t)
	path := filepath.Join(t.TempDir(), "f.chunk")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	opts := ReaderOptions{
		Time:  &TimeRange{Min: 90_500, Max: 200_000},
		Match: func(s *Series) bool { v, _ := s.Attr("host"); return v.Str == "b" },
	}
	check := func(r *Reader) {
		t.Helper()
		var ts []int64
		for r.Next() {
			b := r.Batch()
			if b.Series.Name != "cpu" || b.Ref != 1 {
				t.Fatalf("batch of series %d %+v", b.Ref, b.Series)
			}
			for i, tm := range b.T {
				if want := float64(tm/1000) + 0.1; b.Num[i].Float != want {
					t.Fatalf("t=%d value %v, want %v", tm, b.Num[i].Float, want)
				}
			}
			ts = append(ts, b.T...)
		}
		if err := r.Err(); err != nil {
			t.Fatal(err)
		}
		if len(ts) != 110 || ts[0] != 91_000 || ts[len(ts)-1] != 200_000 {
			t.Fatalf("got %d points from %d to %d, want 110 from 91000 to 200000", len(ts), ts[0], ts[len(ts)-1])
		}
	}
	r, err := NewReader(bytes.NewReader(data), opts)
	if err != nil {
		t.Fatal(err)
	}
	check(r)
	// The indexed path (sealed file, footer) must give the same result.
	fr, err := OpenFile(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer fr.Close()
	if fr.foot == nil || !fr.Sealed() {
		t.Fatal("OpenFile did not use the footer of a sealed file")
	}
	check(fr)
}

func TestUnknownMajorVersionRefused(t *testing.T) {
	data := smallFile(t)
	data[4] = 2
	binary.LittleEndian.PutUint32(data[8:], crc32.Checksum(data[:8], castagnoli))
	_, err := NewReader(bytes.NewReader(data), ReaderOptions{})
	if !errors.Is(err, ErrUnsupportedVersion) || !strings.Contains(err.Error(), "major version 2") {
		t.Fatalf("got %v, want ErrUnsupportedVersion naming version 2", err)
	}
	if _, err := NewReader(strings.NewReader("hello world, not a chunk file"), ReaderOptions{}); !errors.Is(err, ErrNotChunkFile) {
		t.Fatalf("got %v, want ErrNotChunkFile", err)
	}
}

// withFrame inserts a frame of type typ right after the header.
func withFrame(data []byte, typ byte, payload []byte) []byte {
	out := append([]byte(nil), data[:headerSize]...)
	out = appendFrame(out, typ, payload)
	return append(out, data[headerSize:]...)
}

func TestUnknownFrames(t *testing.T) {
	data := smallFile(t)
	// An optional frame of an unknown kind is skipped.
	r, err := NewReader(bytes.NewReader(withFrame(data, frameOptional|0x3e, []byte("future"))), ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for r.Next() {
		n += r.Batch().Len()
	}
	var ce *CorruptionError
	// The footer records offsets of the file without the extra frame, so the footer check
	// must notice; every point before it was still read.
	if !errors.As(r.Err(), &ce) || n != 1800 {
		t.Fatalf("read %d points, err %v; want 1800 points and a footer mismatch", n, r.Err())
	}
	// A required frame of an unknown kind stops the reader with its offset.
	r, _ = NewReader(bytes.NewReader(withFrame(data, 0x3e, []byte("future"))), ReaderOptions{})
	for r.Next() {
	}
	if !errors.As(r.Err(), &ce) || ce.Offset != headerSize || !strings.Contains(ce.Error(), "unknown required frame") {
		t.Fatalf("got %v, want unknown required frame at offset %d", r.Err(), headerSize)
	}
}

func TestCorruptionReportsOffset(t *testing.T) {
	data := smallFile(t)
	// Find the second frame's offset by reading frames.
	fr := frameReader{r: bytes.NewReader(data[headerSize:]), off: headerSize, maxFrame: DefaultMaxFrameSize}
	f1, err := fr.next()
	if err != nil {
		t.Fatal(err)
	}
	second := f1.off + f1.size
	bad := bytes.Clone(data)
	bad[second+5] ^= 0x40
	r, _ := NewReader(bytes.NewReader(bad), ReaderOptions{})
	for r.Next() {
	}
	var ce *CorruptionError
	if !errors.As(r.Err(), &ce) || ce.Offset != second {
		t.Fatalf("got %v, want corruption at offset %d", r.Err(), second)
	}
}

func TestHostileLengthsAreCapped(t *testing.T) {
	data := append([]byte(nil), smallFile(t)[:headerSize]...)
	// A frame that claims 1 TiB of payload on a short stream.
	data = append(data, frameBlock)
	data = binary.AppendUvarint(data, 1<<40)
	r, _ := NewReader(bytes.NewReader(data), ReaderOptions{})
	for r.Next() {
	}
	var ce *CorruptionError
	if !errors.As(r.Err(), &ce) || !strings.Contains(ce.Error(), "exceeds the limit") {
		t.Fatalf("got %v, want a length limit error", r.Err())
	}
	// Under the limit but longer than the stream: a truncation error, without allocating it all.
	data = append([]byte(nil), data[:headerSize]...)
	data = append(data, frameBlock)
	data = binary.AppendUvarint(data, 200<<20)
	r, _ = NewReader(bytes.NewReader(data), ReaderOptions{})
	for r.Next() {
	}
	if !errors.As(r.Err(), &ce) || !errors.Is(r.Err(), io.ErrUnexpectedEOF) {
		t.Fatalf("got %v, want truncated frame", r.Err())
	}
}

// TestWriterLimitsFitReaderDefaults writes histograms with many buckets until the writer cuts
// blocks by value count, and reads them back with the default reader limits.
func TestWriterLimitsFitReaderDefaults(t *testing.T) {
	var buf bytes.Buffer
	w, _ := NewWriter(&buf, Options{BlockDuration: -1})
	ref, _ := w.AddSeries(Series{Name: "h", Kind: KindHistogram})
	bounds := make([]float64, 1000)
	for i := range bounds {
		bounds[i] = float64(i)
	}
	counts := make([]uint64, 1001)
	const n = 5000
	for i := range n {
		counts[i%1001]++
		if err := w.Append(ref, Point{T: int64(i), Hist: &Histogram{Count: uint64(i), Bounds: bounds, Counts: counts}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if w.Stats().Blocks < 2 {
		t.Fatalf("%d blocks: the value limit did not cut", w.Stats().Blocks)
	}
	r, _ := NewReader(bytes.NewReader(buf.Bytes()), ReaderOptions{})
	got := 0
	for r.Next() {
		b := r.Batch()
		for i := range b.Hist {
			if len(b.Hist[i].Counts) != 1001 || b.Hist[i].Count != uint64(got+i) {
				t.Fatalf("point %d: %d counts, count %d", got+i, len(b.Hist[i].Counts), b.Hist[i].Count)
			}
		}
		got += b.Len()
	}
	if r.Err() != nil || got != n {
		t.Fatalf("read %d of %d: %v", got, n, r.Err())
	}
}
