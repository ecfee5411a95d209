package parse

import "errors"

// Reason says why a line was rejected. Its String is a short snake_case label meant for a
// telemetry attribute, so the set of values is small and fixed.
type Reason uint8

// The reasons a line is rejected.
const (
	// ReasonEmptyName: a metric line with nothing before the first ':' (":1|c").
	ReasonEmptyName Reason = iota + 1
	// ReasonNoValue: a metric line without ':' or with nothing after it ("a|c", "a:|c", "a::|d").
	ReasonNoValue
	// ReasonBadValue: a value that is not a number ("a:x|c").
	ReasonBadValue
	// ReasonNonFiniteValue: NaN, +Inf or -Inf, written as such or out of float64 range ("a:1e999|g").
	ReasonNonFiniteValue
	// ReasonBadType: no type field or an unknown one ("a:1", "a:1|", "a:1|x").
	ReasonBadType
	// ReasonBadSampleRate: a `|@` rate that is not a number in (0, 1].
	ReasonBadSampleRate
	// ReasonBadTimestamp: a `|T` field that is not a positive integer.
	ReasonBadTimestamp
	// ReasonBadEvent: an `_e{` line whose header, lengths or separators are wrong.
	ReasonBadEvent
	// ReasonBadServiceCheck: an `_sc|` line without a name or with a status other than 0..3.
	ReasonBadServiceCheck
	// ReasonLineTooLong: a line longer than the parser's maximum line length.
	ReasonLineTooLong
	// ReasonInvalidUTF8: a line that is not valid UTF-8 (datagrams are UTF-8 by definition and
	// OpenTelemetry string attributes must be).
	ReasonInvalidUTF8
	// ReasonNameTooLong: a metric name longer than the parser's maximum name length.
	ReasonNameTooLong
	// ReasonTagsTooLong: a `|#` tags field longer than the parser's maximum tags length.
	ReasonTagsTooLong
	// ReasonNoEOL: a line dropped by a listener, not the parser: eol_required is set for its
	// transport and it was the last line of a datagram, frame or TCP connection without '\n'.
	ReasonNoEOL

	numReasons = iota
)

var reasonLabels = [numReasons + 1]string{
	0:                     "unknown",
	ReasonEmptyName:       "empty_name",
	ReasonNoValue:         "no_value",
	ReasonBadValue:        "bad_value",
	ReasonNonFiniteValue:  "non_finite_value",
	ReasonBadType:         "bad_type",
	ReasonBadSampleRate:   "bad_sample_rate",
	ReasonBadTimestamp:    "bad_timestamp",
	ReasonBadEvent:        "bad_event",
	ReasonBadServiceCheck: "bad_service_check",
	ReasonLineTooLong:     "line_too_long",
	ReasonInvalidUTF8:     "invalid_utf8",
	ReasonNameTooLong:     "name_too_long",
	ReasonTagsTooLong:     "tags_too_long",
	ReasonNoEOL:           "no_eol",
}

// String returns the snake_case label of the reason.
func (r Reason) String() string {
	if int(r) > numReasons {
		return reasonLabels[0]
	}
	return reasonLabels[r]
}

// Reasons lists every reason, for callers that register one counter per reason up front.
func Reasons() []Reason {
	out := make([]Reason, 0, numReasons)
	for r := Reason(1); int(r) <= numReasons; r++ {
		out = append(out, r)
	}
	return out
}

// Error is the error returned for a rejected line.
type Error struct {
	Reason Reason
}

// Error implements error.
func (e *Error) Error() string { return "dogstatsd: rejected line: " + e.Reason.String() }

// One preallocated error per reason: rejecting a line never allocates, which matters when a
// misconfigured client floods the receiver with bad lines.
var reasonErrors = func() [numReasons + 1]*Error {
	var errs [numReasons + 1]*Error
	for i := range errs {
		errs[i] = &Error{Reason: Reason(i)}
	}
	return errs
}()

func (r Reason) err() error { return reasonErrors[r] }

// ReasonOf returns the Reason carried by err, or 0 when err is nil or not from this package.
func ReasonOf(err error) Reason {
	var pe *Error
	if errors.As(err, &pe) {
		return pe.Reason
	}
	return 0
}
