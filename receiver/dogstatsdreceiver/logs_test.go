package dogstatsdreceiver

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/aggregate"
	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/parse"
)

// Extra tags are attributes of events and service checks too, as of metrics.
func TestLogBufferAddsExtraTags(t *testing.T) {
	b := newLogBuffer(10, "scope", "v1", []string{"dc:eu", "env:prod"})
	b.AddEvent(&parse.Event{Title: "deploy", Tags: []string{"env:prod", "team:a"}}, aggregate.Resource{})
	b.AddServiceCheck(&parse.ServiceCheck{Name: "db"}, aggregate.Resource{})
	ld, n := b.take()
	require.Equal(t, 2, n)
	recs := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
	for i := range recs.Len() {
		attrs := recs.At(i).Attributes().AsRaw()
		assert.Equal(t, "eu", attrs["dc"], "record %d", i)
		assert.Equal(t, "prod", attrs["env"], "record %d: a tag sent and added is one attribute value", i)
	}
	assert.Equal(t, "a", recs.At(0).Attributes().AsRaw()["team"])
}
