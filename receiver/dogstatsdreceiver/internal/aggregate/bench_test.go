package aggregate

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/parse"
)

// distributionBatch returns n distribution samples spread over contexts names, with log-normal
// values across six decades (enough to make every histogram downscale from scale 20) and a mix
// of sample rates, so that counts are fractional weights.
func distributionBatch(n, contexts int) []parse.Sample {
	rng := rand.New(rand.NewPCG(7, 7))
	names := make([]string, contexts)
	for i := range names {
		names[i] = fmt.Sprintf("latency.%d", i)
	}
	batch := make([]parse.Sample, n)
	for i := range batch {
		batch[i] = parse.Sample{
			Name: names[i%contexts], Type: parse.Distribution,
			Value:      math.Exp(rng.NormFloat64()*2.5) * float64(1-2*(i%9/8)), // one in nine negative
			SampleRate: []float64{1, 0.5, 0.1}[i%3],
			Tags:       []string{"env:prod", "service:web"},
		}
	}
	return batch
}

// BenchmarkDistributionAdd measures the hot path of a distribution sample: context lookup and
// the exponential histogram's Add, in steady state (histograms already at their final scale).
func BenchmarkDistributionAdd(b *testing.B) {
	const samples, contexts = 1000, 100
	batch := distributionBatch(samples, contexts)
	a := New(Config{MaxContexts: contexts, MaxBuckets: 160}, 1)
	f := a.NewFeeder(32)
	f.Add(batch, 0)
	f.Drain(0)
	b.ReportAllocs()
	for b.Loop() {
		f.Add(batch, 1)
		f.Drain(1)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*samples), "ns/sample")
	if n := a.Flush(t0, t1).DataPointCount(); n != contexts {
		b.Fatalf("%d points, want %d", n, contexts)
	}
}

// BenchmarkDistributionFlush measures an interval of distributions fed by two workers into two
// shards, written out as data points.
func BenchmarkDistributionFlush(b *testing.B) {
	const samples, contexts = 10_000, 1000
	batch := distributionBatch(samples, contexts)
	a := New(Config{MaxContexts: contexts, MaxBuckets: 160}, 2)
	b.ReportAllocs()
	var points int
	f0, f1 := a.NewFeeder(32), a.NewFeeder(32)
	for b.Loop() {
		f0.Add(batch[:samples/2], 1)
		f1.Add(batch[samples/2:], 1)
		f0.Drain(1)
		f1.Drain(1)
		points = a.Flush(t0, t1).DataPointCount()
	}
	if points != contexts {
		b.Fatalf("%d points, want %d", points, contexts)
	}
}

// BenchmarkAgentHistogram measures a timer context under agent_aggregates over one interval of
// 1,000 log-normal latencies (median 50, σ 1, rates 1 and 0.5): adding them and computing the
// default outputs plus p99, kept exactly (the values) or estimated (max_histogram_values 0: an
// exponential histogram of 160 buckets). For the estimate it reports the worst relative error
// of the median, p95 and p99 against the exact values over 100 such intervals.
func BenchmarkAgentHistogram(b *testing.B) {
	const n = 1000
	rng := rand.New(rand.NewPCG(5, 5))
	intervals := make([][]float64, 100)
	for i := range intervals {
		intervals[i] = make([]float64, n)
		for j := range intervals[i] {
			intervals[i][j] = 50 * math.Exp(rng.NormFloat64())
		}
	}
	cfg := &Config{HistogramAggregates: []string{"max", "median", "avg", "count"}, HistogramPercentiles: []int{95, 99}}
	outs := agentOutputs(cfg)
	run := func(h *agentHist, values []float64, limit int) []float64 {
		h.reset()
		for j, v := range values {
			h.add(v, []float64{1, 0.5}[j%2], limit, 160)
		}
		h.sortValues()
		got := make([]float64, len(outs))
		for i := range outs {
			got[i] = h.value(&outs[i])
		}
		return got
	}
	for _, tc := range []struct {
		name  string
		limit int
	}{{"exact", n}, {"estimated", 0}} {
		b.Run(tc.name, func(b *testing.B) {
			var h agentHist
			var worst float64
			if tc.limit < n {
				var exact agentHist
				for _, values := range intervals {
					want, got := run(&exact, values, n), run(&h, values, tc.limit)
					for i, o := range outs {
						if o.aggregate == AggregateMedian || o.percentile > 0 {
							worst = math.Max(worst, math.Abs(got[i]-want[i])/want[i])
						}
					}
				}
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				run(&h, intervals[i%len(intervals)], tc.limit)
				i++
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/sample")
			b.ReportMetric(worst*100, "worst-rel-err-%")
		})
	}
}
