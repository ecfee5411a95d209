package parse_test

import (
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/aggregate"
	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/packets"
	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/parse"
	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/worker"
)

// The Agent's origin tests: comp/core/tagger/origindetection (ParseLocalData,
// ParseExternalData) and the container id cases of comp/dogstatsd/server (parse_metrics_test.go
// TestParseContainerID, server_test.go testContainerIDParsing and TestOrigin). The Agent reads
// `|c:`, `|e:` and `|card:` only with dogstatsd_origin_detection_client; here the parser always
// reads them and the worker honours them with origin_detection.client_origin, so those cases
// run through a worker with the option off and on. A case marked `differs` quotes a row of the
// differences table in README.md; its expectation is what happens here.

func TestAgentParseLocalData(t *testing.T) {
	for _, tc := range []struct {
		agent, raw string
		want       parse.LocalData
	}{
		{"Empty string", "", parse.LocalData{}},
		{"Single container ID", "ci-abc123", parse.LocalData{ContainerID: "abc123"}},
		{"Single inode", "in-12345", parse.LocalData{Inode: 12345}},
		{"Multiple values", "ci-abc123,in-12345", parse.LocalData{ContainerID: "abc123", Inode: 12345}},
		{"Multiple values in reverse order", "in-12345,ci-abc123", parse.LocalData{ContainerID: "abc123", Inode: 12345}},
		// The Agent returns an error with what it could parse; its caller uses that, as here.
		{"Invalid inode", "in-invalid", parse.LocalData{}},
		{"Old APM container format", "cid-abc123", parse.LocalData{ContainerID: "abc123"}},
		{"Old DogStatsD container format", "abc123", parse.LocalData{ContainerID: "abc123"}},
	} {
		if got := parse.ParseLocalData(tc.raw); got != tc.want {
			t.Errorf("TestParseLocalData %s: ParseLocalData(%q) = %+v, want %+v", tc.agent, tc.raw, got, tc.want)
		}
	}
}

// External data becomes resource attributes: the container name and the pod uid; the init
// container flag is not used.
func TestAgentParseExternalData(t *testing.T) {
	const uid = "12345678-90ab-cdef-1234-567890abcdef"
	for _, tc := range []struct {
		agent, raw string
		want       map[string]any
	}{
		{"Empty external data", "", map[string]any{}},
		{"Valid external data with Init", "it-true,cn-container-name,pu-" + uid, map[string]any{"k8s.container.name": "container-name", "k8s.pod.uid": uid}},
		// The Agent reports the bad init flag and keeps the other parts, which its caller uses.
		{"Invalid Init value", "it-invalid,cn-container-name,pu-" + uid, map[string]any{"k8s.container.name": "container-name", "k8s.pod.uid": uid}},
		{"Partial external data", "cn-container-name", map[string]any{"k8s.container.name": "container-name"}},
		{"Unrecognized prefix", "unknown-prefix", map[string]any{}},
	} {
		attrs := pcommon.NewMap()
		aggregate.Resource{ExternalData: tc.raw}.Put(attrs)
		if got := attrs.AsRaw(); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("TestParseExternalData %s: %q gives %v, want %v", tc.agent, tc.raw, got, tc.want)
		}
	}
}

// logResources records the resource of every event and service check.
type logResources struct {
	mu  sync.Mutex
	got []aggregate.Resource
}

func (l *logResources) AddEvent(_ *parse.Event, r aggregate.Resource) { l.add(r) }

func (l *logResources) AddServiceCheck(_ *parse.ServiceCheck, r aggregate.Resource) { l.add(r) }

func (l *logResources) add(r aggregate.Resource) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.got = append(l.got, r)
}

// process runs one line through a worker and returns the resource attributes of what it became
// (metric or log record), and of nothing when the line was rejected.
func process(t *testing.T, line string, clientOrigin bool) (attrs []map[string]any, rejected uint64) {
	t.Helper()
	pool := packets.NewPool(1024)
	agg := aggregate.New(aggregate.Config{MaxContexts: 100, MaxTimestamped: 10, MaxBuckets: 160, ScopeName: "t"}, 1)
	logs := &logResources{}
	stats := &worker.Stats{}
	w := worker.New(worker.Config{ClientOrigin: clientOrigin, InternerSize: 64, InternerMaxLen: 64}, pool, agg, logs, stats, time.Now())
	p := pool.Get()
	p.SetLen(copy(p.Buffer(), line))
	w.Process(packets.Packets{p})
	md := agg.Flush(time.Unix(0, 0), time.Unix(1, 0))
	for i := range md.ResourceMetrics().Len() {
		attrs = append(attrs, md.ResourceMetrics().At(i).Resource().Attributes().AsRaw())
	}
	for _, r := range logs.got {
		m := pcommon.NewMap()
		r.Put(m)
		attrs = append(attrs, m.AsRaw())
	}
	for _, r := range parse.Reasons() {
		rejected += stats.Rejected[r].Load()
	}
	return attrs, rejected
}

const diffEventLengths = "event lengths not landing on `\\|`"

func TestAgentClientOriginContainerID(t *testing.T) {
	for _, tc := range []struct {
		agent, line string
		container   string // container.id with client origin on; "" when rejected
		cardNone    bool   // a cardinality of none: no origin, client origin on or off
		differs     string
	}{
		{agent: "TestParseContainerID", line: "metric:1234|g|c:1234567890abcdef", container: "1234567890abcdef"},
		{agent: "testContainerIDParsing (metric)", line: "metric.name:123|g|c:metric-container", container: "metric-container"},
		{agent: "testContainerIDParsing (service check)", line: "_sc|service-check.name|0|c:service-check-container", container: "service-check-container"},
		{agent: "testContainerIDParsing (event)", line: `_e{10,10}:event title|test\ntext|c:event-container`, differs: diffEventLengths},
		// The Agent keeps the container in the origin and its tagger then adds no tag of it at
		// cardinality none; here the origin becomes resource attributes, so none drops them.
		{agent: "TestOrigin (metric)", line: "metric.name:123|g|c:metric-container|#dd.internal.card:none", cardNone: true},
		{agent: "TestOrigin (service check)", line: "_sc|service-check.name|0|c:service-check-container|#dd.internal.card:none", cardNone: true},
		{agent: "TestOrigin (event)", line: `_e{10,10}:event title|test\ntext|c:event-container|#dd.internal.card:none`, differs: diffEventLengths},
		{agent: "TestParseManyPipes (ci- form)", line: "m:1|d|c:ci-abc,in-42", container: "abc"},
	} {
		for _, on := range []bool{false, true} {
			attrs, rejected := process(t, tc.line, on)
			if tc.cardNone {
				if rejected != 0 || len(attrs) != 1 || len(attrs[0]) != 0 {
					t.Errorf("%s, client_origin=%v: %d rejected, resources %v; want one record without origin", tc.agent, on, rejected, attrs)
				}
				continue
			}
			if tc.container == "" {
				if rejected != 1 || len(attrs) != 0 {
					t.Errorf("%s, client_origin=%v: %d rejected, resources %v; want the line rejected", tc.agent, on, rejected, attrs)
				}
				continue
			}
			want := map[string]any{}
			if on {
				want["container.id"] = tc.container
			}
			if len(attrs) != 1 || !reflect.DeepEqual(attrs[0], want) {
				t.Errorf("%s, client_origin=%v: resources %v, want [%v]", tc.agent, on, attrs, want)
			}
		}
		if tc.differs != "" && !strings.Contains(readmeDifferences(t), "\n| "+tc.differs+" |") {
			t.Errorf("difference %q is not a row of README.md's differences table", tc.differs)
		}
	}
}

// `|e:` gives the pod uid and container name with client origin on, nothing with it off, as
// the Agent's dogstatsd_origin_detection_client does.
func TestAgentClientOriginExternalData(t *testing.T) {
	for _, on := range []bool{false, true} {
		attrs, _ := process(t, "m:1|c|e:it-false,cn-web,pu-123", on)
		want := map[string]any{}
		if on {
			want = map[string]any{"k8s.container.name": "web", "k8s.pod.uid": "123"}
		}
		if len(attrs) != 1 || !reflect.DeepEqual(attrs[0], want) {
			t.Errorf("client_origin=%v: resources %v, want [%v]", on, attrs, want)
		}
	}
}

func readmeDifferences(t *testing.T) string {
	t.Helper()
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(readme)
	start := strings.Index(s, "## Where we differ from the agent")
	if start < 0 {
		t.Fatal("README.md has no differences section")
	}
	return s[start:]
}
