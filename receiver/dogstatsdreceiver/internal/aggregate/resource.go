package aggregate

import (
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// Resource is where a sample came from: its `host:` tag, its container, its pod (the client's
// `dd.internal.entity_id` tag) and the Kubernetes external data its client sent. It is
// comparable, so it keys the resources of a flush.
type Resource struct {
	Host         string
	ContainerID  string
	ExternalData string // raw `|e:` field: "it-<bool>,cn-<container name>,pu-<pod uid>"
	PodUID       string // wins over the external data's pod uid
}

// Put writes the resource attributes: host.name, container.id, k8s.pod.uid (from PodUID, else
// from the external data) and k8s.container.name (DogStatsD protocol v1.5). Empty parts are
// omitted.
func (r Resource) Put(attrs pcommon.Map) {
	if r.Host != "" {
		attrs.PutStr("host.name", r.Host)
	}
	if r.ContainerID != "" {
		attrs.PutStr("container.id", r.ContainerID)
	}
	if r.PodUID != "" {
		attrs.PutStr("k8s.pod.uid", r.PodUID)
	}
	for item := range strings.SplitSeq(r.ExternalData, ",") {
		switch {
		case strings.HasPrefix(item, "pu-") && len(item) > 3 && r.PodUID == "":
			attrs.PutStr("k8s.pod.uid", item[3:])
		case strings.HasPrefix(item, "cn-") && len(item) > 3:
			attrs.PutStr("k8s.container.name", item[3:])
		}
	}
}
