package worker

import (
	"maps"
	"testing"
	"time"

	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/aggregate"
	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/packets"
)

// fakeInodes is an inode -> container table that counts its lookups.
type fakeInodes struct {
	ids     map[uint64]string
	lookups int
}

func (f *fakeInodes) ContainerID(inode uint64) string {
	f.lookups++
	return f.ids[inode]
}

// One metric line per case, through a worker and an aggregator flush: the resource and the
// data point attributes it ends up with, under the Agent's origin rules.
func TestWorkerInternalTagsAndOrigin(t *testing.T) {
	const sock = "from-socket"
	for _, tc := range []struct {
		name         string
		clientOrigin bool
		line         string
		wantRes      map[string]any
		wantAttrs    map[string]any
		inodeLookups int
	}{
		{
			name: "entity id is the pod uid, never an attribute; the socket's container stays",
			line: "m:1|c|#env:x,dd.internal.entity_id:uid-1", wantRes: map[string]any{"container.id": sock, "k8s.pod.uid": "uid-1"},
		},
		{
			name: "entity id is honoured without client origin, cardinality tag consumed",
			line: "m:1|c|#dd.internal.entity_id:uid-1,dd.internal.card:high,env:x", wantRes: map[string]any{"container.id": sock, "k8s.pod.uid": "uid-1"},
		},
		{
			name: "with an entity id the client's |c: container is not used", clientOrigin: true,
			line: "m:1|c|#env:x,dd.internal.entity_id:uid-1|c:ci-client", wantRes: map[string]any{"container.id": sock, "k8s.pod.uid": "uid-1"},
		},
		{
			name: "entity id none: no pod, and no client container either", clientOrigin: true,
			line: "m:1|c|#env:x,dd.internal.entity_id:none|c:ci-client", wantRes: map[string]any{"container.id": sock},
		},
		{
			name: "entity id none without client origin", line: "m:1|c|#env:x,dd.internal.entity_id:none", wantRes: map[string]any{"container.id": sock},
		},
		{
			name: "no entity id: the client's container wins", clientOrigin: true,
			line: "m:1|c|#env:x|c:ci-client", wantRes: map[string]any{"container.id": "client"},
		},
		{
			name: "entity id wins over the external data's pod uid, container name kept", clientOrigin: true,
			line:    "m:1|c|#env:x,dd.internal.entity_id:uid-1|e:it-false,cn-web,pu-ext",
			wantRes: map[string]any{"container.id": sock, "k8s.pod.uid": "uid-1", "k8s.container.name": "web"},
		},
		{
			name: "cardinality tag none drops every origin but the host",
			line: "m:1|c|#env:x,host:h,dd.internal.entity_id:uid-1,dd.internal.card:none", wantRes: map[string]any{"host.name": "h"},
		},
		{
			name: "cardinality tag none with client origin drops the client's origin too", clientOrigin: true,
			line: "m:1|c|#env:x,dd.internal.card:none|c:ci-client|e:cn-web,pu-ext", wantRes: map[string]any{},
		},
		{
			name: "|card:none is ignored without client origin",
			line: "m:1|c|#env:x|card:none", wantRes: map[string]any{"container.id": sock},
		},
		{
			name: "|card:none with client origin drops every origin", clientOrigin: true,
			line: "m:1|c|#env:x|c:ci-client|card:none", wantRes: map[string]any{},
		},
		{
			name: "the |card: field wins over the tag with client origin", clientOrigin: true,
			line: "m:1|c|#env:x,dd.internal.card:none|card:high", wantRes: map[string]any{"container.id": sock},
		},
		{
			name: "without client origin the field is ignored and the tag decides",
			line: "m:1|c|#env:x,dd.internal.card:none|card:high", wantRes: map[string]any{},
		},
		{
			name: "other cardinalities change nothing", clientOrigin: true,
			line: "m:1|c|#env:x,dd.internal.card:orchestrator|c:ci-client|card:low", wantRes: map[string]any{"container.id": "client"},
		},
		{
			name: "jmx check name is dropped",
			line: "m:1|c|#env:x,dd.internal.jmx_check_name:kafka", wantRes: map[string]any{"container.id": sock},
		},
		{
			name: "cgroup inode resolved to its container", clientOrigin: true,
			line: "m:1|c|#env:x|c:in-123", wantRes: map[string]any{"container.id": "from-inode"}, inodeLookups: 1,
		},
		{
			name: "a container id wins over the inode", clientOrigin: true,
			line: "m:1|c|#env:x|c:ci-abc,in-123", wantRes: map[string]any{"container.id": "abc"},
		},
		{
			name: "an unknown inode leaves the socket's container", clientOrigin: true,
			line: "m:1|c|#env:x|c:in-999", wantRes: map[string]any{"container.id": sock}, inodeLookups: 1,
		},
		{
			name: "inodes are not resolved without client origin",
			line: "m:1|c|#env:x|c:in-123", wantRes: map[string]any{"container.id": sock},
		},
		{
			name: "inodes are not resolved with an entity id", clientOrigin: true,
			line: "m:1|c|#env:x,dd.internal.entity_id:uid-1|c:in-123", wantRes: map[string]any{"container.id": sock, "k8s.pod.uid": "uid-1"},
		},
		{
			name: "packed values share the origin", clientOrigin: true,
			line: "m:1:2:3|c|#env:x,dd.internal.entity_id:uid-1", wantRes: map[string]any{"container.id": sock, "k8s.pod.uid": "uid-1"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inodes := &fakeInodes{ids: map[uint64]string{123: "from-inode"}}
			w, agg, pool, _, _ := testWorker(t, Config{ClientOrigin: tc.clientOrigin, Inodes: inodes, InternerSize: 64, InternerMaxLen: 64}, 1)
			w.Process(packets.Packets{packet(pool, sock, tc.line)})
			md := agg.Flush(time.Unix(0, 0), time.Unix(1, 0))
			if md.ResourceMetrics().Len() != 1 {
				t.Fatalf("%d resources, want 1", md.ResourceMetrics().Len())
			}
			rm := md.ResourceMetrics().At(0)
			if got := rm.Resource().Attributes().AsRaw(); !maps.Equal(got, tc.wantRes) {
				t.Errorf("resource %v, want %v", got, tc.wantRes)
			}
			ms := rm.ScopeMetrics().At(0).Metrics()
			if ms.Len() != 1 || ms.At(0).Sum().DataPoints().Len() != 1 {
				t.Fatalf("want one metric with one point, got %d metrics", ms.Len())
			}
			attrs := ms.At(0).Sum().DataPoints().At(0).Attributes().AsRaw()
			if want := map[string]any{"env": "x"}; !maps.Equal(attrs, want) {
				t.Errorf("attributes %v, want %v (internal tags never become attributes)", attrs, want)
			}
			if inodes.lookups != tc.inodeLookups {
				t.Errorf("%d inode lookups, want %d", inodes.lookups, tc.inodeLookups)
			}
		})
	}
}

// Events and service checks get the same internal tag handling.
func TestWorkerEventsAndChecksInternalTags(t *testing.T) {
	w, _, pool, logs, _ := testWorker(t, Config{InternerSize: 64, InternerMaxLen: 64}, 1)
	w.Process(packets.Packets{packet(pool, "sock",
		"_e{5,4}:title|text|#env:x,dd.internal.entity_id:uid-1,dd.internal.card:high\n"+
			"_sc|db|2|#env:x,dd.internal.entity_id:none,dd.internal.card:none,host:h|m:down\n"+
			"_sc|db|0|#dd.internal.jmx_check_name:kafka,env:x|c:ci-client")})
	if len(logs.events) != 1 || len(logs.checks) != 2 {
		t.Fatalf("%d events, %d checks", len(logs.events), len(logs.checks))
	}
	for _, tags := range [][]string{logs.events[0].Tags, logs.checks[0].Tags, logs.checks[1].Tags} {
		if len(tags) != 1 || tags[0] != "env:x" {
			t.Errorf("tags %q, want [env:x]", tags)
		}
	}
	want := []aggregate.Resource{
		{ContainerID: "sock", PodUID: "uid-1"},
		{Host: "h"},           // cardinality none: no origin
		{ContainerID: "sock"}, // client origin off: |c: ignored
	}
	for i, res := range logs.resources {
		if res != want[i] {
			t.Errorf("record %d: resource %+v, want %+v", i, res, want[i])
		}
	}
}
