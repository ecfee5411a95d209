package aggregate

import (
	"math"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/parse"
)

// snapshot is one context's data of the interval, taken out of its shard by Flush.
type snapshot struct {
	key *contextKey
	st  *state // nil: an idle counter within its expiry, emitted as zero
}

// Flush emits one data point per context active in (start, end], one per overflow context
// used, and the timestamped samples, then forgets contexts that were idle for the whole
// interval (counters after ExpiryIntervals more intervals of zeros). It returns them as one
// pmetric.Metrics; FlushTo hands them out in parts.
func (a *Aggregator) Flush(start, end time.Time) pmetric.Metrics {
	var md pmetric.Metrics
	a.FlushTo(start, end, 0, func(part pmetric.Metrics) { md = part })
	if md == (pmetric.Metrics{}) {
		md = pmetric.NewMetrics()
	}
	return md
}

// FlushTo is Flush handing the data points to emit in parts of at most maxPoints (0: one part),
// so that a flood of contexts never holds a whole interval's pdata at once. emit is not called
// for an empty interval. Each shard is locked only while its interval state is swapped out;
// the output is built and emitted without the locks. Flush calls are serialised.
func (a *Aggregator) FlushTo(start, end time.Time, maxPoints int, emit func(pmetric.Metrics)) {
	a.flushMu.Lock()
	defer a.flushMu.Unlock()

	b := newBuilder(&a.cfg, pcommon.NewTimestampFromTime(start), pcommon.NewTimestampFromTime(end))
	full := func() {
		if maxPoints > 0 && b.points >= maxPoints {
			emit(b.md)
			b.reset()
		}
	}
	var overflow [numTypes]*state
	for _, s := range a.shards {
		snap, ts, over := s.swap(a.snap[:0])
		for i := range snap {
			b.addContext(snap[i].key, snap[i].st)
			full()
		}
		for i := range ts {
			b.addTimestamped(&ts[i])
			full()
		}
		for t, st := range over {
			if st == nil {
				continue
			}
			if overflow[t] == nil {
				overflow[t] = st
				continue
			}
			overflow[t].merge(parse.MetricType(t), st, &a.cfg)
			st.reset()
			s.giveBack(st, parse.MetricType(t))
		}
		s.recycle(snap, ts)
		a.snap = snap
	}
	for t, st := range overflow {
		if st != nil {
			k := overflowKey(parse.MetricType(t))
			b.addContext(&k, st)
			st.reset()
			a.shards[0].giveBack(st, parse.MetricType(t))
		}
	}
	if b.points > 0 {
		emit(b.md)
	}
}

// swap takes the shard's interval state: a snapshot of every context with samples (its state is
// detached: the next sample starts a new one), idle counters still within their expiry (st nil),
// the timestamped samples and the overflow states. Contexts idle past their expiry are forgotten.
func (s *Shard) swap(snap []snapshot) ([]snapshot, []timestampedPoint, [numTypes]*state) {
	expiry := s.agg.cfg.ExpiryIntervals
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.idle)
	s.idle = s.idle[:0]
	seen := s.nextSeen()
	for h, head := range s.contexts {
		var kept *entry
		for e := head; e != nil; {
			next := e.next
			switch {
			case e.st != nil && e.probation:
				snap = append(snap, snapshot{key: &e.key, st: e.st})
				s.n--
				s.agg.Stats.Contexts.Add(-1)
				i, j := seenBits(e.hash, len(seen))
				seen[i/64] |= 1 << (i % 64)
				seen[j/64] |= 1 << (j % 64)
				e = next
				continue
			case e.st != nil:
				snap = append(snap, snapshot{key: &e.key, st: e.st})
				e.st, e.idle = nil, 0
			case e.key.typ == parse.Counter && int(e.idle) < expiry:
				snap = append(snap, snapshot{key: &e.key})
				e.idle++
			default:
				s.n--
				s.agg.Stats.Contexts.Add(-1)
				e = next
				continue
			}
			e.next = kept
			kept = e
			s.idle = append(s.idle, e)
			e = next
		}
		if kept == nil {
			delete(s.contexts, h)
		} else {
			s.contexts[h] = kept
		}
	}
	s.seen, s.spareSeen = seen, s.seen
	s.probation = 0
	// Keys keep their origin; the next interval's new contexts share fresh copies. A map that
	// grew in a flood of origins is dropped rather than kept at its size.
	if len(s.resources) > 1024 {
		s.resources = nil
	} else {
		clear(s.resources)
	}
	s.trimSpares()
	ts := s.timestamped
	s.timestamped = nil
	s.held = 0
	over := s.overflow
	s.overflow = [numTypes]*state{}
	return snap, ts, over
}

// recycle hands the states of a built snapshot back to the shard for the contexts of the next
// interval. The spare list never outgrows the contexts the shard tracks, so a flood's states are
// left to the garbage collector once it is over.
func (s *Shard) recycle(snap []snapshot, ts []timestampedPoint) {
	for i := range snap {
		if st := snap[i].st; st != nil {
			st.reset()
		}
	}
	s.mu.Lock()
	for i := range snap {
		if st := snap[i].st; st != nil {
			s.giveBackLocked(st, snap[i].key.typ)
		}
		snap[i] = snapshot{}
	}
	if s.timestamped == nil {
		clear(ts)
		s.timestamped = ts[:0]
	}
	s.mu.Unlock()
}

func (s *Shard) giveBack(st *state, t parse.MetricType) {
	s.mu.Lock()
	s.giveBackLocked(st, t)
	s.mu.Unlock()
}

func (s *Shard) giveBackLocked(st *state, t parse.MetricType) {
	spares := 0
	for _, sp := range s.spare {
		spares += len(sp)
	}
	if spares < s.n {
		s.spare[t] = append(s.spare[t], st)
	}
}

// trimSpares drops spare states beyond the number of contexts the shard still tracks, so the
// states of a flood that is over are left to the garbage collector.
func (s *Shard) trimSpares() {
	total := 0
	for _, sp := range s.spare {
		total += len(sp)
	}
	for t := range s.spare {
		if total <= s.n {
			return
		}
		sp := s.spare[t]
		drop := min(len(sp), total-s.n)
		clear(sp[len(sp)-drop:])
		s.spare[t] = sp[:len(sp)-drop]
		total -= drop
	}
}

// OverflowAttribute marks the contexts that take the samples of new contexts beyond
// max_contexts, as the OpenTelemetry SDK marks its cardinality-limit overflow.
const OverflowAttribute = "otel.metric.overflow"

// overflowNames are the metric names of the overflow contexts, one per DogStatsD type.
var overflowNames = [numTypes]string{
	parse.Counter:      "dogstatsd.overflow.count",
	parse.Gauge:        "dogstatsd.overflow.gauge",
	parse.Timer:        "dogstatsd.overflow.timer",
	parse.Histogram:    "dogstatsd.overflow.histogram",
	parse.Set:          "dogstatsd.overflow.set",
	parse.Distribution: "dogstatsd.overflow.distribution",
}

func overflowKey(t parse.MetricType) contextKey {
	return contextKey{name: overflowNames[t], typ: t, res: noResource, overflow: true}
}

// builder groups data points by resource (host, container) and by metric (name, type).
type builder struct {
	cfg        *Config
	start, end pcommon.Timestamp
	md         pmetric.Metrics
	points     int // data points in md
	resources  map[Resource]pmetric.MetricSlice
	metrics    map[metricID]pmetric.Metric
	agentOuts  []agentOutput // the gauges of a timer or histogram under MappingAgentAggregates
}

type metricID struct {
	res         Resource
	name        string
	typ         parse.MetricType
	timestamped bool
	out         int // 0: the context's own metric; i+1: its agent output i
}

func newBuilder(cfg *Config, start, end pcommon.Timestamp) *builder {
	b := &builder{
		cfg: cfg, start: start, end: end,
		resources: make(map[Resource]pmetric.MetricSlice),
		metrics:   make(map[metricID]pmetric.Metric),
	}
	if cfg.anyMapping(MappingAgentAggregates) {
		b.agentOuts = agentOutputs(cfg)
	}
	b.reset()
	return b
}

// reset starts a new, empty part.
func (b *builder) reset() {
	b.md = pmetric.NewMetrics()
	b.points = 0
	clear(b.resources)
	clear(b.metrics)
}

// kindOf returns the kind of metric context k's state st becomes (st nil: an idle counter).
func (b *builder) kindOf(k *contextKey, st *state) pmetric.MetricType {
	switch k.typ {
	case parse.Counter:
		return pmetric.MetricTypeSum
	case parse.Gauge, parse.Set:
		return pmetric.MetricTypeGauge
	}
	switch st.acc.(type) {
	case *explicitHist:
		return pmetric.MetricTypeHistogram
	case *rawValues:
		return pmetric.MetricTypeGauge
	}
	if b.cfg.typ(k.typ).Mapping == MappingSummary {
		return pmetric.MetricTypeSummary
	}
	return pmetric.MetricTypeExponentialHistogram
}

// metricOf returns the metric of kind of context k's output out (see metricID), creating it in
// the current part when it is not there yet.
func (b *builder) metricOf(k *contextKey, timestamped bool, out int, kind pmetric.MetricType) pmetric.Metric {
	id := metricID{*k.res, k.name, k.typ, timestamped, out}
	if m, ok := b.metrics[id]; ok {
		return m
	}
	ms, ok := b.resources[*k.res]
	if !ok {
		rm := b.md.ResourceMetrics().AppendEmpty()
		k.res.Put(rm.Resource().Attributes())
		sm := rm.ScopeMetrics().AppendEmpty()
		sm.Scope().SetName(b.cfg.ScopeName)
		sm.Scope().SetVersion(b.cfg.ScopeVersion)
		ms = sm.Metrics()
		b.resources[*k.res] = ms
	}
	m := ms.AppendEmpty()
	m.SetName(k.name)
	if out > 0 {
		m.SetName(k.name + b.agentOuts[out-1].suffix)
	}
	switch kind {
	case pmetric.MetricTypeSum:
		sum := m.SetEmptySum()
		sum.SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
		sum.SetIsMonotonic(b.cfg.MonotonicCounters)
	case pmetric.MetricTypeGauge:
		m.SetEmptyGauge()
	case pmetric.MetricTypeExponentialHistogram:
		m.SetEmptyExponentialHistogram().SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
	case pmetric.MetricTypeHistogram:
		m.SetEmptyHistogram().SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
	default:
		m.SetEmptySummary()
	}
	b.metrics[id] = m
	return m
}

// addContext adds the data point of one context; a nil st is an idle counter's zero.
func (b *builder) addContext(k *contextKey, st *state) {
	if st != nil {
		switch acc := st.acc.(type) {
		case *agentHist:
			b.addAgent(k, acc)
			return
		case *rawValues:
			b.addRaw(k, acc)
			return
		}
	}
	b.points++
	m := b.metricOf(k, false, 0, b.kindOf(k, st))
	switch m.Type() {
	case pmetric.MetricTypeSum:
		dp := m.Sum().DataPoints().AppendEmpty()
		b.stamp(dp, k)
		if st != nil {
			dp.SetDoubleValue(st.value)
		} else {
			dp.SetDoubleValue(0)
		}
	case pmetric.MetricTypeGauge:
		dp := m.Gauge().DataPoints().AppendEmpty()
		b.stamp(dp, k)
		if k.typ == parse.Set {
			dp.SetIntValue(st.acc.(*distinct).count())
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
		fillExplicit(dp, st.acc.(*explicitHist))
	case pmetric.MetricTypeSummary:
		dp := m.Summary().DataPoints().AppendEmpty()
		b.stamp(dp, k)
		dp.SetCount(roundCount(st.hist.Count()))
		dp.SetSum(st.hist.Sum())
		for _, q := range b.cfg.typ(k.typ).Quantiles {
			qv := dp.QuantileValues().AppendEmpty()
			qv.SetQuantile(q)
			qv.SetValue(st.hist.Quantile(q))
		}
	}
}

// addAgent adds the gauges of a timer or histogram context under MappingAgentAggregates, one
// per aggregate and percentile, named `<name>.<aggregate>` and `<name>.<p>percentile`.
func (b *builder) addAgent(k *contextKey, a *agentHist) {
	a.sortValues()
	var first pcommon.Map
	for i := range b.agentOuts {
		dp := b.metricOf(k, false, i+1, pmetric.MetricTypeGauge).Gauge().DataPoints().AppendEmpty()
		dp.SetTimestamp(b.end)
		if i == 0 {
			first = dp.Attributes()
			b.labels(first, k)
		} else {
			first.CopyTo(dp.Attributes())
		}
		dp.SetDoubleValue(a.value(&b.agentOuts[i]))
		b.points++
	}
}

// addRaw adds the values of a context under MappingGauge, each a gauge point of its own stamped
// with the time it arrived, as the contrib statsd receiver's observer_type "gauge" does.
func (b *builder) addRaw(k *contextKey, r *rawValues) {
	if len(r.values) == 0 {
		return
	}
	dps := b.metricOf(k, false, 0, pmetric.MetricTypeGauge).Gauge().DataPoints()
	dps.EnsureCapacity(dps.Len() + len(r.values))
	var first pcommon.Map
	for i, v := range r.values {
		dp := dps.AppendEmpty()
		dp.SetTimestamp(pcommon.Timestamp(r.times[i]))
		dp.SetDoubleValue(v)
		if i == 0 {
			first = dp.Attributes()
			b.labels(first, k)
		} else {
			first.CopyTo(dp.Attributes())
		}
	}
	b.points += len(r.values)
}

func (b *builder) addTimestamped(p *timestampedPoint) {
	b.points++
	kind := pmetric.MetricTypeGauge
	if p.key.typ == parse.Counter {
		kind = pmetric.MetricTypeSum
	}
	m := b.metricOf(&p.key, true, 0, kind)
	ts := pcommon.Timestamp(uint64(p.ts) * uint64(time.Second))
	var dp pmetric.NumberDataPoint
	if m.Type() == pmetric.MetricTypeSum {
		dp = m.Sum().DataPoints().AppendEmpty()
		dp.SetStartTimestamp(ts)
	} else {
		dp = m.Gauge().DataPoints().AppendEmpty()
	}
	dp.SetTimestamp(ts)
	b.labels(dp.Attributes(), &p.key)
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
	b.labels(dp.Attributes(), k)
}

// labels puts the attributes of context k: its tags, or the overflow mark, and with
// MetricTypeAttribute its type (over a tag of the same key, as contrib's attribute set keeps
// the last value of a key).
func (b *builder) labels(attrs pcommon.Map, k *contextKey) {
	if k.overflow {
		attrs.PutBool(OverflowAttribute, true)
	} else {
		PutTags(attrs, k.tags())
	}
	if b.cfg.MetricTypeAttribute {
		attrs.PutStr(MetricTypeAttribute, metricTypeNames[k.typ])
	}
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

func fillExplicit(dp pmetric.HistogramDataPoint, e *explicitHist) {
	dp.ExplicitBounds().FromRaw(e.bounds)
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
