package main

import (
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"time"

	"github.com/doghouse-otel/doghouse/chunkfile"
)

// kindWriter re-encodes the series of one kind alone, to attribute bytes to kinds: blocks mix
// kinds and share entropy-coded streams, so a kind's share of a block has no exact size.
type kindWriter struct {
	w      *chunkfile.Writer
	cw     countingWriter
	refs   map[chunkfile.SeriesRef]chunkfile.SeriesRef
	events int64
}

type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

func statsCmd(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("stats", flag.ContinueOnError)
	fs.SetOutput(stderr)
	block := fs.Duration("block", chunkfile.DefaultBlockDuration, "block duration used to re-encode each kind alone")
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		if err == nil {
			fmt.Fprintln(stderr, "usage: chunkfile stats [-block 1m] <file>")
		}
		return 2
	}
	path := fs.Arg(0)
	st, err := os.Stat(path)
	if err != nil {
		return fail(stderr, "stats", err)
	}
	r, err := chunkfile.OpenFile(path, chunkfile.ReaderOptions{})
	if err != nil {
		return fail(stderr, "stats", err)
	}
	defer r.Close()
	kinds := map[chunkfile.Kind]*kindWriter{}
	var events int64
	minT, maxT := int64(math.MaxInt64), int64(math.MinInt64)
	for r.Next() {
		b := r.Batch()
		kw := kinds[b.Series.Kind]
		if kw == nil {
			kw = &kindWriter{refs: map[chunkfile.SeriesRef]chunkfile.SeriesRef{}}
			if kw.w, err = chunkfile.NewWriter(&kw.cw, chunkfile.Options{BlockDuration: *block}); err != nil {
				return fail(stderr, "stats", err)
			}
			kinds[b.Series.Kind] = kw
		}
		ref, ok := kw.refs[b.Ref]
		if !ok {
			if ref, err = kw.w.AddSeries(*b.Series); err != nil {
				return fail(stderr, "stats", err)
			}
			kw.refs[b.Ref] = ref
		}
		for i := range b.Len() {
			if err := kw.w.Append(ref, b.Point(i)); err != nil {
				return fail(stderr, "stats", err)
			}
			minT, maxT = min(minT, b.T[i]), max(maxT, b.T[i])
		}
		kw.events += int64(b.Len())
		events += int64(b.Len())
	}
	if err := r.Err(); err != nil {
		return fail(stderr, "stats", err)
	}
	sealed := "sealed"
	if !r.Sealed() {
		sealed = "unsealed"
	}
	fmt.Fprintf(stdout, "file:        %s (%d bytes, %s)\n", path, st.Size(), sealed)
	fmt.Fprintf(stdout, "series:      %d\n", r.NumSeries())
	fmt.Fprintf(stdout, "events:      %d\n", events)
	if events == 0 {
		return 0
	}
	fmt.Fprintf(stdout, "time range:  %d .. %d ms (%s .. %s)\n", minT, maxT,
		time.UnixMilli(minT).UTC().Format(time.RFC3339Nano), time.UnixMilli(maxT).UTC().Format(time.RFC3339Nano))
	fmt.Fprintf(stdout, "bytes/event: %.3f\n", float64(st.Size())/float64(events))
	fmt.Fprintf(stdout, "by kind (each kind re-encoded alone with %v blocks):\n", *block)
	for k := chunkfile.KindGauge; k <= chunkfile.KindSummary; k++ {
		kw := kinds[k]
		if kw == nil {
			continue
		}
		if err := kw.w.Close(); err != nil {
			return fail(stderr, "stats", err)
		}
		fmt.Fprintf(stdout, "  %-22s %6d series %10d events %8.3f bytes/event\n", k.String()+":", len(kw.refs), kw.events, float64(kw.cw.n)/float64(kw.events))
	}
	return 0
}
