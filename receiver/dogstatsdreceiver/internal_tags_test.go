package dogstatsdreceiver

import (
	"net"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The Agent's internal tags over UDP: dd.internal.entity_id becomes the resource's k8s.pod.uid,
// dd.internal.card is consumed, and neither is ever an attribute, on metrics, events or
// service checks alike.
func TestInternalTagsOverUDP(t *testing.T) {
	const uid = "3413883c-ac60-44ab-96e0-9e52e4e173e2"
	h := startReceiver(t, nil)
	conn, err := net.Dial("udp", h.addr("udp"))
	require.NoError(t, err)
	defer conn.Close()
	tags := "#dd.internal.entity_id:" + uid + ",dd.internal.card:high,env:x"
	for _, line := range []string{
		"app.hits:1|c|" + tags,
		"_e{6,4}:deploy|v1.3|" + tags,
		"_sc|db.up|0|" + tags,
	} {
		_, err = conn.Write([]byte(line))
		require.NoError(t, err)
	}
	h.waitLines(t, 3)
	h.shutdown(t)

	mds := h.metrics.AllMetrics()
	require.Len(t, mds, 1)
	require.Equal(t, 1, mds[0].ResourceMetrics().Len())
	rm := mds[0].ResourceMetrics().At(0)
	assert.Equal(t, map[string]any{"k8s.pod.uid": uid}, rm.Resource().Attributes().AsRaw())
	dp := rm.ScopeMetrics().At(0).Metrics().At(0).Sum().DataPoints().At(0)
	assert.Equal(t, map[string]any{"env": "x"}, dp.Attributes().AsRaw())

	lds := h.logs.AllLogs()
	require.Len(t, lds, 1)
	require.Equal(t, 1, lds[0].ResourceLogs().Len(), "the event and the check share the pod's resource")
	rl := lds[0].ResourceLogs().At(0)
	assert.Equal(t, map[string]any{"k8s.pod.uid": uid}, rl.Resource().Attributes().AsRaw())
	recs := rl.ScopeLogs().At(0).LogRecords()
	require.Equal(t, 2, recs.Len())
	for i := range recs.Len() {
		attrs := recs.At(i).Attributes().AsRaw()
		assert.Equal(t, "x", attrs["env"])
		for k := range attrs {
			assert.False(t, strings.HasPrefix(k, "dd.internal"), "attribute %q leaked", k)
		}
	}
}
