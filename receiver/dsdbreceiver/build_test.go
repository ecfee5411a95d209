package dsdbreceiver

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumertest"

	"github.com/doghouse-otel/doghouse/receiver/dsdbreceiver/internal/opentsdb"
)

// TestBatchInternsTagSets: points whose tags text repeats get their attributes from the
// interned set, equal to those of the first, and other tags text gets its own; a batch keeps
// one metric per name.
func TestBatchInternsTagSets(t *testing.T) {
	b := newBatch("test")
	lp := opentsdb.LineParser{Rules: opentsdb.Rules{MaxTags: 8}}
	pp := opentsdb.PutParser{Rules: opentsdb.Rules{MaxTags: 8}}
	now := time.Now()
	for _, line := range []string{
		"put a 1356998400 1 host=x dc=y", "put a 1356998401 2 host=x dc=y", "put b 1356998400 3 host=x dc=y",
		"put a 1356998400 4 host=x  dc=z", "put a 1356998400 5 host=x host=x",
	} {
		_, p, rej := lp.Parse([]byte(line))
		require.Nil(t, rej, line)
		b.addOpenTSDB(p, now)
	}
	body := `[{"metric":"c","timestamp":1,"value":6,"tags":{"h\u00f4te":"w"}},{"metric":"c","timestamp":2,"value":7,"tags":{"hôte":"w"}},{"metric":"c","timestamp":3,"value":8,"tags":{"hôte":"w","hôte":"v"}}]`
	require.NoError(t, pp.Parse([]byte(body), func(p *opentsdb.Point, _ *opentsdb.Raw, rej *opentsdb.Error) {
		require.Nil(t, rej)
		b.addOpenTSDB(p, now)
	}))
	md, n := b.take()
	require.Equal(t, 8, n)
	sink := new(consumertest.MetricsSink)
	require.NoError(t, sink.ConsumeMetrics(t.Context(), md))
	assert.Equal(t, 3, md.MetricCount())
	assert.Equal(t, []point{
		{"a", "gauge", "int:1", "host=x,dc=y", 1356998400000},
		{"a", "gauge", "int:2", "host=x,dc=y", 1356998401000},
		{"a", "gauge", "int:4", "host=x,dc=z", 1356998400000},
		{"a", "gauge", "int:5", "host=x", 1356998400000},
		{"b", "gauge", "int:3", "host=x,dc=y", 1356998400000},
		{"c", "gauge", "int:6", "hôte=w", 1000},
		{"c", "gauge", "int:7", "hôte=w", 2000},
		{"c", "gauge", "int:8", "hôte=v", 3000},
	}, points(sink))
}

// TestSeriesTable: lines of a known series are found by their text and get the attributes of
// their first line; the table starts over when full, and a series whose text is too long is
// not kept, and both still give every line its own series.
func TestSeriesTable(t *testing.T) {
	var st seriesTable
	b := newBatch("test")
	lp := opentsdb.LineParser{Rules: opentsdb.Rules{MaxTags: 8}, Lookup: st.lookup}
	long := strings.Repeat("v", maxSeriesKey)
	var want []point
	add := func(line string, wantKnown bool, p point) {
		t.Helper()
		_, pt, rej := lp.Parse([]byte(line))
		require.Nil(t, rej, line)
		require.Equal(t, wantKnown, pt.Series >= 0, line)
		tp := newTelnetPoint(st.of(pt), pt)
		b.addTelnet(&tp)
		want = append(want, p)
	}
	add("put a 1356998400 1 host=x dc=y", false, point{"a", "gauge", "int:1", "host=x,dc=y", 1356998400000})
	add("put a 1356998401 2 host=x dc=y", true, point{"a", "gauge", "int:2", "host=x,dc=y", 1356998401000})
	add("put b 1356998400 3 host=x dc=y", false, point{"b", "gauge", "int:3", "host=x,dc=y", 1356998400000})
	add("put a 1356998400 4 host=x  dc=y", false, point{"a", "gauge", "int:4", "host=x,dc=y", 1356998400000})
	add("put a 1356998400 5 host="+long, false, point{"a", "gauge", "int:5", "host=" + long, 1356998400000})
	add("put a 1356998401 6 host="+long, false, point{"a", "gauge", "int:6", "host=" + long, 1356998401000})
	first := len(st.list)
	for i := first; i < maxInterned; i++ {
		_, pt, rej := lp.Parse(fmt.Appendf(nil, "put f 1356998400 1 n=%d", i))
		require.Nil(t, rej)
		st.of(pt)
	}
	require.Len(t, st.list, maxInterned)
	for i := first; i < maxInterned; i++ { // every series is found by its text, whatever it collided with
		text := fmt.Appendf(nil, "n=%d", i)
		id := st.lookup([]byte("f"), text)
		require.GreaterOrEqual(t, id, int32(0), "n=%d", i)
		require.Equal(t, string(text), st.list[id].tagsText)
	}
	require.Equal(t, int32(-1), st.lookup([]byte("g"), []byte("n=1")))
	// Full: the next new series starts the table over; the old ones are checked again.
	add("put c 1356998400 7 n=new", false, point{"c", "gauge", "int:7", "n=new", 1356998400000})
	require.Len(t, st.list, 1)
	add("put a 1356998402 8 host=x dc=y", false, point{"a", "gauge", "int:8", "host=x,dc=y", 1356998402000})
	add("put c 1356998401 9 n=new", true, point{"c", "gauge", "int:9", "n=new", 1356998401000})

	md, n := b.take()
	require.Equal(t, len(want), n)
	sink := new(consumertest.MetricsSink)
	require.NoError(t, sink.ConsumeMetrics(t.Context(), md))
	slices.SortStableFunc(want, func(x, y point) int { return strings.Compare(x.Name, y.Name) })
	assert.Equal(t, want, points(sink))
}
