package aggregate

import (
	"math"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// Parts of a gauge row: the gauge itself and, with GaugeStats, its companions.
const (
	partMain uint8 = iota
	partMin
	partMax
	partCount
)

type metricSlot struct {
	res, metric uint32
	part        uint8
}

// Output is the pmetric.Metrics that one or more stores emit rows into: one ResourceMetrics per
// resource and one ScopeMetrics per scope in it, whichever store the rows come from. A metric
// identity lives in one store, so each store makes its own Metric entries.
type Output struct {
	md  pmetric.Metrics
	rms map[string]pmetric.ResourceMetrics // by resource key
	sms map[outScope]pmetric.ScopeMetrics
}

type outScope struct {
	res           string
	name, version string
}

// NewOutput returns an Output that appends to md.
func NewOutput(md pmetric.Metrics) *Output {
	o := &Output{rms: map[string]pmetric.ResourceMetrics{}, sms: map[outScope]pmetric.ScopeMetrics{}}
	o.Reset(md)
	return o
}

// Reset makes o append to md, forgetting what it appended before.
func (o *Output) Reset(md pmetric.Metrics) {
	o.md = md
	clear(o.rms)
	clear(o.sms)
}

// emitter groups output rows by resource, scope and metric. Its maps are reused between flushes.
type emitter struct {
	rms     map[uint32]pmetric.ResourceMetrics
	sms     map[uint64]pmetric.ScopeMetrics
	metrics map[metricSlot]pmetric.Metric
	keys    map[string]string
	// The last slot looked up: rows of one metric usually come in runs.
	lastSlot   metricSlot
	lastMetric pmetric.Metric
	hasLast    bool
}

// Emit appends the rows of refs whose factor is above zero to dst, their counts and sums
// multiplied by the factor (min, max and gauge values unchanged).
func (s *Store) Emit(dst *Output, refs []RowRef, factors []float64) {
	e := &s.emit
	if e.rms == nil {
		e.rms, e.sms = map[uint32]pmetric.ResourceMetrics{}, map[uint64]pmetric.ScopeMetrics{}
		e.metrics, e.keys = map[metricSlot]pmetric.Metric{}, map[string]string{}
	}
	clear(e.rms)
	clear(e.sms)
	clear(e.metrics)
	e.hasLast = false
	if len(e.keys) >= maxInterned {
		// Full: values of a high-cardinality attribute churned through it. A new map lets the
		// old one's table go (clear would keep it at its size).
		e.keys = map[string]string{}
	}
	for i, ref := range refs {
		if factors[i] > 0 {
			s.emitRow(dst, ref, factors[i])
		}
	}
}

// maxInterned bounds the strings the emitter keeps for reuse between rows and flushes;
// maxInternedLen skips long values, which rarely repeat.
const (
	maxInterned    = 1 << 14
	maxInternedLen = 64
)

// internKey returns attribute keys and short values as shared strings, so rows with the same
// values do not each allocate them.
func (s *Store) internKey(b []byte) string {
	if len(b) > maxInternedLen {
		return string(b)
	}
	if k, ok := s.emit.keys[string(b)]; ok {
		return k
	}
	k := string(b)
	if len(s.emit.keys) < maxInterned {
		s.emit.keys[k] = k
	}
	return k
}

func (s *Store) slot(dst *Output, r *Row, part uint8) pmetric.Metric {
	sl := metricSlot{res: r.res, metric: r.metric, part: part}
	if s.emit.hasLast && s.emit.lastSlot == sl {
		return s.emit.lastMetric
	}
	if m, ok := s.emit.metrics[sl]; ok {
		s.emit.lastSlot, s.emit.lastMetric, s.emit.hasLast = sl, m, true
		return m
	}
	res := s.resources[r.res]
	rm, ok := s.emit.rms[r.res]
	if !ok {
		if rm, ok = dst.rms[res.key]; !ok {
			rm = dst.md.ResourceMetrics().AppendEmpty()
			res.attrs.CopyTo(rm.Resource().Attributes())
			dst.rms[res.key] = rm
		}
		s.emit.rms[r.res] = rm
	}
	ms := s.metrics[r.metric]
	sk := uint64(r.res)<<32 | uint64(ms.scope)
	sm, ok := s.emit.sms[sk]
	if !ok {
		osk := outScope{res: res.key, name: s.scopes[ms.scope][0], version: s.scopes[ms.scope][1]}
		if sm, ok = dst.sms[osk]; !ok {
			sm = rm.ScopeMetrics().AppendEmpty()
			sm.Scope().SetName(osk.name)
			sm.Scope().SetVersion(osk.version)
			dst.sms[osk] = sm
		}
		s.emit.sms[sk] = sm
	}
	m := sm.Metrics().AppendEmpty()
	m.SetName(ms.Name)
	m.SetUnit(ms.Unit)
	m.SetDescription(ms.Description)
	switch {
	case part == partMin || part == partMax:
		suffix := map[uint8]string{partMin: ".min", partMax: ".max"}[part]
		m.SetName(ms.Name + suffix)
		m.SetDescription("The " + suffix[1:] + " of " + ms.Name + " over the window")
		m.SetEmptyGauge()
	case part == partCount:
		m.SetName(ms.Name + ".count")
		m.SetUnit("{point}")
		m.SetDescription("The number of points of " + ms.Name + " merged into the window")
		sum := m.SetEmptySum()
		sum.SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
		sum.SetIsMonotonic(true)
	case ms.kind == kindSum:
		sum := m.SetEmptySum()
		sum.SetAggregationTemporality(ms.Temporality)
		sum.SetIsMonotonic(ms.Monotonic)
	case ms.kind == kindGauge:
		m.SetEmptyGauge()
	case ms.kind == kindHistogram:
		m.SetEmptyHistogram().SetAggregationTemporality(ms.Temporality)
	case ms.kind == kindExpHistogram:
		m.SetEmptyExponentialHistogram().SetAggregationTemporality(ms.Temporality)
	case ms.kind == kindSummary:
		m.SetEmptySummary()
	}
	s.emit.metrics[sl] = m
	s.emit.lastSlot, s.emit.lastMetric, s.emit.hasLast = sl, m, true
	return m
}

func (s *Store) attrs(dst pcommon.Map, w *Window, r *Row) {
	key := w.key(r)
	dst.EnsureCapacity(int(r.fields) + 1)
	decodeKey(dst, key, s.internKey)
	if r.maxHost != 0 && s.opt.MaxHostAttribute != "" {
		dst.PutStr(MaxHostOutput, w.host(r))
	}
}

func (s *Store) emitRow(dst *Output, ref RowRef, factor float64) {
	w := s.windows[ref.W]
	r := &w.rows[ref.I]
	start, end := pcommon.Timestamp(w.Start), pcommon.Timestamp(w.End())
	rng := s.opt.Rand
	switch s.metrics[r.metric].kind {
	case kindSum:
		dp := s.slot(dst, r, partMain).Sum().DataPoints().AppendEmpty()
		s.attrs(dp.Attributes(), w, r)
		dp.SetStartTimestamp(start)
		dp.SetTimestamp(end)
		if iv, ok := r.scaledIntSum(factor); ok {
			dp.SetIntValue(iv)
		} else if r.flags&rowAllInt != 0 {
			dp.SetDoubleValue(float64(r.i0) * factor)
		} else {
			dp.SetDoubleValue(r.f0 * factor)
		}
	case kindGauge:
		dp := s.slot(dst, r, partMain).Gauge().DataPoints().AppendEmpty()
		s.attrs(dp.Attributes(), w, r)
		dp.SetTimestamp(end)
		if r.flags&rowLastInt != 0 {
			dp.SetIntValue(r.i0)
		} else {
			dp.SetDoubleValue(math.Float64frombits(uint64(r.i0)))
		}
		if !s.opt.GaugeStats {
			return
		}
		for _, p := range [2]struct {
			part uint8
			v    float64
		}{{partMin, r.f0}, {partMax, r.f1}} {
			dp := s.slot(dst, r, p.part).Gauge().DataPoints().AppendEmpty()
			s.attrs(dp.Attributes(), w, r)
			dp.SetTimestamp(end)
			dp.SetDoubleValue(p.v)
		}
		cp := s.slot(dst, r, partCount).Sum().DataPoints().AppendEmpty()
		s.attrs(cp.Attributes(), w, r)
		cp.SetStartTimestamp(start)
		cp.SetTimestamp(end)
		cp.SetIntValue(int64(scaleCount(uint64(r.points), factor, rng)))
	case kindHistogram:
		dp := s.slot(dst, r, partMain).Histogram().DataPoints().AppendEmpty()
		s.attrs(dp.Attributes(), w, r)
		dp.SetStartTimestamp(start)
		dp.SetTimestamp(end)
		w.hists[r.ext].emit(dp, factor, rng)
	case kindExpHistogram:
		dp := s.slot(dst, r, partMain).ExponentialHistogram().DataPoints().AppendEmpty()
		s.attrs(dp.Attributes(), w, r)
		dp.SetStartTimestamp(start)
		dp.SetTimestamp(end)
		w.exps[r.ext].FillDataPoint(dp, factor, rng)
	case kindSummary:
		dp := s.slot(dst, r, partMain).Summary().DataPoints().AppendEmpty()
		s.attrs(dp.Attributes(), w, r)
		dp.SetStartTimestamp(start)
		dp.SetTimestamp(end)
		w.summaries[r.ext].emit(dp, r.points == 1, factor, rng)
	}
}
