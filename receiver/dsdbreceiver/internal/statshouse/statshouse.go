// Package statshouse parses StatsHouse's JSON metrics batches,
//
//	{"metrics":[{"name":"foo","tags":{"env":"prod"},"counter":10,"value":[1.5,2],"unique":[7],"ts":1670673392}]}
//
// as StatsHouse's docs (docs/protocol.md) define them, with the agent's checks
// (data_model.ValidateMetricData, format.ValidateCounter/ValidateValue, the metric name rules):
// a metric that fails one is rejected with a Reason and the rest of its batch is kept; a batch
// that is not valid JSON is rejected whole.
//
// A Metric's slices point into the parser's scratch space: valid until the next call.
package statshouse

import (
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/doghouse-otel/doghouse/receiver/dsdbreceiver/internal/jsonscan"
)

// MaxStringLen is StatsHouse's format.MaxStringLen: the longest metric name, tag name and tag
// value, in bytes.
const MaxStringLen = 128

// Tag is one tag of a metric.
type Tag struct{ Key, Value []byte }

// Metric is one element of "metrics".
type Metric struct {
	Name []byte
	Tags []Tag
	// Counter is the number of events; HasCounter says the field was present.
	Counter    float64
	HasCounter bool
	// TS is the event's second (Unix time); 0 when absent, meaning "when it arrived".
	TS     uint32
	Values []float64
	Unique []int64
}

// Reason classifies a rejected batch or metric.
type Reason uint8

// Reasons; the names follow the agent's ingestion statuses where it has one.
const (
	ReasonInvalidJSON        Reason = iota // the batch is not JSON of the expected shape
	ReasonInvalidName                      // name not [a-zA-Z][a-zA-Z0-9_]* (one ':' allowed), or longer than 128 bytes
	ReasonInvalidTag                       // empty or too long tag name or value
	ReasonTooManyTags                      // more than max_tags tags
	ReasonValueUniqueBothSet               // both "value" and "unique"
	ReasonZeroCounter                      // no value, no unique and counter 0
	ReasonNaNInfCounter                    // counter NaN
	ReasonNegativeCounter                  // counter < 0
	ReasonTooBigCounter                    // counter > MaxFloat32
	ReasonNaNInfValue                      // a value NaN
	ReasonTooBigValue                      // |value| > MaxFloat32
	ReasonUnsupportedFormat                // a packet that is not JSON (TL, msgpack, protobuf)
	ReasonMessageTooLong                   // a TCP message longer than max_message_size
	NumReasons                             // the number of reasons
)

var reasonNames = [NumReasons]string{
	"invalid_json", "invalid_name", "invalid_tag", "too_many_tags", "value_unique_both_set",
	"zero_counter", "nan_inf_counter", "negative_counter", "too_big_counter", "nan_inf_value",
	"too_big_value", "unsupported_format", "message_too_long",
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

// Error is a rejected batch or metric.
type Error struct {
	Reason Reason
	Msg    string
}

func (e *Error) Error() string { return e.Reason.String() + ": " + e.Msg }

func errorf(r Reason, format string, args ...any) *Error {
	return &Error{Reason: r, Msg: fmt.Sprintf(format, args...)}
}

// Parser parses batches. It keeps scratch space between calls and is not safe for concurrent use.
type Parser struct {
	// MaxTags bounds the tags of one metric (StatsHouse has 48 tag slots).
	MaxTags int

	sc    jsonscan.Scanner
	key   []byte
	arena []byte
	m     Metric
	ntags int
}

// Parse walks a batch and calls fn for every metric, with the metric (nil when rejected) and
// the rejection. A batch that is not valid JSON of the expected shape returns an *Error with
// ReasonInvalidJSON; fn may have been called for metrics before the error, and the caller must
// drop them.
func (ps *Parser) Parse(batch []byte, fn func(m *Metric, rejected *Error)) error {
	ps.sc.Reset(batch)
	sc := &ps.sc
	err := sc.Object(&ps.key, func(key []byte) error {
		if string(key) != "metrics" {
			return sc.Skip()
		}
		if sc.Peek() == 'n' {
			_, err := sc.Literal()
			return err
		}
		return sc.Array(func() error {
			if err := ps.metric(); err != nil {
				return err
			}
			m, rej := ps.check()
			fn(m, rej)
			return nil
		})
	})
	if err == nil && !sc.AtEnd() {
		err = &jsonscan.Error{Offset: sc.Pos, Msg: "data after the JSON value"}
	}
	if err != nil {
		return &Error{Reason: ReasonInvalidJSON, Msg: err.Error()}
	}
	return nil
}

func (ps *Parser) metric() error {
	sc := &ps.sc
	ps.arena = ps.arena[:0]
	m := &ps.m
	*m = Metric{Tags: m.Tags[:0], Values: m.Values[:0], Unique: m.Unique[:0]}
	ps.ntags = 0
	if sc.Peek() != '{' {
		return &jsonscan.Error{Offset: sc.Pos, Msg: "a metric must be an object"}
	}
	return sc.Object(&ps.key, func(key []byte) error {
		if sc.Peek() == 'n' { // null: as if absent
			_, err := sc.Literal()
			return err
		}
		switch string(key) {
		case "name":
			start := len(ps.arena)
			var err error
			ps.arena, err = sc.String(ps.arena)
			m.Name = ps.arena[start:len(ps.arena):len(ps.arena)]
			return err
		case "tags":
			return sc.Object(&ps.key, ps.tag)
		case "counter":
			f, err := ps.float()
			m.Counter, m.HasCounter = f, true
			return err
		case "ts":
			at := sc.Pos
			b, err := sc.Number()
			if err != nil {
				return err
			}
			ts, perr := strconv.ParseUint(string(b), 10, 32)
			if perr != nil {
				return &jsonscan.Error{Offset: at, Msg: "ts must be a Unix time in seconds (uint32)"}
			}
			m.TS = uint32(ts)
			return nil
		case "value":
			return sc.Array(func() error {
				f, err := ps.float()
				m.Values = append(m.Values, f)
				return err
			})
		case "unique":
			return sc.Array(func() error {
				at := sc.Pos
				b, err := sc.Number()
				if err != nil {
					return err
				}
				v, perr := strconv.ParseInt(string(b), 10, 64)
				if perr != nil {
					return &jsonscan.Error{Offset: at, Msg: "unique values must be 64-bit integers"}
				}
				m.Unique = append(m.Unique, v)
				return nil
			})
		}
		return sc.Skip()
	})
}

// float reads a number; out-of-range numbers read as ±Inf and are refused by the checks.
func (ps *Parser) float() (float64, error) {
	at := ps.sc.Pos
	b, err := ps.sc.Number()
	if err != nil {
		return 0, err
	}
	f, perr := strconv.ParseFloat(string(b), 64)
	var ne *strconv.NumError
	if perr != nil && !(errors.As(perr, &ne) && ne.Err == strconv.ErrRange) {
		return 0, &jsonscan.Error{Offset: at, Msg: "bad number"}
	}
	return f, nil
}

// tag reads one member of "tags": string values only. Past MaxTags+1 they are counted, not
// kept, so a million tags cost no more than the batch's own bytes.
func (ps *Parser) tag(key []byte) error {
	sc := &ps.sc
	m := &ps.m
	ps.ntags++
	if len(m.Tags) > ps.MaxTags {
		return sc.Skip()
	}
	start := len(ps.arena)
	ps.arena = append(ps.arena, key...)
	k := ps.arena[start:len(ps.arena):len(ps.arena)]
	if sc.Peek() != '"' {
		return &jsonscan.Error{Offset: sc.Pos, Msg: "tag values must be strings"}
	}
	start = len(ps.arena)
	var err error
	ps.arena, err = sc.String(ps.arena)
	v := ps.arena[start:len(ps.arena):len(ps.arena)]
	for i := range m.Tags {
		if string(m.Tags[i].Key) == string(k) { // repeated: the last wins
			m.Tags[i].Value = v
			ps.ntags--
			return err
		}
	}
	m.Tags = append(m.Tags, Tag{Key: k, Value: v})
	return err
}

// check applies the agent's checks, in its order.
func (ps *Parser) check() (*Metric, *Error) {
	m := &ps.m
	if !validName(m.Name) {
		return nil, errorf(ReasonInvalidName, "metric name %q must be a letter followed by letters, digits and '_' (one ':' allowed), at most %d bytes", m.Name, MaxStringLen)
	}
	if ps.ntags > ps.MaxTags {
		return nil, errorf(ReasonTooManyTags, "metric %s has %d tags, at most %d allowed", m.Name, ps.ntags, ps.MaxTags)
	}
	for _, t := range m.Tags {
		if len(t.Key) == 0 || len(t.Key) > MaxStringLen || len(t.Value) > MaxStringLen {
			return nil, errorf(ReasonInvalidTag, "metric %s: tag %q=%q: names must be 1-%d bytes, values at most %d", m.Name, t.Key, t.Value, MaxStringLen, MaxStringLen)
		}
	}
	if len(m.Values) != 0 && len(m.Unique) != 0 {
		return nil, errorf(ReasonValueUniqueBothSet, "metric %s sets both value and unique", m.Name)
	}
	if len(m.Values) == 0 && len(m.Unique) == 0 && m.Counter == 0 {
		return nil, errorf(ReasonZeroCounter, "metric %s has no value, no unique and counter 0", m.Name)
	}
	switch c := m.Counter; {
	case math.IsNaN(c):
		return nil, errorf(ReasonNaNInfCounter, "metric %s: counter is NaN", m.Name)
	case c < 0:
		return nil, errorf(ReasonNegativeCounter, "metric %s: counter %g is negative", m.Name, c)
	case c > math.MaxFloat32:
		return nil, errorf(ReasonTooBigCounter, "metric %s: counter %g is above %g", m.Name, c, math.MaxFloat32)
	}
	for _, v := range m.Values {
		switch {
		case math.IsNaN(v):
			return nil, errorf(ReasonNaNInfValue, "metric %s: a value is NaN", m.Name)
		case v > math.MaxFloat32 || v < -math.MaxFloat32:
			return nil, errorf(ReasonTooBigValue, "metric %s: value %g is beyond ±%g", m.Name, v, math.MaxFloat32)
		}
	}
	return m, nil
}

// validName is StatsHouse's metric name rule: an ASCII letter, then ASCII letters, digits and
// '_', with at most one ':' (the namespace separator); at most 128 bytes.
func validName(s []byte) bool {
	if len(s) == 0 || len(s) > MaxStringLen || !letter(s[0]) {
		return false
	}
	colons := 0
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ':':
			if colons++; colons > 1 {
				return false
			}
		case !letter(c) && c != '_' && !('0' <= c && c <= '9'):
			return false
		}
	}
	return true
}

func letter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
