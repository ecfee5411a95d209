package otsdb

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAggregatorFunctions checks each function on 1, 2, 3, 4 and a NaN (which all but last
// ignore), by hand:
//   - dev: the population standard deviation, sqrt(((1.5²+0.5²)·2)/4) = sqrt(1.25);
//   - median: the upper middle value of four, 3;
//   - pNN (legacy): position p·(n+1) = p·5, linear between neighbours: p50 at 2.5 → 2.5,
//     p75 at 3.75 → 3.75, p90 at 4.5 ≥ n → 4;
//   - epNNr7: position p·(n−1)+1: p50 at 2.5 → 2.5, p75 at 3.25 → 3.25, p90 at 3.7 → 3.7;
//   - epNNr3: the value of rank round-half-even(n·p): p50 rank 2 → 2, p75 rank 3 → 3,
//     p90 rank round(3.6) = 4 → 4.
func TestAggregatorFunctions(t *testing.T) {
	for name, want := range map[string]float64{
		"sum": 10, "zimsum": 10, "avg": 2.5, "min": 1, "mimmin": 1, "max": 4, "mimmax": 4, "count": 4,
		"dev": math.Sqrt(1.25), "median": 3, "first": 1, "last": math.NaN(),
		"p50": 2.5, "p75": 3.75, "p90": 4, "p999": 4,
		"ep50r7": 2.5, "ep75r7": 3.25, "ep90r7": 3.7,
		"ep50r3": 2, "ep75r3": 3, "ep90r3": 4,
	} {
		a, ok := LookupAggregator(name)
		require.True(t, ok, name)
		got := a.run([]float64{1, 2, 3, 4, math.NaN()})
		if math.IsNaN(want) {
			assert.True(t, math.IsNaN(got), "%s: %v", name, got)
			continue
		}
		assert.InDelta(t, want, got, 1e-12, name)
	}
}

// TestAggregatorsWithoutValues: only NaNs (a bucket filled with nan or null) give NaN, except
// count, which gives 0; one value is its own dev (0) and percentiles.
func TestAggregatorsWithoutValues(t *testing.T) {
	for _, name := range AggregatorNames() {
		a, _ := LookupAggregator(name)
		got := a.run([]float64{math.NaN(), math.NaN()})
		if name == "count" {
			assert.Equal(t, 0.0, got)
		} else {
			assert.True(t, math.IsNaN(got), "%s: %v", name, got)
		}
		one := a.run([]float64{5})
		switch name {
		case "dev":
			assert.Equal(t, 0.0, one)
		case "count":
			assert.Equal(t, 1.0, one)
		default:
			assert.Equal(t, 5.0, one, name)
		}
	}
}

func TestPercentilesUnsorted(t *testing.T) {
	a, _ := LookupAggregator("ep90r7")
	// 10 values 1..10 out of order: position 0.9·9+1 = 9.1, between 9 and 10.
	assert.InDelta(t, 9.1, a.run([]float64{7, 3, 10, 1, 9, 2, 8, 4, 6, 5}), 1e-12)
	a, _ = LookupAggregator("p999")
	assert.Equal(t, 10.0, a.run([]float64{7, 3, 10, 1, 9, 2, 8, 4, 6, 5}))
}
