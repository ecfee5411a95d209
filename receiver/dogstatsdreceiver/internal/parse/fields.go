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

// appendTags appends the interned tags of raw (the `#` field without '#') to dst. Empty tags
// are skipped. `host:` tags are not appended; the value of the last one is returned.
func (p *Parser) appendTags(dst []string, raw []byte) ([]string, string) {
	var host string
	for len(raw) > 0 {
		var tag []byte
		tag, raw = cutShort(raw, ',')
		if len(tag) == 0 {
			continue
		}
		if len(tag) >= 5 && string(tag[:5]) == "host:" {
			host = p.in.Get(tag[5:])
			continue
		}
		dst = append(dst, p.in.Get(tag))
	}
	return dst, host
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
// reports done. Otherwise it returns the field's one-letter key and its value for the caller.
// It returns the current host tag value either way.
func (p *Parser) applyCommonField(c commonFields, field []byte, hostTag string) (string, byte, []byte, bool) {
	if len(field) == 0 {
		return hostTag, 0, nil, true
	}
	if field[0] == '#' {
		*c.tags, hostTag = p.appendTags(nil, field[1:])
		return hostTag, 0, nil, true
	}
	if bytes.HasPrefix(field, cardinalityPrefix) {
		*c.cardinality = p.in.Get(field[len(cardinalityPrefix):])
		return hostTag, 0, nil, true
	}
	if len(field) < 2 || field[1] != ':' {
		return hostTag, 0, nil, true
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
		return hostTag, field[0], value, false
	}
	return hostTag, 0, nil, true
}
