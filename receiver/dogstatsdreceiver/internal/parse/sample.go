// Package parse turns DogStatsD lines (metrics, events, service checks) into typed values.
//
// Concurrency: a Parser is owned by one worker goroutine. Strings it returns come from that
// worker's interner or are freshly allocated, so they stay valid after the packet they were read
// from goes back to its pool. The Tags slices of a Sample alias the tag buffer the caller passed
// in; they are valid until the caller reuses that buffer.
package parse

// MetricType is the DogStatsD type field of a metric line.
type MetricType uint8

// The DogStatsD metric types.
const (
	Counter      MetricType = iota + 1 // c
	Gauge                              // g
	Timer                              // ms
	Histogram                          // h
	Set                                // s
	Distribution                       // d
)

// String returns the type as written on the wire.
func (t MetricType) String() string {
	switch t {
	case Counter:
		return "c"
	case Gauge:
		return "g"
	case Timer:
		return "ms"
	case Histogram:
		return "h"
	case Set:
		return "s"
	case Distribution:
		return "d"
	}
	return "unknown"
}

// Sample is one value of one metric line. A packed line (`name:1:2:3|d`) yields one Sample per
// value, all sharing the same Tags.
type Sample struct {
	// Name is the interned metric name.
	Name string
	// Value is the numeric value; unused for sets.
	Value float64
	// SetValue is the raw member of a set, colons included; empty for other types. It is a fresh
	// string, not interned: set members are usually high-cardinality and would flush the interner.
	SetValue string
	// Type is the DogStatsD type.
	Type MetricType
	// SampleRate is the `|@` rate in (0,1]; 1 when absent.
	SampleRate float64
	// Tags are the interned `|#` tags without the `host:` tag, in wire order.
	Tags []string
	// Host is the value of the last `host:` tag (interned); empty when absent.
	Host string
	// Timestamp is the `|T` unix time in seconds; 0 when absent.
	Timestamp int64
	// ContainerID is the `|c:` field (interned); empty when absent.
	ContainerID string
	// ExternalData is the `|e:` field (interned); empty when absent.
	ExternalData string
	// Cardinality is the `|card:` field; empty when absent.
	Cardinality string
	// PodUID is the value of the last `dd.internal.entity_id:` tag (the pod uid clients get as
	// DD_ENTITY_ID); empty when absent. The tag is not in Tags.
	PodUID string
	// CardinalityTag is the value of the first non-empty `dd.internal.card:` tag; empty when
	// absent. The tag is not in Tags.
	CardinalityTag string
}
