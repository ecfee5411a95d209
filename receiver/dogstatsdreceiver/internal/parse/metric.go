package parse

import (
	"bytes"
	"unicode/utf8"

	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/intern"
)

// DefaultMaxLineLength is the longest line accepted by default: 65535 bytes is more than the
// largest UDP payload (65507), so no datagram line is refused; it bounds what one line on a
// stream transport can make the parser intern and append.
const DefaultMaxLineLength = 65535

// DefaultMaxNameLength and DefaultMaxTagsLength bound what one context's key holds, so that
// the receiver's memory is bounded by max_contexts times a known size whatever clients send.
// Datadog documents 200 characters for a metric name and for a tag; the defaults leave room
// above that so no name the Agent forwards is refused.
const (
	DefaultMaxNameLength = 512
	DefaultMaxTagsLength = 4096
)

// Parser parses DogStatsD lines. One Parser belongs to one worker goroutine (it is not safe for
// concurrent use) and interns strings through that worker's Interner.
type Parser struct {
	in         *intern.Interner
	maxLineLen int
	maxNameLen int
	maxTagsLen int
}

// New returns a Parser that interns names, tags and origin fields through in.
func New(in *intern.Interner) *Parser {
	return &Parser{in: in, maxLineLen: DefaultMaxLineLength, maxNameLen: DefaultMaxNameLength, maxTagsLen: DefaultMaxTagsLength}
}

// SetMaxKeyLengths sets the longest accepted metric name and `|#` tags field in bytes; n <= 0
// removes a limit.
func (p *Parser) SetMaxKeyLengths(name, tags int) { p.maxNameLen, p.maxTagsLen = name, tags }

// SetMaxLineLength sets the longest accepted line in bytes; n <= 0 removes the limit.
func (p *Parser) SetMaxLineLength(n int) { p.maxLineLen = n }

// checkLine applies the checks every kind of line gets.
func (p *Parser) checkLine(line []byte) error {
	if p.maxLineLen > 0 && len(line) > p.maxLineLen {
		return ReasonLineTooLong.err()
	}
	if !utf8.Valid(line) {
		return ReasonInvalidUTF8.err()
	}
	return nil
}

// AppendSamples parses one metric line and appends one Sample per value to dst: a packed line
// (`name:1:2:3|d`) gives several Samples that share one Tags slice. The tags are appended to
// tagBuf and each Sample's Tags is a capacity-limited sub-slice of it, so the caller can reuse
// tagBuf across the lines of a batch and truncate it once the batch's Samples are consumed.
//
// On error dst and tagBuf are returned at their original lengths and the error is an *Error whose
// Reason says why the line was rejected. Strings in the Samples never alias line.
func (p *Parser) AppendSamples(dst []Sample, tagBuf []string, line []byte) ([]Sample, []string, error) {
	if err := p.checkLine(line); err != nil {
		return dst, tagBuf, err
	}
	head, rest, hasType := cut(line, '|')
	colon := bytes.IndexByte(head, ':')
	if colon == 0 || len(head) == 0 {
		return dst, tagBuf, ReasonEmptyName.err()
	}
	if colon < 0 || colon == len(head)-1 {
		return dst, tagBuf, ReasonNoValue.err()
	}
	rawName, rawValue := head[:colon], head[colon+1:]
	if p.maxNameLen > 0 && len(rawName) > p.maxNameLen {
		return dst, tagBuf, ReasonNameTooLong.err()
	}
	if !hasType {
		return dst, tagBuf, ReasonBadType.err()
	}
	var typeField []byte
	typeField, rest, hasFields := cut(rest, '|')
	mt := parseType(typeField)
	if mt == 0 {
		return dst, tagBuf, ReasonBadType.err()
	}

	// Values first, so that a bad value is reported before a bad optional field (as the agent
	// does); the shared fields are filled in once the optional fields are known.
	start := len(dst)
	var setValue string
	if mt == Set {
		// Sets take the raw value whole, colons included: packing is not defined for sets and the
		// agent keeps "a:b" as one member. Members are not interned: they are typically
		// high-cardinality (user ids) and would flush the interner's table.
		setValue = string(rawValue)
		dst = append(dst, Sample{})
	} else {
		var r Reason
		if dst, r = appendValues(dst, rawValue); r != 0 {
			return dst[:start], tagBuf, r.err()
		}
	}

	tagStart := len(tagBuf)
	s := Sample{Type: mt, SetValue: setValue, SampleRate: 1}
	var meta tagMeta
	for hasFields {
		var field []byte
		field, rest, hasFields = cut(rest, '|')
		if len(field) == 0 {
			continue
		}
		switch field[0] {
		case '#':
			if p.maxTagsLen > 0 && len(field)-1 > p.maxTagsLen {
				return dst[:start], tagBuf[:tagStart], ReasonTagsTooLong.err()
			}
			// A repeated tags field replaces the earlier one, host and internal tags included
			// (last wins).
			tagBuf = tagBuf[:tagStart]
			tagBuf = p.appendTags(tagBuf, field[1:], &meta)
		case '@':
			rate, ok := parseRate(field[1:])
			if !ok {
				return dst[:start], tagBuf[:tagStart], ReasonBadSampleRate.err()
			}
			s.SampleRate = rate
		case 'T':
			ts, ok := parsePositiveInt(field[1:])
			if !ok {
				return dst[:start], tagBuf[:tagStart], ReasonBadTimestamp.err()
			}
			s.Timestamp = ts
		case 'c':
			if len(field) >= 2 && field[1] == ':' {
				s.ContainerID = p.in.Get(field[2:])
			} else if bytes.HasPrefix(field, cardinalityPrefix) {
				s.Cardinality = p.cardinality(field[len(cardinalityPrefix):])
			}
		case 'e':
			if len(field) >= 2 && field[1] == ':' {
				s.ExternalData = p.in.Get(field[2:])
			}
		}
		// Anything else is a field from a later protocol version: ignored.
	}
	if len(tagBuf) > tagStart {
		s.Tags = tagBuf[tagStart:len(tagBuf):len(tagBuf)]
	}
	s.Host, s.PodUID, s.CardinalityTag = meta.host, meta.podUID, meta.card
	s.Name = p.in.Get(rawName)
	for i := start; i < len(dst); i++ {
		v := dst[i].Value
		dst[i] = s
		dst[i].Value = v
	}
	return dst, tagBuf, nil
}

// appendValues appends one Sample holding only a Value per ':'-separated value of raw. Empty
// values ("1::2", "1:2:") are skipped as the agent does; a line with no value at all, or with
// any bad value, is rejected as a whole.
func appendValues(dst []Sample, raw []byte) ([]Sample, Reason) {
	start := len(dst)
	for len(raw) > 0 {
		var piece []byte
		piece, raw = cutShort(raw, ':')
		if len(piece) == 0 {
			continue
		}
		v, r := parseValue(piece)
		if r != 0 {
			return dst[:start], r
		}
		dst = append(dst, Sample{Value: v})
	}
	if len(dst) == start {
		return dst, ReasonNoValue
	}
	return dst, 0
}
