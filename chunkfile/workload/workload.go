// Package workload generates the reference workload that chunk-size and speed figures are
// quoted on (shared/workloads/chunk-reference.md): 1000 series of 3600 points at 1 s spacing,
// 400 cumulative counters, 300 random-walk gauges and 300 lognormal latencies. The generator
// and its seed are fixed so figures compare across versions.
package workload

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Kind is the role of a reference series.
type Kind int

// The three kinds of the reference workload.
const (
	Counter Kind = iota
	Gauge
	Latency
)

func (k Kind) String() string { return [...]string{"counters", "gauges", "latencies"}[k] }

// Reference workload shape.
const (
	Base       = 1_700_000_000_000
	NumSeries  = 1000
	NumPoints  = 3600
	NumCounter = 400
	NumGauge   = 300
	Seed       = 20261122
)

// Series is one generated series: timestamps in ms and values. Counters have integer values
// (Ints); gauges and latencies have float values (Floats).
type Series struct {
	Name   string
	Kind   Kind
	Host   string
	T      []int64
	Ints   []int64
	Floats []float64
}

// Options choose a variant.
type Options struct {
	Jitter    bool // add a uniform [-3, +3] ms offset to every timestamp
	NumSeries int  // 0 means NumSeries; kinds keep their 40/30/30 split
	NumPoints int  // 0 means NumPoints
}

// Generate returns the workload. The same options always give the same data.
func Generate(o Options) []Series {
	ns, np := o.NumSeries, o.NumPoints
	if ns == 0 {
		ns = NumSeries
	}
	if np == 0 {
		np = NumPoints
	}
	rng := rand.New(rand.NewPCG(Seed, 0x5eed))
	nc := ns * NumCounter / NumSeries
	ng := ns * NumGauge / NumSeries
	out := make([]Series, ns)
	for i := range out {
		s := &out[i]
		switch {
		case i < nc:
			s.Kind = Counter
			s.Name = fmt.Sprintf("app.requests.%03d", i)
		case i < nc+ng:
			s.Kind = Gauge
			s.Name = fmt.Sprintf("system.load.%03d", i-nc)
		default:
			s.Kind = Latency
			s.Name = fmt.Sprintf("http.latency.%03d", i-nc-ng)
		}
		s.Host = fmt.Sprintf("host-%02d", i%50)
		phase := rng.Int64N(1000)
		s.T = make([]int64, np)
		prev := int64(math.MinInt64)
		for j := range s.T {
			t := Base + phase + int64(j)*1000
			if o.Jitter {
				t += rng.Int64N(7) - 3
			}
			if t <= prev {
				t = prev + 1
			}
			s.T[j] = t
			prev = t
		}
		switch s.Kind {
		case Counter:
			s.Ints = make([]int64, np)
			v := rng.Int64N(1_000_000)
			for j := range s.Ints {
				if j > 0 {
					v += rng.Int64N(5)
				}
				s.Ints[j] = v
			}
		case Gauge:
			s.Floats = make([]float64, np)
			v := round(rng.Float64()*100, 100)
			for j := range s.Floats {
				if j > 0 {
					v = round(v+rng.NormFloat64()*0.5, 100)
				}
				s.Floats[j] = v
			}
		case Latency:
			s.Floats = make([]float64, np)
			for j := range s.Floats {
				s.Floats[j] = round(math.Exp(math.Log(20)+0.6*rng.NormFloat64()), 1000)
			}
		}
	}
	return out
}

func round(v, scale float64) float64 {
	r := math.Round(v*scale) / scale
	if r == 0 {
		return 0 // normalise -0 to 0
	}
	return r
}

// Events returns the total number of points.
func Events(ss []Series) int {
	n := 0
	for i := range ss {
		n += len(ss[i].T)
	}
	return n
}
