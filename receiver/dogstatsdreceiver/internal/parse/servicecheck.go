package parse

import (
	"bytes"
	"strings"
)

// ServiceCheckStatus is a service check's status, with its wire values.
type ServiceCheckStatus uint8

// Service check statuses.
const (
	StatusOK       ServiceCheckStatus = 0
	StatusWarning  ServiceCheckStatus = 1
	StatusCritical ServiceCheckStatus = 2
	StatusUnknown  ServiceCheckStatus = 3
)

// String returns a lower-case name for the status.
func (s ServiceCheckStatus) String() string {
	switch s {
	case StatusOK:
		return "ok"
	case StatusWarning:
		return "warning"
	case StatusCritical:
		return "critical"
	}
	return "unknown"
}

// ServiceCheck is a parsed `_sc|name|status|...` line. Its strings are freshly allocated or
// interned; none alias the line.
type ServiceCheck struct {
	// Name of the check. Never empty.
	Name string
	// Status is 0 (OK) to 3 (unknown).
	Status ServiceCheckStatus
	// Timestamp is the `d:` unix time in seconds; 0 when absent.
	Timestamp int64
	// Hostname is the `h:` field, or else the value of the last `host:` tag.
	Hostname string
	// Message is the `m:` field with the client's escapes undone (`\n` is a newline, `m\:` is "m:").
	Message string
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

var serviceCheckPrefix = []byte("_sc|")

// ParseServiceCheck parses a service check line. Fields are split at '|' like every other field,
// as the agent does: Datadog documents that `m:` comes last, and clients send `|c:` and `|e:`
// after it, so a '|' inside a message ends the message. As with events, a `d:` that is not an
// integer is ignored, unknown fields are ignored and a repeated field replaces the earlier one.
func (p *Parser) ParseServiceCheck(line []byte) (ServiceCheck, error) {
	if err := p.checkLine(line); err != nil {
		return ServiceCheck{}, err
	}
	if !bytes.HasPrefix(line, serviceCheckPrefix) {
		return ServiceCheck{}, ReasonBadServiceCheck.err()
	}
	name, rest, ok := cut(line[len(serviceCheckPrefix):], '|')
	if !ok || len(name) == 0 {
		return ServiceCheck{}, ReasonBadServiceCheck.err()
	}
	status, rest, more := cut(rest, '|')
	if len(status) != 1 || status[0] < '0' || status[0] > '3' {
		return ServiceCheck{}, ReasonBadServiceCheck.err()
	}
	sc := ServiceCheck{Name: string(name), Status: ServiceCheckStatus(status[0] - '0')}
	var meta tagMeta
	for more {
		var field []byte
		field, rest, more = cut(rest, '|')
		p.applyServiceCheckField(&sc, field, &meta)
	}
	if sc.Hostname == "" {
		sc.Hostname = meta.host
	}
	sc.PodUID, sc.CardinalityTag = meta.podUID, meta.card
	return sc, nil
}

// applyServiceCheckField applies one optional field to sc; a tags field also sets meta.
func (p *Parser) applyServiceCheckField(sc *ServiceCheck, field []byte, meta *tagMeta) {
	key, value, done := p.applyCommonField(sc.common(), field, meta)
	if !done && key == 'm' {
		sc.Message = unescapeMessage(value)
	}
}

func (sc *ServiceCheck) common() commonFields {
	return commonFields{&sc.Timestamp, &sc.Hostname, &sc.Tags, &sc.ContainerID, &sc.ExternalData, &sc.Cardinality}
}

// messageUnescaper undoes the escapes the official clients apply to a service check message.
var messageUnescaper = strings.NewReplacer(`\n`, "\n", `m\:`, "m:")

func unescapeMessage(b []byte) string {
	if bytes.IndexByte(b, '\\') < 0 {
		return string(b)
	}
	return messageUnescaper.Replace(string(b))
}
