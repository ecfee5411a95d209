package opentsdb

import (
	"math"

	"github.com/doghouse-otel/doghouse/receiver/dsdbreceiver/internal/jsonscan"
)

// BodyError is a body that is no put request at all; OpenTSDB answers 400 with Message and,
// where it has them, Details, and stores none of its points.
type BodyError struct {
	Message string
	Details string
}

func (e *BodyError) Error() string {
	if e.Details == "" {
		return e.Message
	}
	return e.Message + ": " + e.Details
}

// Raw is a data point as the client sent it, for the `details` answer. Value and the tag
// values are the JSON text of a number or the string's content; a missing value or a null is
// nil.
type Raw struct {
	Metric    []byte
	Timestamp int64
	Value     []byte
	Tags      []Tag
	// NullTag is the key of a tag whose value was null (OpenTSDB refuses it), if any.
	NullTag []byte
	// TagsText is the JSON text of the "tags" object, for Point.TagsText.
	TagsText []byte
}

// PutParser parses the JSON body of `POST /api/put`: one data point object or an array of
// them. It keeps scratch space between calls and is not safe for concurrent use.
type PutParser struct {
	Rules Rules

	sc    jsonscan.Scanner
	key   []byte
	arena []byte
	raw   Raw
	p     Point
	count int // tags seen in the current point, duplicates included
}

// Parse walks body and calls fn for every data point in order, with the point (nil when
// rejected) and the rejection's message. A body that is not a put request returns a
// *BodyError; fn may have been called for points before the error, and the caller must then
// drop them, as OpenTSDB stores nothing of such a body. The slices passed to fn are valid
// until fn returns.
func (pp *PutParser) Parse(body []byte, fn func(p *Point, raw *Raw, rejected *Error)) error {
	pp.sc.Reset(body)
	one := func() error {
		if err := pp.object(); err != nil {
			return err
		}
		p, rej := pp.check()
		fn(p, &pp.raw, rej)
		return nil
	}
	var err error
	switch pp.sc.Peek() {
	case '{':
		err = one()
	case '[':
		n := 0
		err = pp.sc.Array(func() error { n++; return one() })
		if err == nil && n == 0 {
			return &BodyError{Message: "No datapoints found in content"}
		}
	case 0:
		return &BodyError{Message: "Missing request content"}
	default:
		return &BodyError{Message: "The JSON must start as an object or an array"}
	}
	if err == nil && !pp.sc.AtEnd() {
		err = &jsonscan.Error{Offset: pp.sc.Pos, Msg: "data after the JSON value"}
	}
	if err != nil {
		return &BodyError{Message: "Unable to parse the given JSON", Details: err.Error()}
	}
	return nil
}

// object reads one data point object into pp.raw.
func (pp *PutParser) object() error {
	sc := &pp.sc
	pp.arena = pp.arena[:0]
	r := &pp.raw
	*r = Raw{Tags: r.Tags[:0]}
	pp.count = 0
	if sc.Peek() != '{' {
		return &jsonscan.Error{Offset: sc.Pos, Msg: "a data point must be an object"}
	}
	return sc.Object(&pp.key, func(key []byte) error {
		var err error
		switch string(key) {
		case "metric":
			r.Metric, err = pp.text(false)
		case "timestamp":
			r.Timestamp, err = pp.timestamp()
		case "value":
			r.Value, err = pp.text(true)
		case "tags":
			if sc.Peek() == 'n' {
				_, err = sc.Literal()
				r.Tags = r.Tags[:0]
				return err
			}
			r.Tags = r.Tags[:0]
			start := sc.Pos
			err := sc.Object(&pp.key, pp.tag)
			r.TagsText = sc.Buf[start:sc.Pos]
			return err
		default:
			return sc.Skip()
		}
		return err
	})
}

// text reads a string, a number's text (when numbers are allowed) or null (nil).
func (pp *PutParser) text(numbers bool) ([]byte, error) {
	sc := &pp.sc
	switch c := sc.Peek(); {
	case c == '"':
		v, arena, err := sc.Text(pp.arena)
		pp.arena = arena
		return v, err
	case c == 'n':
		lit, err := sc.Literal()
		if err == nil && string(lit) != "null" {
			return nil, &jsonscan.Error{Offset: sc.Pos, Msg: "expected a string"}
		}
		return nil, err
	case numbers && (c == '-' || '0' <= c && c <= '9'):
		return sc.Number()
	}
	return nil, &jsonscan.Error{Offset: sc.Pos, Msg: "expected a string"}
}

// timestamp reads an integer, or a string holding one, as Jackson coerces it into a long.
func (pp *PutParser) timestamp() (int64, error) {
	sc := &pp.sc
	at := sc.Pos
	var b []byte
	var err error
	if sc.Peek() == '"' {
		start := len(pp.arena)
		pp.arena, err = sc.String(pp.arena)
		b = pp.arena[start:]
	} else {
		b, err = sc.Number()
	}
	if err != nil {
		return 0, err
	}
	v, perr := parseLong(b)
	if perr != nil {
		return 0, &jsonscan.Error{Offset: at, Msg: "timestamp: " + perr.Msg}
	}
	return v, nil
}

// tag reads one member of "tags". Past MaxTags+1 tags are counted, not kept, so a body with
// a million tags costs no more memory than its size.
func (pp *PutParser) tag(key []byte) error {
	r := &pp.raw
	pp.count++
	keep := len(r.Tags) <= pp.Rules.MaxTags
	if !keep {
		return pp.sc.Skip()
	}
	start := len(pp.arena)
	pp.arena = append(pp.arena, key...)
	k := pp.arena[start:len(pp.arena):len(pp.arena)]
	v, err := pp.text(true)
	if err != nil {
		return err
	}
	if v == nil && r.NullTag == nil {
		r.NullTag = k
	}
	for i := range r.Tags { // a repeated key: the last value wins, as in a Java map
		if string(r.Tags[i].Key) == string(k) {
			r.Tags[i].Value = v
			pp.count--
			return nil
		}
	}
	r.Tags = append(r.Tags, Tag{Key: k, Value: v})
	return nil
}

// check is IncomingDataPoint.validate, the value's parsing and TSDB.addPoint's checks, with the
// messages the details answer gives.
func (pp *PutParser) check() (*Point, *Error) {
	r := &pp.raw
	switch {
	case len(r.Metric) == 0:
		return nil, errorf(ReasonEmptyMetric, "Metric name was empty")
	case r.Timestamp <= 0:
		return nil, errorf(ReasonInvalidTimestamp, "Invalid timestamp")
	case len(r.Value) == 0:
		return nil, errorf(ReasonEmptyValue, "Empty value")
	case pp.count == 0:
		return nil, errorf(ReasonMissingTags, "Missing tags")
	}
	p := &pp.p
	p.Metric, p.Tags, p.TagsText, p.Series = r.Metric, r.Tags, r.TagsText, -1
	if perr := parseValue(p, r.Value); perr != nil {
		return nil, errorf(ReasonInvalidValue, "Unable to parse value to a number")
	}
	if !p.IsInt && (math.IsNaN(p.Float) || math.IsInf(p.Float, 0)) {
		return nil, errorf(ReasonNaNValue, "value is NaN or Infinite: %s for metric=%s timestamp=%d", javaDouble(p.Float), p.Metric, r.Timestamp)
	}
	if pp.count > pp.Rules.MaxTags {
		return nil, errorf(ReasonTooManyTags, "Too many tags: %d maximum allowed: %d, tags: %s", pp.count, pp.Rules.MaxTags, formatTags(p.Tags))
	}
	if r.NullTag != nil {
		return nil, errorf(ReasonIllegalCharacter, "Invalid tag value with key [%s]: null", r.NullTag)
	}
	if err := pp.Rules.checkPoint(p, r.Timestamp, r.Value); err != nil {
		return nil, err
	}
	p.Timestamp = millis(r.Timestamp)
	return p, nil
}
