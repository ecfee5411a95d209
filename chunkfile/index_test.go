package chunkfile

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// indexPoints reads every point the index locates, as "ref@t" strings, sorted.
func indexPoints(t *testing.T, ix *Index, r *bytes.Reader, opts ReaderOptions) []string {
	t.Helper()
	rd := ix.NewReader(r, opts)
	defer rd.Close()
	var out []string
	for rd.Next() {
		b := rd.Batch()
		for i := range b.Len() {
			out = append(out, fmt.Sprintf("%s@%d", b.Series.Name, b.T[i]))
		}
	}
	if err := rd.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// filePoints reads a whole file with the forward Reader, in the same form.
func filePoints(t *testing.T, path string) []string {
	t.Helper()
	rd, err := OpenFile(path, ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	var out []string
	for rd.Next() {
		b := rd.Batch()
		for i := range b.Len() {
			out = append(out, fmt.Sprintf("%s@%d", b.Series.Name, b.T[i]))
		}
	}
	if err := rd.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// TestIndexFollowsALiveSegment: an index updated after every checkpoint of a writer sees every
// point pushed so far exactly once, whether it is in a block, a checkpoint after the last
// block, or both (a block repeats the checkpoints before it), and the sealed file gives the
// same points through its footer.
func TestIndexFollowsALiveSegment(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seg")
	s, err := Create(path, Options{BlockDuration: 10 * time.Second, Checkpoints: true})
	if err != nil {
		t.Fatal(err)
	}
	g, h := ckSeries(t, s.Writer)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var ix *Index
	for i := range 60 {
		ckAppend(t, s.Writer, g, h, i)
		if i%4 != 3 {
			continue
		}
		if err := s.Checkpoint(); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		br := bytes.NewReader(data)
		if ix == nil {
			if ix, err = NewIndex(br, int64(len(data)), ReaderOptions{}); err != nil {
				t.Fatal(err)
			}
		} else if err := ix.Update(br, int64(len(data))); err != nil {
			t.Fatal(err)
		}
		got := indexPoints(t, ix, br, ReaderOptions{})
		var want []string
		for j := 0; j <= i; j++ {
			want = append(want, fmt.Sprintf("g@%d", j*1000), fmt.Sprintf("h@%d", j*1000))
		}
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("after point %d: index reads %d points, want %d\n got %v", i, len(got), len(want), got)
		}
		if ix.Sealed() {
			t.Fatal("an open segment indexed as sealed")
		}
	}
	if len(ix.pending) == 0 || len(ix.blocks) == 0 {
		t.Fatalf("the test should end with blocks and pending checkpoints: %d blocks, %d pending", len(ix.blocks), len(ix.pending))
	}
	// A time range and a series filter read only what matches.
	data, _ := os.ReadFile(path)
	got := indexPoints(t, ix, bytes.NewReader(data), ReaderOptions{
		Time:  &TimeRange{Min: 20000, Max: 29000},
		Match: func(s *Series) bool { return s.Name == "g" },
	})
	if len(got) != 10 || got[0] != "g@20000" || got[9] != "g@29000" {
		t.Fatalf("filtered read: %v", got)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	sealed, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	six, err := NewIndex(bytes.NewReader(sealed), int64(len(sealed)), ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !six.Sealed() || len(six.pending) != 0 {
		t.Fatalf("sealed file: sealed %v, %d pending", six.Sealed(), len(six.pending))
	}
	if got, want := indexPoints(t, six, bytes.NewReader(sealed), ReaderOptions{}), filePoints(t, path); !slices.Equal(got, want) || len(got) != 120 {
		t.Fatalf("sealed file through its index: %d points, forward read %d", len(got), len(want))
	}
	if tr, ok := six.TimeRange(); !ok || tr.Min != 0 || tr.Max != 59000 {
		t.Fatalf("time range %+v %v", tr, ok)
	}
}

// TestIndexOfEveryPrefix: a reader that indexes a segment while a writer appends sees a prefix
// of the file. For every prefix it must read exactly what recovery would keep from a file cut
// there (complete blocks and the complete checkpoints after the last of them), never a point
// twice, and an Update of the whole file from any prefix's index must read the whole file.
func TestIndexOfEveryPrefix(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "seg")
	s, err := Create(path, Options{BlockDuration: 10 * time.Second, Checkpoints: true})
	if err != nil {
		t.Fatal(err)
	}
	g, h := ckSeries(t, s.Writer)
	for i := range 40 {
		ckAppend(t, s.Writer, g, h, i)
		if i%3 == 2 {
			if err := s.Checkpoint(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := s.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	s.Abandon()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cutPath := filepath.Join(dir, "cut")
	var all []string
	for j := range 40 {
		all = append(all, fmt.Sprintf("g@%d", j*1000), fmt.Sprintf("h@%d", j*1000))
	}
	slices.Sort(all)
	for cut := int64(headerSize); cut <= int64(len(data)); cut += 7 {
		prefix := bytes.NewReader(data[:cut])
		ix, err := NewIndex(prefix, cut, ReaderOptions{})
		if err != nil {
			t.Fatalf("cut %d: %v", cut, err)
		}
		got := indexPoints(t, ix, prefix, ReaderOptions{})
		if err := os.WriteFile(cutPath, data[:cut], 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Recover(cutPath); err != nil {
			t.Fatal(err)
		}
		if want := filePoints(t, cutPath); !slices.Equal(got, want) {
			t.Fatalf("cut %d: index reads %d points, recovery keeps %d", cut, len(got), len(want))
		}
		if cut > ix.Offset() {
			if err := ix.Update(prefix, ix.Offset()-1); !errors.Is(err, ErrFileShrank) {
				t.Fatalf("cut %d: an update below the indexed size: %v", cut, err)
			}
		}
		whole := bytes.NewReader(data)
		if err := ix.Update(whole, int64(len(data))); err != nil {
			t.Fatal(err)
		}
		if got := indexPoints(t, ix, whole, ReaderOptions{}); !slices.Equal(got, all) {
			t.Fatalf("cut %d, then the whole file: %d points, want %d", cut, len(got), len(all))
		}
	}
}

// TestIndexRejectsWhatIsNotAChunkFile: the header is checked like the Reader's.
func TestIndexRejectsWhatIsNotAChunkFile(t *testing.T) {
	for _, data := range [][]byte{nil, []byte("hello"), []byte("not a chunk file at all")} {
		if _, err := NewIndex(bytes.NewReader(data), int64(len(data)), ReaderOptions{}); !errors.Is(err, ErrNotChunkFile) {
			t.Fatalf("%q: %v, want ErrNotChunkFile", data, err)
		}
	}
}
