package aggregate

import (
	"math"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/parse"
)

// Flush folds every shard into the merged view, resets the shards for the next interval and
// returns one data point per context active in (start, end]. Contexts idle for a whole interval
// are forgotten. Flush calls are serialised.
func (a *Aggregator) Flush(start, end time.Time) pmetric.Metrics {
	a.flushMu.Lock()
	defer a.flushMu.Unlock()

	var timestamped []timestampedPoint
	for _, s := range a.shards {
		s.mu.Lock()
		for h, head := range s.contexts {
			var kept *entry
			for e := head; e != nil; {
				next := e.next
				if e.st.samples == 0 {
					s.n--
					a.Stats.Contexts.Add(-1)
				} else {
					a.mergeEntry(h, e)
					e.st.reset()
					e.next = kept
					kept = e
				}
				e = next
			}
			if kept == nil {
				delete(s.contexts, h)
			} else {
				s.contexts[h] = kept
			}
		}
		timestamped = append(timestamped, s.timestamped...)
		clear(s.timestamped)
		s.timestamped = s.timestamped[:0]
		s.mu.Unlock()
	}

	b := newBuilder(&a.cfg, pcommon.NewTimestampFromTime(start), pcommon.NewTimestampFromTime(end))
	for h, head := range a.merged {
		var kept *entry
		for e := head; e != nil; {
			next := e.next
			if e.st.samples != 0 {
				b.addContext(&e.key, e.st)
				e.st.reset()
				e.next = kept
				kept = e
			}
			e = next
		}
		if kept == nil {
			delete(a.merged, h)
		} else {
			a.merged[h] = kept
		}
	}
	for i := range timestamped {
		b.addTimestamped(&timestamped[i])
	}
	return b.md
}

// mergeEntry folds a shard's entry into the merged view, creating the merged context if needed.
func (a *Aggregator) mergeEntry(h uint64, src *entry) {
	e := a.merged[h]
	for e != nil && !e.key.equal(&src.key) {
		e = e.next
	}
	if e == nil {
		e = &entry{key: src.key, st: newState(src.key.typ, &a.cfg), next: a.merged[h]}
		a.merged[h] = e
	}
	e.st.merge(src.key.typ, src.st)
}

// builder groups data points by resource (host, container) and by metric (name, type).
type builder struct {
	cfg        *Config
	start, end pcommon.Timestamp
	md         pmetric.Metrics
	resources  map[Resource]pmetric.MetricSlice
	metrics    map[metricID]pmetric.Metric
}

type metricID struct {
	res         Resource
	name        string
	typ         parse.MetricType
	timestamped bool
}

func newBuilder(cfg *Config, start, end pcommon.Timestamp) *builder {
	return &builder{
		cfg: cfg, start: start, end: end, md: pmetric.NewMetrics(),
		resources: make(map[Resource]pmetric.MetricSlice),
		metrics:   make(map[metricID]pmetric.Metric),
	}
}

func (b *builder) metric(k *contextKey, timestamped bool) pmetric.Metric {
	id := metricID{k.res, k.name, k.typ, timestamped}
	if m, ok := b.metrics[id]; ok {
		return m
	}
	ms, ok := b.resources[k.res]
	if !ok {
		rm := b.md.ResourceMetrics().AppendEmpty()
		k.res.Put(rm.Resource().Attributes())
		sm := rm.ScopeMetrics().AppendEmpty()
		sm.Scope().SetName(b.cfg.ScopeName)
		sm.Scope().SetVersion(b.cfg.ScopeVersion)
		ms = sm.Metrics()
		b.resources[k.res] = ms
	}
	m := ms.AppendEmpty()
	m.SetName(k.name)
	switch {
	case k.typ == parse.Counter:
		sum := m.SetEmptySum()
		sum.SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
		sum.SetIsMonotonic(b.cfg.MonotonicCounters)
	case k.typ == parse.Gauge || k.typ == parse.Set:
		m.SetEmptyGauge()
	case k.typ == parse.Distribution || b.cfg.TimerMapping == MappingExponentialHistogram:
		m.SetEmptyExponentialHistogram().SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
	case b.cfg.TimerMapping == MappingHistogram:
		m.SetEmptyHistogram().SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
	default:
		m.SetEmptySummary()
	}
	b.metrics[id] = m
	return m
}

func (b *builder) addContext(k *contextKey, st *state) {
	m := b.metric(k, false)
	switch m.Type() {
	case pmetric.MetricTypeSum:
		dp := m.Sum().DataPoints().AppendEmpty()
		b.stamp(dp, k)
		dp.SetDoubleValue(st.value)
	case pmetric.MetricTypeGauge:
		dp := m.Gauge().DataPoints().AppendEmpty()
		b.stamp(dp, k)
		if k.typ == parse.Set {
			dp.SetIntValue(st.members.count())
		} else {
			dp.SetDoubleValue(st.value)
		}
	case pmetric.MetricTypeExponentialHistogram:
		dp := m.ExponentialHistogram().DataPoints().AppendEmpty()
		b.stamp(dp, k)
		st.hist.FillDataPoint(dp, 1, nil)
	case pmetric.MetricTypeHistogram:
		dp := m.Histogram().DataPoints().AppendEmpty()
		b.stamp(dp, k)
		fillExplicit(dp, st.bounded, b.cfg.ExplicitBounds)
	case pmetric.MetricTypeSummary:
		dp := m.Summary().DataPoints().AppendEmpty()
		b.stamp(dp, k)
		dp.SetCount(roundCount(st.hist.Count()))
		dp.SetSum(st.hist.Sum())
		for _, q := range b.cfg.SummaryQuantiles {
			qv := dp.QuantileValues().AppendEmpty()
			qv.SetQuantile(q)
			qv.SetValue(st.hist.Quantile(q))
		}
	}
}

func (b *builder) addTimestamped(p *timestampedPoint) {
	m := b.metric(&p.key, true)
	ts := pcommon.Timestamp(uint64(p.ts) * uint64(time.Second))
	var dp pmetric.NumberDataPoint
	if m.Type() == pmetric.MetricTypeSum {
		dp = m.Sum().DataPoints().AppendEmpty()
		dp.SetStartTimestamp(ts)
	} else {
		dp = m.Gauge().DataPoints().AppendEmpty()
	}
	dp.SetTimestamp(ts)
	PutTags(dp.Attributes(), p.key.tags)
	dp.SetDoubleValue(p.value)
}

// pointWithAttrs is what every data point kind offers for stamping.
type pointWithAttrs interface {
	Attributes() pcommon.Map
	SetStartTimestamp(pcommon.Timestamp)
	SetTimestamp(pcommon.Timestamp)
}

func (b *builder) stamp(dp pointWithAttrs, k *contextKey) {
	if k.typ != parse.Gauge && k.typ != parse.Set {
		dp.SetStartTimestamp(b.start)
	}
	dp.SetTimestamp(b.end)
	PutTags(dp.Attributes(), k.tags)
}

// PutTags maps sorted tags to attributes: `k:v` splits at the first colon, a bare tag gets an
// empty value, and a key given several values becomes a string slice of them in order.
func PutTags(attrs pcommon.Map, tags []string) {
	attrs.EnsureCapacity(len(tags))
	for i := 0; i < len(tags); {
		key, val, _ := strings.Cut(tags[i], ":")
		j := i + 1
		for j < len(tags) && tagKey(tags[j]) == key {
			j++
		}
		if j-i == 1 {
			attrs.PutStr(key, val)
		} else {
			s := attrs.PutEmptySlice(key)
			s.EnsureCapacity(j - i)
			for _, t := range tags[i:j] {
				_, v, _ := strings.Cut(t, ":")
				s.AppendEmpty().SetStr(v)
			}
		}
		i = j
	}
}

func tagKey(t string) string {
	k, _, _ := strings.Cut(t, ":")
	return k
}

func roundCount(c float64) uint64 { return uint64(math.Round(c)) }

func fillExplicit(dp pmetric.HistogramDataPoint, e *explicitHist, bounds []float64) {
	dp.ExplicitBounds().FromRaw(bounds)
	dp.SetCount(appendCounts(dp.BucketCounts(), e.counts))
	dp.SetSum(e.sum)
	dp.SetMin(e.min)
	dp.SetMax(e.max)
}

// appendCounts appends the rounded weighted counts to dst and returns their total, so a point's
// count always equals the sum of its buckets.
func appendCounts(dst pcommon.UInt64Slice, counts []float64) uint64 {
	dst.EnsureCapacity(len(counts))
	var total uint64
	for _, c := range counts {
		n := roundCount(c)
		dst.Append(n)
		total += n
	}
	return total
}
