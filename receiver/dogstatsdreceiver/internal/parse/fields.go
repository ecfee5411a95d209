package parse

import "bytes"

var cardinalityPrefix = []byte("card:")

func parseType(b []byte) MetricType {
	switch len(b) {
	case 1:
		switch b[0] {
		case 'c':
			return Counter
		case 'g':
			return Gauge
		case 'h':
			return Histogram
		case 's':
			return Set
		case 'd':
			return Distribution
		}
	case 2:
		if b[0] == 'm' && b[1] == 's' {
			return Timer
		}
	}
	return 0
}

// The Datadog Agent's internal tags. The Agent takes these three out of the tags of every
// metric, event and service check (comp/dogstatsd/server: extractTagsMetadata); other
// `dd.internal.` tags stay ordinary tags there and here.
const (
	internalTagPrefix = "dd.internal."
	entityIDTag       = "entity_id:"      // the client's pod uid: origin detection over UDP
	cardinalityTag    = "card:"           // tag cardinality of the origin enrichment
	jmxCheckNameTag   = "jmx_check_name:" // the Agent's billing source of JMX metrics: dropped
)

// tagMeta is what a tags field says besides its tags.
type tagMeta struct {
	host   string // value of the last host: tag
	podUID string // value of the last dd.internal.entity_id: tag
	card   string // value of the first non-empty dd.internal.card: tag, as the Agent takes it
}

// appendTags appends the interned tags of raw (the `#` field without '#') to dst and sets m from
// the tags it takes out: `host:` and the Agent's `dd.internal.entity_id:`, `dd.internal.card:`
// and `dd.internal.jmx_check_name:` tags are not appended. Empty tags are skipped.
func (p *Parser) appendTags(dst []string, raw []byte, m *tagMeta) []string {
	*m = tagMeta{}
	for len(raw) > 0 {
		var tag []byte
		tag, raw = cutShort(raw, ',')
		if len(tag) == 0 {
			continue
		}
		switch tag[0] {
		case 'h':
			if len(tag) >= 5 && string(tag[:5]) == "host:" {
				m.host = p.in.Get(tag[5:])
				continue
			}
		case 'd':
			if p.internalTag(tag, m) {
				continue
			}
		}
		dst = append(dst, p.in.Get(tag))
	}
	return dst
}

// internalTag applies tag to m when it is one of the internal tags the Agent consumes and
// reports whether it was.
func (p *Parser) internalTag(tag []byte, m *tagMeta) bool {
	if len(tag) < len(internalTagPrefix) || string(tag[:len(internalTagPrefix)]) != internalTagPrefix {
		return false
	}
	rest := tag[len(internalTagPrefix):]
	switch {
	case hasPrefix(rest, entityIDTag):
		m.podUID = p.in.Get(rest[len(entityIDTag):])
	case hasPrefix(rest, cardinalityTag):
		// The Agent keeps the first one (and, unlike here, leaves later ones among the tags).
		if m.card == "" {
			m.card = p.cardinality(rest[len(cardinalityTag):])
		}
	case hasPrefix(rest, jmxCheckNameTag):
	default:
		return false
	}
	return true
}

func hasPrefix(b []byte, prefix string) bool {
	return len(b) >= len(prefix) && string(b[:len(prefix)]) == prefix
}

// cardinality returns the cardinality value b, without interning the four values clients send.
func (p *Parser) cardinality(b []byte) string {
	switch string(b) {
	case "none":
		return "none"
	case "low":
		return "low"
	case "orchestrator":
		return "orchestrator"
	case "high":
		return "high"
	}
	return p.in.Get(b)
}

// cut splits b around the first sep. found is false, and after nil, when sep is absent.
func cut(b []byte, sep byte) (before, after []byte, found bool) {
	if i := bytes.IndexByte(b, sep); i >= 0 {
		return b[:i], b[i+1:], true
	}
	return b, nil, false
}

// cutShort is cut for the short pieces inside a field (values, tags): a plain loop beats
// bytes.IndexByte's call and setup on a dozen bytes.
func cutShort(b []byte, sep byte) (before, after []byte) {
	for i, c := range b {
		if c == sep {
			return b[:i], b[i+1:]
		}
	}
	return b, nil
}

// commonFields points at the optional fields events and service checks share.
type commonFields struct {
	timestamp                              *int64
	hostname                               *string
	tags                                   *[]string
	containerID, externalData, cardinality *string
}

// applyCommonField applies field to c when it is one of the fields events and service checks
// share (`#tags`, `card:`, `d:`, `h:`, `c:`, `e:`), or an empty or unknown-shaped field, and
// reports done; a tags field also sets m. Otherwise it returns the field's one-letter key and
// its value for the caller.
func (p *Parser) applyCommonField(c commonFields, field []byte, m *tagMeta) (byte, []byte, bool) {
	if len(field) == 0 {
		return 0, nil, true
	}
	if field[0] == '#' {
		*c.tags = p.appendTags(nil, field[1:], m)
		return 0, nil, true
	}
	if bytes.HasPrefix(field, cardinalityPrefix) {
		*c.cardinality = p.cardinality(field[len(cardinalityPrefix):])
		return 0, nil, true
	}
	if len(field) < 2 || field[1] != ':' {
		return 0, nil, true
	}
	value := field[2:]
	switch field[0] {
	case 'd':
		if ts, ok := parseInt(value); ok {
			*c.timestamp = ts
		}
	case 'h':
		*c.hostname = p.in.Get(value)
	case 'c':
		*c.containerID = p.in.Get(value)
	case 'e':
		*c.externalData = p.in.Get(value)
	default:
		return field[0], value, false
	}
	return 0, nil, true
}
