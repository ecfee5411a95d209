// Package opentsdb parses OpenTSDB data points: the telnet-style `put` line and the JSON body
// of `POST /api/put`. Both check what OpenTSDB 2.4 checks (PutDataPointRpc, Tags,
// TSDB.addPoint) and fail with OpenTSDB's message, so a client sees the reply it would get from
// a TSD; each failure also has a Reason for the receiver's counters.
//
// A Point's slices point into the parser's input or scratch buffers: they are valid until the
// next call on the same parser, and whoever keeps them must copy (intern) them first.
package opentsdb

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Tag is one tagk=tagv pair.
type Tag struct {
	Key, Value []byte
	// Word is the whole "tagk=tagv" word of a telnet line (nil from JSON): one lookup interns
	// both strings.
	Word []byte
}

// Point is one parsed data point.
type Point struct {
	Metric []byte
	// Timestamp is in milliseconds since the Unix epoch: OpenTSDB takes a timestamp of up to
	// 10 digits (fitting 32 bits) as seconds and a longer one as milliseconds.
	Timestamp int64
	// IsInt says the value had no '.', 'e' or 'E' (OpenTSDB's looksLikeInteger): Int holds it;
	// otherwise Float does.
	IsInt bool
	Int   int64
	Float float64
	Tags  []Tag
	// TagsText is the text the tags were read from: a telnet line from its first tag to its
	// end, or the JSON "tags" object. The same text always gives the same tags, so one lookup
	// finds a series' interned tags when they come again.
	TagsText []byte
	// Series is what LineParser.Lookup returned for a line whose tags it knew (Tags is then
	// empty), or -1.
	Series int32
}

// Rules are the limits and character rules a point must meet.
type Rules struct {
	// MaxTags is the most tags a point may have (OpenTSDB's tsd.storage.max_tags, 8).
	MaxTags int
	// AllowSpecialChars are characters accepted in names and tags beyond OpenTSDB's letters,
	// digits and "-_./" (OpenTSDB's tsd.core.tag.allow_specialchars).
	AllowSpecialChars string
}

// secondMask: OpenTSDB's Const.SECOND_MASK. A timestamp with none of these bits set fits 32
// bits and is seconds; any other is milliseconds, and must be at most 13 digits.
const (
	secondMask   = ^int64(0xFFFFFFFF)
	maxTimestamp = 9999999999999
)

// millis converts an accepted OpenTSDB timestamp to milliseconds.
func millis(ts int64) int64 {
	if ts&secondMask == 0 {
		return ts * 1000
	}
	return ts
}

// validString is OpenTSDB's Tags.validateString: ASCII letters and digits, '-', '_', '.',
// '/', any Unicode letter and the allowed special characters. Invalid UTF-8 is refused too:
// it would become U+FFFD, which is no letter. It returns the first illegal character.
func (r *Rules) validString(s []byte) (rune, bool) {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
				c == '-' || c == '_' || c == '.' || c == '/' ||
				(r.AllowSpecialChars != "" && strings.IndexByte(r.AllowSpecialChars, c) >= 0) {
				i++
				continue
			}
			return rune(c), false
		}
		ru, n := utf8.DecodeRune(s[i:])
		if ru == utf8.RuneError && n <= 1 {
			return utf8.RuneError, false
		}
		if !unicode.IsLetter(ru) && !strings.ContainsRune(r.AllowSpecialChars, ru) {
			return ru, false
		}
		i += n
	}
	return 0, true
}

// checkPoint is TSDB.addPoint's checks after a point was read: timestamp range, tag count,
// and the character rules of the metric name and every tag.
func (r *Rules) checkPoint(p *Point, rawTS int64, value []byte) *Error {
	if err := r.checkTimestamp(p, rawTS, value); err != nil {
		return err
	}
	if len(p.Tags) == 0 {
		return errorf(ReasonMissingTags, "Need at least one tag (metric=%s, tags={})", p.Metric)
	}
	if len(p.Tags) > r.MaxTags {
		return errorf(ReasonTooManyTags, "Too many tags: %d maximum allowed: %d, tags: %s",
			len(p.Tags), r.MaxTags, formatTags(p.Tags))
	}
	if len(p.Metric) == 0 {
		return errorf(ReasonIllegalCharacter, "Invalid metric name: empty string")
	}
	if c, ok := r.validString(p.Metric); !ok {
		return errorf(ReasonIllegalCharacter, "Invalid metric name (%s): illegal character: %s", quote(p.Metric), string(c))
	}
	for _, t := range p.Tags {
		if c, ok := r.validString(t.Key); !ok {
			return errorf(ReasonIllegalCharacter, "Invalid tag name with value [%s] (%s): illegal character: %s", t.Value, quote(t.Key), string(c))
		}
		if c, ok := r.validString(t.Value); !ok {
			return errorf(ReasonIllegalCharacter, "Invalid tag value with key [%s] (%s): illegal character: %s", t.Key, quote(t.Value), string(c))
		}
	}
	return nil
}

// checkTimestamp is TSDB.addPoint's range check of a timestamp in milliseconds.
func (*Rules) checkTimestamp(p *Point, rawTS int64, value []byte) *Error {
	if rawTS&secondMask != 0 && rawTS > maxTimestamp {
		return errorf(ReasonBadTimestamp, "bad timestamp=%d when trying to add value=%s to metric=%s, tags=%s",
			rawTS, value, p.Metric, formatTags(p.Tags))
	}
	return nil
}

// quote writes s in double quotes as OpenTSDB does (no escaping), with invalid UTF-8 shown
// as \x escapes so that a reply stays text.
func quote(s []byte) string {
	if utf8.Valid(s) {
		return `"` + string(s) + `"`
	}
	q := strconv.QuoteToASCII(string(s))
	return q
}

// formatTags writes tags as Java's Map.toString does, in the order they came: {k=v, k2=v2}.
func formatTags(tags []Tag) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, t := range tags {
		if i > 0 {
			b.WriteString(", ")
		}
		b.Write(t.Key)
		b.WriteByte('=')
		b.Write(t.Value)
	}
	b.WriteByte('}')
	return b.String()
}

// parseValue reads a value the way OpenTSDB's put does: Tags.looksLikeInteger decides between
// a long (Tags.parseLong) and a floating point number; NaN and infinities are refused by
// TSDB.addPoint. It returns the rejection, if any.
func parseValue(p *Point, v []byte) *Error {
	if looksLikeInteger(v) {
		n, err := parseLong(v)
		if err != nil {
			return err
		}
		p.IsInt, p.Int = true, n
		return nil
	}
	f, ok := parseFloat(v)
	if !ok {
		return errorf(ReasonInvalidValue, "For input string: \"%s\"", v)
	}
	// Out of range: Java reads an infinity (or zero), refused or kept like any other value.
	p.IsInt, p.Float = false, f
	return nil
}

// pow10 are the powers of ten a float64 holds exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// parseFloat reads a decimal the way Java's Float.parseFloat does, for the values
// looksLikeInteger did not take. Plain decimals of up to 15 digits ("42.5", "-0.125") take a
// fast path without allocating: an exact integer divided by an exact power of ten is correctly
// rounded. The rest goes to strconv, refusing what Java does not read (underscores); out of
// range is ±Inf or 0, as in Java.
func parseFloat(v []byte) (float64, bool) {
	i, neg := 0, false
	if len(v) > 0 && (v[0] == '-' || v[0] == '+') {
		neg, i = v[0] == '-', 1
	}
	var mant uint64
	digits, frac, dot := 0, 0, false
	for ; i < len(v); i++ {
		c := v[i]
		switch {
		case '0' <= c && c <= '9':
			mant = mant*10 + uint64(c-'0')
			digits++
			if dot {
				frac++
			}
		case c == '.' && !dot:
			dot = true
		default:
			digits = 99 // an exponent or anything else: the slow path
		}
	}
	if digits > 0 && digits <= 15 && frac < len(pow10) {
		f := float64(mant) / pow10[frac]
		if neg {
			f = -f
		}
		return f, true
	}
	if bytes.IndexByte(v, '_') >= 0 {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(v), 64)
	var numErr *strconv.NumError
	if err != nil && !(errors.As(err, &numErr) && numErr.Err == strconv.ErrRange) {
		return 0, false
	}
	return f, true
}

func looksLikeInteger(v []byte) bool {
	for _, c := range v {
		if c == '.' || c == 'e' || c == 'E' {
			return false
		}
	}
	return true
}

// parseLong is OpenTSDB's Tags.parseLong, with its messages.
func parseLong(s []byte) (int64, *Error) {
	n := len(s)
	if n == 0 {
		return 0, errorf(ReasonInvalidValue, "Empty string")
	}
	i := 0
	neg := false
	if s[0] == '+' || s[0] == '-' {
		if n == 1 {
			return 0, errorf(ReasonInvalidValue, "Just a sign, no value: %s", s)
		}
		if n > 20 {
			return 0, errorf(ReasonInvalidValue, "Value too long: %s", s)
		}
		neg = s[0] == '-'
		i = 1
	} else if n > 19 {
		return 0, errorf(ReasonInvalidValue, "Value too long: %s", s)
	}
	var v uint64
	for ; i < n; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, errorf(ReasonInvalidValue, "Invalid character '%c' in %s", rune(c), s)
		}
		v = v*10 + uint64(c-'0') // at most 19 digits: no uint64 overflow
	}
	switch {
	case neg && v <= 1<<63:
		return -int64(v), nil // -(1<<63) wraps to MinInt64, as it should
	case !neg && v < 1<<63:
		return int64(v), nil
	}
	return 0, errorf(ReasonInvalidValue, "Overflow in %s", s)
}
