package worker

import (
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.uber.org/goleak"

	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/aggregate"
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
