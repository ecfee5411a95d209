package chunkfile

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// ckSeries adds a gauge and a histogram and returns their refs.
func ckSeries(t *testing.T, w *Writer) (SeriesRef, SeriesRef) {
	t.Helper()
	g, err := w.AddSeries(Series{Name: "g", Kind: KindGauge})
	if err != nil {
		t.Fatal(err)
	}
	h, err := w.AddSeries(Series{Name: "h", Kind: KindHistogram, Temporality: TemporalityDelta})
	if err != nil {
		t.Fatal(err)
	}
	return g, h
}

func ckAppend(t *testing.T, w *Writer, g, h SeriesRef, i int) {
	t.Helper()
	if err := w.AppendFloat(g, int64(i)*1000, float64(i)/100); err != nil {
		t.Fatal(err)
	}
	bounds := []float64{1, 2}
	if i > 25 {
		bounds = []float64{1, 2, 4}
	}
	counts := make([]uint64, len(bounds)+1)
	counts[i%len(counts)] = uint64(i)
	if err := w.Append(h, Point{T: int64(i) * 1000, Hist: &Histogram{Count: uint64(i), Bounds: bounds, Counts: counts}}); err != nil {
		t.Fatal(err)
	}
}

// readPoints reads a file and checks every series holds points 0..n-1 exactly once, in order.
func checkPoints(t *testing.T, path string, n int) {
	t.Helper()
	r, err := OpenFile(path, ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got := map[SeriesRef]int{}
	for r.Next() {
		b := r.Batch()
		for i := range b.Len() {
			want := got[b.Ref]
			if b.T[i] != int64(want)*1000 {
				t.Fatalf("series %d: point at %d, want %d", b.Ref, b.T[i], want*1000)
			}
			if b.Hist != nil && (b.Hist[i].Count != uint64(want) || len(b.Hist[i].Bounds) != map[bool]int{true: 3, false: 2}[want > 25]) {
				t.Fatalf("histogram point %d: %+v", want, b.Hist[i])
			}
			if b.Num != nil && b.Num[i].Float != float64(want)/100 {
				t.Fatalf("gauge point %d: %v", want, b.Num[i].Float)
			}
			got[b.Ref]++
		}
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	if got[0] != n || got[1] != n {
		t.Fatalf("read %v points, want %d per series", got, n)
	}
}

func TestCheckpointSurvivesCrash(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seg")
	s, err := Create(path, Options{BlockDuration: time.Hour, Checkpoints: true})
	if err != nil {
		t.Fatal(err)
	}
	g, h := ckSeries(t, s.Writer)
	i := 0
	for _, n := range []int{30, 20} {
		for range n {
			ckAppend(t, s.Writer, g, h, i)
			i++
		}
		if err := s.Checkpoint(); err != nil {
			t.Fatal(err)
		}
		if err := s.Sync(); err != nil {
			t.Fatal(err)
		}
	}
	for range 10 { // never checkpointed: lost in the crash
		ckAppend(t, s.Writer, g, h, i)
		i++
	}
	s.Abandon()
	// Before recovery a reader sees no block yet (checkpoints are skipped).
	checkPoints(t, path, 0)
	res, err := Recover(path)
	if err != nil {
		t.Fatal(err)
	}
	if res.Checkpoints != 2 || res.Points != 100 {
		t.Fatalf("recover: %+v, want 2 checkpoints, 100 points", res)
	}
	checkPoints(t, path, 50)
}

func TestCheckpointsAreCompactedAway(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, checkpoints bool) int64 {
		path := filepath.Join(dir, name)
		s, err := Create(path, Options{BlockDuration: 20 * time.Second, Checkpoints: checkpoints})
		if err != nil {
			t.Fatal(err)
		}
		g, h := ckSeries(t, s.Writer)
		for i := range 70 {
			ckAppend(t, s.Writer, g, h, i)
			if checkpoints {
				if err := s.Checkpoint(); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		checkPoints(t, path, 70)
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(path + ".compact"); !os.IsNotExist(err) {
			t.Fatal("compaction left its temporary file")
		}
		return st.Size()
	}
	plain, ck := write("plain", false), write("ck", true)
	// The same blocks; only the dictionary may be split in more frames.
	if ck > plain+64 {
		t.Fatalf("sealed file with checkpoints is %d bytes, without %d", ck, plain)
	}
	if res, err := Recover(filepath.Join(dir, "ck")); err != nil || !res.AlreadySealed {
		t.Fatalf("compacted file not sealed: %+v %v", res, err)
	}
}

func TestCheckpointNeedsOption(t *testing.T) {
	w, _ := NewWriter(&bytes.Buffer{}, Options{})
	if err := w.Checkpoint(); !errors.Is(err, ErrNoCheckpoints) {
		t.Fatalf("got %v", err)
	}
}

// TestRecoverEveryCutWithCheckpoints cuts a segment that mixes checkpoints and blocks at every
// byte of its last frames: Recover keeps every complete block plus the complete checkpoints
// after the last of them, and no point twice.
func TestRecoverEveryCutWithCheckpoints(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "seg")
	s, err := Create(path, Options{BlockDuration: 10 * time.Second, Checkpoints: true})
	if err != nil {
		t.Fatal(err)
	}
	g, h := ckSeries(t, s.Writer)
	for i := range 25 {
		ckAppend(t, s.Writer, g, h, i)
		if i%3 == 2 {
			if err := s.Checkpoint(); err != nil {
				t.Fatal(err)
			}
		}
	}
	s.Abandon()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := NewReader(bytes.NewReader(data), ReaderOptions{})
	type fr struct {
		end    int64
		kind   byte
		points int
	}
	var frames []fr
	for {
		f, err := r.fr.next()
		if err != nil {
			break
		}
		n := 0
		switch f.typ & frameKindMask {
		case frameSeries:
			r.addSeries(f)
		case frameBlock, frameCheckpoint:
			if err := r.decodeBlock(f); err != nil {
				t.Fatal(err)
			}
			n = r.blk.head.nPoints
		}
		frames = append(frames, fr{f.off + f.size, f.typ & frameKindMask, n})
	}
	cutPath := filepath.Join(dir, "cut")
	for cut := frames[len(frames)-6].end; cut <= int64(len(data)); cut++ {
		os.WriteFile(cutPath, data[:cut], 0o644)
		if _, err := Recover(cutPath); err != nil {
			t.Fatal(err)
		}
		want, pending := 0, 0
		for _, f := range frames {
			if f.end > cut {
				break
			}
			switch f.kind {
			case frameBlock:
				want += f.points
				pending = 0
			case frameCheckpoint:
				pending += f.points
			}
		}
		// Points come in pairs (gauge + histogram) in time order, so the count per series is half.
		checkPoints(t, cutPath, (want+pending)/2)
	}
}
