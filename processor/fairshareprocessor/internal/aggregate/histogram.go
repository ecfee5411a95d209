package aggregate

import (
	"math"
	"math/rand/v2"

	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/doghouse-otel/doghouse/internal/exphist"
)

// histState is an explicit-bucket histogram being merged. Points merge only when their bounds
// are equal; the slices are reused when the window is recycled.
type histState struct {
	bounds []float64
	counts []uint64
	count  uint64
	sum    float64
	min    float64
	max    float64
	hasSum bool
	hasMin bool
	hasMax bool
}

func (h *histState) reset() {
	h.bounds, h.counts = h.bounds[:0], h.counts[:0]
	*h = histState{bounds: h.bounds, counts: h.counts}
}

// mergeable reports whether dp has the bounds of h (always true for the first point).
func (h *histState) mergeable(dp pmetric.HistogramDataPoint, first bool) bool {
	if first {
		return true
	}
	b := dp.ExplicitBounds()
	if b.Len() != len(h.bounds) || dp.BucketCounts().Len() != len(h.counts) {
		return false
	}
	for i := range h.bounds {
		if b.At(i) != h.bounds[i] {
			return false
		}
	}
	return true
}

func (h *histState) add(dp pmetric.HistogramDataPoint, first bool) {
	if first {
		b, c := dp.ExplicitBounds(), dp.BucketCounts()
		for i := range b.Len() {
			h.bounds = append(h.bounds, b.At(i))
		}
		for i := range c.Len() {
			h.counts = append(h.counts, c.At(i))
		}
		h.count, h.sum, h.hasSum = dp.Count(), dp.Sum(), dp.HasSum()
		h.min, h.hasMin = dp.Min(), dp.HasMin()
		h.max, h.hasMax = dp.Max(), dp.HasMax()
		return
	}
	c := dp.BucketCounts()
	for i := range h.counts {
		h.counts[i] += c.At(i)
	}
	h.count += dp.Count()
	h.sum += dp.Sum()
	h.hasSum = h.hasSum && dp.HasSum()
	h.min, h.hasMin = math.Min(h.min, dp.Min()), h.hasMin && dp.HasMin()
	h.max, h.hasMax = math.Max(h.max, dp.Max()), h.hasMax && dp.HasMax()
}

// emit writes h scaled by factor into dp; bucket counts are randomly rounded so that each keeps
// its expected value, and a scaled count is their total.
func (h *histState) emit(dp pmetric.HistogramDataPoint, factor float64, rng *rand.Rand) {
	dp.ExplicitBounds().FromRaw(h.bounds)
	bc := dp.BucketCounts()
	bc.EnsureCapacity(len(h.counts))
	var total uint64
	for _, c := range h.counts {
		c = scaleCount(c, factor, rng)
		total += c
		bc.Append(c)
	}
	if len(h.counts) == 0 || factor == 1 {
		total = scaleCount(h.count, factor, rng)
	}
	dp.SetCount(total)
	if h.hasSum {
		dp.SetSum(h.sum * factor)
	}
	if h.hasMin {
		dp.SetMin(h.min)
	}
	if h.hasMax {
		dp.SetMax(h.max)
	}
}

// summaryState merges summaries: count and sum add; quantiles survive only while the row holds a
// single point, because quantiles of different sources cannot be combined.
type summaryState struct {
	count     uint64
	sum       float64
	quantiles [][2]float64
}

func (s *summaryState) reset() {
	s.quantiles = s.quantiles[:0]
	*s = summaryState{quantiles: s.quantiles}
}

func (s *summaryState) add(dp pmetric.SummaryDataPoint, first bool) {
	s.count += dp.Count()
	s.sum += dp.Sum()
	if first {
		q := dp.QuantileValues()
		for i := range q.Len() {
			s.quantiles = append(s.quantiles, [2]float64{q.At(i).Quantile(), q.At(i).Value()})
		}
	}
}

func (s *summaryState) emit(dp pmetric.SummaryDataPoint, single bool, factor float64, rng *rand.Rand) {
	dp.SetCount(scaleCount(s.count, factor, rng))
	dp.SetSum(s.sum * factor)
	if !single {
		return
	}
	q := dp.QuantileValues()
	q.EnsureCapacity(len(s.quantiles))
	for _, v := range s.quantiles {
		e := q.AppendEmpty()
		e.SetQuantile(v[0])
		e.SetValue(v[1])
	}
}

// scaleCount multiplies an integer count by factor and rounds the result down or up at random so
// that its mean is exact: 3 * 1.5 becomes 4 or 5, each half the time.
func scaleCount(c uint64, factor float64, rng *rand.Rand) uint64 {
	if factor == 1 || c == 0 {
		return c // exact even beyond 2^53
	}
	return exphist.RoundRandom(float64(c)*factor, rng)
}
