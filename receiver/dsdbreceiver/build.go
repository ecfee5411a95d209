package dsdbreceiver

import (
	"hash/maphash"
	"math"
	"slices"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/doghouse-otel/doghouse/internal/exphist"
	"github.com/doghouse-otel/doghouse/receiver/dsdbreceiver/internal/metadata"
	"github.com/doghouse-otel/doghouse/receiver/dsdbreceiver/internal/opentsdb"
	"github.com/doghouse-otel/doghouse/receiver/dsdbreceiver/internal/statshouse"
)

// kind is the OpenTelemetry shape a point takes; points of one name and kind in a batch share
// one pmetric.Metric.
type kind uint8

const (
	kindGauge     kind = iota // OpenTSDB points
	kindDeltaSum              // StatsHouse counter
	kindHistogram             // StatsHouse value
	kindSet                   // StatsHouse unique: a gauge of the distinct count
	numKinds
)

// batch gathers data points into one pmetric.Metrics. Each connection (and the UDP reader, and
// each /api/put request) has its own; it is not safe for concurrent use. Names and tags are
// interned, so a stream of the same series allocates no strings.
type batch struct {
	version string
	md      pmetric.Metrics
	metrics pmetric.MetricSlice
	byName  [numKinds]map[string]pmetric.Metric
	points  int
	gen     uint64    // counts the batches started, from 1
	started time.Time // when the first point of the batch came
	strs    interner
	hist    exphist.Histogram
	// sizes are the points each metric had in the previous batch, so that its point slice is
	// allocated once at about its size instead of growing by doubling (bounded like the
	// interner).
	sizes map[string]int
}

func newBatch(version string) *batch {
	b := &batch{version: version}
	for i := range b.byName {
		b.byName[i] = make(map[string]pmetric.Metric)
	}
	b.reset()
	return b
}

// reset starts an empty batch; the previous pmetric.Metrics belongs to whoever took it.
func (b *batch) reset() {
	b.gen++
	b.md = pmetric.NewMetrics()
	sm := b.md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty()
	sm.Scope().SetName(metadata.ScopeName)
	sm.Scope().SetVersion(b.version)
	b.metrics = sm.Metrics()
	for k, m := range b.byName {
		if k == int(kindGauge) {
			if b.sizes == nil || len(b.sizes) >= maxInterned {
				b.sizes = make(map[string]int)
			}
			for name, metric := range m {
				b.sizes[name] = metric.Gauge().DataPoints().Len()
			}
		}
		clear(m)
	}
	b.points = 0
}

// take returns the gathered metrics and starts a new batch.
func (b *batch) take() (pmetric.Metrics, int) {
	md, n := b.md, b.points
	b.reset()
	return md, n
}

func (b *batch) count(now time.Time) {
	if b.points == 0 {
		b.started = now
	}
	b.points++
}

// metric returns the batch's metric of that name and kind, adding it on first use.
func (b *batch) metric(name []byte, k kind) pmetric.Metric {
	if m, ok := b.byName[k][string(name)]; ok {
		return m
	}
	return b.newMetric(b.strs.get(name), k)
}

// metricOf is metric for an interned name.
func (b *batch) metricOf(name string, k kind) pmetric.Metric {
	if m, ok := b.byName[k][name]; ok {
		return m
	}
	return b.newMetric(name, k)
}

func (b *batch) newMetric(s string, k kind) pmetric.Metric {
	m := b.metrics.AppendEmpty()
	m.SetName(s)
	switch k {
	case kindGauge:
		m.SetEmptyGauge().DataPoints().EnsureCapacity(b.sizes[s])
	case kindSet:
		m.SetEmptyGauge()
	case kindDeltaSum:
		sum := m.SetEmptySum()
		sum.SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
		sum.SetIsMonotonic(true) // StatsHouse refuses negative counters
	case kindHistogram:
		m.SetEmptyExponentialHistogram().SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
	}
	b.byName[k][s] = m
	return m
}

// merge moves the data points of ms, metrics another batch built, into this batch's metrics of
// the same name and kind, so that a batch gathered from many requests still has one metric per
// name and kind (an exporter's per-metric work is not repeated per request). It does not count
// the points.
func (b *batch) merge(ms pmetric.MetricSlice) {
	for i := range ms.Len() {
		src := ms.At(i)
		var k kind
		switch src.Type() {
		case pmetric.MetricTypeGauge:
			k = kindGauge
		case pmetric.MetricTypeSum:
			k = kindDeltaSum
		case pmetric.MetricTypeExponentialHistogram:
			k = kindHistogram
		default:
			continue
		}
		dst, ok := b.byName[k][src.Name()]
		if !ok {
			dst = b.metrics.AppendEmpty()
			src.MoveTo(dst)
			b.byName[k][dst.Name()] = dst
			continue
		}
		switch k {
		case kindGauge:
			src.Gauge().DataPoints().MoveAndAppendTo(dst.Gauge().DataPoints())
		case kindDeltaSum:
			src.Sum().DataPoints().MoveAndAppendTo(dst.Sum().DataPoints())
		case kindHistogram:
			src.ExponentialHistogram().DataPoints().MoveAndAppendTo(dst.ExponentialHistogram().DataPoints())
		}
	}
}

// addOpenTSDB adds an OpenTSDB point: a gauge point at its own timestamp.
func (b *batch) addOpenTSDB(p *opentsdb.Point, now time.Time) {
	dp := b.metric(p.Metric, kindGauge).Gauge().DataPoints().AppendEmpty()
	dp.SetTimestamp(pcommon.Timestamp(p.Timestamp * int64(time.Millisecond)))
	if p.IsInt {
		dp.SetIntValue(p.Int)
	} else {
		dp.SetDoubleValue(p.Float)
	}
	attrs := dp.Attributes()
	attrs.EnsureCapacity(len(p.Tags))
	if p.TagsText != nil {
		kvs := b.strs.tagSet(p)
		for i := 0; i+1 < len(kvs); i += 2 {
			attrs.PutStr(kvs[i], kvs[i+1])
		}
	} else {
		for _, t := range p.Tags {
			attrs.PutStr(b.strs.get(t.Key), b.strs.get(t.Value))
		}
	}
	b.count(now)
}

// addTelnet adds a telnet put line's point, of a series the connection's seriesTable holds.
func (b *batch) addTelnet(p *telnetPoint) {
	s := p.s
	if s.gen != b.gen {
		s.gauge, s.gen = b.metricOf(s.name, kindGauge).Gauge().DataPoints(), b.gen
	}
	dp := s.gauge.AppendEmpty()
	dp.SetTimestamp(pcommon.Timestamp(p.t * int64(time.Millisecond)))
	if p.isInt {
		dp.SetIntValue(int64(p.v))
	} else {
		dp.SetDoubleValue(math.Float64frombits(p.v))
	}
	attrs := dp.Attributes()
	attrs.EnsureCapacity(len(s.kvs) / 2)
	for i := 0; i+1 < len(s.kvs); i += 2 {
		attrs.PutStr(s.kvs[i], s.kvs[i+1])
	}
	b.points++
}

// addStatsHouse adds a StatsHouse metric: a delta sum of its counter, an exponential histogram
// of its values (each weighted counter/len(value) when both are sent, as the agent does), or
// a gauge of the number of distinct unique values. Its interval is the second that ends at ts
// (or at now without ts).
func (b *batch) addStatsHouse(m *statshouse.Metric, now time.Time) {
	end := now
	if m.TS != 0 {
		end = time.Unix(int64(m.TS), 0)
	}
	ts := pcommon.NewTimestampFromTime(end)
	start := pcommon.NewTimestampFromTime(end.Add(-time.Second))
	var attrs pcommon.Map
	switch {
	case len(m.Unique) > 0:
		dp := b.metric(m.Name, kindSet).Gauge().DataPoints().AppendEmpty()
		dp.SetStartTimestamp(start)
		dp.SetTimestamp(ts)
		dp.SetIntValue(int64(distinct(m.Unique)))
		attrs = dp.Attributes()
	case len(m.Values) > 0:
		dp := b.metric(m.Name, kindHistogram).ExponentialHistogram().DataPoints().AppendEmpty()
		dp.SetStartTimestamp(start)
		dp.SetTimestamp(ts)
		w := 1.0
		if m.Counter > 0 {
			w = m.Counter / float64(len(m.Values))
		}
		b.hist.Reset()
		for _, v := range m.Values {
			b.hist.Add(v, w)
		}
		b.hist.FillDataPoint(dp, 1, nil)
		attrs = dp.Attributes()
	default:
		dp := b.metric(m.Name, kindDeltaSum).Sum().DataPoints().AppendEmpty()
		dp.SetStartTimestamp(start)
		dp.SetTimestamp(ts)
		dp.SetDoubleValue(m.Counter)
		attrs = dp.Attributes()
	}
	attrs.EnsureCapacity(len(m.Tags))
	for _, t := range m.Tags {
		attrs.PutStr(b.strs.get(t.Key), b.strs.get(t.Value))
	}
	b.count(now)
}

// distinct counts the distinct values of u, sorting it in place.
func distinct(u []int64) int {
	if len(u) < 2 {
		return len(u)
	}
	slices.Sort(u)
	n := 1
	for i := 1; i < len(u); i++ {
		if u[i] != u[i-1] {
			n++
		}
	}
	return n
}

// interner returns one string per distinct byte sequence, so that a stream of the same series
// allocates no strings. It is bounded: when it holds maxInterned strings it starts over, and a
// string longer than maxInternLen is allocated and not kept.
type interner struct {
	m     map[string]string
	pairs map[string]kv       // "k=v" words, each to its interned key and value
	sets  map[string][]string // the tags text of telnet lines, to their keys and values
}

type kv struct{ k, v string }

const (
	// maxInterned: 1000 series of 8 tags need about 2000 distinct strings; 16384 strings of
	// 32 bytes are about 1 MiB per connection at most.
	maxInterned  = 16384
	maxInternLen = 256
)

func (in *interner) get(b []byte) string {
	if s, ok := in.m[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(b) > maxInternLen {
		return s
	}
	if in.m == nil || len(in.m) >= maxInterned {
		in.m = make(map[string]string, 256)
	}
	in.m[s] = s
	return s
}

// tagSet returns the interned keys and values of p's tags (k1, v1, k2, v2, ...), found by one
// lookup of the line's tags text when the same tags came before.
func (in *interner) tagSet(p *opentsdb.Point) []string {
	if kvs, ok := in.sets[string(p.TagsText)]; ok {
		return kvs
	}
	kvs := in.tags(p)
	if len(p.TagsText) <= maxInternLen {
		if in.sets == nil || len(in.sets) >= maxInterned {
			in.sets = make(map[string][]string, 256)
		}
		in.sets[string(p.TagsText)] = kvs
	}
	return kvs
}

// tags returns the interned keys and values of p's tags (k1, v1, k2, v2, ...).
func (in *interner) tags(p *opentsdb.Point) []string {
	kvs := make([]string, 0, 2*len(p.Tags))
	for _, t := range p.Tags {
		if t.Word != nil {
			k, v := in.pair(t.Word, len(t.Key))
			kvs = append(kvs, k, v)
		} else {
			kvs = append(kvs, in.get(t.Key), in.get(t.Value))
		}
	}
	return kvs
}

// knownSeries is a series a telnet connection accepted: its interned name and tags and the
// tags text it was read from, which do not change, and the data points of its metric in the
// batch the connection's builder fills, which only the builder uses.
type knownSeries struct {
	name     string
	kvs      []string
	tagsText string
	gauge    pmetric.NumberDataPointSlice
	gen      uint64 // the batch gauge belongs to (batch.gen)
}

// seriesTable remembers the series a telnet connection accepted by their line text: the
// metric and the tags text (from the first tag to the end of the line). A line of a known
// series is then neither split into tags nor checked nor interned again: one probe of a small
// open-addressing table by a hash of its text, and a comparison, finds all. It is bounded like
// the interner: when it holds maxInterned series it starts over, and a text longer than
// maxSeriesKey is not kept.
type seriesTable struct {
	slots []seriesSlot   // a power of two, at most half full
	list  []*knownSeries // not changed once added: a batch may still hold one after a reset
	strs  interner
}

// seriesSlot is a table entry: the text's hash and 1 + the series' index in list (0: empty).
type seriesSlot struct {
	h  uint64
	id int32
}

const maxSeriesKey = 1024

var seriesSeed = maphash.MakeSeed()

func textHash(metric, tagsText []byte) uint64 {
	return maphash.Bytes(seriesSeed, metric)*0x9e3779b97f4a7c15 ^ maphash.Bytes(seriesSeed, tagsText)
}

// lookup is opentsdb.LineParser.Lookup: the series' index, or -1.
func (s *seriesTable) lookup(metric, tagsText []byte) int32 {
	if len(s.slots) == 0 {
		return -1
	}
	h := textHash(metric, tagsText)
	mask := uint64(len(s.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		sl := s.slots[i]
		if sl.id == 0 {
			return -1
		}
		if sl.h == h {
			if ks := s.list[sl.id-1]; ks.name == string(metric) && ks.tagsText == string(tagsText) {
				return sl.id - 1
			}
		}
	}
}

// of returns the series of an accepted point, adding it when the parser did not know it.
func (s *seriesTable) of(p *opentsdb.Point) *knownSeries {
	if p.Series >= 0 {
		return s.list[p.Series]
	}
	ks := &knownSeries{name: s.strs.get(p.Metric), kvs: s.strs.tags(p)}
	if len(p.Metric)+1+len(p.TagsText) > maxSeriesKey {
		return ks // not kept: the next line of it is checked again
	}
	ks.tagsText = string(p.TagsText)
	if len(s.list) >= maxInterned {
		clear(s.slots)
		clear(s.list)
		s.list = s.list[:0]
	}
	if 2*(len(s.list)+1) > len(s.slots) {
		s.grow()
	}
	s.list = append(s.list, ks)
	s.put(textHash(p.Metric, p.TagsText), int32(len(s.list)))
	return ks
}

func (s *seriesTable) put(h uint64, id int32) {
	mask := uint64(len(s.slots) - 1)
	i := h & mask
	for s.slots[i].id != 0 {
		i = (i + 1) & mask
	}
	s.slots[i] = seriesSlot{h: h, id: id}
}

// grow doubles the table (256 slots at first) and puts its entries back.
func (s *seriesTable) grow() {
	old := s.slots
	s.slots = make([]seriesSlot, max(256, 2*len(old)))
	for _, sl := range old {
		if sl.id != 0 {
			s.put(sl.h, sl.id)
		}
	}
}

// pair interns the key and value of a "key=value" word whose key is its first n bytes: one map
// lookup for both when the word was seen before.
func (in *interner) pair(word []byte, n int) (string, string) {
	if p, ok := in.pairs[string(word)]; ok {
		return p.k, p.v
	}
	p := kv{in.get(word[:n]), in.get(word[n+1:])}
	if len(word) <= maxInternLen {
		if in.pairs == nil || len(in.pairs) >= maxInterned {
			in.pairs = make(map[string]kv, 256)
		}
		in.pairs[string(word)] = p
	}
	return p.k, p.v
}
