package aggregate

import (
	"math"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// addMetric merges m's points and reports whether m is now empty (fully consumed).
func (s *Store) addMetric(m pmetric.Metric, scope pcommon.InstrumentationScope, src source, now int64) bool {
	delta := pmetric.AggregationTemporalityDelta
	switch m.Type() {
	case pmetric.MetricTypeSum:
		sum := m.Sum()
		if sum.AggregationTemporality() != delta {
			s.stats.PassThrough += uint64(sum.DataPoints().Len())
			return false
		}
		ms := s.metric(m, scope, kindSum, delta, sum.IsMonotonic(), now)
		if ms == nil {
			return s.spillMetric(m)
		}
		sum.DataPoints().RemoveIf(func(dp pmetric.NumberDataPoint) bool { return s.addNumber(ms, src, dp, now) })
		return sum.DataPoints().Len() == 0
	case pmetric.MetricTypeGauge:
		ms := s.metric(m, scope, kindGauge, pmetric.AggregationTemporalityUnspecified, false, now)
		if ms == nil {
			return s.spillMetric(m)
		}
		dps := m.Gauge().DataPoints()
		dps.RemoveIf(func(dp pmetric.NumberDataPoint) bool { return s.addNumber(ms, src, dp, now) })
		return dps.Len() == 0
	case pmetric.MetricTypeHistogram:
		h := m.Histogram()
		if h.AggregationTemporality() != delta {
			s.stats.PassThrough += uint64(h.DataPoints().Len())
			return false
		}
		ms := s.metric(m, scope, kindHistogram, delta, false, now)
		if ms == nil {
			return s.spillMetric(m)
		}
		h.DataPoints().RemoveIf(func(dp pmetric.HistogramDataPoint) bool { return s.addHistogram(ms, src, dp, now) })
		return h.DataPoints().Len() == 0
	case pmetric.MetricTypeExponentialHistogram:
		h := m.ExponentialHistogram()
		if h.AggregationTemporality() != delta {
			s.stats.PassThrough += uint64(h.DataPoints().Len())
			return false
		}
		ms := s.metric(m, scope, kindExpHistogram, delta, false, now)
		if ms == nil {
			return s.spillMetric(m)
		}
		h.DataPoints().RemoveIf(func(dp pmetric.ExponentialHistogramDataPoint) bool { return s.addExpHistogram(ms, src, dp, now) })
		return h.DataPoints().Len() == 0
	case pmetric.MetricTypeSummary:
		ms := s.metric(m, scope, kindSummary, pmetric.AggregationTemporalityUnspecified, false, now)
		if ms == nil {
			return s.spillMetric(m)
		}
		dps := m.Summary().DataPoints()
		dps.RemoveIf(func(dp pmetric.SummaryDataPoint) bool { return s.addSummary(ms, src, dp, now) })
		return dps.Len() == 0
	}
	return true // a metric without data
}

func (s *Store) addNumber(ms *Metric, src source, dp pmetric.NumberDataPoint, now int64) bool {
	var v float64
	var iv int64
	isInt := false
	switch dp.ValueType() {
	case pmetric.NumberDataPointValueTypeInt:
		iv, isInt = dp.IntValue(), true
		v = float64(iv)
	case pmetric.NumberDataPointValueTypeDouble:
		v = dp.DoubleValue()
	default:
		s.stats.Invalid++
		return true
	}
	if math.IsNaN(v) || math.IsInf(v, 0) || dp.Flags().NoRecordedValue() {
		s.stats.Invalid++
		return true
	}
	ts := s.clamp(int64(dp.Timestamp()), now)
	r, host, hasHost := s.place(ms, src, dp.Attributes(), ts, now)
	if r == nil {
		return true
	}
	w := math.Abs(v)
	if ms.kind == kindSum {
		r.addSum(v, iv, isInt)
	} else {
		r.addGauge(v, iv, isInt, ts)
		w = v
	}
	if hasHost {
		s.contributor(r, host, w)
	}
	s.stats.Points++
	return true
}

func (s *Store) addHistogram(ms *Metric, src source, dp pmetric.HistogramDataPoint, now int64) bool {
	if dp.Flags().NoRecordedValue() {
		s.stats.Invalid++
		return true
	}
	r, host, hasHost := s.place(ms, src, dp.Attributes(), s.clamp(int64(dp.Timestamp()), now), now)
	if r == nil {
		return true
	}
	h := &s.win.hists[r.ext]
	if !h.mergeable(dp, r.points == 0) {
		s.stats.Unmergeable++
		return false
	}
	h.add(dp, r.points == 0)
	r.points++
	if hasHost {
		s.contributor(r, host, float64(dp.Count()))
	}
	s.stats.Points++
	return true
}

func (s *Store) addExpHistogram(ms *Metric, src source, dp pmetric.ExponentialHistogramDataPoint, now int64) bool {
	if dp.Flags().NoRecordedValue() {
		s.stats.Invalid++
		return true
	}
	r, host, hasHost := s.place(ms, src, dp.Attributes(), s.clamp(int64(dp.Timestamp()), now), now)
	if r == nil {
		return true
	}
	if !s.win.exps[r.ext].MergeDataPoint(dp) {
		s.stats.Unmergeable++
		return false
	}
	r.points++
	if hasHost {
		s.contributor(r, host, float64(dp.Count()))
	}
	s.stats.Points++
	return true
}

func (s *Store) addSummary(ms *Metric, src source, dp pmetric.SummaryDataPoint, now int64) bool {
	if dp.Flags().NoRecordedValue() {
		s.stats.Invalid++
		return true
	}
	r, host, hasHost := s.place(ms, src, dp.Attributes(), s.clamp(int64(dp.Timestamp()), now), now)
	if r == nil {
		return true
	}
	s.win.summaries[r.ext].add(dp, r.points == 0)
	r.points++
	if hasHost {
		s.contributor(r, host, float64(dp.Count()))
	}
	s.stats.Points++
	return true
}

// contributor records host as the row's top contributor when weight beats the current one.
func (s *Store) contributor(r *Row, host string, weight float64) {
	if w := float32(weight); r.maxHost == 0 || w > r.maxHostW {
		r.maxHost, r.maxHostW = s.win.hostID(host, s.intern), w
	}
}

// clamp returns the point's time: now when it has none or lies in the future.
func (s *Store) clamp(ts, now int64) int64 {
	if ts == 0 {
		return now
	}
	if ts > now {
		s.stats.FutureClamped++
		return now
	}
	return ts
}

// place finds or creates the row for a point of ms at ts and leaves its window in s.win. It
// returns nil when the point is too late. A point whose window has already closed goes to the
// window open now if it is at most max_delay old. A new row over max_rows (per metric or in
// total) is replaced by the metric's overflow row.
func (s *Store) place(ms *Metric, src source, attrs pcommon.Map, ts, now int64) (r *Row, host string, hasHost bool) {
	res := ms.resNs
	start := floorDiv(ts-1, res) * res // windows are (start, start+res], as OTLP intervals are
	if now >= start+res+int64(s.opt.Grace) {
		if now-ts > int64(s.opt.MaxDelay) {
			s.stats.TooLate++
			return nil, "", false
		}
		s.stats.Late++
		start = floorDiv(now-1, res) * res
	}
	w := ms.lastWin
	if w == nil || w.Start != start || w.Res != res || w.closed {
		w = s.openWindow(res, start)
		ms.lastWin = w
	}
	s.win = w

	key, h, ok := s.enc.encode(s.keyBuf[:0], attrs)
	s.keyBuf = key
	host, hasHost = src.host, src.hasHost
	if ok {
		host, hasHost = h, true
	}
	if ms.overflow {
		// The points of metrics beyond max_metrics: one row per resource, whatever their attributes.
		key = s.overflowKey
		s.stats.MetricOverflow++
	}
	hash := rowHash(key, ms.ID, src.res)
	i, pos := w.lookup(hash, ms.ID, src.res, key)
	if i < 0 {
		perMetric := 0
		if int(ms.ID) < len(w.metricRows) {
			perMetric = int(w.metricRows[ms.ID])
		}
		if (s.opt.MaxRowsPerMetric > 0 && perMetric >= s.opt.MaxRowsPerMetric) ||
			!reserve(&s.lim.rows, s.opt.MaxRows) {
			key = s.overflowKey
			hash = rowHash(key, ms.ID, src.res)
			if i, pos = w.lookup(hash, ms.ID, src.res, key); i < 0 {
				s.lim.rows.Add(1) // overflow rows may go beyond MaxRows
				i = s.newRow(w, ms, pos, hash, src.res, key)
				w.rows[i].flags |= rowOverflow
			}
			s.stats.Overflow++
			w.metricOverflow[ms.ID]++
		} else {
			i = s.newRow(w, ms, pos, hash, src.res, key)
		}
	}
	return &w.rows[i], host, hasHost
}

// newRow inserts a row whose place under MaxRows the caller has taken.
func (s *Store) newRow(w *Window, ms *Metric, pos, hash uint64, res uint32, key []byte) int32 {
	i := w.insert(pos, hash, ms.ID, res, key, ms.kind)
	s.rows++
	ms.rows++
	ms.Cardinality.Insert(floorDiv(w.Start, int64(time.Hour)), hash, int(w.metricRows[ms.ID]))
	return i
}

// openWindow returns the open window (res, start), creating it if needed.
func (s *Store) openWindow(res, start int64) *Window {
	for _, w := range s.open {
		if w.Start == start && w.Res == res {
			return w
		}
	}
	var w *Window
	if n := len(s.pool); n > 0 {
		// The window with the most room: the spare that kept its slices, if there is one.
		best := 0
		for i, p := range s.pool {
			if cap(p.rows) > cap(s.pool[best].rows) {
				best = i
			}
		}
		w = s.pool[best]
		s.pool[best] = s.pool[n-1]
		s.pool[n-1] = nil
		s.pool = s.pool[:n-1]
	} else {
		w = &Window{id: uint32(len(s.windows))}
		s.windows = append(s.windows, w)
	}
	w.reset(res, start)
	s.open = append(s.open, w)
	return w
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}
