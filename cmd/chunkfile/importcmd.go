package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/doghouse-otel/doghouse/chunkfile"
)

func importCmd(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "chunk file to create (must not exist)")
	block := fs.Duration("block", chunkfile.DefaultBlockDuration, "block duration of the new file")
	if err := fs.Parse(args); err != nil || *out == "" || fs.NArg() > 1 {
		if err == nil {
			fmt.Fprintln(stderr, "usage: chunkfile import -o <new file> [dump.jsonl | - (stdin, the default)]")
		}
		return 2
	}
	in := stdin
	if fs.NArg() == 1 && fs.Arg(0) != "-" {
		f, err := os.Open(fs.Arg(0))
		if err != nil {
			return fail(stderr, "import", err)
		}
		defer f.Close()
		in = f
	}
	n, err := importLines(in, *out, *block)
	if err != nil {
		return fail(stderr, "import", err)
	}
	fmt.Fprintf(stdout, "%s: imported %d points\n", *out, n)
	return 0
}

// importLines writes the JSON lines of in to a new chunk file. Series ids in the dump must be
// dense and defined before use, as dump writes them; the new file assigns the same ids.
func importLines(in io.Reader, path string, block time.Duration) (n int, err error) {
	seg, err := chunkfile.Create(path, chunkfile.Options{BlockDuration: block})
	if err != nil {
		return 0, err
	}
	defer func() {
		if err != nil {
			seg.Abandon()
			os.Remove(path)
			return
		}
		err = seg.Close()
	}()
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 1<<16), 64<<20)
	line := 0
	var refs []chunkfile.SeriesRef
	for sc.Scan() {
		line++
		if len(sc.Bytes()) == 0 {
			continue
		}
		var l jline
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return n, fmt.Errorf("line %d: %w", line, err)
		}
		switch {
		case l.Series != nil:
			if l.Series.ID != uint64(len(refs)) {
				return n, fmt.Errorf("line %d: series id %d, expected %d (ids are dense, in order)", line, l.Series.ID, len(refs))
			}
			s, err := fromJSeries(l.Series)
			if err != nil {
				return n, fmt.Errorf("line %d: %w", line, err)
			}
			ref, err := seg.AddSeries(s)
			if err != nil {
				return n, fmt.Errorf("line %d: %w", line, err)
			}
			if int(ref) != len(refs) {
				return n, fmt.Errorf("line %d: series %d duplicates series %d", line, len(refs), ref)
			}
			refs = append(refs, ref)
		case l.PointLine != nil:
			if l.ID >= uint64(len(refs)) {
				return n, fmt.Errorf("line %d: point of undefined series %d", line, l.ID)
			}
			p, err := fromJPoint(l.PointLine)
			if err != nil {
				return n, fmt.Errorf("line %d: %w", line, err)
			}
			if err := seg.Append(refs[l.ID], p); err != nil {
				return n, fmt.Errorf("line %d: %w", line, err)
			}
			n++
		default:
			return n, fmt.Errorf("line %d: neither a series nor a point", line)
		}
	}
	if err := sc.Err(); err != nil {
		return n, err
	}
	return n, nil
}

var _ = errors.New
