package opentsdb

import (
	"bytes"
	"math"
	"strconv"
)

// Command is what a telnet line asks for.
type Command uint8

// The telnet commands the receiver answers.
const (
	CmdNone    Command = iota // an empty line: ignored
	CmdPut                    // put <metric> <timestamp> <value> <tagk=tagv> ...
	CmdVersion                // version: the receiver's version, two lines
	CmdHelp                   // help: the commands
	CmdExit                   // exit: close the connection
	CmdUnknown                // anything else: OpenTSDB's "unknown command" reply
)

// LineParser parses telnet lines. It keeps its scratch space between calls and is not safe for
// concurrent use: each connection has its own.
type LineParser struct {
	Rules Rules
	// Lookup, when set, is called with the metric and the tags text of a put line (from its
	// first tag to its end) before the tags are split. A result of 0 or more says that this
	// metric with this tags text was accepted before: its tags and the metric's characters are
	// then not checked again (they would pass again), Point.Tags is left empty and the result
	// is returned in Point.Series. -1 has the line checked in full.
	Lookup func(metric, tagsText []byte) int32

	words [][]byte
	line  []byte
	ts    []byte
	p     Point
}

// Parse reads one line, without its line ending. For CmdPut it returns the point or the
// rejection; for CmdUnknown the rejection carries the reply's command word. The point is
// valid until the next call.
func (lp *LineParser) Parse(line []byte) (Command, *Point, *Error) {
	if len(line) == 0 {
		return CmdNone, nil, nil
	}
	// OpenTSDB splits on single spaces, so two spaces make an empty word.
	lp.line = line
	lp.words = lp.words[:0]
	if lp.Lookup != nil && bytes.HasPrefix(line, putWord) {
		if p, err, ok := lp.known(line); ok {
			return CmdPut, p, err
		}
		lp.words = lp.words[:0]
	}
	for {
		i := bytes.IndexByte(line, ' ')
		if i < 0 {
			lp.words = append(lp.words, line)
			break
		}
		lp.words = append(lp.words, line[:i])
		line = line[i+1:]
	}
	switch string(lp.words[0]) {
	case "put":
		p, err := lp.put(lp.words, nil, -1)
		return CmdPut, p, err
	case "version":
		return CmdVersion, nil, nil
	case "help":
		return CmdHelp, nil, nil
	case "exit":
		return CmdExit, nil, nil
	}
	return CmdUnknown, nil, &Error{Reason: ReasonUnknownCommand, Msg: string(lp.words[0])}
}

var putWord = []byte("put ")

// known parses a put line whose metric and tags text Lookup knows; ok is false when the line
// has fewer than five words or Lookup does not know them, and the line must be parsed in full.
func (lp *LineParser) known(line []byte) (p *Point, err *Error, ok bool) {
	rest := line
	for range 4 {
		i := bytes.IndexByte(rest, ' ')
		if i < 0 {
			return nil, nil, false
		}
		lp.words = append(lp.words, rest[:i])
		rest = rest[i+1:]
	}
	id := lp.Lookup(lp.words[1], rest)
	if id < 0 {
		return nil, nil, false
	}
	p, err = lp.put(lp.words, rest, id)
	if err != nil {
		return nil, nil, false // parsed again in full, for the reply a full parse gives
	}
	return p, nil, true
}

// put is PutDataPointRpc.importDataPoint followed by TSDB.addPoint's checks. With known >= 0
// words holds the first four words and tagsText the rest of the line, whose tags (and the
// metric's characters) passed before; otherwise words are all of the line's words.
func (lp *LineParser) put(words [][]byte, tagsText []byte, known int32) (*Point, *Error) {
	if known < 0 && len(words) < 5 {
		return nil, errorf(ReasonNotEnoughArguments, "not enough arguments (need least 4, got %d)", len(words)-1)
	}
	p := &lp.p
	p.Series = known
	p.Metric = words[1]
	if len(p.Metric) == 0 {
		return nil, errorf(ReasonEmptyMetric, "empty metric name")
	}
	tsWord := words[2]
	if bytes.IndexByte(tsWord, '.') >= 0 { // "1365465600.123": seconds.millis, dot dropped
		lp.ts = lp.ts[:0]
		for _, c := range tsWord {
			if c != '.' {
				lp.ts = append(lp.ts, c)
			}
		}
		tsWord = lp.ts
	}
	ts, err := parseLong(tsWord)
	if err != nil {
		err.Reason = ReasonInvalidTimestamp
		return nil, err
	}
	if ts <= 0 {
		return nil, errorf(ReasonInvalidTimestamp, "invalid timestamp: %d", ts)
	}
	value := words[3]
	if len(value) == 0 {
		return nil, errorf(ReasonEmptyValue, "empty value")
	}
	p.Tags = p.Tags[:0]
	if known >= 0 {
		p.TagsText = tagsText
		return lp.value(p, ts, value)
	}
	off := 0 // where words[4] starts in the line: the words are split at single spaces
	for _, w := range words[:4] {
		off += len(w) + 1
	}
	p.TagsText = lp.line[off:]
	n := 0 // tags given, duplicates with the same value counted once
	for _, w := range words[4:] {
		if len(w) == 0 {
			continue
		}
		eq := bytes.IndexByte(w, '=')
		if eq <= 0 || eq == len(w)-1 || bytes.IndexByte(w[eq+1:], '=') >= 0 {
			return nil, errorf(ReasonInvalidTag, "invalid tag: %s", w)
		}
		k, v := w[:eq], w[eq+1:]
		if n > lp.Rules.MaxTags { // too many already: count, and keep the work per line linear
			n++
			continue
		}
		if dup, same := findTag(p.Tags, k, v); dup {
			if same {
				continue
			}
			return nil, errorf(ReasonDuplicateTag, "duplicate tag: %s, tags=%s", w, formatTags(p.Tags))
		}
		p.Tags = append(p.Tags, Tag{Key: k, Value: v, Word: w})
		n++
	}
	if perr := parseValue(p, value); perr != nil {
		return nil, perr
	}
	if !p.IsInt && (math.IsNaN(p.Float) || math.IsInf(p.Float, 0)) {
		return nil, errorf(ReasonNaNValue, "value is NaN or Infinite: %s for metric=%s timestamp=%d", javaDouble(p.Float), p.Metric, ts)
	}
	if n > lp.Rules.MaxTags {
		return nil, errorf(ReasonTooManyTags, "Too many tags: %d maximum allowed: %d, tags: %s", n, lp.Rules.MaxTags, formatTags(p.Tags))
	}
	if err := lp.Rules.checkPoint(p, ts, value); err != nil {
		return nil, err
	}
	p.Timestamp = millis(ts)
	return p, nil
}

// value finishes a point whose tags are known to pass: the value and the timestamp's range,
// checked as put checks them when the tags pass.
func (lp *LineParser) value(p *Point, ts int64, value []byte) (*Point, *Error) {
	if perr := parseValue(p, value); perr != nil {
		return nil, perr
	}
	if !p.IsInt && (math.IsNaN(p.Float) || math.IsInf(p.Float, 0)) {
		return nil, errorf(ReasonNaNValue, "value is NaN or Infinite: %s for metric=%s timestamp=%d", javaDouble(p.Float), p.Metric, ts)
	}
	if err := lp.Rules.checkTimestamp(p, ts, value); err != nil {
		return nil, err
	}
	p.Timestamp = millis(ts)
	return p, nil
}

// findTag reports whether tags has key k, and whether with value v.
func findTag(tags []Tag, k, v []byte) (found, same bool) {
	for _, t := range tags {
		if bytes.Equal(t.Key, k) {
			return true, bytes.Equal(t.Value, v)
		}
	}
	return false, false
}

// javaDouble writes NaN and the infinities as Java's Double.toString does.
func javaDouble(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// AppendReply appends OpenTSDB's telnet reply to a rejected put: "put: <kind>: <message>\n".
func AppendReply(dst []byte, e *Error) []byte {
	if e.Reason == ReasonUnknownCommand {
		dst = append(dst, "unknown command: "...)
		dst = append(dst, e.Msg...)
		return append(dst, ".  Try `help'.\n"...)
	}
	dst = append(dst, "put: "...)
	dst = append(dst, e.Kind...)
	dst = append(dst, ": "...)
	dst = append(dst, e.Msg...)
	return append(dst, '\n')
}
