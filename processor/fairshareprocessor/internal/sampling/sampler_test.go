package sampling

import (
	"math"
	"math/rand/v2"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var modes = []struct {
	name string
	mode Mode
}{{"strict", Strict}, {"statshouse", StatsHouse}}

// metricRows returns n rows of metric key with the given size; whale (also the row's count) from val.
func metricRows(key uint64, n int, size float64, val func(i int) float64) []Item {
	items := make([]Item, n)
	for i := range items {
		items[i] = Item{Keys: [MaxLevels]uint64{key}, Size: size, Whale: val(i), Ref: int32(i)}
	}
	return items
}

func one(int) float64 { return 1 }

// moments returns the mean and the sample standard deviation.
func moments(xs []float64) (mean, sd float64) {
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	for _, x := range xs {
		sd += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(sd / float64(len(xs)-1))
}

// estimate returns the scaled sum of Whale (the row's count) per metric key.
func estimate(items []Item) map[uint64]float64 {
	est := map[uint64]float64{}
	for _, it := range items {
		est[it.Keys[0]] += it.Whale * it.Factor
	}
	return est
}

func TestFitsBudgetPassesUnchanged(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, m := range modes {
		for _, levels := range []int{1, 3} {
			s := New(Config{Levels: levels, WeightLevel: levels - 1, Mode: m.mode, Mainstays: true}, rng)
			for trial := range 200 {
				var items []Item
				var total float64
				for i := range 50 + rng.IntN(500) {
					it := Item{Size: float64(20 + rng.IntN(200)), Whale: float64(rng.IntN(1000)), Weight: float64(1 + rng.IntN(3)), Ref: int32(i)}
					for l := range levels {
						it.Keys[l] = uint64(rng.IntN(4))
					}
					total += it.Size
					items = append(items, it)
				}
				budget := total // exactly full is still "fits"
				if trial%2 == 1 {
					budget = total * (1 + rng.Float64())
				}
				res := s.Run(items, budget)
				if res.KeptRows != len(items) || res.KeptBytes != total {
					t.Fatalf("%s levels %d trial %d: kept %d rows %v bytes of %d rows %v bytes, budget %v",
						m.name, levels, trial, res.KeptRows, res.KeptBytes, len(items), total, budget)
				}
				for _, it := range items {
					if it.Factor != 1 || it.GroupSF != 1 {
						t.Fatalf("%s: row %d factor %v group SF %v, want 1 and 1", m.name, it.Ref, it.Factor, it.GroupSF)
					}
				}
			}
		}
	}
}

// TestMainstayExample is the seed's example: rows 1000,1,1,1,1 of equal size with room for 4.
//
// With mainstays, half the grant (2 rows) keeps the 1000 row and one 1 row exactly; the other
// three 1 rows share 2 rows of budget. Strict keeps 2 of them at factor 3/2, so the sum is
// always 1004 (sd 0). StatsHouse keeps each with p = 2/3 at factor 3/2: per-row variance
// (3/2)^2*(2/3) - 1 = 0.5, sd of the sum sqrt(1.5) = 1.22. Both are below the 5.
//
// Without mainstays, 4 of 5 rows survive at factor 5/4: strict loses the 1000 row with p = 1/5,
// so the sum is 1.25*1003 or 1.25*4 and its sd is 1.25*999*sqrt(0.2*0.8) = 499.5; StatsHouse
// keeps each row with p = 0.8, sd = 1.25*sqrt(0.16*(1000^2+4)) = 500.0. The sample sd over
// 10,000 trials of this two-point distribution has a relative standard error of about 0.75%, so
// 5% is more than 6 standard errors.
func TestMainstayExample(t *testing.T) {
	const trials = 10000
	vals := []float64{1000, 1, 1, 1, 1}
	for _, m := range modes {
		for _, mainstays := range []bool{true, false} {
			s := New(Config{Levels: 1, Mode: m.mode, Mainstays: mainstays}, rand.New(rand.NewPCG(7, 8)))
			sums := make([]float64, trials)
			items := metricRows(1, 5, 10, func(i int) float64 { return vals[i] })
			for tr := range trials {
				s.Run(items, 40)
				for _, it := range items {
					sums[tr] += it.Whale * it.Factor
					if mainstays && it.Whale == 1000 && it.Factor != 1 {
						t.Fatalf("%s trial %d: the 1000 row has factor %v, want 1", m.name, tr, it.Factor)
					}
				}
			}
			mean, sd := moments(sums)
			t.Logf("%s mainstays=%v: mean %.2f sd %.2f over %d trials", m.name, mainstays, mean, sd, trials)
			se := sd / math.Sqrt(trials)
			if math.Abs(mean-1004) > 4*se+1e-9 {
				t.Errorf("%s mainstays=%v: mean %v, want 1004 within 4 SE (%v)", m.name, mainstays, mean, 4*se)
			}
			if mainstays && sd >= 5 {
				t.Errorf("%s with mainstays: sd %v, want < 5", m.name, sd)
			}
			want := map[Mode]float64{Strict: 499.5, StatsHouse: 500}[m.mode]
			if !mainstays && math.Abs(sd-want) > 0.05*want {
				t.Errorf("%s without mainstays: sd %v, want %v within 5%%", m.name, sd, want)
			}
		}
	}
}

// TestUnbiased checks that every metric's scaled sum averages to its true sum within 4 standard
// errors (SE = sample sd of the per-trial estimates / sqrt(trials)), with and without mainstays,
// for uniform and heavy-tailed (Pareto, alpha 1.2: infinite variance in the population) counts.
// Row sizes vary and are correlated with the counts (small rows carry large counts), which is
// where an estimator that scales by bytes instead of rows would be biased. A 4 SE bound is
// exceeded by chance with probability 6e-5 per check; the seeds are fixed.
func TestUnbiased(t *testing.T) {
	const trials = 1500
	data := rand.New(rand.NewPCG(3, 4))
	var items []Item
	truth := map[uint64]float64{}
	add := func(key uint64, n int, val func() float64) {
		for range n {
			v := val()
			size := 40 + 200/(1+math.Log1p(v)) + float64(data.IntN(40))
			items = append(items, Item{Keys: [MaxLevels]uint64{key}, Size: math.Round(size), Whale: v, Ref: int32(len(items))})
			truth[key] += v
		}
	}
	add(1, 3000, func() float64 { return float64(1 + data.IntN(100)) })
	add(2, 3000, func() float64 { return math.Floor(math.Pow(1-data.Float64(), -1/1.2)) })
	add(3, 40, func() float64 { return float64(1 + data.IntN(10)) })
	var total float64
	for _, it := range items {
		total += it.Size
	}
	for _, m := range modes {
		for _, mainstays := range []bool{true, false} {
			s := New(Config{Levels: 1, Mode: m.mode, Mainstays: mainstays}, rand.New(rand.NewPCG(5, 6)))
			ests := map[uint64][]float64{}
			for range trials {
				s.Run(items, total/4)
				for k, v := range estimate(items) {
					ests[k] = append(ests[k], v)
				}
			}
			for key, xs := range ests {
				mean, sd := moments(xs)
				se := sd / math.Sqrt(trials)
				if math.Abs(mean-truth[key]) > 4*se+1e-9*truth[key] {
					t.Errorf("%s mainstays=%v metric %d: mean %v, true %v, 4 SE %v", m.name, mainstays, key, mean, truth[key], 4*se)
				}
				// Power: the test would notice a 3% bias on the sampled metrics. Heavy-tailed counts
				// without mainstays are too noisy for that (4 SE is about 7% of the sum): that
				// noise is what mainstays remove.
				if key != 3 && (key == 1 || mainstays) && 0.03*truth[key] <= 4*se {
					t.Errorf("%s metric %d: 4 SE %v too wide to detect a 3%% bias of %v", m.name, key, 4*se, truth[key])
				}
			}
		}
	}
}

// TestFloodIsolation: metrics A and B with 10 rows each and C with 100,000 rows of equal size,
// budget 1,000 rows. Sorted by size, A's grant is 1000/3 rows and B's 990/2, so both are kept
// whole; C gets the remaining 980 rows: SF = 100000/980 = 102.04, whatever the trial.
// Strict keeps exactly 980 of C's rows (490 mainstays plus 490 drawn). StatsHouse keeps the 490
// mainstays plus Binomial(99510, 490/99510) rows: mean 980, sd 22.1; the trial mean is checked
// within 4 SE.
func TestFloodIsolation(t *testing.T) {
	const trials = 20
	items := append(metricRows(1, 10, 100, one), metricRows(2, 10, 100, one)...)
	items = append(items, metricRows(3, 100000, 100, func(i int) float64 { return float64(i % 97) })...)
	for _, m := range modes {
		s := New(Config{Levels: 1, Mode: m.mode, Mainstays: true}, rand.New(rand.NewPCG(9, 10)))
		var keptC []float64
		for tr := range trials {
			s.Run(items, 1000*100)
			kept := map[uint64]int{}
			for _, it := range items {
				if it.Factor > 0 {
					kept[it.Keys[0]]++
				}
				if it.Keys[0] != 3 && (it.Factor != 1 || it.GroupSF != 1) {
					t.Fatalf("%s trial %d: metric %d row factor %v SF %v, want kept unscaled", m.name, tr, it.Keys[0], it.Factor, it.GroupSF)
				}
				if it.Keys[0] == 3 && math.Abs(it.GroupSF-100000.0/980) > 1e-9 {
					t.Fatalf("%s: C's SF %v, want %v", m.name, it.GroupSF, 100000.0/980)
				}
			}
			if kept[1] != 10 || kept[2] != 10 {
				t.Fatalf("%s trial %d: kept A %d B %d, want 10 and 10", m.name, tr, kept[1], kept[2])
			}
			if m.mode == Strict && kept[3] != 980 {
				t.Fatalf("strict trial %d: kept %d of C, want 980", tr, kept[3])
			}
			keptC = append(keptC, float64(kept[3]))
		}
		if mean, _ := moments(keptC); math.Abs(mean-980) > 4*22.1/math.Sqrt(trials) {
			t.Errorf("%s: mean kept rows of C %v, want 980 within 4 SE", m.name, mean)
		}
	}
}

// TestWeights: two metrics of 10,000 rows with weights 2 and 1, budget 3,000 rows. The weight-2
// metric has the smaller size/weight (5,000) and is granted 3000*2/3 = 2000 rows: SF 5; the other
// gets the remaining 1000: SF 10. Strict keeps exactly 2000 and 1000 rows.
func TestWeights(t *testing.T) {
	items := append(metricRows(1, 10000, 64, one), metricRows(2, 10000, 64, one)...)
	for i := range items {
		items[i].Weight = map[uint64]float64{1: 2, 2: 1}[items[i].Keys[0]]
	}
	for _, m := range modes {
		s := New(Config{Levels: 1, Mode: m.mode, Mainstays: true}, rand.New(rand.NewPCG(11, 12)))
		s.Run(items, 3000*64)
		kept := map[uint64]int{}
		for _, it := range items {
			want := map[uint64]float64{1: 5, 2: 10}[it.Keys[0]]
			if math.Abs(it.GroupSF-want) > 1e-12 {
				t.Fatalf("%s metric %d: SF %v, want %v", m.name, it.Keys[0], it.GroupSF, want)
			}
			if it.Factor > 0 {
				kept[it.Keys[0]]++
			}
		}
		if m.mode == Strict && (kept[1] != 2000 || kept[2] != 1000) {
			t.Errorf("strict kept %d and %d rows, want 2000 and 1000", kept[1], kept[2])
		}
	}
}

// TestNoMainstayWhenHalfCannotHoldARow is the seed's 1.6-row case: 8 rows (one peak), SF 5, so
// the grant is 1.6 rows and half of it (0.8) cannot hold one: no mainstays, the peak is sampled
// like any row. Strict keeps 1 row of 8 (p = 1/8, factor 8); StatsHouse keeps each row with
// p = 1/5. Over 8,000 trials the peak's keep rate is checked within 4 SE (at most 0.0045).
func TestNoMainstayWhenHalfCannotHoldARow(t *testing.T) {
	const trials = 8000
	for _, m := range modes {
		s := New(Config{Levels: 1, Mode: m.mode, Mainstays: true}, rand.New(rand.NewPCG(41, 42)))
		items := metricRows(1, 8, 10, func(i int) float64 { return map[bool]float64{true: 1000, false: 1}[i == 0] })
		kept := 0
		for range trials {
			s.Run(items, 16)
			for _, it := range items {
				if it.Whale == 1000 && it.Factor > 0 {
					if it.Factor == 1 {
						t.Fatalf("%s: the peak was kept as a mainstay", m.name)
					}
					kept++
				}
			}
		}
		p := map[Mode]float64{Strict: 1.0 / 8, StatsHouse: 1.0 / 5}[m.mode]
		if got := float64(kept) / trials; math.Abs(got-p) > 4*math.Sqrt(p*(1-p)/trials) {
			t.Errorf("%s: peak kept in %.4f of trials, want %.4f", m.name, got, p)
		}
	}
}
