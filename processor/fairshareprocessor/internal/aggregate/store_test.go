package aggregate

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

func TestKeyIgnoresAttributeOrderAndKeepsTypes(t *testing.T) {
	enc := keyEncoder{drop: []string{"host.name"}}
	a := pcommon.NewMap()
	a.PutStr("b", "x")
	a.PutInt("a", 1)
	a.PutStr("host.name", "h1")
	b := pcommon.NewMap()
	b.PutStr("host.name", "h2")
	b.PutInt("a", 1)
	b.PutStr("b", "x")
	ka, _, _ := enc.encode(nil, a)
	kb, _, _ := enc.encode(nil, b)
	if !bytes.Equal(ka, kb) {
		t.Fatalf("same set in another order (and another merged host) encodes differently: %q vs %q", ka, kb)
	}
	c := pcommon.NewMap()
	c.PutStr("a", "1") // a string "1" is not the int 1
	c.PutStr("b", "x")
	if kc, _, _ := enc.encode(nil, c); bytes.Equal(ka, kc) {
		t.Fatalf("int and string values encode the same")
	}

	all := pcommon.NewMap()
	all.PutStr("s", "v")
	all.PutInt("i", -7)
	all.PutDouble("d", 2.5)
	all.PutBool("t", true)
	all.PutEmptyBytes("y").FromRaw([]byte{1, 2})
	key, _, _ := (&keyEncoder{}).encode(nil, all)
	back := pcommon.NewMap()
	decodeKey(back, key, func(b []byte) string { return string(b) })
	if !back.Equal(all) && fmt.Sprint(back.AsRaw()) != fmt.Sprint(all.AsRaw()) {
		t.Fatalf("decoded %v, want %v", back.AsRaw(), all.AsRaw())
	}
	if v, ok := LookupAttr(key, "s"); !ok || string(v) != "v" {
		t.Fatalf("lookup s = %q %v", v, ok)
	}
	if _, ok := LookupAttr(key, "missing"); ok {
		t.Fatalf("lookup of a missing attribute succeeded")
	}
}

// deltaSums returns one resource with a delta sum "m" holding one point per attribute value.
func deltaSums(n int, ts int64, val int64) pmetric.Metrics {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("service.name", "svc")
	m := rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	m.SetName("m")
	sum := m.SetEmptySum()
	sum.SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
	for i := range n {
		dp := sum.DataPoints().AppendEmpty()
		dp.SetTimestamp(pcommon.Timestamp(ts))
		dp.SetIntValue(val)
		dp.Attributes().PutInt("id", int64(i))
	}
	return md
}

// TestSpreadFlush: a 5 s window closes grace after its end and goes out as 5 shards, one per
// second, each row exactly once; nothing goes out before the window closes.
func TestSpreadFlush(t *testing.T) {
	opt := baseOptions()
	opt.Classify = classifier(map[string]time.Duration{"m": 5 * time.Second})
	opt.SpreadFlush = true
	s := New(opt)
	s.Add(deltaSums(200, at(1), 1), at(1))
	seen := map[int32]int{}
	var b Batch
	nonEmpty := 0
	for sec := 2; sec <= 14; sec++ {
		s.Flush(at(float64(sec)), false, &b)
		if sec < 6 && len(b.Rows) > 0 {
			t.Fatalf("rows flushed at +%ds, before the window (t0, t0+5] closed at +6s", sec)
		}
		if len(b.Rows) > 0 {
			nonEmpty++
			if b.Slots != 1 {
				t.Fatalf("a timely tick covers %d slots, want 1", b.Slots)
			}
		}
		for _, r := range b.Rows {
			seen[r.I]++
		}
		s.Release(&b)
	}
	if len(seen) != 200 || nonEmpty != 5 {
		t.Fatalf("%d distinct rows in %d flushes, want 200 in 5", len(seen), nonEmpty)
	}
	for i, n := range seen {
		if n != 1 {
			t.Fatalf("row %d flushed %d times", i, n)
		}
	}
	if s.Rows() != 0 {
		t.Fatalf("%d rows held after the last shard", s.Rows())
	}
}

// TestFlushAllAtShutdown: with all set, open windows close at once and every shard goes out.
func TestFlushAllAtShutdown(t *testing.T) {
	opt := baseOptions()
	opt.Classify = classifier(map[string]time.Duration{"m": 60 * time.Second})
	opt.SpreadFlush = true
	s := New(opt)
	s.Add(deltaSums(100, at(1), 1), at(1))
	var b Batch
	s.Flush(at(1.5), true, &b)
	if len(b.Rows) != 100 || len(b.Closed) != 1 || b.Slots != 60 {
		t.Fatalf("shutdown flush: %d rows, %d closed windows, %d slots; want 100, 1, 60", len(b.Rows), len(b.Closed), b.Slots)
	}
	s.Release(&b)
	if s.Rows() != 0 {
		t.Fatalf("%d rows held", s.Rows())
	}
}

// TestEmitScales checks the factor: int sums stay ints under an integer factor and become
// doubles otherwise; histogram bucket counts are randomly rounded with the right mean.
func TestEmitScales(t *testing.T) {
	s := New(baseOptions())
	s.Add(deltaSums(2, at(0.5), 3), at(0.5))
	var b Batch
	s.Flush(at(5), false, &b)
	out := pmetric.NewMetrics()
	s.Emit(NewOutput(out), b.Rows, []float64{2, 2.5})
	s.Release(&b)
	dps := out.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().At(0).Sum().DataPoints()
	got := map[pmetric.NumberDataPointValueType]float64{}
	for i := range dps.Len() {
		dp := dps.At(i)
		got[dp.ValueType()] = dp.DoubleValue() + float64(dp.IntValue())
	}
	if got[pmetric.NumberDataPointValueTypeInt] != 6 || got[pmetric.NumberDataPointValueTypeDouble] != 7.5 {
		t.Fatalf("scaled values %v, want int 6 and double 7.5", got)
	}

	// 3 * 1.5 = 4.5: over 20,000 draws the mean of the rounded count is 4.5 within 4 SE
	// (sd 0.5, SE 0.0035).
	rng := rand.New(rand.NewPCG(3, 3))
	var sum float64
	const n = 20000
	for range n {
		c := scaleCount(3, 1.5, rng)
		if c != 4 && c != 5 {
			t.Fatalf("3*1.5 rounded to %d", c)
		}
		sum += float64(c)
	}
	if mean := sum / n; math.Abs(mean-4.5) > 4*0.5/math.Sqrt(n) {
		t.Fatalf("mean rounded count %v, want 4.5", mean)
	}
}

// TestCardinality: rows per metric per window and the hourly estimate.
func TestCardinality(t *testing.T) {
	s := New(baseOptions())
	for sec := range 3 {
		// 100 ids every second, 50 of them new each second: 200 distinct in the hour.
		md := deltaSums(100, at(float64(sec)+0.5), 1)
		dps := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().At(0).Sum().DataPoints()
		for i := range dps.Len() {
			dps.At(i).Attributes().PutInt("id", int64(i+50*sec))
		}
		s.Add(md, at(float64(sec)+0.5))
	}
	var b Batch
	s.Flush(at(10), false, &b)
	if len(b.Closed) != 3 {
		t.Fatalf("%d windows closed, want 3", len(b.Closed))
	}
	for _, w := range b.Closed {
		w.EachMetric(func(id uint32, rows int, overflow uint64) {
			if rows != 100 || overflow != 0 {
				t.Fatalf("window %d: %d rows, %d overflow points; want 100, 0", w.Start, rows, overflow)
			}
			est := s.Metric(id).Cardinality.Estimate(w.Start / int64(time.Hour))
			if math.Abs(float64(est)-200) > 4*0.0163*200+1 {
				t.Fatalf("hourly estimate %d, want about 200", est)
			}
		})
	}
	s.Release(&b)
}

// TestWindowsAreReused: after the first windows are recycled, aggregating and flushing the same
// shape of data again does not allocate per row.
func TestWindowsAreReused(t *testing.T) {
	s := New(baseOptions())
	inputs := make([]pmetric.Metrics, 16)
	for i := range inputs {
		inputs[i] = deltaSums(1000, at(float64(i)+0.5), 1)
	}
	var b Batch
	round := func(i int) {
		s.Add(inputs[i], at(float64(i)+0.5))
		s.Flush(at(float64(i)+0.5), false, &b)
		s.Release(&b)
	}
	for i := range 4 {
		round(i)
	}
	i := 4
	allocs := testing.AllocsPerRun(8, func() { round(i); i++ })
	// Rows, keys, the index and the (now dense) hourly sketch are reused; what is left is the
	// shard bookkeeping of a closing window.
	if allocs > 2 {
		t.Fatalf("%v allocations per 1000-row window, want at most 2", allocs)
	}
}

// TestOnlyOneSpareWindowKeepsItsMemory: windows open at the same moment (a flush that came late,
// here two seconds' windows filled before either is flushed) are all recycled, but only one keeps
// its slices; the rest would otherwise hold a flood's rows for good. The next windows reuse the
// spare without allocating their rows again.
func TestOnlyOneSpareWindowKeepsItsMemory(t *testing.T) {
	s := New(baseOptions())
	var b Batch
	s.Add(deltaSums(1000, at(0.5), 1), at(1.2))
	s.Add(deltaSums(1000, at(1.5), 1), at(1.7))
	s.Flush(at(3), false, &b)
	s.Release(&b)
	if s.Windows() != 2 || len(s.pool) != 2 {
		t.Fatalf("%d windows, %d pooled; want 2 and 2", s.Windows(), len(s.pool))
	}
	warm := 0
	for _, w := range s.pool {
		if cap(w.rows) > 0 || cap(w.arena) > 0 || len(w.index.slots) > 0 {
			warm++
		}
	}
	if warm != 1 {
		t.Fatalf("%d pooled windows kept their slices, want 1", warm)
	}
	inputs := make([]pmetric.Metrics, 8)
	for i := range inputs {
		inputs[i] = deltaSums(1000, at(float64(i)+3.5), 1)
	}
	i := 0
	allocs := testing.AllocsPerRun(4, func() {
		s.Add(inputs[i], at(float64(i)+3.5))
		s.Flush(at(float64(i)+5), false, &b)
		s.Release(&b)
		i++
	})
	if s.Windows() != 2 {
		t.Fatalf("%d windows made, want still 2", s.Windows())
	}
	if allocs > 2 { // as in TestWindowsAreReused: the spare's rows, keys and index are reused
		t.Fatalf("%v allocations per reused 1000-row window, want at most 2", allocs)
	}
}

func TestPurgeForgetsIdleMetrics(t *testing.T) {
	s := New(baseOptions())
	s.Add(deltaSums(1, at(0.5), 1), at(0.5))
	var b Batch
	s.Flush(at(5), false, &b)
	s.Release(&b)
	later := at(0.5) + int64(3*time.Hour)
	md := pmetric.NewMetrics()
	md.ResourceMetrics().AppendEmpty().Resource().Attributes().PutStr("service.name", "other")
	s.Add(md, later)
	if len(s.metricIdx) != 0 || len(s.resIdx) != 1 {
		t.Fatalf("after 3 idle hours: %d metrics, %d resources; want 0 and 1 (the new one)", len(s.metricIdx), len(s.resIdx))
	}
}

// TestOverdueWindowsGetTheBudgetOfEverySecond: a flush that finds three 1 s windows overdue
// (ticks were missed) covers three seconds of sends, so the sampler gets three seconds' budget.
func TestOverdueWindowsGetTheBudgetOfEverySecond(t *testing.T) {
	s := New(baseOptions())
	for sec := range 3 {
		s.Add(deltaSums(10, at(float64(sec)+0.5), 1), at(float64(sec)+0.5))
	}
	var b Batch
	s.Flush(at(5), false, &b)
	if len(b.Rows) != 30 || b.Slots != 3 {
		t.Fatalf("%d rows over %d slots, want 30 over 3", len(b.Rows), b.Slots)
	}
	s.Release(&b)
}

// TestIntSumOverflowFallsBackToDouble: int64 sums that would wrap keep their float value.
func TestIntSumOverflowFallsBackToDouble(t *testing.T) {
	s := New(baseOptions())
	md := pmetric.NewMetrics()
	m := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	m.SetName("big")
	sum := m.SetEmptySum()
	sum.SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
	for range 3 {
		dp := sum.DataPoints().AppendEmpty()
		dp.SetTimestamp(pcommon.Timestamp(at(0.5)))
		dp.SetIntValue(math.MaxInt64 / 2)
	}
	s.Add(md, at(0.5))
	var b Batch
	s.Flush(at(5), false, &b)
	out := pmetric.NewMetrics()
	s.Emit(NewOutput(out), b.Rows, []float64{1})
	s.Release(&b)
	dp := out.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().At(0).Sum().DataPoints().At(0)
	want := 3 * float64(math.MaxInt64/2)
	if dp.ValueType() != pmetric.NumberDataPointValueTypeDouble || math.Abs(dp.DoubleValue()-want) > want*1e-12 {
		t.Fatalf("sum of 3 x MaxInt64/2 = %v (%v), want the double %v", dp.DoubleValue(), dp.ValueType(), want)
	}
	// An integer factor that would overflow the product also gives a double.
	if _, ok := (&Row{flags: rowAllInt, i0: math.MaxInt64 / 2}).scaledIntSum(3); ok {
		t.Fatal("MaxInt64/2 * 3 reported as fitting int64")
	}
	if v, ok := (&Row{flags: rowAllInt, i0: -7}).scaledIntSum(3); !ok || v != -21 {
		t.Fatalf("-7 * 3 = %d, %v", v, ok)
	}
}

// namedSums builds one delta int sum per name, each with one point of value 1 and attributes.
func namedSums(ts int64, names ...string) pmetric.Metrics {
	md := pmetric.NewMetrics()
	ms := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics()
	for _, name := range names {
		m := ms.AppendEmpty()
		m.SetName(name)
		sum := m.SetEmptySum()
		sum.SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
		dp := sum.DataPoints().AppendEmpty()
		dp.SetTimestamp(pcommon.Timestamp(ts))
		dp.SetIntValue(1)
		dp.Attributes().PutStr("user", name)
	}
	return md
}

// TestMaxMetricsBoundsTheTableAndKeepsTotals: with max_metrics 10, a flood of 1000 one-off
// metric names per second never tracks more than 10 (plus the overflow metric): a new name
// takes the place of the least recently used one that holds no rows, and while all of them
// still hold rows its points go to fairshare.overflow.sum, so the emitted total equals the
// points sent. The per-window tables stay bounded by the tracked metrics.
func TestMaxMetricsBoundsTheTableAndKeepsTotals(t *testing.T) {
	opt := baseOptions()
	opt.MaxMetrics = 10
	s := New(opt)
	var sent, got int64
	var overflowRows int
	var b Batch
	for sec := range 5 {
		names := make([]string, 1000)
		for i := range names {
			names[i] = fmt.Sprintf("user.%d.%d", sec, i)
		}
		now := at(float64(sec) + 0.5)
		s.Add(namedSums(now, names...), now)
		sent += int64(len(names))
		if s.Metrics() > 10 || len(s.metrics) > 11 {
			t.Fatalf("second %d: %d metrics tracked, %d ids, want at most 10 and 11", sec, s.Metrics(), len(s.metrics))
		}
		s.Flush(at(float64(sec)+2.1), false, &b)
		out := emitUnsampled(s, &b)
		rms := out.ResourceMetrics()
		for i := range rms.Len() {
			ms := rms.At(i).ScopeMetrics().At(0).Metrics()
			for j := range ms.Len() {
				m := ms.At(j)
				dps := m.Sum().DataPoints()
				for k := range dps.Len() {
					got += dps.At(k).IntValue()
				}
				if m.Name() == OverflowMetricPrefix+"sum" {
					overflowRows += dps.Len()
					if v, ok := dps.At(0).Attributes().Get(OverflowAttribute); !ok || !v.Bool() || dps.At(0).Attributes().Len() != 1 {
						t.Fatalf("overflow row attributes %v", dps.At(0).Attributes().AsRaw())
					}
				}
			}
		}
		for _, w := range s.windows {
			if len(w.metricRows) > 11 {
				t.Fatalf("window table of %d metric ids", len(w.metricRows))
			}
		}
	}
	if got != sent {
		t.Fatalf("emitted total %d, sent %d", got, sent)
	}
	st := s.Stats()
	if st.MetricsEvicted == 0 || st.MetricOverflow == 0 || overflowRows == 0 {
		t.Fatalf("evicted %d, overflowed %d points in %d rows: both paths must be taken", st.MetricsEvicted, st.MetricOverflow, overflowRows)
	}
	if st.MetricsCreated != 10+st.MetricsEvicted {
		t.Fatalf("created %d, evicted %d: the table must hold exactly 10", st.MetricsCreated, st.MetricsEvicted)
	}
}

// TestLeastRecentlyUsedIsEvicted: a metric used every second survives a stream of one-off
// names; the one-off names are the ones evicted.
func TestLeastRecentlyUsedIsEvicted(t *testing.T) {
	opt := baseOptions()
	opt.MaxMetrics = 3
	s := New(opt)
	var b Batch
	for sec := range 10 {
		now := at(float64(sec) + 0.5)
		s.Add(namedSums(now, "steady", fmt.Sprintf("once.%d", sec)), now)
		s.Flush(at(float64(sec)+2.1), false, &b)
		s.Release(&b)
		if _, ok := s.metricIdx[metricKey{name: "steady", typ: pmetric.MetricTypeSum, temp: pmetric.AggregationTemporalityDelta}]; !ok {
			t.Fatalf("second %d: the metric used every second was evicted", sec)
		}
	}
	if st := s.Stats(); st.MetricOverflow != 0 {
		t.Fatalf("%d points overflowed: idle one-off metrics should have made room", st.MetricOverflow)
	}
}

// TestStoresShareLimitsAndSpillOverflow: two stores share one Limits of max_metrics 1 and
// max_rows 3. The second store's new metric is beyond max_metrics: it is moved to the spill
// whole, not merged, and the first store's AddOverflow merges it into its overflow metric.
// Rows count against the shared max_rows, and AddIf leaves the metrics it does not accept
// untouched.
func TestStoresShareLimitsAndSpillOverflow(t *testing.T) {
	lim := &Limits{}
	opt := baseOptions()
	opt.MaxMetrics, opt.MaxRows, opt.Limits = 1, 3, lim
	home := New(opt)
	opt.SpillOverflow = true
	other := New(opt)

	md := deltaSums(2, at(0.5), 1)
	rms := md.ResourceMetrics()
	m2 := rms.At(0).ScopeMetrics().At(0).Metrics().AppendEmpty()
	rms.At(0).ScopeMetrics().At(0).Metrics().At(0).CopyTo(m2)
	m2.SetName("n")
	st, rows := home.AddIf(md, at(0.5), func(name string) bool { return name == "m" })
	if st.Points != 2 || rows != 2 || md.DataPointCount() != 2 {
		t.Fatalf("home took %d points into %d rows and left %d; want 2, 2, 2 (metric n)", st.Points, rows, md.DataPointCount())
	}
	if _, ok := home.TakeSpill(); ok {
		t.Fatal("a store without SpillOverflow spilled")
	}

	st, rows = other.Add(md, at(0.5))
	if st.Points != 0 || rows != 0 || md.ResourceMetrics().Len() != 0 || lim.Metrics() != 1 {
		t.Fatalf("other merged %d points into %d rows, left %d resources, %d metrics tracked; want 0, 0, 0, 1", st.Points, rows, md.ResourceMetrics().Len(), lim.Metrics())
	}
	spill, ok := other.TakeSpill()
	if !ok || spill.DataPointCount() != 2 || spill.ResourceMetrics().At(0).Resource().Attributes().Len() != 1 {
		t.Fatal("the spill must hold metric n with its 2 points and its resource")
	}
	st, rows = home.AddOverflow(spill, at(0.5))
	if st.MetricOverflow != 2 || rows != 1 || spill.ResourceMetrics().Len() != 0 {
		t.Fatalf("AddOverflow: %d points into %d rows, %d resources left; want 2, 1, 0", st.MetricOverflow, rows, spill.ResourceMetrics().Len())
	}
	if lim.rows.Load() != 3 {
		t.Fatalf("%d rows counted, want 3", lim.rows.Load())
	}
	// max_rows is reached: a new row of m folds into m's overflow row (beyond the bound).
	st, _ = home.Add(deltaSums(3, at(0.5), 1), at(0.5))
	if st.Overflow != 1 || lim.rows.Load() != 4 {
		t.Fatalf("%d points into the overflow row, %d rows counted; want 1, 4", st.Overflow, lim.rows.Load())
	}
	var b Batch
	home.Flush(at(5), false, &b)
	if n := home.Release(&b); n != 4 || lim.rows.Load() != 0 {
		t.Fatalf("released %d rows, %d still counted; want 4, 0", n, lim.rows.Load())
	}
}
