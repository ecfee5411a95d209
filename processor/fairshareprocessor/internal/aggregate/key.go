package aggregate

import (
	"encoding/binary"
	"math"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// An attribute set is encoded as a canonical byte string: attributes sorted by key, each as
// uvarint(len key) key, a type byte, and the value (strings and bytes length-prefixed, ints and
// doubles as 8 bytes little-endian, bools as one byte, slices and maps as their JSON text). Equal
// sets encode to equal bytes whatever the order they arrived in, so the bytes are the row key.
const (
	typeStr byte = iota + 1
	typeInt
	typeDouble
	typeBool
	typeBytes
	typeJSON
)

type kv struct {
	k string
	v pcommon.Value
}

// keyEncoder encodes attribute sets. It keeps scratch space and belongs to one goroutine.
type keyEncoder struct {
	kvs     []kv
	drop    []string // merge_attributes: removed from every key
	maxHost string   // the merged attribute whose value names a row's top contributor
}

// encode appends the canonical encoding of attrs (without the dropped attributes) to dst. It
// returns the value of the max-host attribute when attrs carries it.
func (e *keyEncoder) encode(dst []byte, attrs pcommon.Map) (out []byte, host string, hasHost bool) {
	e.kvs = e.kvs[:0]
	for k, v := range attrs.All() {
		if e.dropped(k) {
			if k == e.maxHost && e.maxHost != "" {
				host, hasHost = v.AsString(), true
			}
			continue
		}
		e.kvs = append(e.kvs, kv{k, v})
	}
	// Insertion sort: attribute sets are small and usually arrive sorted already.
	for i := 1; i < len(e.kvs); i++ {
		for j := i; j > 0 && e.kvs[j].k < e.kvs[j-1].k; j-- {
			e.kvs[j], e.kvs[j-1] = e.kvs[j-1], e.kvs[j]
		}
	}
	for _, p := range e.kvs {
		dst = appendKV(dst, p.k, p.v)
	}
	return dst, host, hasHost
}

func (e *keyEncoder) dropped(k string) bool {
	for _, d := range e.drop {
		if d == k {
			return true
		}
	}
	return false
}

func appendKV(dst []byte, k string, v pcommon.Value) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(k)))
	dst = append(dst, k...)
	switch v.Type() {
	case pcommon.ValueTypeStr:
		s := v.Str()
		dst = append(dst, typeStr)
		dst = binary.AppendUvarint(dst, uint64(len(s)))
		dst = append(dst, s...)
	case pcommon.ValueTypeInt:
		dst = append(dst, typeInt)
		dst = binary.LittleEndian.AppendUint64(dst, uint64(v.Int()))
	case pcommon.ValueTypeDouble:
		dst = append(dst, typeDouble)
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(v.Double()))
	case pcommon.ValueTypeBool:
		b := byte(0)
		if v.Bool() {
			b = 1
		}
		dst = append(dst, typeBool, b)
	case pcommon.ValueTypeBytes:
		b := v.Bytes().AsRaw()
		dst = append(dst, typeBytes)
		dst = binary.AppendUvarint(dst, uint64(len(b)))
		dst = append(dst, b...)
	default: // slices, maps and empty values
		s := v.AsString()
		dst = append(dst, typeJSON)
		dst = binary.AppendUvarint(dst, uint64(len(s)))
		dst = append(dst, s...)
	}
	return dst
}

// keyField is one decoded attribute; raw holds the value bytes (8 for ints and doubles, 1 for
// bools) and aliases the key buffer.
type keyField struct {
	key []byte
	typ byte
	raw []byte
}

// nextField decodes the attribute at the start of b and returns the rest. ok is false at the
// end of b or on malformed input (which this package never produces).
func nextField(b []byte) (f keyField, rest []byte, ok bool) {
	n, w := binary.Uvarint(b)
	if w <= 0 || uint64(len(b)-w) < n+1 {
		return f, nil, false
	}
	f.key = b[w : w+int(n)]
	b = b[w+int(n):]
	f.typ = b[0]
	b = b[1:]
	switch f.typ {
	case typeInt, typeDouble:
		if len(b) < 8 {
			return f, nil, false
		}
		f.raw, b = b[:8], b[8:]
	case typeBool:
		if len(b) < 1 {
			return f, nil, false
		}
		f.raw, b = b[:1], b[1:]
	default:
		n, w = binary.Uvarint(b)
		if w <= 0 || uint64(len(b)-w) < n {
			return f, nil, false
		}
		f.raw, b = b[w:w+int(n)], b[w+int(n):]
	}
	return f, b, true
}

// putField adds f to m, its key and string value taken from intern. Slices and maps come back
// as their JSON text.
func putField(m pcommon.Map, f keyField, intern func([]byte) string) {
	k := intern(f.key)
	switch f.typ {
	case typeInt:
		m.PutInt(k, int64(binary.LittleEndian.Uint64(f.raw)))
	case typeDouble:
		m.PutDouble(k, math.Float64frombits(binary.LittleEndian.Uint64(f.raw)))
	case typeBool:
		m.PutBool(k, f.raw[0] == 1)
	case typeBytes:
		m.PutEmptyBytes(k).FromRaw(f.raw)
	default:
		m.PutStr(k, intern(f.raw))
	}
}

// decodeKey adds every attribute of key to m.
func decodeKey(m pcommon.Map, key []byte, intern func([]byte) string) {
	for {
		f, rest, ok := nextField(key)
		if !ok {
			return
		}
		putField(m, f, intern)
		key = rest
	}
}

// lookupKey returns the raw value bytes of attribute name in key.
func lookupKey(key []byte, name string) ([]byte, bool) {
	for {
		f, rest, ok := nextField(key)
		if !ok {
			return nil, false
		}
		if string(f.key) == name {
			return f.raw, true
		}
		key = rest
	}
}

// countFields returns the number of attributes in key.
func countFields(key []byte) int {
	n := 0
	for {
		_, rest, ok := nextField(key)
		if !ok {
			return n
		}
		n++
		key = rest
	}
}
