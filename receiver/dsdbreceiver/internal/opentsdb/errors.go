package opentsdb

import "fmt"

// Reason classifies a rejected line or data point for the receiver's counters.
type Reason uint8

// Reasons, one per distinct OpenTSDB failure.
const (
	ReasonNotEnoughArguments Reason = iota // fewer than 4 words after "put"
	ReasonEmptyMetric                      // an empty metric name
	ReasonInvalidTimestamp                 // not a number, or <= 0
	ReasonBadTimestamp                     // more than 13 digits of milliseconds
	ReasonEmptyValue                       // an empty value
	ReasonInvalidValue                     // not a number
	ReasonNaNValue                         // NaN or infinite
	ReasonInvalidTag                       // not tagk=tagv
	ReasonDuplicateTag                     // one key with two values
	ReasonMissingTags                      // no tag
	ReasonTooManyTags                      // more than max_tags
	ReasonIllegalCharacter                 // a character OpenTSDB does not allow in a name
	ReasonLineTooLong                      // longer than max_line_length (telnet)
	ReasonUnknownCommand                   // not put, version, help or exit (telnet)
	NumReasons                             // the number of reasons
)

var reasonNames = [NumReasons]string{
	"not_enough_arguments", "empty_metric", "invalid_timestamp", "bad_timestamp", "empty_value",
	"invalid_value", "nan_value", "invalid_tag", "duplicate_tag", "missing_tags", "too_many_tags",
	"illegal_character", "line_too_long", "unknown_command",
}

func (r Reason) String() string {
	if r < NumReasons {
		return reasonNames[r]
	}
	return fmt.Sprintf("reason(%d)", uint8(r))
}

// Reasons lists every reason, for telemetry.
func Reasons() []Reason {
	out := make([]Reason, NumReasons)
	for i := range out {
		out[i] = Reason(i)
	}
	return out
}

// Error is a rejected line or point: OpenTSDB's message and the Reason.
type Error struct {
	Reason Reason
	Msg    string
	// Kind is the prefix of OpenTSDB's telnet reply: "invalid value" for a NumberFormatException,
	// "illegal argument" for the rest.
	Kind string
}

func (e *Error) Error() string { return e.Msg }

func errorf(r Reason, format string, args ...any) *Error {
	kind := "illegal argument"
	if r == ReasonInvalidValue {
		kind = "invalid value"
	}
	return &Error{Reason: r, Msg: fmt.Sprintf(format, args...), Kind: kind}
}
