package collector

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// ReadChunkfiles reads every segment of a chunkfile exporter's directory with the project's
// chunkfile CLI (`chunkfile dump -format json`) and adds them up as ReadOutput adds up a file
// exporter's output. Requests counts the segments. A `.chunk.open` segment a killed collector
// left is first sealed in place with `chunkfile recover`, as the exporter does at its next
// start, and sets Truncated. Call it only once the collector is gone.
func ReadChunkfiles(ctx context.Context, cli, dir string) (Output, error) {
	t := newTally()
	entries, err := os.ReadDir(dir)
	if err != nil {
		return t.result(), err
	}
	for _, e := range entries {
		name := e.Name()
		sealed := strings.HasSuffix(name, ".chunk")
		if !sealed && !strings.HasSuffix(name, ".chunk.open") {
			continue // a half-written compaction, or anything else
		}
		t.out.Requests++
		path := filepath.Join(dir, name)
		if !sealed {
			t.out.Truncated = true
			if out, err := exec.CommandContext(ctx, cli, "recover", path).CombinedOutput(); err != nil {
				return t.result(), fmt.Errorf("collector: chunkfile recover %s: %w: %s", path, err, bytes.TrimSpace(out))
			}
		}
		if err := dumpSegment(ctx, cli, path, t); err != nil {
			return t.result(), err
		}
	}
	return t.result(), nil
}

func dumpSegment(ctx context.Context, cli, path string, t *tally) error {
	cmd := exec.CommandContext(ctx, cli, "dump", "-format", "json", path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("collector: %s: %w", cli, err)
	}
	rerr := readDump(bufio.NewReaderSize(stdout, 1<<20), t)
	if rerr != nil {
		_, _ = io.Copy(io.Discard, stdout) // let the CLI finish writing
	}
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("collector: chunkfile dump %s: %w: %s", path, err, strings.TrimSpace(stderr.String()))
	}
	return rerr
}

// dumpLine is one line of the CLI's JSON lines dump (cmd/chunkfile/jsonl.go): a series
// definition, or a point of a series defined before it. Only what the tally needs is decoded.
type dumpLine struct {
	Series *struct {
		ID         uint64     `json:"id"`
		Name       string     `json:"name"`
		Kind       string     `json:"kind"`
		Attributes []dumpAttr `json:"attributes"`
		Resource   []dumpAttr `json:"resource"`
	} `json:"series"`
	ID    uint64          `json:"id"`
	T     int64           `json:"t"`
	Int   *int64          `json:"int"`
	Float json.RawMessage `json:"float"`
}

// dumpAttr is a typed attribute; its value is kept as the JSON text of whichever field is set.
type dumpAttr struct {
	Key    string          `json:"key"`
	String *string         `json:"string"`
	Int    json.RawMessage `json:"int"`
	Double json.RawMessage `json:"double"`
	Bool   json.RawMessage `json:"bool"`
	Bytes  json.RawMessage `json:"bytes"`
}

func (a dumpAttr) kv() string {
	if a.String != nil {
		return a.Key + "=" + *a.String
	}
	for _, raw := range []json.RawMessage{a.Int, a.Double, a.Bool, a.Bytes} {
		if raw != nil {
			return a.Key + "=" + string(raw)
		}
	}
	return a.Key + "="
}

// dumpSeries is what the tally needs of a series: its name only for metametrics, its
// prefix (interned) and the hash of its identity for counters.
type dumpSeries struct {
	prefix, meta, outcome string
	sum                   bool
	id                    uint64
}

var errDump = errors.New("collector: bad chunkfile dump")

// readDump adds one segment's dump to t. Series ids are the segment's own.
func readDump(r io.Reader, t *tally) error {
	dec := json.NewDecoder(r)
	var series []dumpSeries
	prefixes := map[string]string{}
	for {
		var l dumpLine
		if err := dec.Decode(&l); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("%w: %v", errDump, err)
		}
		if s := l.Series; s != nil {
			if s.ID != uint64(len(series)) {
				return fmt.Errorf("%w: series %d defined after %d others", errDump, s.ID, len(series))
			}
			p := prefix(s.Name)
			if _, ok := prefixes[p]; !ok {
				prefixes[p] = p
			}
			ds := dumpSeries{prefix: prefixes[p], sum: s.Kind == "sum"}
			if p == metaPrefix {
				ds.meta = s.Name
				for _, a := range s.Attributes {
					if a.Key == "fairshare.outcome" && a.String != nil {
						ds.outcome = *a.String
					}
				}
			} else if ds.sum {
				var attrs, resource []string
				for _, a := range s.Attributes {
					attrs = append(attrs, a.kv())
				}
				for _, a := range s.Resource {
					resource = append(resource, a.kv())
				}
				ds.id = t.seriesID(s.Name, resource, attrs)
			}
			series = append(series, ds)
			continue
		}
		if l.ID >= uint64(len(series)) {
			return fmt.Errorf("%w: a point of undefined series %d", errDump, l.ID)
		}
		t.out.Points++
		s := &series[l.ID]
		var v float64
		switch {
		case l.Int != nil:
			v = float64(*l.Int)
		case l.Float != nil:
			if err := json.Unmarshal(l.Float, &v); err != nil {
				continue // NaN or an infinity, written as the hex string of its bits: no number to add
			}
		default:
			continue // a histogram or a summary
		}
		if s.meta != "" {
			t.meta(s.meta, s.outcome, l.T, v)
		}
		if s.sum {
			t.counter(s.prefix, s.id, v)
		}
	}
}
