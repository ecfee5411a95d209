package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/doghouse-otel/doghouse/chunkfile"
)

// filterFlags are the time range and series filters shared by dump and stats.
type filterFlags struct {
	from, to string
	name     string
	attrs    multiFlag
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(s string) error { *m = append(*m, s); return nil }

func (f *filterFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.from, "from", "", "keep points at or after this time (unix ms or RFC 3339)")
	fs.StringVar(&f.to, "to", "", "keep points at or before this time (unix ms or RFC 3339)")
	fs.StringVar(&f.name, "name", "", "keep series whose name matches this glob (path.Match syntax)")
	fs.Var(&f.attrs, "attr", "keep series with attribute key=value (repeatable; all must match)")
}

func parseTime(s string) (int64, error) {
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return ms, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, fmt.Errorf("time %q is neither unix milliseconds nor RFC 3339", s)
	}
	return t.UnixMilli(), nil
}

// options turns the flags into reader options.
func (f *filterFlags) options() (chunkfile.ReaderOptions, error) {
	var o chunkfile.ReaderOptions
	if f.from != "" || f.to != "" {
		tr := &chunkfile.TimeRange{Min: math.MinInt64, Max: math.MaxInt64}
		var err error
		if f.from != "" {
			if tr.Min, err = parseTime(f.from); err != nil {
				return o, err
			}
		}
		if f.to != "" {
			if tr.Max, err = parseTime(f.to); err != nil {
				return o, err
			}
		}
		o.Time = tr
	}
	if f.name != "" {
		if _, err := path.Match(f.name, ""); err != nil {
			return o, fmt.Errorf("-name %q: %w", f.name, err)
		}
	}
	type kv struct{ k, v string }
	var want []kv
	for _, a := range f.attrs {
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			return o, fmt.Errorf("-attr %q: want key=value", a)
		}
		want = append(want, kv{k, v})
	}
	if f.name != "" || len(want) > 0 {
		o.Match = func(s *chunkfile.Series) bool {
			if f.name != "" {
				if ok, _ := path.Match(f.name, s.Name); !ok {
					return false
				}
			}
			for _, w := range want {
				v, ok := s.Attr(w.k)
				if !ok || v.String() != w.v {
					return false
				}
			}
			return true
		}
	}
	return o, nil
}

func dumpCmd(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("dump", flag.ContinueOnError)
	fs.SetOutput(stderr)
	format := fs.String("format", "json", "output format: json (JSON lines, re-importable), csv or opentsdb")
	var ff filterFlags
	ff.register(fs)
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		if err == nil {
			fmt.Fprintln(stderr, "usage: chunkfile dump [flags] <file>")
		}
		return 2
	}
	opts, err := ff.options()
	if err != nil {
		return fail(stderr, "dump", err)
	}
	r, err := chunkfile.OpenFile(fs.Arg(0), opts)
	if err != nil {
		return fail(stderr, "dump", err)
	}
	defer r.Close()
	out := bufio.NewWriterSize(stdout, 1<<16)
	defer out.Flush()
	var d dumper
	switch *format {
	case "json":
		d = &jsonDumper{enc: json.NewEncoder(out), r: r}
	case "csv":
		d = &csvDumper{w: out}
	case "opentsdb":
		d = &tsdbDumper{w: out, stderr: stderr}
	default:
		return fail(stderr, "dump", fmt.Errorf("unknown format %q", *format))
	}
	for r.Next() {
		if err := d.batch(r.Batch()); err != nil {
			return fail(stderr, "dump", err)
		}
	}
	if err := d.end(); err != nil {
		return fail(stderr, "dump", err)
	}
	if err := r.Err(); err != nil {
		out.Flush()
		return fail(stderr, "dump", err)
	}
	return 0
}

type dumper interface {
	batch(*chunkfile.Batch) error
	end() error
}

// jsonDumper writes the series definitions the reader has met (in id order) before points.
type jsonDumper struct {
	enc  *json.Encoder
	r    *chunkfile.Reader
	done int
}

func (d *jsonDumper) defs() error {
	for ; d.done < d.r.NumSeries(); d.done++ {
		s, _ := d.r.Series(chunkfile.SeriesRef(d.done))
		if err := d.enc.Encode(jline{Series: toJSeries(uint64(d.done), s)}); err != nil {
			return err
		}
	}
	return nil
}

func (d *jsonDumper) batch(b *chunkfile.Batch) error {
	if err := d.defs(); err != nil {
		return err
	}
	for i := range b.Len() {
		if err := d.enc.Encode(jline{PointLine: toJPoint(uint64(b.Ref), b.Point(i))}); err != nil {
			return err
		}
	}
	return nil
}

func (d *jsonDumper) end() error { return d.defs() }

func attrString(as []chunkfile.Attr, sep string) string {
	var sb strings.Builder
	for i, a := range as {
		if i > 0 {
			sb.WriteString(sep)
		}
		sb.WriteString(a.Key)
		sb.WriteByte('=')
		sb.WriteString(a.Value.String())
	}
	return sb.String()
}

func fmtFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// csvDumper writes one row per point: numbers in value; histograms and summaries as count
// and sum (buckets and quantiles are in the JSON dump).
type csvDumper struct {
	w      *bufio.Writer
	header bool
}

func csvQuote(s string) string {
	if strings.ContainsAny(s, ",\"\n\r") {
		return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
	}
	return s
}

func (d *csvDumper) batch(b *chunkfile.Batch) error {
	if !d.header {
		d.w.WriteString("id,name,kind,attributes,t_ms,start_ms,value,count,sum\n")
		d.header = true
	}
	prefix := fmt.Sprintf("%d,%s,%s,%s,", b.Ref, csvQuote(b.Series.Name), b.Series.Kind, csvQuote(attrString(b.Series.Attrs, ";")))
	for i := range b.Len() {
		p := b.Point(i)
		var value, count, sum string
		switch {
		case p.Hist != nil:
			count, sum = strconv.FormatUint(p.Hist.Count, 10), fmtFloat(p.Hist.Sum)
		case p.Exp != nil:
			count, sum = strconv.FormatUint(p.Exp.Count, 10), fmtFloat(p.Exp.Sum)
		case p.Summary != nil:
			count, sum = strconv.FormatUint(p.Summary.Count, 10), fmtFloat(p.Summary.Sum)
		case p.Num.IsInt:
			value = strconv.FormatInt(p.Num.Int, 10)
		default:
			value = fmtFloat(p.Num.Float)
		}
		start := ""
		if p.Start != 0 {
			start = strconv.FormatInt(p.Start, 10)
		}
		fmt.Fprintf(d.w, "%s%d,%s,%s,%s,%s\n", prefix, p.T, start, value, count, sum)
	}
	return nil
}

func (d *csvDumper) end() error { return nil }

// tsdbDumper writes OpenTSDB put lines with millisecond timestamps. Histograms and summaries
// become <name>.count and <name>.sum; values OpenTSDB cannot store (NaN, infinities) are
// skipped and counted on stderr.
type tsdbDumper struct {
	w       *bufio.Writer
	stderr  io.Writer
	skipped int
}

// tsdbToken keeps the characters OpenTSDB allows in metric names and tags.
func tsdbToken(s string) string {
	if s == "" {
		return "_"
	}
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./", r) {
			return r
		}
		return '_'
	}, s)
}

func (d *tsdbDumper) put(name string, t int64, v string, tags string) {
	fmt.Fprintf(d.w, "put %s %d %s%s\n", name, t, v, tags)
}

func (d *tsdbDumper) batch(b *chunkfile.Batch) error {
	name := tsdbToken(b.Series.Name)
	var tags strings.Builder
	for _, as := range [][]chunkfile.Attr{b.Series.Resource, b.Series.Attrs} {
		for _, a := range as {
			fmt.Fprintf(&tags, " %s=%s", tsdbToken(a.Key), tsdbToken(a.Value.String()))
		}
	}
	if tags.Len() == 0 {
		tags.WriteString(" series=" + strconv.FormatUint(uint64(b.Ref), 10)) // OpenTSDB needs a tag
	}
	tg := tags.String()
	float := func(metric string, t int64, v float64) {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			d.skipped++
			return
		}
		d.put(metric, t, fmtFloat(v), tg)
	}
	for i := range b.Len() {
		p := b.Point(i)
		switch {
		case p.Hist != nil:
			d.put(name+".count", p.T, strconv.FormatUint(p.Hist.Count, 10), tg)
			float(name+".sum", p.T, p.Hist.Sum)
		case p.Exp != nil:
			d.put(name+".count", p.T, strconv.FormatUint(p.Exp.Count, 10), tg)
			float(name+".sum", p.T, p.Exp.Sum)
		case p.Summary != nil:
			d.put(name+".count", p.T, strconv.FormatUint(p.Summary.Count, 10), tg)
			float(name+".sum", p.T, p.Summary.Sum)
		case p.Num.IsInt:
			d.put(name, p.T, strconv.FormatInt(p.Num.Int, 10), tg)
		default:
			float(name, p.T, p.Num.Float)
		}
	}
	return nil
}

func (d *tsdbDumper) end() error {
	if d.skipped > 0 {
		fmt.Fprintf(d.stderr, "chunkfile dump: skipped %d NaN or infinite values OpenTSDB cannot store\n", d.skipped)
	}
	return nil
}

var errUsage = errors.New("usage")
