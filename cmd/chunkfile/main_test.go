package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/doghouse-otel/doghouse/chunkfile"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const golden = "../../chunkfile/testdata/golden-v1.0.chunk"

func runCmd(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

// TestDumpImportDump is the serialize/deserialize round trip of the seed: a JSON dump read back
// by import gives a file whose dump is identical, special floats and all kinds included.
func TestDumpImportDump(t *testing.T) {
	code, dump1, errs := runCmd(t, "", "dump", golden)
	if code != 0 {
		t.Fatalf("dump: %d %s", code, errs)
	}
	if !strings.Contains(dump1, `"float":"0x7ff80000deadbeef"`) || !strings.Contains(dump1, `"float":-0`) ||
		!strings.Contains(dump1, `"exponential_histogram"`) || !strings.Contains(dump1, `"summary":{`) {
		t.Fatal("dump lacks the special values and kinds of the golden file")
	}
	path := filepath.Join(t.TempDir(), "imported.chunk")
	code, out, errs := runCmd(t, dump1, "import", "-o", path)
	if code != 0 || !strings.Contains(out, "imported 630 points") {
		t.Fatalf("import: %d %q %s", code, out, errs)
	}
	code, dump2, errs := runCmd(t, "", "dump", path)
	if code != 0 {
		t.Fatalf("second dump: %d %s", code, errs)
	}
	if dump1 == dump2 {
		t.Log("identical byte for byte")
	}
	if c1, c2 := canonical(t, dump1), canonical(t, dump2); c1 != c2 {
		t.Fatal("dump -> import -> dump changed the data")
	}
	// import refuses to overwrite.
	if code, _, _ := runCmd(t, dump1, "import", "-o", path); code != 1 {
		t.Fatalf("import over an existing file exited %d", code)
	}
}

// canonical orders a JSON dump by series: definitions, then each series' points in their
// order. Dumps list points block by block, and a re-imported file may cut blocks elsewhere.
func canonical(t *testing.T, dump string) string {
	t.Helper()
	var defs []string
	byID := map[int][]string{}
	ids := []int{}
	re := regexp.MustCompile(`^\{"id":(\d+),`)
	for _, l := range strings.Split(strings.TrimSpace(dump), "\n") {
		if strings.HasPrefix(l, `{"series":`) {
			defs = append(defs, l)
			continue
		}
		m := re.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("unexpected dump line %q", l)
		}
		id, _ := strconv.Atoi(m[1])
		if _, ok := byID[id]; !ok {
			ids = append(ids, id)
		}
		byID[id] = append(byID[id], l)
	}
	slices.Sort(ids)
	out := strings.Join(defs, "\n")
	for _, id := range ids {
		out += "\n" + strings.Join(byID[id], "\n")
	}
	return out
}

func TestImportRejectsBadInput(t *testing.T) {
	dir := t.TempDir()
	for name, in := range map[string]string{
		"undefined series": `{"id":3,"t":1,"int":1}`,
		"no value":         `{"series":{"id":0,"name":"a","kind":"gauge"}}` + "\n" + `{"id":0,"t":1}`,
		"bad kind":         `{"series":{"id":0,"name":"a","kind":"thing"}}`,
		"not json":         `hello`,
	} {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "_"))
		code, _, errs := runCmd(t, in, "import", "-o", path)
		if code != 1 || !strings.Contains(errs, "line ") {
			t.Errorf("%s: exit %d, %q", name, code, errs)
		}
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Errorf("%s: failed import left %s behind", name, path)
		}
	}
}

func TestDumpFormatsAndFilters(t *testing.T) {
	code, out, _ := runCmd(t, "", "dump", "-format", "csv", "-name", "gauge.dec*", "-from", "1700000010000", "-to", "2023-11-14T22:13:31Z", golden)
	want := "id,name,kind,attributes,t_ms,start_ms,value,count,sum\n" +
		"0,gauge.decimal,gauge,host=a,1700000010000,,28.63,,\n" +
		"0,gauge.decimal,gauge,host=a,1700000011000,,91.77,,\n"
	if code != 0 || out != want {
		t.Fatalf("csv: exit %d\n%s\nwant\n%s", code, out, want)
	}
	code, out, errs := runCmd(t, "", "dump", "-format", "opentsdb", "-attr", "host=a", "-to", "1700000001000", golden)
	if code != 0 || out != "put gauge.decimal 1700000000000 1.94 host=a\nput gauge.decimal 1700000001000 43.99 host=a\n" {
		t.Fatalf("opentsdb: exit %d %q %s", code, out, errs)
	}
	code, out, errs = runCmd(t, "", "dump", "-format", "opentsdb", "-name", "gauge.special", golden)
	if code != 0 || strings.Contains(out, "NaN") || !strings.Contains(errs, "skipped") {
		t.Fatalf("opentsdb special values: exit %d, stderr %q", code, errs)
	}
	code, out, _ = runCmd(t, "", "dump", "-format", "opentsdb", "-name", "histogram", "-to", "1700000000000", golden)
	if code != 0 || !strings.HasPrefix(out, "put histogram.count 1700000000000 50 series=4\nput histogram.sum 1700000000000 123.5 series=4\n") {
		t.Fatalf("opentsdb histogram: %q", out)
	}
	if code, _, _ := runCmd(t, "", "dump", "-format", "xml", golden); code != 1 {
		t.Fatal("unknown format accepted")
	}
	if code, _, _ := runCmd(t, "", "dump", "-from", "yesterday", golden); code != 1 {
		t.Fatal("bad time accepted")
	}
}

func TestVerify(t *testing.T) {
	code, out, _ := runCmd(t, "", "verify", golden)
	if code != 0 || !strings.Contains(out, "ok, sealed, 7 series, 630 points") {
		t.Fatalf("verify golden: %d %q", code, out)
	}
	data, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	bad := bytes.Clone(data)
	bad[len(bad)/2] ^= 0x10
	path := filepath.Join(t.TempDir(), "bad.chunk")
	if err := os.WriteFile(path, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, _ = runCmd(t, "", "verify", path)
	m := regexp.MustCompile(`CORRUPT at offset (\d+)`).FindStringSubmatch(out)
	if code != 1 || m == nil {
		t.Fatalf("verify corrupt file: exit %d %q", code, out)
	}
	off, _ := strconv.Atoi(m[1])
	if off > len(bad)/2 || off < 12 {
		t.Fatalf("corruption at byte %d reported at offset %d", len(bad)/2, off)
	}
}

func TestRecoverAndStats(t *testing.T) {
	data, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "torn.chunk")
	// Drop the trailer, the footer and part of the last block: a crashed writer.
	if err := os.WriteFile(path, data[:len(data)-200], 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, _ := runCmd(t, "", "verify", path)
	if code != 1 {
		t.Fatalf("torn file verified: %q", out)
	}
	code, out, errs := runCmd(t, "", "recover", path)
	if code != 0 || !strings.Contains(out, "sealed; kept 7 series") || !strings.Contains(out, "dropped") {
		t.Fatalf("recover: %d %q %s", code, out, errs)
	}
	if code, out, _ = runCmd(t, "", "verify", path); code != 0 || !strings.Contains(out, "ok, sealed") {
		t.Fatalf("verify after recover: %d %q", code, out)
	}
	if code, out, _ = runCmd(t, "", "recover", path); code != 0 || !strings.Contains(out, "already sealed") {
		t.Fatalf("second recover: %q", out)
	}
	code, out, _ = runCmd(t, "", "stats", golden)
	for _, want := range []string{"series:      7", "events:      630", "time range:  1700000000000 .. 1700000089003 ms",
		"histogram:", "exponential_histogram:", "summary:", "gauge:                      3 series        270 events"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("stats lacks %q:\n%s", want, out)
		}
	}
}

// TestRollup: a tier file of the golden file, read back with dump and verify. The expected
// figures of sum.counter's first minute (41 points, 1002 to 1120, increase 118) were computed
// with awk from 'chunkfile dump -format csv -name sum.counter', not by the rollup code.
func TestRollup(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "golden-1m.chunk")
	code, out, errs := runCmd(t, "", "rollup", "-res", "1m", "-o", path, golden)
	if code != 0 || !strings.Contains(out, "7 series, 14 windows, 63 points from 630 raw points") {
		t.Fatalf("rollup: %d %q %s", code, out, errs)
	}
	code, out, _ = runCmd(t, "", "dump", "-format", "csv", "-name", "sum.counter", "-to", "1700000040000", path)
	for _, want := range []string{
		"sum.counter,sum,__rollup__=count,1700000040000,1699999980000,41,",
		"sum.counter,sum,__rollup__=increase,1700000040000,1699999980000,118,",
		"sum.counter,sum,__rollup__=first,1700000040000,1699999980000,1002,",
		"sum.counter,sum,__rollup__=last,1700000040000,1699999980000,1120,",
	} {
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("dump of the rollup lacks %q:\n%s", want, out)
		}
	}
	if code, out, _ := runCmd(t, "", "verify", path); code != 0 || !strings.Contains(out, "ok, sealed, 31 series, 63 points") {
		t.Fatalf("verify rollup: %d %q", code, out)
	}
	// Refusals leave no file behind (and do not touch an existing one).
	if code, _, _ := runCmd(t, "", "rollup", "-res", "1m", "-o", path, golden); code != 1 {
		t.Fatalf("rollup over an existing file exited %d", code)
	}
	if code, _, _ := runCmd(t, "", "rollup", "-o", filepath.Join(dir, "x"), golden); code != 2 {
		t.Fatal("rollup without -res")
	}
	odd := filepath.Join(dir, "odd.chunk")
	if code, _, errs := runCmd(t, "", "rollup", "-res", "1500us", "-o", odd, golden); code != 1 || !strings.Contains(errs, "whole number of milliseconds") {
		t.Fatalf("rollup -res 1500us: %d %q", code, errs)
	}
	data, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	torn := filepath.Join(dir, "torn.chunk")
	if err := os.WriteFile(torn, data[:len(data)-200], 0o644); err != nil {
		t.Fatal(err)
	}
	out2 := filepath.Join(dir, "torn-1m.chunk")
	if code, _, errs := runCmd(t, "", "rollup", "-res", "1m", "-o", out2, torn); code != 1 || !strings.Contains(errs, "chunkfile recover") {
		t.Fatalf("rollup of an unsealed file: %d %q", code, errs)
	}
	for _, p := range []string{odd, out2} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("a failed rollup left %s", p)
		}
	}
}

func TestUsage(t *testing.T) {
	if code, _, errs := runCmd(t, ""); code != 2 || !strings.Contains(errs, "usage") {
		t.Fatal("no command")
	}
	if code, _, _ := runCmd(t, "", "frobnicate"); code != 2 {
		t.Fatal("unknown command")
	}
	if code, _, _ := runCmd(t, "", "dump"); code != 2 {
		t.Fatal("dump without file")
	}
}

var _ = chunkfile.KindGauge
