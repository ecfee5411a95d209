package sampling

import (
	"math"
	"math/rand/v2"
	"testing"
)

// benchFlush builds one flush of 100 metrics x 1,000 rows with sizes 40..119 bytes and
// heavy-tailed counts.
func benchFlush(rng *rand.Rand) []Item {
	items := make([]Item, 0, 100000)
	for m := range 100 {
		for range 1000 {
			items = append(items, Item{
				Keys:  [MaxLevels]uint64{uint64(m)},
				Size:  float64(40 + rng.IntN(80)),
				Whale: math.Floor(math.Pow(1-rng.Float64(), -1/1.5)),
				Ref:   int32(len(items)),
			})
		}
	}
	return items
}

// BenchmarkRun samples 100,000 rows to half their size.
//
//	go test -run XXX -bench Run -cpu 1 ./processor/fairshareprocessor/internal/sampling/
func BenchmarkRun(b *testing.B) {
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 2))
			items := benchFlush(rng)
			var total float64
			for _, it := range items {
				total += it.Size
			}
			s := New(Config{Levels: 1, Mode: m.mode, Mainstays: true}, rng)
			b.ReportAllocs()
			var res Result
			for b.Loop() {
				res = s.Run(items, total/2)
			}
			if res.InRows != len(items) || (m.mode == Strict && res.KeptBytes > total/2) || res.KeptRows == 0 {
				b.Fatalf("result %+v", res)
			}
			b.ReportMetric(float64(b.N*len(items))/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkModes compares strict and statshouse on the same flushes: 30 metrics whose row counts
// follow a Pareto law (a few flood, most are small), row sizes 40..199 bytes, demand about 3x the
// budget. It reports, over 2,000 flushes, how often the kept bytes went over the budget, the
// largest overshoot, the mean share of the budget used, and the relative RMS error of each sampled
// metric's estimated total (averaged over metrics).
//
//	go test -run XXX -bench Modes -benchtime 1x ./processor/fairshareprocessor/internal/sampling/
func BenchmarkModes(b *testing.B) {
	data := rand.New(rand.NewPCG(31, 32))
	var items []Item
	truth := map[uint64]float64{}
	var demand float64
	for m := range 30 {
		rows := int(20 * math.Pow(1-data.Float64(), -1/0.8))
		rows = min(rows, 20000)
		for range rows {
			v := math.Floor(math.Pow(1-data.Float64(), -1/1.5))
			size := float64(40 + data.IntN(160))
			items = append(items, Item{Keys: [MaxLevels]uint64{uint64(m)}, Size: size, Whale: v, Ref: int32(len(items))})
			truth[uint64(m)] += v
			demand += size
		}
	}
	budget := math.Round(demand / 3)
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			const flushes = 2000
			for b.Loop() {
				s := New(Config{Levels: 1, Mode: m.mode, Mainstays: true}, rand.New(rand.NewPCG(33, 34)))
				over, maxOver, used := 0, 0.0, 0.0
				sq := map[uint64]float64{}
				sampled := map[uint64]bool{}
				for range flushes {
					res := s.Run(items, budget)
					if res.KeptBytes > budget {
						over++
						maxOver = max(maxOver, res.KeptBytes/budget-1)
					}
					used += res.KeptBytes / budget
					for k, v := range estimate(items) {
						d := (v - truth[k]) / truth[k]
						sq[k] += d * d
					}
					for _, it := range items {
						if it.GroupSF > 1 {
							sampled[it.Keys[0]] = true
						}
					}
				}
				var rel float64
				for k := range sampled {
					rel += math.Sqrt(sq[k] / flushes)
				}
				b.ReportMetric(100*float64(over)/flushes, "%flushes_over_budget")
				b.ReportMetric(100*maxOver, "%max_overshoot")
				b.ReportMetric(100*used/flushes, "%budget_used")
				b.ReportMetric(100*rel/float64(len(sampled)), "%rms_error_per_metric")
				b.ReportMetric(float64(len(sampled)), "sampled_metrics")
				b.ReportMetric(float64(len(items)), "rows")
			}
		})
	}
}
