package aggregate

import "math"

// kind is how a metric's points merge.
type kind uint8

const (
	kindSum kind = iota
	kindGauge
	kindHistogram
	kindExpHistogram
	kindSummary
)

const (
	rowAllInt   uint8 = 1 << iota // every value merged so far was an int: the sum stays an int
	rowLastInt                    // the gauge's last value was an int
	rowOverflow                   // the row collects points over max_rows
)

// Row is the aggregate of one (metric, resource, attribute set) in one window: StatsHouse's
// count, sum, min, max (and last, for gauges). Histogram-like kinds keep their buckets in the
// window's side tables at index ext. A Row holds no pointers, so the garbage collector does not
// scan the rows of a window.
type Row struct {
	hash     uint64
	keyOff   uint32
	keyLen   uint32
	metric   uint32
	res      uint32
	ext      int32 // index into the window's histogram table of the metric's kind, -1 if none
	points   uint32
	maxHost  uint32  // id of the top contributor in the window's host table, 0 if none
	maxHostW float32 // its weight (only compared)
	flags    uint8
	fields   uint8 // attributes in the key (capped at 255; only a capacity hint)
	// The values, by kind (80 bytes a row instead of 104 with a field each). Sums: f0 is the
	// float sum, i0 the exact int sum. Gauges: f0 and f1 are the min and max, i0 the last value
	// (an int with rowLastInt, the float64's bits without), i1 the time of the last value.
	f0, f1 float64
	i0, i1 int64
}

// addSum adds one value: v always, and iv to the exact integer sum while every value is an
// int. A sum that would overflow int64 falls back to the float sum instead of wrapping.
func (r *Row) addSum(v float64, iv int64, isInt bool) {
	if r.points == 0 && isInt {
		r.flags |= rowAllInt
	} else if !isInt {
		r.flags &^= rowAllInt
	}
	r.f0 += v
	if r.flags&rowAllInt != 0 {
		s, ok := addInt64(r.i0, iv)
		if !ok {
			r.flags &^= rowAllInt
		}
		r.i0 = s
	}
	r.points++
}

// addInt64 returns a+b and whether it did not overflow.
func addInt64(a, b int64) (int64, bool) {
	s := a + b
	return s, (b >= 0) == (s >= a)
}

// mulInt64 returns a*b and whether it did not overflow.
func mulInt64(a, b int64) (int64, bool) {
	if a == 0 || b == 0 {
		return 0, true
	}
	p := a * b
	return p, p/b == a && !(a == -1 && b == math.MinInt64) && !(b == -1 && a == math.MinInt64)
}

func (r *Row) addGauge(v float64, iv int64, isInt bool, ts int64) {
	if r.points == 0 {
		r.f0, r.f1 = v, v
	}
	if r.points == 0 || ts >= r.i1 {
		r.i1 = ts
		if isInt {
			r.i0 = iv
			r.flags |= rowLastInt
		} else {
			r.i0 = int64(math.Float64bits(v))
			r.flags &^= rowLastInt
		}
	}
	r.f0 = math.Min(r.f0, v)
	r.f1 = math.Max(r.f1, v)
	r.points++
}

// scaledIntSum returns the exact integer sum times factor when the row's values were all ints,
// the factor is a whole number and the product fits in int64.
func (r *Row) scaledIntSum(factor float64) (int64, bool) {
	if r.flags&rowAllInt == 0 || factor != math.Trunc(factor) || factor >= 1<<63 {
		return 0, false
	}
	return mulInt64(r.i0, int64(factor))
}
