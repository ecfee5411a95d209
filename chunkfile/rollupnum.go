package chunkfile

import "math"

// numWindow is what a gauge or sum series did in one rollup window: its seven statistics. Each
// value is an int64 or a float64 bit pattern, as flags say, so a window takes 72 bytes.
type numWindow struct {
	end                   int64
	count                 int64
	sum, inc              uint64
	min, max, first, last uint64
	flags                 uint8 // bit i set: value i (the order of the statistics) is an int
}

// Bits of numWindow.flags, by statistic.
const (
	nwSumInt = 1 << iota
	nwIncInt
	nwMinInt
	nwMaxInt
	nwFirstInt
	nwLastInt
)

func (w *numWindow) get(v uint64, flag uint8) Number {
	if w.flags&flag != 0 {
		return IntNumber(int64(v))
	}
	return FloatNumber(math.Float64frombits(v))
}

func (w *numWindow) set(dst *uint64, flag uint8, n Number) {
	if n.IsInt {
		*dst = uint64(n.Int)
		w.flags |= flag
		return
	}
	*dst = math.Float64bits(n.Float)
	w.flags &^= flag
}

// stat returns one statistic of the window (count is an int).
func (w *numWindow) stat(s Statistic) Number {
	switch s {
	case StatSum:
		return w.get(w.sum, nwSumInt)
	case StatIncrease:
		return w.get(w.inc, nwIncInt)
	case StatCount:
		return IntNumber(w.count)
	case StatMin:
		return w.get(w.min, nwMinInt)
	case StatMax:
		return w.get(w.max, nwMaxInt)
	case StatFirst:
		return w.get(w.first, nwFirstInt)
	}
	return w.get(w.last, nwLastInt)
}

// add folds the next point of the window (in file order) into it. Sums and increases stay
// ints while every value is an int and the int64 result is exact; then they continue in
// float64 from the exact int so far. min, max, first and last keep the value they are.
func (w *numWindow) add(v Number) {
	if w.count == 0 {
		w.set(&w.sum, nwSumInt, v)
		zero := FloatNumber(0)
		if v.IsInt {
			zero = IntNumber(0)
		}
		w.set(&w.inc, nwIncInt, zero)
		w.set(&w.min, nwMinInt, v)
		w.set(&w.max, nwMaxInt, v)
		w.set(&w.first, nwFirstInt, v)
		w.set(&w.last, nwLastInt, v)
		w.count = 1
		return
	}
	last := w.get(w.last, nwLastInt)
	w.set(&w.sum, nwSumInt, addNumbers(w.get(w.sum, nwSumInt), v))
	w.set(&w.inc, nwIncInt, addNumbers(w.get(w.inc, nwIncInt), increase(last, v)))
	if m := w.get(w.min, nwMinInt); replacesMin(m, v) {
		w.set(&w.min, nwMinInt, v)
	}
	if m := w.get(w.max, nwMaxInt); replacesMax(m, v) {
		w.set(&w.max, nwMaxInt, v)
	}
	w.set(&w.last, nwLastInt, v)
	w.count++
}

// addNumbers returns a + b: an int when both are ints and the sum does not overflow, else the
// float64 sum.
func addNumbers(a, b Number) Number {
	if a.IsInt && b.IsInt {
		s := a.Int + b.Int
		// Overflow iff both operands have the sign the result lacks.
		if (a.Int^s)&(b.Int^s) >= 0 {
			return IntNumber(s)
		}
	}
	return FloatNumber(a.Float64() + b.Float64())
}

// increase is what a cumulative value gained from a to b: b − a, or b itself after a drop
// (a reset). Ints stay ints while b − a is exact.
func increase(a, b Number) Number {
	if a.IsInt && b.IsInt {
		if b.Int < a.Int {
			return b
		}
		// b >= a, so the difference is in [0, 2^64) and the unsigned subtraction is exact.
		if d := uint64(b.Int) - uint64(a.Int); d <= math.MaxInt64 {
			return IntNumber(int64(d))
		}
	}
	af, bf := a.Float64(), b.Float64()
	if bf < af {
		return FloatNumber(bf)
	}
	return FloatNumber(bf - af)
}

// replacesMin reports whether v becomes the minimum instead of cur, with math.Min's rules
// for floats (-Inf wins, then NaN; -0 is below +0); on a tie the earlier value stays.
func replacesMin(cur, v Number) bool {
	if cur.IsInt && v.IsInt {
		return v.Int < cur.Int
	}
	c, x := cur.Float64(), v.Float64()
	switch {
	case math.IsInf(c, -1):
		return false
	case math.IsInf(x, -1):
		return true
	case math.IsNaN(c):
		return false
	case math.IsNaN(x):
		return true
	case x == 0 && c == 0:
		return math.Signbit(x) && !math.Signbit(c)
	}
	return x < c
}

// replacesMax is replacesMin for the maximum, as math.Max (+Inf wins, then NaN; +0 is above
// -0).
func replacesMax(cur, v Number) bool {
	if cur.IsInt && v.IsInt {
		return v.Int > cur.Int
	}
	c, x := cur.Float64(), v.Float64()
	switch {
	case math.IsInf(c, 1):
		return false
	case math.IsInf(x, 1):
		return true
	case math.IsNaN(c):
		return false
	case math.IsNaN(x):
		return true
	case x == 0 && c == 0:
		return !math.Signbit(x) && math.Signbit(c)
	}
	return x > c
}
