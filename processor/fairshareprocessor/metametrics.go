package fairshareprocessor

import (
	"cmp"
	"slices"
	"strings"
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
	metaMetrics         = "fairshare.metrics"
	metaMetricsNew      = "fairshare.metrics.new"

	attrMetricName   = "metric.name"
	attrMetricPrefix = "metric.prefix"
	attrOutcome      = "fairshare.outcome"

	// othersName stands for the metrics (or name prefixes) beyond metametrics_top_n in a
	// per-metric metametric: their values are added up under it.
	othersName = "(others)"
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
	rowMetric []uint32 // global metric id per row offered
	rowName   []string // metric name per row offered
	rowSize   []float64
	perMetric []metricFlush // by metric id
	touched   []uint32
	sampled   []uint32

	// Scratch of a closed window's per-metric points, by global metric id; wins lists the
	// windows closed in the flush (the same window of several shards once).
	wins            []closedWindow
	winIDs, overIDs []uint32
	winRows         map[uint32]int
	winOver         map[uint32]uint64
}

// closedWindow is the (start, resolution) of windows that closed in a flush.
type closedWindow struct{ start, res int64 }

// closedWindows lists the windows the shards' batches closed, in shard order of first sight.
func (e *engine) closedWindows() []closedWindow {
	wins := e.meta.wins[:0]
	for _, sh := range e.shards {
		for _, w := range sh.batch.Closed {
			if cw := (closedWindow{w.Start, w.Res}); !slices.Contains(wins, cw) {
				wins = append(wins, cw)
			}
		}
	}
	e.meta.wins = wins
	return wins
}

// appendOthers appends one point under othersName holding value added up over rest, if any.
func appendOthers(dst pmetric.NumberDataPointSlice, rest []uint32, value func(uint32) int64) {
	if len(rest) == 0 {
		return
	}
	var n int64
	for _, id := range rest {
		n += value(id)
	}
	dp := dst.AppendEmpty()
	dp.Attributes().PutStr(attrMetricName, othersName)
	dp.SetIntValue(n)
}

// add folds o's outcome into f (for the metrics summed up under othersName).
func (f *metricFlush) add(o *metricFlush) {
	f.inRows += o.inRows
	f.keptRows += o.keptRows
	f.inBytes += o.inBytes
	f.keptBytes += o.keptBytes
	f.costIn += o.costIn
	f.costGranted += o.costGranted
}

// topN orders ids by key, largest first, and splits them into the metametrics_top_n first and
// the rest. Ties keep the lower id first, so the choice does not depend on map order.
func (e *engine) topN(ids []uint32, key func(uint32) float64) (top, rest []uint32) {
	n := e.cfg.MetametricsTopN
	if len(ids) <= n {
		return ids, nil
	}
	slices.SortFunc(ids, func(a, b uint32) int {
		ka, kb := key(a), key(b)
		switch {
		case ka > kb:
			return -1
		case ka < kb:
			return 1
		}
		return int(a) - int(b)
	})
	return ids[:n], ids[n:]
}

// newMetricPoints appends the flush's new metric names by prefix: the top metametrics_top_n
// prefixes and the rest under othersName.
func (e *engine) newMetricPoints(dst pmetric.NumberDataPointSlice) {
	counts := e.shards[0].store.TakeNewMetrics()
	for _, sh := range e.shards[1:] {
		c := sh.store.TakeNewMetrics()
		if counts.ByPrefix == nil {
			counts.ByPrefix = c.ByPrefix
		} else {
			for p, n := range c.ByPrefix {
				counts.ByPrefix[p] += n
			}
		}
		counts.Others += c.Others
	}
	if len(counts.ByPrefix) == 0 && counts.Others == 0 {
		return
	}
	type pc struct {
		prefix string
		n      uint64
	}
	all := make([]pc, 0, len(counts.ByPrefix))
	for p, n := range counts.ByPrefix {
		all = append(all, pc{p, n})
	}
	slices.SortFunc(all, func(a, b pc) int {
		if a.n != b.n {
			return cmp.Compare(b.n, a.n)
		}
		return strings.Compare(a.prefix, b.prefix)
	})
	others := counts.Others
	for i, p := range all {
		if i >= e.cfg.MetametricsTopN {
			others += p.n
			continue
		}
		dp := dst.AppendEmpty()
		dp.Attributes().PutStr(attrMetricPrefix, p.prefix)
		dp.SetIntValue(int64(p.n))
	}
	if others > 0 {
		dp := dst.AppendEmpty()
		dp.Attributes().PutStr(attrMetricPrefix, othersName)
		dp.SetIntValue(int64(others))
	}
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
			pm.name = m.rowName[it.Ref]
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
// closed to out. It locks every shard (in shard order) to read their windows and metrics.
func (e *engine) metametrics(out pmetric.Metrics, now int64, budget float64) {
	total := e.account()
	for _, sh := range e.shards {
		sh.mu.Lock()
		defer sh.mu.Unlock()
	}
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
	sampled := e.meta.sampled[:0]
	for _, id := range e.meta.touched {
		if e.meta.perMetric[id].sampled {
			sampled = append(sampled, id)
		}
	}
	e.meta.sampled = sampled
	top, rest := e.topN(sampled, func(id uint32) float64 { return e.meta.perMetric[id].inBytes })
	sampledPoints := func(pm *metricFlush, name string) {
		dp := sf.AppendEmpty()
		dp.Attributes().PutStr(attrMetricName, name)
		dp.SetDoubleValue(pm.costIn / pm.costGranted)
		outcomes(srows, sbytes, *pm, name)
	}
	for _, id := range top {
		pm := &e.meta.perMetric[id]
		sampledPoints(pm, pm.name)
	}
	if len(rest) > 0 {
		var others metricFlush
		for _, id := range rest {
			others.add(&e.meta.perMetric[id])
		}
		sampledPoints(&others, othersName)
	}

	card := gauge(ms, metaCardinality, "{row}", "Distinct rows of a metric in a window (its cardinality).")
	hourly := gauge(ms, metaCardinalityHour, "{row}", "Estimated distinct rows of a metric in the current hour (HyperLogLog), reported with windows ending on a minute.")
	overflow := sum(ms, metaOverflow, "{point}", "Points folded into a metric's overflow row in a window.")
	for _, cw := range e.closedWindows() {
		wEnd := cw.start + cw.res
		end := pcommon.Timestamp(wEnd)
		onMinute := wEnd%int64(time.Minute) == 0
		hour := cw.start / int64(time.Hour)
		ids, rows, overs := e.meta.winIDs[:0], e.meta.winRows, e.meta.winOver
		clear(rows)
		clear(overs)
		for k, sh := range e.shards {
			for _, w := range sh.batch.Closed {
				if w.Start != cw.start || w.Res != cw.res {
					continue
				}
				w.EachMetric(func(local uint32, n int, over uint64) {
					id := e.global(k, local)
					if _, ok := rows[id]; !ok {
						ids = append(ids, id)
					}
					rows[id] += n
					overs[id] += over
				})
			}
		}
		e.meta.winIDs = ids
		top, rest := e.topN(ids, func(id uint32) float64 { return float64(rows[id]) })
		for _, id := range top {
			m := e.metric(id)
			dp := card.AppendEmpty()
			dp.Attributes().PutStr(attrMetricName, m.Name)
			dp.SetIntValue(int64(rows[id]))
			if onMinute {
				dp := hourly.AppendEmpty()
				dp.Attributes().PutStr(attrMetricName, m.Name)
				dp.SetIntValue(int64(m.Cardinality.Estimate(hour)))
			}
		}
		appendOthers(card, rest, func(id uint32) int64 { return int64(rows[id]) })
		overIDs := e.meta.overIDs[:0]
		for _, id := range ids {
			if overs[id] > 0 {
				overIDs = append(overIDs, id)
			}
		}
		e.meta.overIDs = overIDs
		top, rest = e.topN(overIDs, func(id uint32) float64 { return float64(overs[id]) })
		for _, id := range top {
			dp := overflow.AppendEmpty()
			dp.Attributes().PutStr(attrMetricName, e.metric(id).Name)
			dp.SetIntValue(int64(overs[id]))
		}
		appendOthers(overflow, rest, func(id uint32) int64 { return int64(overs[id]) })
		setTimes(card, end, 0)
		setTimes(hourly, end, 0)
		setTimes(overflow, end, pcommon.Timestamp(cw.start))
	}

	tracked := gauge(ms, metaMetrics, "{metric}", "Metric identities tracked, bounded by max_metrics.")
	tracked.AppendEmpty().SetIntValue(int64(e.limits.Metrics()))
	fresh := sum(ms, metaMetricsNew, "{metric}", "Metric names not tracked when their points arrived (created, or merged into the overflow metric at max_metrics), by name prefix (the name up to its last '.'), the top prefixes first.")
	e.newMetricPoints(fresh)
	setTimes(tracked, ts, 0)
	setTimes(fresh, ts, start)
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
