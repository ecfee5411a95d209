package parse

import (
	"bytes"
	"iter"
)

// Kind is what a line carries.
type Kind uint8

// The kinds of DogStatsD lines.
const (
	KindMetric       Kind = iota // anything that is not an event or a service check
	KindEvent                    // starts with "_e{"
	KindServiceCheck             // starts with "_sc|"
)

// String returns a short label for the kind.
func (k Kind) String() string {
	switch k {
	case KindEvent:
		return "event"
	case KindServiceCheck:
		return "service_check"
	}
	return "metric"
}

// LineKind tells which parser a line belongs to. Like the Datadog agent, anything that is not
// recognisably an event or a service check is treated as a metric (and rejected by its parser
// if it is garbage). The service check prefix includes the '|' so that a metric whose name
// starts with "_sc" is still a metric.
func LineKind(line []byte) Kind {
	if len(line) >= 3 && line[0] == '_' {
		if line[1] == 'e' && line[2] == '{' {
			return KindEvent
		}
		if len(line) >= 4 && line[1] == 's' && line[2] == 'c' && line[3] == '|' {
			return KindServiceCheck
		}
	}
	return KindMetric
}

// NextLine splits the first line off packet. A trailing '\r' is dropped from the line. rest is
// what follows the '\n' (empty when packet had no more lines). Empty lines are returned as such;
// Lines skips them.
func NextLine(packet []byte) (line, rest []byte) {
	i := bytes.IndexByte(packet, '\n')
	if i < 0 {
		line, rest = packet, nil
	} else {
		line, rest = packet[:i], packet[i+1:]
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, rest
}

// Lines yields the non-empty lines of a packet (lines are separated by '\n'; a '\r' before the
// '\n' is dropped). The yielded slices alias packet.
func Lines(packet []byte) iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		for len(packet) > 0 {
			var line []byte
			line, packet = NextLine(packet)
			if len(line) == 0 {
				continue
			}
			if !yield(line) {
				return
			}
		}
	}
}
