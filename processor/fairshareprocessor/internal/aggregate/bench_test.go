package aggregate

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// expHistogramInput returns one window of exponential histogram points: hosts resources, each
// with a point for every one of rows attribute sets, merged across hosts. Scales (0..8) and
// bucket ranges differ between hosts, so merging downscales and widens the rows' buckets.
func expHistogramInput(rows, hosts int, ts int64) pmetric.Metrics {
	rng := rand.New(rand.NewPCG(5, 5))
	md := pmetric.NewMetrics()
	for h := range hosts {
		rm := md.ResourceMetrics().AppendEmpty()
		rm.Resource().Attributes().PutStr("host.name", fmt.Sprintf("host-%02d", h))
		m := rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
		m.SetName("rpc.duration")
		eh := m.SetEmptyExponentialHistogram()
		eh.SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
		for r := range rows {
			dp := eh.DataPoints().AppendEmpty()
			dp.SetTimestamp(pcommon.Timestamp(ts))
			dp.Attributes().PutInt("route", int64(r))
			scale := int32(rng.IntN(9))
			dp.SetScale(scale)
			n := 20 + rng.IntN(60)
			counts := make([]uint64, n)
			var total uint64
			for i := range counts {
				counts[i] = uint64(rng.IntN(5))
				total += counts[i]
			}
			dp.Positive().SetOffset(int32(rng.IntN(64)-32) << scale)
			dp.Positive().BucketCounts().FromRaw(counts)
			dp.SetZeroCount(1)
			dp.SetCount(total + 1)
			dp.SetSum(float64(total) * 3)
			dp.SetMin(0)
			dp.SetMax(1000)
		}
	}
	return md
}

// BenchmarkExpHistogramAdd measures merging exponential histogram points into rows, one window
// per iteration; windows are recycled, so the rows' bucket slices are reused.
func BenchmarkExpHistogramAdd(b *testing.B) {
	const rows, hosts = 500, 8
	input := expHistogramInput(rows, hosts, at(0.5))
	opt := baseOptions()
	opt.MergeAttributes = []string{"host.name"}
	s := New(opt)
	md := pmetric.NewMetrics()
	var batch Batch
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		input.CopyTo(md)
		b.StartTimer()
		s.Add(md, at(0.6))
		b.StopTimer()
		s.Flush(at(0.6), true, &batch)
		if len(batch.Rows) != rows {
			b.Fatalf("%d rows, want %d", len(batch.Rows), rows)
		}
		s.Release(&batch)
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows*hosts), "ns/point")
	if st := s.Stats(); st.Points != uint64(b.N*rows*hosts) || st.Unmergeable != 0 {
		b.Fatalf("stats %+v after %d windows", st, b.N)
	}
}

// BenchmarkExpHistogramEmit measures writing merged exponential histogram rows out with a
// sampling factor, which rounds every bucket count at random.
func BenchmarkExpHistogramEmit(b *testing.B) {
	const rows, hosts = 500, 8
	opt := baseOptions()
	opt.MergeAttributes = []string{"host.name"}
	s := New(opt)
	s.Add(expHistogramInput(rows, hosts, at(0.5)), at(0.6))
	var batch Batch
	s.Flush(at(0.6), true, &batch)
	factors := make([]float64, len(batch.Rows))
	for i := range factors {
		factors[i] = 1.7
	}
	b.ReportAllocs()
	var points int
	out := NewOutput(pmetric.NewMetrics())
	for b.Loop() {
		md := pmetric.NewMetrics()
		out.Reset(md)
		s.Emit(out, batch.Rows, factors)
		points = md.DataPointCount()
	}
	if points != rows {
		b.Fatalf("%d points, want %d", points, rows)
	}
}
