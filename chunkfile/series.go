package chunkfile

import (
	"bytes"
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/doghouse-otel/doghouse/chunkfile/internal/enc"
)

// Kind is the metric kind of a series.
type Kind uint8

// The metric kinds, numbered as in the file.
const (
	KindGauge Kind = iota + 1
	KindSum
	KindHistogram
	KindExpHistogram
	KindSummary

	numKinds = int(KindSummary) + 1 // array size for per-kind tables
)

// String returns the kind's name as used in dumps.
func (k Kind) String() string {
	switch k {
	case KindGauge:
		return "gauge"
	case KindSum:
		return "sum"
	case KindHistogram:
		return "histogram"
	case KindExpHistogram:
		return "exponential_histogram"
	case KindSummary:
		return "summary"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// ParseKind is the inverse of Kind.String.
func ParseKind(s string) (Kind, error) {
	for k := KindGauge; k <= KindSummary; k++ {
		if k.String() == s {
			return k, nil
		}
	}
	return 0, fmt.Errorf("unknown kind %q", s)
}

func (k Kind) isNumber() bool { return k == KindGauge || k == KindSum }

// Temporality is the aggregation temporality of sums and histograms.
type Temporality uint8

// The temporalities, numbered as in the file.
const (
	TemporalityUnspecified Temporality = iota
	TemporalityDelta
	TemporalityCumulative
)

// String returns the temporality's name as used in dumps.
func (t Temporality) String() string {
	switch t {
	case TemporalityDelta:
		return "delta"
	case TemporalityCumulative:
		return "cumulative"
	}
	return "unspecified"
}

// ParseTemporality is the inverse of Temporality.String.
func ParseTemporality(s string) (Temporality, error) {
	for t := TemporalityUnspecified; t <= TemporalityCumulative; t++ {
		if t.String() == s {
			return t, nil
		}
	}
	return 0, fmt.Errorf("unknown temporality %q", s)
}

// ValueType is the type of an attribute value.
type ValueType uint8

// The attribute value types, numbered as in the file. Other types (arrays, maps) are stored as
// their JSON string form with ValueString.
const (
	ValueString ValueType = iota
	ValueBool
	ValueInt
	ValueDouble
	ValueBytes
)

// Value is a typed attribute value; the field that matches Type holds it.
type Value struct {
	Type   ValueType
	Str    string
	Int    int64
	Double float64
	Bool   bool
	Bytes  []byte
}

// StringValue returns a string Value.
func StringValue(s string) Value { return Value{Type: ValueString, Str: s} }

// String renders the value as text (bytes as hex-free Go quoting is left to callers).
func (v Value) String() string {
	switch v.Type {
	case ValueBool:
		return strconv.FormatBool(v.Bool)
	case ValueInt:
		return strconv.FormatInt(v.Int, 10)
	case ValueDouble:
		return strconv.FormatFloat(v.Double, 'g', -1, 64)
	case ValueBytes:
		return string(v.Bytes)
	}
	return v.Str
}

// Equal reports whether two values have the same type and the same content (doubles by bits).
func (v Value) Equal(o Value) bool {
	if v.Type != o.Type {
		return false
	}
	switch v.Type {
	case ValueBool:
		return v.Bool == o.Bool
	case ValueInt:
		return v.Int == o.Int
	case ValueDouble:
		return math.Float64bits(v.Double) == math.Float64bits(o.Double)
	case ValueBytes:
		return bytes.Equal(v.Bytes, o.Bytes)
	}
	return v.Str == o.Str
}

// Attr is one attribute: a key and a typed value.
type Attr struct {
	Key   string
	Value Value
}

// Series describes one time series: the metric identity plus its attribute sets. Attrs and
// Resource are sorted by key and have unique keys once the series is added to a Writer.
type Series struct {
	Name         string
	Kind         Kind
	Monotonic    bool        // sums only
	Temporality  Temporality // sums and histograms
	Unit         string
	Description  string
	ScopeName    string
	ScopeVersion string
	Attrs        []Attr
	Resource     []Attr
}

// Attr returns the value of attribute key and whether the series has it.
func (s *Series) Attr(key string) (Value, bool) {
	i, ok := slices.BinarySearchFunc(s.Attrs, key, func(a Attr, k string) int { return cmp.Compare(a.Key, k) })
	if !ok {
		return Value{}, false
	}
	return s.Attrs[i].Value, true
}

// Equal reports whether two series descriptors are identical.
func (s *Series) Equal(o *Series) bool {
	return bytes.Equal(appendSeries(nil, s), appendSeries(nil, o))
}

// normalize returns a copy of s with sorted attribute lists, or an error for a bad descriptor.
func (s Series) normalize() (Series, error) {
	if s.Kind < KindGauge || s.Kind > KindSummary {
		return s, fmt.Errorf("series %q: invalid kind %d", s.Name, s.Kind)
	}
	if s.Temporality > TemporalityCumulative {
		return s, fmt.Errorf("series %q: invalid temporality %d", s.Name, s.Temporality)
	}
	var err error
	if s.Attrs, err = sortAttrs(s.Name, s.Attrs); err != nil {
		return s, err
	}
	s.Resource, err = sortAttrs(s.Name, s.Resource)
	return s, err
}

func sortAttrs(name string, in []Attr) ([]Attr, error) {
	if len(in) == 0 {
		return nil, nil
	}
	out := in
	// Sort a copy only when needed: callers that intern often pass sorted lists.
	if !slices.IsSortedFunc(in, func(a, b Attr) int { return cmp.Compare(a.Key, b.Key) }) {
		out = slices.Clone(in)
		slices.SortFunc(out, func(a, b Attr) int { return cmp.Compare(a.Key, b.Key) })
	}
	for i := 1; i < len(out); i++ {
		if out[i].Key == out[i-1].Key {
			return nil, fmt.Errorf("series %q: duplicate attribute key %q", name, out[i].Key)
		}
	}
	for _, a := range out {
		if a.Value.Type > ValueBytes {
			return nil, fmt.Errorf("series %q: attribute %q has invalid type %d", name, a.Key, a.Value.Type)
		}
	}
	return out, nil
}

func appendSeries(dst []byte, s *Series) []byte {
	dst = enc.AppendString(dst, s.Name)
	flags := byte(s.Temporality) << 1
	if s.Monotonic {
		flags |= 1
	}
	dst = append(dst, byte(s.Kind), flags)
	dst = enc.AppendString(dst, s.Unit)
	dst = enc.AppendString(dst, s.Description)
	dst = enc.AppendString(dst, s.ScopeName)
	dst = enc.AppendString(dst, s.ScopeVersion)
	dst = appendAttrs(dst, s.Attrs)
	return appendAttrs(dst, s.Resource)
}

func appendAttrs(dst []byte, attrs []Attr) []byte {
	dst = enc.AppendUvarint(dst, uint64(len(attrs)))
	for _, a := range attrs {
		dst = enc.AppendString(dst, a.Key)
		dst = append(dst, byte(a.Value.Type))
		switch a.Value.Type {
		case ValueString:
			dst = enc.AppendString(dst, a.Value.Str)
		case ValueBool:
			b := byte(0)
			if a.Value.Bool {
				b = 1
			}
			dst = append(dst, b)
		case ValueInt:
			dst = enc.AppendUvarint(dst, enc.Zig(a.Value.Int))
		case ValueDouble:
			dst = appendU64(dst, math.Float64bits(a.Value.Double))
		case ValueBytes:
			dst = enc.AppendUvarint(dst, uint64(len(a.Value.Bytes)))
			dst = append(dst, a.Value.Bytes...)
		}
	}
	return dst
}

func readSeries(d *enc.Decbuf) Series {
	var s Series
	s.Name = d.String()
	s.Kind = Kind(d.Byte())
	flags := d.Byte()
	s.Monotonic = flags&1 != 0
	s.Temporality = Temporality(flags >> 1 & 3)
	s.Unit = d.String()
	s.Description = d.String()
	s.ScopeName = d.String()
	s.ScopeVersion = d.String()
	s.Attrs = readAttrs(d)
	s.Resource = readAttrs(d)
	if d.E == nil && (s.Kind < KindGauge || s.Kind > KindSummary || flags>>3 != 0 || s.Temporality > TemporalityCumulative) {
		d.Fail(fmt.Errorf("series %q: invalid kind %d or flags %#x", s.Name, s.Kind, flags))
	}
	return s
}

func readAttrs(d *enc.Decbuf) []Attr {
	n := d.Uvarint()
	if d.E != nil || n == 0 {
		return nil
	}
	// Every attribute takes at least 2 bytes, which bounds the allocation by the frame size.
	if n > uint64(d.Len()/2) {
		d.Fail(enc.ErrShort)
		return nil
	}
	out := make([]Attr, 0, n)
	for range n {
		var a Attr
		a.Key = d.String()
		a.Value.Type = ValueType(d.Byte())
		switch a.Value.Type {
		case ValueString:
			a.Value.Str = d.String()
		case ValueBool:
			a.Value.Bool = d.Byte() != 0
		case ValueInt:
			a.Value.Int = enc.Unzig(d.Uvarint())
		case ValueDouble:
			a.Value.Double = math.Float64frombits(d.Uint64())
		case ValueBytes:
			a.Value.Bytes = bytes.Clone(d.UvarintBytes())
		default:
			d.Fail(fmt.Errorf("attribute %q: unknown value type %d", a.Key, a.Value.Type))
		}
		if d.E != nil {
			return nil
		}
		if len(out) > 0 && out[len(out)-1].Key >= a.Key {
			d.Fail(fmt.Errorf("attribute keys not sorted and unique at %q", a.Key))
			return nil
		}
		out = append(out, a)
	}
	return out
}
