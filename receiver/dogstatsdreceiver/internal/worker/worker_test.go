package worker

import (
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.uber.org/goleak"

	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/aggregate"
	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/mapper"
	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/packets"
	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/parse"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type logRecorder struct {
	mu        sync.Mutex
	events    []parse.Event
	checks    []parse.ServiceCheck
	origins   []string
	resources []aggregate.Resource
}

func (r *logRecorder) AddEvent(ev *parse.Event, res aggregate.Resource) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, *ev)
	r.origins = append(r.origins, res.ContainerID)
	r.resources = append(r.resources, res)
}

func (r *logRecorder) AddServiceCheck(sc *parse.ServiceCheck, res aggregate.Resource) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.checks = append(r.checks, *sc)
	r.origins = append(r.origins, res.ContainerID)
	r.resources = append(r.resources, res)
}

func aggConfig() aggregate.Config {
	return aggregate.Config{MaxContexts: 100_000, MaxTimestamped: 1000, MaxBuckets: 160, ScopeName: "t"}
}

func testWorker(t *testing.T, cfg Config, shards int) (*Worker, *aggregate.Aggregator, *packets.Pool, *logRecorder, *Stats) {
	t.Helper()
	pool := packets.NewPool(8192)
	agg := aggregate.New(aggConfig(), shards)
	logs := &logRecorder{}
	stats := &Stats{}
	return New(cfg, pool, agg, logs, stats, time.Now()), agg, pool, logs, stats
}

func packet(pool *packets.Pool, origin, text string) *packets.Packet {
	p := pool.Get()
	p.SetLen(copy(p.Buffer(), text))
	p.Origin = origin
	return p
}

func sumOf(t *testing.T, md pmetric.Metrics, name string) float64 {
	t.Helper()
	var total float64
	var found bool
	rms := md.ResourceMetrics()
	for i := range rms.Len() {
		ms := rms.At(i).ScopeMetrics().At(0).Metrics()
		for j := range ms.Len() {
			if m := ms.At(j); m.Name() == name {
				found = true
				for k := range m.Sum().DataPoints().Len() {
					total += m.Sum().DataPoints().At(k).DoubleValue()
				}
			}
		}
	}
	if !found {
		t.Fatalf("metric %q not emitted", name)
	}
	return total
}

func TestWorkerParsesAggregatesAndRejectsByReason(t *testing.T) {
	w, agg, pool, logs, stats := testWorker(t, Config{BatchSize: 2, InternerSize: 16, InternerMaxLen: 64}, 1)
	w.Process(packets.Packets{
		packet(pool, "", "hits:1|c|#a:1\r\nhits:2|c|#a:1\n\nbad\nhits:x|c\nlat:1:2:3|d\n"),
		packet(pool, "", "_e{5,4}:title|text|#env:prod\n_sc|db|2|m:down\nnan:NaN|g\nhits:4|c|#a:1"),
	})
	md := agg.Flush(time.Unix(0, 0), time.Unix(1, 0))
	if got := sumOf(t, md, "hits"); got != 7 {
		t.Errorf("hits = %v, want 7 (lines across packets and batches)", got)
	}
	if got := stats.Samples.Load(); got != 6 {
		t.Errorf("samples %d, want 6 (3 hits + 3 packed)", got)
	}
	if got := stats.Lines.Load(); got != 9 {
		t.Errorf("lines %d, want 9 (the empty line is not one)", got)
	}
	for reason, want := range map[parse.Reason]uint64{
		parse.ReasonNoValue: 1, parse.ReasonBadValue: 1, parse.ReasonNonFiniteValue: 1,
	} {
		if got := stats.Rejected[reason].Load(); got != want {
			t.Errorf("rejected %s = %d, want %d", reason, got, want)
		}
	}
	if len(logs.events) != 1 || logs.events[0].Title != "title" || len(logs.checks) != 1 || logs.checks[0].Name != "db" {
		t.Errorf("events %+v checks %+v", logs.events, logs.checks)
	}
	if st := pool.Stats(); st.Puts.Load() != 2 {
		t.Errorf("%d packets given back, want 2", st.Puts.Load())
	}
}

func TestWorkerOrigin(t *testing.T) {
	for _, tc := range []struct {
		clientOrigin bool
		want         map[string]bool
	}{
		{false, map[string]bool{"from-socket": true}},
		{true, map[string]bool{"from-socket": true, "from-client": true}},
	} {
		w, agg, pool, logs, _ := testWorker(t, Config{ClientOrigin: tc.clientOrigin, InternerSize: 16, InternerMaxLen: 64}, 1)
		w.Process(packets.Packets{packet(pool, "from-socket", "a:1|c|c:ci-from-client|e:it-false,cn-web,pu-p-123\nb:1|c\n_sc|x|0|c:ci-from-client")})
		md := agg.Flush(time.Unix(0, 0), time.Unix(1, 0))
		got := map[string]bool{}
		for i := range md.ResourceMetrics().Len() {
			attrs := md.ResourceMetrics().At(i).Resource().Attributes()
			v, _ := attrs.Get("container.id")
			got[v.Str()] = true
			pod, hasPod := attrs.Get("k8s.pod.uid")
			cn, _ := attrs.Get("k8s.container.name")
			wantPod := tc.clientOrigin && v.Str() == "from-client"
			if hasPod != wantPod || (wantPod && (pod.Str() != "p-123" || cn.Str() != "web")) {
				t.Errorf("client origin %v: resource %v", tc.clientOrigin, attrs.AsRaw())
			}
		}
		if len(got) != len(tc.want) {
			t.Fatalf("client origin %v: container ids %v, want %v", tc.clientOrigin, got, tc.want)
		}
		for id := range tc.want {
			if !got[id] {
				t.Fatalf("client origin %v: container ids %v, want %v", tc.clientOrigin, got, tc.want)
			}
		}
		wantCheck := "from-socket"
		if tc.clientOrigin {
			wantCheck = "from-client"
		}
		if logs.origins[0] != wantCheck {
			t.Errorf("client origin %v: service check origin %q, want %q", tc.clientOrigin, logs.origins[0], wantCheck)
		}
	}
}

func TestRunDrainsQueue(t *testing.T) {
	w, agg, pool, _, _ := testWorker(t, Config{InternerSize: 16, InternerMaxLen: 64}, 1)
	queue := make(chan packets.Packets, 4)
	done := make(chan struct{})
	go func() { w.Run(queue); close(done) }()
	for range 3 {
		queue <- packets.Packets{packet(pool, "", "n:1|c")}
	}
	close(queue)
	<-done
	if got := sumOf(t, agg.Flush(time.Unix(0, 0), time.Unix(1, 0)), "n"); got != 3 {
		t.Fatalf("n = %v, want 3", got)
	}
}

// point is one emitted data point: its metric name, attributes, resource host and value.
type point struct {
	attrs map[string]any
	host  string
	value float64
}

// sumPoints returns the Sum points of md by metric name.
func sumPoints(md pmetric.Metrics) map[string][]point {
	out := map[string][]point{}
	rms := md.ResourceMetrics()
	for i := range rms.Len() {
		host, _ := rms.At(i).Resource().Attributes().Get("host.name")
		ms := rms.At(i).ScopeMetrics().At(0).Metrics()
		for j := range ms.Len() {
			m := ms.At(j)
			if m.Type() != pmetric.MetricTypeSum {
				out[m.Name()] = append(out[m.Name()], point{})
				continue
			}
			for k := range m.Sum().DataPoints().Len() {
				dp := m.Sum().DataPoints().At(k)
				out[m.Name()] = append(out[m.Name()], point{attrs: dp.Attributes().AsRaw(), host: host.Str(), value: dp.DoubleValue()})
			}
		}
	}
	return out
}

func testRules(t *testing.T) *mapper.Rules {
	t.Helper()
	rules, err := mapper.Compile([]mapper.Profile{
		{Name: "airflow", Prefix: "airflow.", Mappings: []mapper.Mapping{
			{Match: "airflow.job.duration.*.*", Name: "airflow.job.duration", Tags: map[string]string{"job_type": "$1", "job_name": "$2"}},
		}},
		{Name: "servers", Prefix: "servers.", Mappings: []mapper.Mapping{
			{Match: "servers.*.cpu", Name: "cpu", Tags: map[string]string{"host": "$1"}},
			{Match: "servers.*.mem", Name: "mem"},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return rules
}

// TestWorkerRenamesInTheAgentsOrder sends lines through a worker with all three options on:
// the mapper renames and tags, the namespace prefixes the mapped name (not the excluded ones),
// and the blocklist is tested on the prefixed name. The batch size of 2 makes lines with mapper
// tags span batch flushes, so the tag buffer they are appended to is reused under them.
func TestWorkerRenamesInTheAgentsOrder(t *testing.T) {
	w, agg, pool, logs, stats := testWorker(t, Config{
		BatchSize: 2, InternerSize: 64, InternerMaxLen: 64,
		Mapper: testRules(t), MapperCacheSize: 8,
		Namespace: "ns", NamespaceExclusions: []string{"datadog.agent", "jvm"},
		Blocklist: []string{"ns.blocked", "ns.airflow.job.duration.x"},
	}, 2)
	w.Process(packets.Packets{packet(pool, "", strings.Join([]string{
		"airflow.job.duration.etl.load:5|c|#env:prod",
		"plain:1|c|#env:prod",
		"airflow.job.duration.etl.load:2|c|#env:prod,job_name:client", // the line's tag stays beside the mapper's
		"airflow.job.duration.etl.store:1:2|c",                        // packed: both samples mapped
		"servers.web01.cpu:3|c|#host:from-line",                       // the mapping's host wins
		"servers.web02.mem:1|c|#host:from-line",
		"datadog.agent.running:1|c", // excluded from the namespace
		"jvm.heap:1|c",
		"blocked:1:1:1|c|#a:b", // blocked once prefixed: three samples
		"ns.blocked:1|c",       // becomes ns.ns.blocked: not blocked
		"airflow.unmapped.x:1|c",
		"_e{5,4}:title|text|#env:prod",
		"_sc|blocked|0",
		"after.blocked:1|c|#z:1",
	}, "\n"))})
	got := sumPoints(agg.Flush(time.Unix(0, 0), time.Unix(1, 0)))

	want := map[string][]point{
		"ns.airflow.job.duration": {
			{attrs: map[string]any{"env": "prod", "job_type": "etl", "job_name": "load"}, value: 5},
			{attrs: map[string]any{"job_type": "etl", "job_name": "store"}, value: 3},
			{attrs: map[string]any{"env": "prod", "job_type": "etl", "job_name": []any{"client", "load"}}, value: 2},
		},
		"ns.plain":              {{attrs: map[string]any{"env": "prod"}, value: 1}},
		"ns.cpu":                {{attrs: map[string]any{}, host: "web01", value: 3}},
		"ns.mem":                {{attrs: map[string]any{}, host: "from-line", value: 1}},
		"datadog.agent.running": {{attrs: map[string]any{}, value: 1}},
		"jvm.heap":              {{attrs: map[string]any{}, value: 1}},
		"ns.ns.blocked":         {{attrs: map[string]any{}, value: 1}},
		"ns.airflow.unmapped.x": {{attrs: map[string]any{}, value: 1}},
		"ns.after.blocked":      {{attrs: map[string]any{"z": "1"}, value: 1}},
	}
	for _, pts := range got {
		slices.SortFunc(pts, func(a, b point) int { return int(b.value - a.value) }) // by value, descending
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("points\n got %v\nwant %v", got, want)
	}
	if b := stats.Blocked.Load(); b != 3 {
		t.Errorf("blocked %d, want 3 (the packed blocked line)", b)
	}
	if s := stats.Samples.Load(); s != 12 {
		t.Errorf("samples %d, want 12 (blocked ones are not handed to the aggregator)", s)
	}
	if len(logs.events) != 1 || len(logs.checks) != 1 || logs.checks[0].Name != "blocked" {
		t.Errorf("events and service checks are neither renamed nor blocked: %+v %+v", logs.events, logs.checks)
	}
}

func TestWorkerBlocklistMatchPrefix(t *testing.T) {
	for _, tc := range []struct {
		matchPrefix bool
		want        []string
	}{
		{false, []string{"app.debug.x", "app.debugger", "app.ok"}},
		{true, []string{"app.ok"}},
	} {
		w, agg, pool, _, stats := testWorker(t, Config{
			InternerSize: 64, InternerMaxLen: 64, Blocklist: []string{"app.debug", "app.debug.x.y"}, BlocklistMatchPrefix: tc.matchPrefix,
		}, 1)
		w.Process(packets.Packets{packet(pool, "", "app.debug:1|c\napp.debug.x:1|c\napp.debugger:1|g\napp.ok:1|c\napp.debug.x.y:1|c")})
		got := slices.Sorted(maps.Keys(sumPoints(agg.Flush(time.Unix(0, 0), time.Unix(1, 0)))))
		if !slices.Equal(got, tc.want) {
			t.Errorf("match prefix %v: emitted %v, want %v", tc.matchPrefix, got, tc.want)
		}
		if b := stats.Blocked.Load(); b != uint64(5-len(tc.want)) {
			t.Errorf("match prefix %v: blocked %d, want %d", tc.matchPrefix, b, 5-len(tc.want))
		}
	}
}

// expHistOf returns the count and sum of the exponential histogram named name of the flush.
func expHistOf(t *testing.T, md pmetric.Metrics, name string) (count uint64, sum float64, attrs map[string]any) {
	t.Helper()
	rms := md.ResourceMetrics()
	for i := range rms.Len() {
		ms := rms.At(i).ScopeMetrics().At(0).Metrics()
		for j := range ms.Len() {
			if m := ms.At(j); m.Name() == name {
				dp := m.ExponentialHistogram().DataPoints().At(0)
				return dp.Count(), dp.Sum(), dp.Attributes().AsRaw()
			}
		}
	}
	t.Fatalf("metric %q not emitted", name)
	return 0, 0, nil
}

// With histogram_copy_to_distribution every `h` and `ms` sample, packed values and rates
// included, is also a `d` sample named prefix+name with the same tags; other types are not.
func TestWorkerCopiesHistogramsToDistributions(t *testing.T) {
	for _, prefix := range []string{"dist.", ""} {
		w, agg, pool, _, stats := testWorker(t, Config{
			InternerSize: 16, InternerMaxLen: 64, BatchSize: 2, HistogramToDistribution: true, DistributionPrefix: prefix,
		}, 2)
		w.Process(packets.Packets{packet(pool, "", "lat:10:20:30|h|@0.5|#env:prod\nrt:5|ms|#env:prod\nq:1|g\nd:1|d\nc:1|c\n")})
		md := agg.Flush(time.Unix(0, 0), time.Unix(1, 0))
		for _, name := range []string{"lat", "rt"} {
			wantCount, wantSum := map[string]uint64{"lat": 6, "rt": 1}[name], map[string]float64{"lat": 120, "rt": 5}[name]
			count, sum, attrs := expHistOf(t, md, prefix+name)
			if count != wantCount || sum != wantSum || len(attrs) != 1 || attrs["env"] != "prod" {
				t.Errorf("prefix %q: %s copy count %d sum %v attrs %v, want %d, %v, env:prod", prefix, name, count, sum, attrs, wantCount, wantSum)
			}
		}
		// Each metric once per type: the histograms, their copies (another type, so another
		// metric even under the same name), the gauge, the distribution and the counter.
		if n := md.MetricCount(); n != 7 {
			t.Errorf("prefix %q: %d metrics, want 7", prefix, n)
		}
		if got := stats.Samples.Load(); got != 11 {
			t.Errorf("prefix %q: %d samples handed over, want 11 (7 parsed + 4 copies)", prefix, got)
		}
	}
}
