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
	v, err := strconv.ParseFloat(bytesView(b), 64)
	if err != nil || !(v > 0 && v <= 1) {
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
