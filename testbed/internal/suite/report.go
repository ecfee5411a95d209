package suite

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/doghouse-otel/doghouse/testbed/internal/procstat"
)

// Cell is one measured figure; an empty Cell is "n/a".
type Cell struct {
	V  float64
	OK bool
	// Runs is how many runs V is the median of; with more than one, Min and Max are the
	// runs' range and the cell reads "median (min–max)".
	Runs     int
	Min, Max float64
	Note     string // shown after the number, e.g. "(generator-bound in 1 of 3 runs)"
	Text     string // shown instead of the number when set (for yes/no figures)
}

// Num is a measured number.
func Num(v float64) Cell { return Cell{V: v, OK: !math.IsNaN(v) && !math.IsInf(v, 0)} }

// Median is the median of the runs' values with their range. A NaN or infinite value (a run
// without the figure) is left out; with no value left the cell is "n/a".
func Median(vals []float64) Cell {
	var v []float64
	for _, x := range vals {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			v = append(v, x)
		}
	}
	if len(v) == 0 {
		return Cell{}
	}
	c := Num(median(v))
	c.Runs, c.Min, c.Max = len(v), slices.Min(v), slices.Max(v)
	return c
}

// median is the middle value of v, or the mean of the two middle ones.
func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// countNote labels a figure with how many of its n runs the testbed's rule gave label:
// "(generator-bound)" when the one run did, "(generator-bound in 1 of 3 runs)", or "" when none.
func countNote(label string, k, n int) string {
	switch {
	case k == 0:
		return ""
	case n == 1:
		return "(" + label + ")"
	}
	return fmt.Sprintf("(%s in %d of %d runs)", label, k, n)
}

// withNote appends a note to the cell's.
func (c Cell) withNote(note string) Cell {
	if note != "" {
		c.Note = strings.TrimSpace(c.Note + " " + note)
	}
	return c
}

// Text is a figure without a ratio.
func Text(s string) Cell { return Cell{Text: s} }

// NA is a figure a collector cannot produce, with the reason.
func NA(why string) Cell { return Cell{Text: "n/a (" + why + ")"} }

func (c Cell) String() string {
	if c.Text != "" {
		return c.Text
	}
	if !c.OK {
		return "n/a"
	}
	s := formatNum(c.V)
	if c.Runs > 1 {
		s += " (" + formatNum(c.Min) + "–" + formatNum(c.Max) + ")"
	}
	if c.Note != "" {
		s += " " + c.Note
	}
	return s
}

// formatNum prints 3 significant digits with thousands separators for large numbers.
func formatNum(v float64) string {
	a := math.Abs(v)
	switch {
	case a == 0:
		return "0"
	case a >= 1000:
		s := fmt.Sprintf("%.0f", math.Round(v))
		neg := strings.HasPrefix(s, "-")
		s = strings.TrimPrefix(s, "-")
		var b strings.Builder
		for i, r := range s {
			if i > 0 && (len(s)-i)%3 == 0 {
				b.WriteByte(',')
			}
			b.WriteRune(r)
		}
		if neg {
			return "-" + b.String()
		}
		return b.String()
	case a >= 100 || v == math.Trunc(v):
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	case a >= 1:
		return fmt.Sprintf("%.2f", v)
	case a >= 0.001:
		return fmt.Sprintf("%.3g", v)
	}
	return fmt.Sprintf("%.2e", v)
}

// Ratio is doghouse/contrib, "n/a" unless both are numbers and contrib's is not 0.
func Ratio(d, c Cell) string {
	if !d.OK || !c.OK || d.Text != "" || c.Text != "" || c.V == 0 {
		return "n/a"
	}
	r := d.V / c.V
	switch {
	case r >= 100:
		return fmt.Sprintf("%.0f×", r)
	case r >= 10:
		return fmt.Sprintf("%.1f×", r)
	}
	return fmt.Sprintf("%.2f×", r)
}

// Row is one figure for both collectors.
type Row struct {
	Figure            string
	Doghouse, Contrib Cell
	// Cells fill the columns of a table with Columns instead.
	Cells []Cell
}

// Table is one run's (or one scenario's) figures side by side.
type Table struct {
	Caption string
	// Columns, when set, replace the doghouse, contrib and ratio columns: each row's Cells fill
	// them (a column's header names what ran in it).
	Columns []string
	Rows    []Row
}

// Markdown renders the table with the ratio column.
func (t Table) Markdown() string {
	var b strings.Builder
	if t.Caption != "" {
		fmt.Fprintf(&b, "%s\n\n", t.Caption)
	}
	if len(t.Columns) > 0 {
		fmt.Fprintf(&b, "| figure | %s |\n|---|%s\n", strings.Join(t.Columns, " | "), strings.Repeat("---:|", len(t.Columns)))
		for _, r := range t.Rows {
			b.WriteString("| " + r.Figure)
			for i := range t.Columns {
				b.WriteString(" | ")
				if i < len(r.Cells) {
					b.WriteString(r.Cells[i].String())
				}
			}
			b.WriteString(" |\n")
		}
		return b.String()
	}
	b.WriteString("| figure | doghouse | contrib statsd | doghouse / contrib |\n|---|---:|---:|---:|\n")
	for _, r := range t.Rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", r.Figure, r.Doghouse, r.Contrib, Ratio(r.Doghouse, r.Contrib))
	}
	return b.String()
}

// Section is one scenario in the report.
type Section struct {
	// Scenario numbers the section; 0 numbers it by its place in the report.
	Scenario int
	Title    string
	Method   string
	Tables   []Table
	Notes    []string
	// Failed lists checks that did not hold (a scenario still reports its figures).
	Failed []string
}

// Headline is a figure the README quotes.
type Headline struct {
	Scenario int
	Name     string
	// Settings says how the two collectors were configured, in words the run's figures back.
	Settings          string
	Doghouse, Contrib Cell
	// NoRatio marks a count or a share, which a ratio says nothing about.
	NoRatio bool
}

func (h Headline) ratio() string {
	if h.NoRatio {
		return "—"
	}
	return Ratio(h.Doghouse, h.Contrib)
}

// Report is the whole suite's output.
type Report struct {
	Started, Finished time.Time
	Machine           procstat.Machine
	LoadAfter         string
	GoVersion         string
	Commit            string
	// Command is how the run was started ("make bench"), Args the suite's arguments.
	Command string
	Args    []string
	Smoke   bool
	// Dirty says tracked files other than README.md and docs/benchmarks.md differed from Commit.
	Dirty bool
	// Only lists the scenarios run when not all were.
	Only []int
	// Runs is how many times scenarios 1-6 measured each configuration, CardRuns scenarios 7
	// and 8; DurationScale, when set, multiplied the load durations of scenarios 1-5.
	Runs, CardRuns int
	DurationScale  float64
	// RmemDefault is net.core.rmem_default, the socket buffer contrib always has.
	RmemDefault string
	// RateMethod says in a sentence what scenario 1's figures are.
	RateMethod string
	// BufferNote says how long the default UDP socket buffer lasts at 100k lines/s.
	BufferNote string
	Sections   []Section
	Headlines  []Headline
	Goals      []string
}

// Markdown renders docs/benchmarks.md.
func (r *Report) Markdown() string {
	var b strings.Builder
	title := "Benchmarks: otelcol-doghouse vs the contrib statsd receiver"
	if r.Smoke {
		title = "Testbed smoke run (doghouse only)"
	}
	fmt.Fprintf(&b, "# %s\n\n", title)
	fmt.Fprintf(&b, "Generated by %s (testbed/, its own Go module) on %s; the suite took %s. "+
		"Every figure below comes from that one run: rerun it to refresh this file. %s\n\n",
		r.invocation(), r.Started.UTC().Format("2006-01-02 15:04 MST"), r.Finished.Sub(r.Started).Round(time.Second), r.runsNote())
	b.WriteString("## Machine\n\n")
	fmt.Fprintf(&b, "- CPUs: %d (`nproc`), model: %s\n- memory: %s, kernel %s, %s\n", r.Machine.CPUs, r.Machine.Model, r.Machine.MemTotal, r.Machine.Kernel, r.GoVersion)
	if r.Commit != "" {
		fmt.Fprintf(&b, "- doghouse commit: %s\n", r.Commit)
	}
	fmt.Fprintf(&b, "- load average (1, 5, 15 min) at the start: %s; at the end: %s\n\n", r.Machine.LoadAvg, r.LoadAfter)
	b.WriteString("The machine is shared: the load generator, both collectors and whatever else runs there " +
		"compete for the same cores, so every figure depends on the machine's load at the time (given above). " +
		"Compare the two collectors within one run, not figures across runs.")
	if r.BufferNote != "" {
		b.WriteString(" " + r.BufferNote)
	}
	b.WriteString("\n\n")
	if len(r.Headlines) > 0 {
		b.WriteString("## Headline\n\nThe figures README.md quotes (`-readme` writes them there).\n\n")
		b.WriteString(r.headlineTable())
		b.WriteString("\n")
		for _, g := range r.Goals {
			fmt.Fprintf(&b, "- %s\n", g)
		}
		b.WriteString("\n")
	}
	for i, s := range r.Sections {
		fmt.Fprintf(&b, "## %d. %s\n\n", cmpOr(s.Scenario, i+1), s.Title)
		if s.Method != "" {
			fmt.Fprintf(&b, "%s\n\n", s.Method)
		}
		for _, t := range s.Tables {
			b.WriteString(t.Markdown())
			b.WriteString("\n")
		}
		for _, n := range s.Notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
		for _, f := range s.Failed {
			fmt.Fprintf(&b, "- **check failed:** %s\n", f)
		}
		if len(s.Notes)+len(s.Failed) > 0 {
			b.WriteString("\n")
		}
	}
	return b.String()
}

// Failures lists every failed check of the report.
func (r *Report) Failures() []string {
	var out []string
	for _, s := range r.Sections {
		for _, f := range s.Failed {
			out = append(out, s.Title+": "+f)
		}
	}
	return out
}

// headlineTable renders the headlines as a markdown table.
func (r *Report) headlineTable() string {
	var b strings.Builder
	b.WriteString("| figure (scenario) | settings | doghouse | contrib statsd | doghouse / contrib |\n|---|---|---:|---:|---:|\n")
	for _, h := range r.Headlines {
		if !r.ran(h.Scenario) {
			continue
		}
		fmt.Fprintf(&b, "| %s (%d) | %s | %s | %s | %s |\n", h.Name, h.Scenario, h.Settings, h.Doghouse, h.Contrib, h.ratio())
	}
	return b.String()
}

// ran says whether scenario n was part of the run.
func (r *Report) ran(n int) bool { return len(r.Only) == 0 || slices.Contains(r.Only, n) }

// invocation is how the run was started, as a reader would repeat it.
func (r *Report) invocation() string {
	cmd := ""
	if len(r.Args) > 0 {
		cmd = "`cd testbed && go run ./cmd/testbed " + shellJoin(r.Args) + "`"
	}
	switch {
	case r.Command != "" && cmd != "":
		return "`" + r.Command + "`, which runs " + cmd
	case r.Command != "":
		return "`" + r.Command + "`"
	case cmd != "":
		return cmd
	}
	return "a command not recorded"
}

// runsNote says what a figure is: how many runs, and how the run was shortened, if it was.
func (r *Report) runsNote() string {
	if r.Smoke {
		return "Each figure is from one run."
	}
	s := fmt.Sprintf("Scenarios 1-6 and 9 measure each configuration %s and scenarios 7 and 8 %s", times(r.Runs), times(r.CardRuns))
	if r.Runs == r.CardRuns {
		s = "Every scenario measures each configuration " + times(r.Runs)
	}
	s += ", the collectors' runs alternating; a figure is the median of its runs with their range, min–max, in brackets, " +
		"and a ratio is doghouse's median over contrib's (in scenario 9, over VictoriaMetrics')."
	if len(r.Only) > 0 {
		parts := make([]string, len(r.Only))
		for i, n := range r.Only {
			parts[i] = fmt.Sprint(n)
		}
		which := "scenario " + parts[0]
		if len(parts) > 1 {
			which = "scenarios " + strings.Join(parts, ", ")
		}
		s += fmt.Sprintf(" Only %s ran (-only).", which)
	}
	if r.DurationScale > 0 {
		s += fmt.Sprintf(" The load durations of scenarios 1-5 and the load sizes of scenario 9 were multiplied by %g (-duration-scale), a short look.", r.DurationScale)
	}
	return s
}

func times(n int) string {
	switch n {
	case 1:
		return "once"
	case 2:
		return "twice"
	}
	return fmt.Sprintf("%d times", n)
}

// shellJoin quotes the arguments that need it for a POSIX shell.
func shellJoin(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		if a != "" && strings.IndexFunc(a, func(c rune) bool {
			return !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-_./,=:+@%", c))
		}) < 0 {
			out[i] = a
			continue
		}
		out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(out, " ")
}
