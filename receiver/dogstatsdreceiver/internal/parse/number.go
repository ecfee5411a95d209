package parse

import (
	"errors"
	"math"
	"strconv"
	"unsafe"
)

// bytesView returns b as a string without copying. Only for passing to strconv, which does not
// retain its argument (its errors carry a copy).
func bytesView(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// parseValue parses a metric value. Anything strconv.ParseFloat accepts is a number (so "+5"
// is 5: a gauge sent as "+5" is set to 5, as Datadog does). NaN and infinities, written as such
// or overflowing float64, are refused with their own reason; an underflow rounds to zero.
func parseValue(b []byte) (float64, Reason) {
	if v, ok := parseSimpleDecimal(b); ok {
		return v, 0
	}
	v, err := strconv.ParseFloat(bytesView(b), 64)
	if err != nil {
		if !errors.Is(err, strconv.ErrRange) {
			return 0, ReasonBadValue
		}
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, ReasonNonFiniteValue
	}
	return v, 0
}

// parseRate parses a `|@` sample rate. The agent takes any float here and later divides by it;
// we refuse what cannot be a sampling probability: not a number, NaN, <= 0 (a weight of 1/0) or
// > 1 (a weight below one, which the agent's histograms truncate to zero).
func parseRate(b []byte) (float64, bool) {
	v, ok := parseSimpleDecimal(b)
	if !ok {
		var err error
		if v, err = strconv.ParseFloat(bytesView(b), 64); err != nil {
			return 0, false
		}
	}
	if !(v > 0 && v <= 1) {
		return 0, false
	}
	return v, true
}

// parsePositiveInt parses a base-10 integer > 0 (a `|T` timestamp).
func parsePositiveInt(b []byte) (int64, bool) {
	v, err := strconv.ParseInt(bytesView(b), 10, 64)
	if err != nil || v < 1 {
		return 0, false
	}
	return v, true
}

// parseInt parses a base-10 int64 (an event or service check `d:` timestamp; the agent accepts
// any integer there).
func parseInt(b []byte) (int64, bool) {
	v, err := strconv.ParseInt(bytesView(b), 10, 64)
	return v, err == nil
}

// pow10 holds the powers of ten that float64 represents exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12,
	1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// parseSimpleDecimal parses the values clients actually send ("12", "-0.25", "+5", "3.")
// without strconv's general machinery. It handles an optional sign, digits and at most one '.',
// with at most 15 significant digits and 22 fraction digits: then the digits form an integer m
// exactly representable in a float64, 10^k is exact, and m / 10^k is one correctly rounded IEEE
// division, the same result strconv.ParseFloat returns. Anything else returns ok == false and
// goes to strconv.
func parseSimpleDecimal(b []byte) (v float64, ok bool) {
	i := 0
	neg := false
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		neg = b[0] == '-'
		i = 1
	}
	var m uint64
	allDigits, sigDigits, fracDigits := 0, 0, 0
	dot := false
	for ; i < len(b); i++ {
		c := b[i]
		switch {
		case c >= '0' && c <= '9':
			allDigits++
			if m != 0 || c != '0' {
				sigDigits++ // leading zeros do not count against the 15
			}
			m = m*10 + uint64(c-'0')
			if dot {
				fracDigits++
			}
		case c == '.' && !dot:
			dot = true
		default:
			return 0, false
		}
	}
	if allDigits == 0 || sigDigits > 15 || fracDigits >= len(pow10) {
		return 0, false
	}
	v = float64(m) / pow10[fracDigits]
	if neg {
		v = -v
	}
	return v, true
}
