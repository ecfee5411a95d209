package parse

import (
	"bytes"
	"strings"
)

// Priority is an event's `p:` field.
type Priority uint8

// Event priorities; the zero value is the default.
const (
	PriorityNormal Priority = iota
	PriorityLow
)

// String returns the priority as written on the wire.
func (p Priority) String() string {
	if p == PriorityLow {
		return "low"
	}
	return "normal"
}

// AlertType is an event's `t:` field.
type AlertType uint8

// Event alert types; the zero value is the default.
const (
	AlertInfo AlertType = iota
	AlertSuccess
	AlertWarning
	AlertError
)

// String returns the alert type as written on the wire.
func (a AlertType) String() string {
	switch a {
	case AlertSuccess:
		return "success"
	case AlertWarning:
		return "warning"
	case AlertError:
		return "error"
	}
	return "info"
}

// Event is a parsed `_e{title_len,text_len}:title|text|...` line. Its strings are freshly
// allocated or interned; none alias the line.
type Event struct {
	// Title with each `\n` escape turned into a newline. Never empty.
	Title string
	// Text with each `\n` escape turned into a newline.
	Text string
	// Timestamp is the `d:` unix time in seconds; 0 when absent.
	Timestamp int64
	// Hostname is the `h:` field, or else the value of the last `host:` tag.
	Hostname string
	// AggregationKey is the `k:` field.
	AggregationKey string
	// Priority is the `p:` field; normal when absent.
	Priority Priority
	// SourceType is the `s:` field (source type name).
	SourceType string
	// AlertType is the `t:` field; info when absent.
	AlertType AlertType
	// Tags are the `#` tags without `host:` tags; nil when none.
	Tags []string
	// ContainerID, ExternalData and Cardinality are the `c:`, `e:` and `card:` fields.
	ContainerID  string
	ExternalData string
	Cardinality  string
	// PodUID and CardinalityTag are the `dd.internal.entity_id:` and `dd.internal.card:` tags,
	// which are not in Tags (as in Sample).
	PodUID         string
	CardinalityTag string
}

var eventPrefix = []byte("_e{")

// ParseEvent parses an event line. The title length and text length in the header count bytes of
// the title and text as sent (escapes included), so titles and texts may contain '|'. Like the
// agent, an optional field with a value it does not understand (`p:urgent`, `d:abc`) is ignored
// rather than rejecting the event; unknown fields are ignored; a repeated field replaces the
// earlier one.
func (p *Parser) ParseEvent(line []byte) (Event, error) {
	if err := p.checkLine(line); err != nil {
		return Event{}, err
	}
	if !bytes.HasPrefix(line, eventPrefix) {
		return Event{}, ReasonBadEvent.err()
	}
	rest := line[len(eventPrefix):]
	titleLen, rest, ok := parseLength(rest, ',', len(line))
	if !ok {
		return Event{}, ReasonBadEvent.err()
	}
	textLen, rest, ok := parseLength(rest, '}', len(line))
	if !ok || titleLen == 0 || len(rest) == 0 || rest[0] != ':' {
		return Event{}, ReasonBadEvent.err()
	}
	body := rest[1:]
	// Both lengths are at most len(line), so the sum cannot overflow.
	textEnd := titleLen + 1 + textLen
	if textEnd > len(body) || body[titleLen] != '|' {
		return Event{}, ReasonBadEvent.err()
	}
	fields := body[textEnd:]
	if len(fields) > 0 && fields[0] != '|' {
		// The text is followed by something other than a field: the lengths are wrong.
		return Event{}, ReasonBadEvent.err()
	}
	ev := Event{
		Title: unescapeNewlines(body[:titleLen]),
		Text:  unescapeNewlines(body[titleLen+1 : textEnd]),
	}
	if len(fields) > 0 {
		var meta tagMeta
		rest, more := fields[1:], true
		for more {
			var field []byte
			field, rest, more = cut(rest, '|')
			p.applyEventField(&ev, field, &meta)
		}
		if ev.Hostname == "" {
			ev.Hostname = meta.host
		}
		ev.PodUID, ev.CardinalityTag = meta.podUID, meta.card
	}
	return ev, nil
}

// applyEventField applies one optional field to ev; a tags field also sets meta.
func (p *Parser) applyEventField(ev *Event, field []byte, meta *tagMeta) {
	key, value, done := p.applyCommonField(ev.common(), field, meta)
	if done {
		return
	}
	switch key {
	case 'k':
		ev.AggregationKey = string(value)
	case 'p':
		switch string(value) {
		case "normal":
			ev.Priority = PriorityNormal
		case "low":
			ev.Priority = PriorityLow
		}
	case 's':
		ev.SourceType = string(value)
	case 't':
		switch string(value) {
		case "info":
			ev.AlertType = AlertInfo
		case "success":
			ev.AlertType = AlertSuccess
		case "warning":
			ev.AlertType = AlertWarning
		case "error":
			ev.AlertType = AlertError
		}
	}
}

func (ev *Event) common() commonFields {
	return commonFields{&ev.Timestamp, &ev.Hostname, &ev.Tags, &ev.ContainerID, &ev.ExternalData, &ev.Cardinality}
}

// parseLength reads a decimal byte count terminated by term. Counts larger than limit cannot be
// right and are refused before they could overflow.
func parseLength(b []byte, term byte, limit int) (n int, rest []byte, ok bool) {
	i := 0
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		n = n*10 + int(b[i]-'0')
		if n > limit {
			return 0, nil, false
		}
	}
	if i == 0 || i == len(b) || b[i] != term {
		return 0, nil, false
	}
	return n, b[i+1:], true
}

// unescapeNewlines returns b as a string with every two-byte `\n` escape turned into a newline.
func unescapeNewlines(b []byte) string {
	if bytes.Index(b, []byte(`\n`)) < 0 {
		return string(b)
	}
	return strings.ReplaceAll(string(b), `\n`, "\n")
}
