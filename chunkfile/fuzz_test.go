package chunkfile

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/doghouse-otel/doghouse/chunkfile/workload"
)

// FuzzReader feeds arbitrary bytes to the reader: it must return an error or data, never panic,
// and the limits keep memory bounded whatever lengths the input claims.
func FuzzReader(f *testing.F) {
	golden, err := os.ReadFile(goldenV1)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(golden)
	f.Add(golden[:len(golden)/2])
	if ck, err := os.ReadFile(goldenCheckpoint); err == nil {
		f.Add(ck)
	}
	f.Add(smallFile(f))
	data, _, _ := randomFile(f, 3)
	f.Add(data)
	f.Add([]byte("DHCK"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewReader(bytes.NewReader(data), ReaderOptions{MaxFrameSize: 1 << 20, MaxBlockValues: 1 << 16})
		if err != nil {
			return
		}
		n := 0
		for r.Next() && n < 1<<20 {
			b := r.Batch()
			for i := range b.Len() {
				_ = b.Point(i)
				n++
			}
			if _, ok := r.Series(b.Ref); !ok || b.Series == nil {
				t.Fatalf("batch of undefined series %d", b.Ref)
			}
		}
		_ = r.Err()
		r.Close()
	})
}

// FuzzBlockPayload fuzzes the block decoder behind the CRC, which random bytes rarely pass:
// seeds are the real block payloads of the golden file, decoded with its dictionary.
func FuzzBlockPayload(f *testing.F) {
	golden, err := os.ReadFile(goldenV1)
	if err != nil {
		f.Fatal(err)
	}
	r, err := NewReader(bytes.NewReader(golden), ReaderOptions{})
	if err != nil {
		f.Fatal(err)
	}
	for {
		fr, err := r.fr.next()
		if err != nil {
			break
		}
		switch fr.typ & frameKindMask {
		case frameSeries:
			if err := r.addSeries(fr); err != nil {
				f.Fatal(err)
			}
		case frameBlock:
			f.Add(bytes.Clone(fr.payload))
		}
	}
	r.Close()
	kinds := r.kinds
	// Larger blocks take the Huffman stream coding: 200 gauges after the golden's 7 series.
	var buf bytes.Buffer
	w, _ := NewWriter(&buf, Options{Compression: CompressionNone})
	for _, k := range kinds {
		w.AddSeries(Series{Name: "unused", Kind: k})
	}
	ss := workload.Generate(workload.Options{NumSeries: 200, NumPoints: 60, Jitter: true})
	for _, s := range ss {
		ref, _ := w.AddSeries(Series{Name: s.Name, Kind: KindGauge})
		for j, t := range s.T {
			if s.Ints != nil {
				w.AppendInt(ref, t, s.Ints[j])
			} else {
				w.AppendFloat(ref, t, s.Floats[j])
			}
		}
		kinds = append(kinds, KindGauge)
	}
	w.Close()
	r, _ = NewReader(bytes.NewReader(buf.Bytes()), ReaderOptions{})
	for {
		fr, err := r.fr.next()
		if err != nil {
			break
		}
		if fr.typ&frameKindMask == frameBlock {
			f.Add(bytes.Clone(fr.payload))
		}
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		var bd blockDecoder
		blk, err := bd.decode(payload, kinds, 1<<16)
		if err != nil {
			return
		}
		n := 0
		for _, sp := range blk.spans {
			n += sp.n
		}
		if n != blk.head.nPoints || len(blk.t) != n {
			t.Fatalf("decoded %d points in spans, %d timestamps, header says %d", n, len(blk.t), blk.head.nPoints)
		}
		for _, ts := range blk.t {
			if ts < blk.head.minT || ts > blk.head.maxT {
				t.Fatalf("timestamp %d outside the header's range [%d, %d]", ts, blk.head.minT, blk.head.maxT)
			}
		}
	})
}

// FuzzSeriesFrame fuzzes dictionary frame parsing.
func FuzzSeriesFrame(f *testing.F) {
	for _, s := range []Series{{Name: "a", Kind: KindGauge}, {Name: "b", Kind: KindSum, Attrs: []Attr{{Key: "k", Value: Value{Type: ValueBytes, Bytes: []byte("v")}}}}} {
		p := []byte{0, 1}
		f.Add(appendSeries(p, &s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		r := newReader(bytes.NewReader(nil), ReaderOptions{})
		if err := r.addSeries(frame{payload: payload}); err != nil {
			return
		}
		for _, s := range r.series {
			if s.Kind < KindGauge || s.Kind > KindSummary {
				t.Fatalf("accepted kind %d", s.Kind)
			}
		}
	})
}

// FuzzOpenFileIndexed fuzzes the footer-driven path of OpenFile (a sealed file read with a
// filter): trailer, footer, dictionary offsets and block offsets all come from the input.
func FuzzOpenFileIndexed(f *testing.F) {
	golden, err := os.ReadFile(goldenV1)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(golden)
	f.Add(smallFile(f))
	path := filepath.Join(f.TempDir(), "f.chunk")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		r, err := OpenFile(path, ReaderOptions{Time: &TimeRange{Min: math.MinInt64, Max: math.MaxInt64},
			MaxFrameSize: 1 << 20, MaxBlockValues: 1 << 16})
		if err != nil {
			return
		}
		for n := 0; r.Next() && n < 1<<16; n++ {
			_ = r.Batch().Len()
		}
		r.Close()
	})
}

// FuzzIndex: indexing any bytes as a file (whole, then grown from a prefix as a live segment
// is) and reading through the index neither panics nor reads a point of an undefined series.
func FuzzIndex(f *testing.F) {
	golden, err := os.ReadFile(goldenV1)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(golden, uint16(100))
	if ck, err := os.ReadFile(goldenCheckpoint); err == nil {
		f.Add(ck, uint16(len(ck)/2))
	}
	f.Add(smallFile(f), uint16(40))
	data, _, _ := randomFile(f, 3)
	f.Add(data, uint16(len(data)/3))
	f.Fuzz(func(t *testing.T, data []byte, cut uint16) {
		opts := ReaderOptions{MaxFrameSize: 1 << 20, MaxBlockValues: 1 << 16}
		prefix := min(int(cut), len(data))
		ix, err := NewIndex(bytes.NewReader(data[:prefix]), int64(prefix), opts)
		if err != nil {
			return
		}
		whole := bytes.NewReader(data)
		if err := ix.Update(whole, int64(len(data))); err != nil {
			return
		}
		r := ix.NewReader(whole, opts)
		n := 0
		for r.Next() && n < 1<<20 {
			b := r.Batch()
			if s, ok := ix.Series(b.Ref); !ok || s != b.Series {
				t.Fatalf("batch of series %d, not the index's", b.Ref)
			}
			n += b.Len()
		}
		_ = r.Err()
		r.Close()
	})
}
