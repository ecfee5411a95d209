package collector

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.uber.org/goleak"
)

// fakeEnv makes the test binary act as a collector: it logs readiness, serves /metrics and exits
// on SIGTERM, unless the value is "stubborn", in which case it ignores SIGTERM.
const fakeEnv = "TESTBED_FAKE_COLLECTOR"

func TestMain(m *testing.M) {
	if mode := os.Getenv(fakeEnv); mode != "" {
		fakeCollector(mode)
		return
	}
	goleak.VerifyTestMain(m)
}

func fakeCollector(mode string) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM)
	ln, err := net.Listen("tcp", os.Getenv("TESTBED_FAKE_ADDR"))
	if err != nil {
		os.Exit(3)
	}
	go func() {
		_ = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			fmt.Fprintln(w, "otelcol_receiver_dogstatsd_lines 7")
		}))
	}()
	fmt.Fprintln(os.Stderr, "info\tservice.go:256\tEverything is ready. Begin running and processing data.")
	deadline := time.After(60 * time.Second) // never outlive a broken test
	for {
		select {
		case <-sigs:
			if mode != "stubborn" {
				os.Exit(0)
			}
		case <-deadline:
			os.Exit(4)
		}
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func startFake(t *testing.T, mode string) (*Process, string) {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	t.Setenv(fakeEnv, mode)
	t.Setenv("TESTBED_FAKE_ADDR", addr)
	p, err := Start(Doghouse, os.Args[0], "unused.yaml")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Kill)
	url := "http://" + addr + "/metrics"
	if err := p.WaitReady(url, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	return p, url
}

func TestProcessStopsOnSIGTERM(t *testing.T) {
	p, url := startFake(t, "polite")
	sc, err := ScrapeURL(url, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if got := sc.Get("otelcol_receiver_dogstatsd_lines"); got != 7 {
		t.Fatalf("scraped %v, want 7", got)
	}
	if err := p.Stop(10 * time.Second); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if alive(p.PID) || len(Running()) != 0 {
		t.Fatalf("pid %d still running after Stop (registered: %v)", p.PID, Running())
	}
}

func TestProcessIsKilledWhenSIGTERMIsIgnored(t *testing.T) {
	p, _ := startFake(t, "stubborn")
	start := time.Now()
	if err := p.Stop(300 * time.Millisecond); !errors.Is(err, ErrKilled) {
		t.Fatalf("stop returned %v, want ErrKilled", err)
	}
	if time.Since(start) > 10*time.Second || alive(p.PID) {
		t.Fatalf("pid %d not killed promptly", p.PID)
	}
}

func TestKillAllLeavesNothingRunning(t *testing.T) {
	a, _ := startFake(t, "stubborn")
	b, _ := startFake(t, "polite")
	KillAll()
	for _, p := range []*Process{a, b} {
		if alive(p.PID) {
			t.Fatalf("pid %d survived KillAll", p.PID)
		}
	}
	if len(Running()) != 0 {
		t.Fatalf("still registered: %v", Running())
	}
}

func TestWaitReadyReportsAnEarlyExit(t *testing.T) {
	p, err := Start(Doghouse, "/bin/false", "x.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Kill()
	if err := p.WaitReady("http://127.0.0.1:1/metrics", 10*time.Second); err == nil || !strings.Contains(err.Error(), "exited") {
		t.Fatalf("WaitReady on a process that exits: %v", err)
	}
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	return i >= 0 && len(b) > i+2 && b[i+2] != 'Z'
}

func TestParsePromFromRealCollectors(t *testing.T) {
	open := func(name string) Scrape {
		f, err := os.Open(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		sc, err := ParseProm(f)
		if err != nil {
			t.Fatal(err)
		}
		return sc
	}
	dh := open("doghouse.prom")
	for name, want := range map[string]float64{
		"otelcol_receiver_dogstatsd_lines":          51,
		"otelcol_receiver_dogstatsd_samples":        50,
		"otelcol_receiver_dogstatsd_lines_rejected": 1,
		"otelcol_receiver_dogstatsd_queue_drops":    0,
	} {
		if got := dh.Get(name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	if v, ok := dh.Sum("otelcol_receiver_dogstatsd_kernel_drops", map[string]string{"transport": "udp"}); !ok || v != 0 {
		t.Errorf("kernel drops %v, %v", v, ok)
	}
	if _, ok := dh.Sum("otelcol_receiver_dogstatsd_kernel_drops", map[string]string{"transport": "unix"}); ok {
		t.Error("matched a label value that is not there")
	}
	c := open("contrib.prom")
	if v, ok := c.Sum("otelcol_receiver_received_statsd_metrics", map[string]string{"parse_success": "true"}); !ok || v != 200 {
		t.Errorf("contrib parsed lines %v, %v", v, ok)
	}
}

func TestParsePromSyntax(t *testing.T) {
	sc, err := ParseProm(strings.NewReader(`# HELP x_total a counter
x_total{a="1",b="q\"uote\\d"} 3
x_total{a="2"} 4 1700000000000
y 1.5e3
`))
	if err != nil {
		t.Fatal(err)
	}
	if got := sc.Get("x"); got != 7 {
		t.Fatalf("x (with _total) = %v, want 7", got)
	}
	if v, _ := sc.Sum("x", map[string]string{"b": `q"uote\d`}); v != 3 {
		t.Fatalf("escaped label match = %v", v)
	}
	if sc.Get("y") != 1500 {
		t.Fatalf("y = %v", sc.Get("y"))
	}
	for _, bad := range []string{"novalue", `x{a="1} 2`, "x{a} 1", "x abc", "x 1 2 3"} {
		if _, err := ParseProm(strings.NewReader(bad + "\n")); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

func TestReadOutputOfTheContribFileExporter(t *testing.T) {
	// 250 lines "a.b:1|c|#x:y" from 250 client sockets, read by the contrib receiver and written
	// by the contrib file exporter (format: proto).
	out, err := ReadOutput(filepath.Join("testdata", "contrib-file-exporter.pb"))
	if err != nil {
		t.Fatal(err)
	}
	if out.CounterSum["a"] != 250 || out.Truncated || out.Points != 250 {
		t.Fatalf("got %+v, want a counter total of 250 in 250 points", out)
	}
}

func framed(t *testing.T, mds ...pmetric.Metrics) []byte {
	t.Helper()
	var b []byte
	var m pmetric.ProtoMarshaler
	for _, md := range mds {
		p, err := m.MarshalMetrics(md)
		if err != nil {
			t.Fatal(err)
		}
		b = binary.BigEndian.AppendUint32(b, uint32(len(p)))
		b = append(b, p...)
	}
	return b
}

func sample(host string, counters map[string]float64) pmetric.Metrics {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("host.name", host)
	ms := rm.ScopeMetrics().AppendEmpty().Metrics()
	for name, v := range counters {
		m := ms.AppendEmpty()
		m.SetName(name)
		dps := m.SetEmptySum().DataPoints()
		dp := dps.AppendEmpty()
		dp.SetDoubleValue(v)
		dp.Attributes().PutStr("b", "2")
		dp.Attributes().PutStr("a", "1")
		dp = dps.AppendEmpty()
		dp.SetIntValue(int64(v))
		dp.Attributes().PutStr("a", "1")
	}
	g := ms.AppendEmpty()
	g.SetName("tb.gauge")
	g.SetEmptyGauge().DataPoints().AppendEmpty().SetDoubleValue(1e9)
	return md
}

func TestReadOutputSumsCountersByPrefix(t *testing.T) {
	b := framed(t,
		sample("h1", map[string]float64{"tb.x": 2.5, "rec.y": 10}),
		sample("h1", map[string]float64{"tb.x": 1}),   // same series as above
		sample("h2", map[string]float64{"tb.x": 0.5}), // another host: another series
	)
	out, err := readOutput(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	// Each counter adds its double point and its int point (truncated value).
	if out.CounterSum["tb"] != 2.5+2+1+1+0.5+0 || out.CounterSum["rec"] != 20 {
		t.Fatalf("sums %v", out.CounterSum)
	}
	if out.CounterContexts["tb"] != 4 || out.CounterContexts["rec"] != 2 {
		t.Fatalf("contexts %v", out.CounterContexts)
	}
	if out.Requests != 3 || out.Points != 11 || out.Truncated {
		t.Fatalf("%+v", out)
	}

	// A torn last record (a killed collector) is reported, and what precedes it counts.
	torn, err := readOutput(bytes.NewReader(b[:len(b)-5]))
	if err != nil {
		t.Fatal(err)
	}
	if !torn.Truncated || torn.Requests != 2 {
		t.Fatalf("torn file: %+v", torn)
	}
	if _, err := readOutput(bytes.NewReader([]byte{0, 0, 0, 3, 0xff, 0xff, 0xff})); err == nil {
		t.Fatal("garbage record accepted")
	}
}

// TestConfigsValidate renders every configuration the suite uses and has the built collectors
// validate them, when they are built.
func TestConfigsValidate(t *testing.T) {
	dir := t.TempDir()
	bins := map[Kind]string{
		Doghouse: envOr("DOGHOUSE_OTELCOL", "../../../build/otelcol-doghouse/otelcol-doghouse"),
		Contrib:  envOr("DOGHOUSE_CONTRIB_OTELCOL", "../../build/otelcol-statsd-contrib/otelcol-statsd-contrib"),
	}
	cases := []Settings{
		{Kind: Doghouse, Transport: "udp", Addr: "127.0.0.1:8125", Logs: dir + "/l.pb", Receiver: []string{"queue_size: 256"}, UDPRcvBuf: 4 << 20},
		{Kind: Doghouse, Transport: "udp", Addr: "127.0.0.1:8125", ChunkfileDir: dir + "/chunks", Chunkfile: []string{"max_segment_age: 2s"}},
		{Kind: Doghouse, Transport: "udp", Addr: "127.0.0.1:8125", UDPRcvBuf: SystemRcvBuf},
		{Kind: Doghouse, Transport: "unixgram", Addr: dir + "/g.sock"},
		{Kind: Doghouse, Transport: "unix", Addr: dir + "/s.sock"},
		{Kind: Contrib, Transport: "udp", Addr: "127.0.0.1:8125"},
		{Kind: Contrib, Transport: "unixgram", Addr: dir + "/g.sock"},
	}
	for i, s := range cases {
		s.Output, s.TelemetryPort = dir+"/out.pb", 18888
		path := filepath.Join(dir, fmt.Sprintf("c%d.yaml", i))
		if err := WriteConfig(path, s); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(bins[s.Kind]); err != nil {
			t.Logf("%s not built, rendering only: %v", s.Kind, err)
			continue
		}
		if out, err := exec.Command(bins[s.Kind], "validate", "--config", path).CombinedOutput(); err != nil {
			y, _ := s.YAML()
			t.Errorf("%s %s: %v\n%s\n%s", s.Kind, s.Transport, err, out, y)
		}
	}
	for rcvbuf, want := range map[int]string{0: "", SystemRcvBuf: "so_rcvbuf: 0\n", 4 << 20: "so_rcvbuf: 4194304\n"} {
		y, err := Settings{Kind: Doghouse, Transport: "udp", Addr: "127.0.0.1:8125", UDPRcvBuf: rcvbuf}.YAML()
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(y, "so_rcvbuf"); got != (want != "") || want != "" && !strings.Contains(y, want) {
			t.Errorf("UDPRcvBuf %d: want %q in\n%s", rcvbuf, want, y)
		}
	}
	for _, bad := range []Settings{
		{Kind: Contrib, Transport: "unix"},
		{Kind: Doghouse, Transport: "tcp6"},
		{Kind: "other"},
		{Kind: Contrib, Transport: "udp", ChunkfileDir: dir},
	} {
		if _, err := bad.YAML(); err == nil {
			t.Errorf("rendered %+v", bad)
		}
	}
}

func envOr(k, d string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return d
}

// dumpSample is what `chunkfile dump` writes for two flushes of the fairshare processor: a
// counter of phase "tb" in two series, and the metametrics budget and bytes (the second flush
// kept more than its budget).
const dumpSample = `{"series":{"id":0,"name":"tb.u1.requests","kind":"sum","monotonic":true,"temporality":"delta","attributes":[{"key":"user_id","string":"u1"},{"key":"env","string":"e1"}],"resource":[{"key":"host.name","string":"h"}]}}
{"id":0,"t":1000,"start":0,"int":3}
{"id":0,"t":2000,"start":1000,"float":1.5}
{"series":{"id":1,"name":"tb.u1.requests","kind":"sum","attributes":[{"key":"n","int":7}]}}
{"id":1,"t":2000,"float":"0x7ff8000000000001"}
{"id":1,"t":3000,"int":2}
{"series":{"id":2,"name":"fairshare.budget","kind":"gauge","unit":"By"}}
{"id":2,"t":1000,"int":1000}
{"id":2,"t":2000,"int":1000}
{"series":{"id":3,"name":"fairshare.bytes","kind":"sum","attributes":[{"key":"fairshare.outcome","string":"kept"}]}}
{"id":3,"t":1000,"int":1001}
{"id":3,"t":2000,"int":1500}
{"series":{"id":4,"name":"fairshare.bytes","kind":"sum","attributes":[{"key":"fairshare.outcome","string":"dropped"}]}}
{"id":4,"t":1000,"int":4000}
{"series":{"id":5,"name":"tb.h","kind":"histogram"}}
{"id":5,"t":1000,"histogram":{"count":3,"bounds":[1],"counts":[1,2]}}
`

func TestReadDump(t *testing.T) {
	tl := newTally()
	if err := readDump(strings.NewReader(dumpSample), tl); err != nil {
		t.Fatal(err)
	}
	out := tl.result()
	if out.CounterSum["tb"] != 3+1.5+2 || out.CounterContexts["tb"] != 2 || out.Points != 10 {
		t.Fatalf("%+v", out)
	}
	want := Flushes{Count: 2, OverBudget: 1, Budget: 2000, Kept: 2501, Offered: 6501}
	if out.Flushes != want {
		t.Fatalf("flushes %+v, want %+v", out.Flushes, want)
	}
	for _, bad := range []string{`{"id":0,"t":1,"int":1}`, `{"series":{"id":1,"name":"x","kind":"sum"}}`, `{"series":`} {
		if err := readDump(strings.NewReader(bad), newTally()); !errors.Is(err, errDump) {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

// TestReadChunkfilesWithTheCLI writes dumpSample into a chunk file with `chunkfile import` and
// reads it back through ReadChunkfiles, when the suite has built the CLI.
func TestReadChunkfilesWithTheCLI(t *testing.T) {
	cli := envOr("DOGHOUSE_CHUNKFILE", "../../build/bin/chunkfile")
	if _, err := os.Stat(cli); err != nil {
		t.Skipf("the chunkfile CLI is not built (the suite builds it): %v", err)
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "dump.jsonl")
	if err := os.WriteFile(in, []byte(dumpSample), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(cli, "import", "-o", filepath.Join(dir, "a.chunk"), in).CombinedOutput(); err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	out, err := ReadChunkfiles(t.Context(), cli, dir)
	if err != nil {
		t.Fatal(err)
	}
	if out.CounterSum["tb"] != 6.5 || out.Requests != 1 || out.Truncated || out.Flushes.OverBudget != 1 {
		t.Fatalf("%+v", out)
	}
	// A segment left open goes through `chunkfile recover` first (here one that is sealed
	// already, which recover leaves as it is) and marks the output truncated.
	b, err := os.ReadFile(filepath.Join(dir, "a.chunk"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "b.chunk.open"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err = ReadChunkfiles(t.Context(), cli, dir)
	if err != nil {
		t.Fatal(err)
	}
	if out.CounterSum["tb"] != 13 || out.Requests != 2 || !out.Truncated || out.CounterContexts["tb"] != 2 {
		t.Fatalf("%+v", out)
	}
}

// TestPipelineRendersTheDefaultConfig rewrites the repository's config/default.yaml and has the
// built collector validate it; configurations that would reach outside the run are refused.
func TestPipelineRendersTheDefaultConfig(t *testing.T) {
	dir := t.TempDir()
	p := Pipeline{Source: "../../../config/default.yaml", UDPAddr: "127.0.0.1:18125", Dir: dir, TelemetryPort: 18888}
	pc, err := p.Render()
	if err != nil {
		t.Fatal(err)
	}
	if pc.ChunkDir != filepath.Join(dir, "chunkfile") || !strings.Contains(pc.Metrics, "dogstatsd → fairshare → chunkfile") {
		t.Fatalf("%+v", pc)
	}
	for _, want := range []string{"endpoint: 127.0.0.1:18125", "port: 18888", "host: 127.0.0.1", "merge_attributes:", "endpoint: 127.0.0.1:0"} {
		if !strings.Contains(pc.YAML, want) {
			t.Errorf("config lacks %q:\n%s", want, pc.YAML)
		}
	}
	for _, line := range strings.Split(pc.YAML, "\n") {
		if !strings.HasPrefix(line, "#") && strings.Contains(line, "./") || strings.Contains(line, "8888") && !strings.Contains(line, "18888") {
			t.Errorf("not redirected: %q", line)
		}
	}
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(pc.YAML), 0o600); err != nil {
		t.Fatal(err)
	}
	bin := envOr("DOGHOUSE_OTELCOL", "../../../build/otelcol-doghouse/otelcol-doghouse")
	if _, err := os.Stat(bin); err == nil {
		if out, err := exec.Command(bin, "validate", "--config", path).CombinedOutput(); err != nil {
			t.Errorf("validate: %v\n%s\n%s", err, out, pc.YAML)
		}
	}
	base := "receivers:\n  dogstatsd: {}\nexporters:\n  chunkfile:\n    directory: ./x\nservice:\n  pipelines:\n    metrics:\n      receivers: [dogstatsd]\n      exporters: [chunkfile]\n"
	for name, y := range map[string]string{
		"ok":             base,
		"otlp receiver":  strings.Replace(base, "dogstatsd: {}\n", "dogstatsd: {}\n  otlp: {}\n", 1),
		"otlp exporter":  strings.Replace(base, "exporters:\n", "exporters:\n  otlp:\n    endpoint: x:4317\n", 1),
		"processor path": base + "processors:\n  x:\n    path: ./state\n",
		"extension":      base + "extensions:\n  health_check: {}\n",
		"no chunkfile":   strings.Replace(base, "[chunkfile]", "[debug]", 1),
	} {
		src := filepath.Join(dir, "src.yaml")
		if err := os.WriteFile(src, []byte(y), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Pipeline{Source: src, UDPAddr: "127.0.0.1:1", Dir: dir, TelemetryPort: 1}.Render()
		if (err == nil) != (name == "ok") {
			t.Errorf("%s: err %v", name, err)
		}
	}
}

func TestOverflowMetricsCountUnderTheirOwnPrefix(t *testing.T) {
	for name, want := range map[string]string{
		"dogstatsd.overflow.count":  OverflowPrefix,
		"fairshare.overflow.sum":    OverflowPrefix,
		"fairshare.overflow":        "fairshare", // the metametric of overflow rows, not a metric of data
		"fl.requests.total":         "fl",
		"dogstatsd.something.other": "dogstatsd",
	} {
		if got := prefix(name); got != want {
			t.Errorf("prefix(%q) = %q, want %q", name, got, want)
		}
	}
}
