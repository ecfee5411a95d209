package fairshareprocessor

import (
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/doghouse-otel/doghouse/processor/fairshareprocessor/internal/metadata"
)

// Metametric names and attributes, emitted into the pipeline next to the data (README lists
// them). Their rows are not counted against the budget, as StatsHouse's built-in metrics.
const (
	metaBudget          = "fairshare.budget"
	metaRows            = "fairshare.rows"
	metaBytes           = "fairshare.bytes"
	metaSampledRows     = "fairshare.sampled.rows"
	metaSampledBytes    = "fairshare.sampled.bytes"
	metaSamplingFactor  = "fairshare.sampling.factor"
	metaCardinality     = "fairshare.cardinality"
	metaCardinalityHour = "fairshare.cardinality.hourly"
	metaOverflow        = "fairshare.overflow"

	attrMetricName = "metric.name"
	attrOutcome    = "fairshare.outcome"
)

// metricFlush accumulates one metric's sampling outcome in a flush.
type metricFlush struct {
	name                string
	inRows, keptRows    int
	inBytes, keptBytes  float64
	costIn, costGranted float64 // for the factor: bytes offered / bytes the grant allowed
	sampled             bool
}

type metaState struct {
	rowMetric []uint32 // metric id per batch row
	rowSize   []float64
	perMetric []metricFlush // by metric id
	touched   []uint32
}

// account gathers per-metric outcomes from the sampled items.
func (e *engine) account() (total metricFlush) {
	m := &e.meta
	for _, id := range m.touched {
		m.perMetric[id] = metricFlush{}
	}
	m.touched = m.touched[:0]
	for _, it := range e.items {
		id := m.rowMetric[it.Ref]
		for int(id) >= len(m.perMetric) {
			m.perMetric = append(m.perMetric, metricFlush{})
		}
		pm := &m.perMetric[id]
		if pm.inRows == 0 {
			m.touched = append(m.touched, id)
			pm.name = e.store.Metric(id).Name
		}
		size := m.rowSize[it.Ref]
		pm.inRows++
		pm.inBytes += size
		pm.costIn += it.Size
		pm.costGranted += it.Size / it.GroupSF
		if it.GroupSF > 1 {
			pm.sampled = true
		}
		total.inRows++
		total.inBytes += size
		if it.Factor > 0 {
			pm.keptRows++
			pm.keptBytes += size
			total.keptRows++
			total.keptBytes += size
		}
	}
	return total
}

// metametrics appends the flush's sampling outcome and the cardinality of the windows it
// closed to out.
func (e *engine) metametrics(out pmetric.Metrics, now int64, budget float64) {
	total := e.account()
	sm := out.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty()
	sm.Scope().SetName(metadata.ScopeName)
	ms := sm.Metrics()
	ts := pcommon.Timestamp(now)
	start := pcommon.Timestamp(e.last)
	if e.last == 0 || e.last >= now {
		start = pcommon.Timestamp(now - int64(time.Second))
	}

	bud := gauge(ms, metaBudget, "By", "Bytes the flush could keep: budget.bytes_per_second times the seconds it covers.")
	bud.AppendEmpty().SetIntValue(int64(budget))
	rows := sum(ms, metaRows, "{row}", "Aggregated rows offered to sampling, by outcome.")
	bytes := sum(ms, metaBytes, "By", "Estimated bytes of the rows offered to sampling, by outcome.")
	outcomes(rows, bytes, total, "")

	sf := gauge(ms, metaSamplingFactor, "1", "Sampling factor of a sampled metric (like StatsHouse's __src_sampling_factor): bytes offered / bytes granted; kept counts and sums were multiplied by it.")
	srows := sum(ms, metaSampledRows, "{row}", "Rows of a sampled metric, by outcome.")
	sbytes := sum(ms, metaSampledBytes, "By", "Estimated bytes of a sampled metric's rows, by outcome.")
	for _, id := range e.meta.touched {
		pm := &e.meta.perMetric[id]
		if !pm.sampled {
			continue
		}
		dp := sf.AppendEmpty()
		dp.Attributes().PutStr(attrMetricName, pm.name)
		dp.SetDoubleValue(pm.costIn / pm.costGranted)
		outcomes(srows, sbytes, *pm, pm.name)
	}

	card := gauge(ms, metaCardinality, "{row}", "Distinct rows of a metric in a window (its cardinality).")
	hourly := gauge(ms, metaCardinalityHour, "{row}", "Estimated distinct rows of a metric in the current hour (HyperLogLog), reported with windows ending on a minute.")
	overflow := sum(ms, metaOverflow, "{point}", "Points folded into a metric's overflow row in a window.")
	for _, w := range e.batch.Closed {
		end := pcommon.Timestamp(w.End())
		onMinute := w.End()%int64(time.Minute) == 0
		hour := w.Start / int64(time.Hour)
		w.EachMetric(func(id uint32, n int, over uint64) {
			m := e.store.Metric(id)
			dp := card.AppendEmpty()
			dp.Attributes().PutStr(attrMetricName, m.Name)
			dp.SetIntValue(int64(n))
			if onMinute {
				dp := hourly.AppendEmpty()
				dp.Attributes().PutStr(attrMetricName, m.Name)
				dp.SetIntValue(int64(m.Cardinality.Estimate(hour)))
			}
			if over > 0 {
				dp := overflow.AppendEmpty()
				dp.Attributes().PutStr(attrMetricName, m.Name)
				dp.SetIntValue(int64(over))
			}
		})
		setTimes(card, end, 0)
		setTimes(hourly, end, 0)
		setTimes(overflow, end, pcommon.Timestamp(w.Start))
	}
	setTimes(bud, ts, 0)
	setTimes(sf, ts, 0)
	for _, s := range []pmetric.NumberDataPointSlice{rows, bytes, srows, sbytes} {
		setTimes(s, ts, start)
	}
	ms.RemoveIf(func(m pmetric.Metric) bool {
		if m.Type() == pmetric.MetricTypeGauge {
			return m.Gauge().DataPoints().Len() == 0
		}
		return m.Sum().DataPoints().Len() == 0
	})
}

func outcomes(rows, bytes pmetric.NumberDataPointSlice, f metricFlush, name string) {
	for _, o := range [2]struct {
		outcome string
		rows    int
		bytes   float64
	}{{"kept", f.keptRows, f.keptBytes}, {"dropped", f.inRows - f.keptRows, f.inBytes - f.keptBytes}} {
		for _, p := range [2]struct {
			dst pmetric.NumberDataPointSlice
			v   int64
		}{{rows, int64(o.rows)}, {bytes, int64(o.bytes + 0.5)}} {
			dp := p.dst.AppendEmpty()
			if name != "" {
				dp.Attributes().PutStr(attrMetricName, name)
			}
			dp.Attributes().PutStr(attrOutcome, o.outcome)
			dp.SetIntValue(p.v)
		}
	}
}

// setTimes stamps the points of s that have no timestamp yet.
func setTimes(s pmetric.NumberDataPointSlice, ts, start pcommon.Timestamp) {
	for i := range s.Len() {
		if dp := s.At(i); dp.Timestamp() == 0 {
			dp.SetTimestamp(ts)
			dp.SetStartTimestamp(start)
		}
	}
}

func gauge(ms pmetric.MetricSlice, name, unit, desc string) pmetric.NumberDataPointSlice {
	m := ms.AppendEmpty()
	m.SetName(name)
	m.SetUnit(unit)
	m.SetDescription(desc)
	return m.SetEmptyGauge().DataPoints()
}

func sum(ms pmetric.MetricSlice, name, unit, desc string) pmetric.NumberDataPointSlice {
	m := ms.AppendEmpty()
	m.SetName(name)
	m.SetUnit(unit)
	m.SetDescription(desc)
	s := m.SetEmptySum()
	s.SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
	s.SetIsMonotonic(true)
	return s.DataPoints()
}
