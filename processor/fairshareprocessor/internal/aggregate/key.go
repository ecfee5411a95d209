package aggregate

import (
	"encoding/binary"
	"math"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// An attribute set is encoded as a canonical byte string: attributes sorted by key, each as
// uvarint(len key) key and its value. A value is a type byte and then: strings and bytes
// length-prefixed, ints and doubles as 8 bytes little-endian, bools as one byte, slices as a
// count and their values, maps as a count and their (key, value) pairs sorted by key, empty
// values as nothing. Equal sets encode to equal bytes whatever the order they arrived in, so the
// bytes are the row key, and every type comes back as it came in.
const (
	typeStr byte = iota + 1
	typeInt
	typeDouble
	typeBool
	typeBytes
	typeSlice
	typeMap
	typeEmpty
)

// maxDepth bounds the nesting of slices and maps in a key (attributes nested deeper than this
// are cut to an empty value), so a hostile payload cannot make decoding recurse without end.
const maxDepth = 16

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
	sortKVs(e.kvs)
	for _, p := range e.kvs {
		dst = appendKV(dst, p.k, p.v)
	}
	return dst, host, hasHost
}

// sortKVs sorts by key with an insertion sort: attribute sets are small and usually arrive
// sorted already.
func sortKVs(kvs []kv) {
	for i := 1; i < len(kvs); i++ {
		for j := i; j > 0 && kvs[j].k < kvs[j-1].k; j-- {
			kvs[j], kvs[j-1] = kvs[j-1], kvs[j]
		}
	}
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
	return appendValue(dst, v, 0)
}

func appendValue(dst []byte, v pcommon.Value, depth int) []byte {
	if depth > maxDepth {
		return append(dst, typeEmpty)
	}
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
	case pcommon.ValueTypeSlice:
		sl := v.Slice()
		dst = append(dst, typeSlice)
		dst = binary.AppendUvarint(dst, uint64(sl.Len()))
		for i := range sl.Len() {
			dst = appendValue(dst, sl.At(i), depth+1)
		}
	case pcommon.ValueTypeMap:
		kvs := make([]kv, 0, v.Map().Len())
		for k, mv := range v.Map().All() {
			kvs = append(kvs, kv{k, mv})
		}
		sortKVs(kvs)
		dst = append(dst, typeMap)
		dst = binary.AppendUvarint(dst, uint64(len(kvs)))
		for _, p := range kvs {
			dst = binary.AppendUvarint(dst, uint64(len(p.k)))
			dst = append(dst, p.k...)
			dst = appendValue(dst, p.v, depth+1)
		}
	default:
		dst = append(dst, typeEmpty)
	}
	return dst
}

// keyField is one decoded attribute; raw holds the value bytes after the type byte (8 for
// ints and doubles, 1 for bools, the count and elements of slices and maps) and aliases the
// key buffer.
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
	f.typ, f.raw, rest, ok = splitValue(b[w+int(n):], 0)
	return f, rest, ok
}

// splitValue splits the value at the start of b into its type, its bytes and the rest.
func splitValue(b []byte, depth int) (typ byte, raw, rest []byte, ok bool) {
	if len(b) < 1 || depth > maxDepth {
		return 0, nil, nil, false
	}
	typ, b = b[0], b[1:]
	switch typ {
	case typeInt, typeDouble:
		if len(b) < 8 {
			return typ, nil, nil, false
		}
		return typ, b[:8], b[8:], true
	case typeBool:
		if len(b) < 1 {
			return typ, nil, nil, false
		}
		return typ, b[:1], b[1:], true
	case typeEmpty:
		return typ, nil, b, true
	case typeSlice, typeMap:
		n, w := binary.Uvarint(b)
		if w <= 0 || n > uint64(len(b)) {
			return typ, nil, nil, false
		}
		p := b[w:]
		for range n {
			if typ == typeMap {
				kn, kw := binary.Uvarint(p)
				if kw <= 0 || uint64(len(p)-kw) < kn {
					return typ, nil, nil, false
				}
				p = p[kw+int(kn):]
			}
			if _, _, p, ok = splitValue(p, depth+1); !ok {
				return typ, nil, nil, false
			}
		}
		used := len(b) - len(p)
		return typ, b[:used], b[used:], true
	default:
		n, w := binary.Uvarint(b)
		if w <= 0 || uint64(len(b)-w) < n {
			return typ, nil, nil, false
		}
		return typ, b[w : w+int(n)], b[w+int(n):], true
	}
}

// putField adds f to m, its key and string values taken from intern.
func putField(m pcommon.Map, f keyField, intern func([]byte) string) {
	putValue(m.PutEmpty(intern(f.key)), f.typ, f.raw, intern)
}

// putValue sets dst to the value of type typ encoded in raw.
func putValue(dst pcommon.Value, typ byte, raw []byte, intern func([]byte) string) {
	switch typ {
	case typeInt:
		dst.SetInt(int64(binary.LittleEndian.Uint64(raw)))
	case typeDouble:
		dst.SetDouble(math.Float64frombits(binary.LittleEndian.Uint64(raw)))
	case typeBool:
		dst.SetBool(raw[0] == 1)
	case typeBytes:
		dst.SetEmptyBytes().FromRaw(raw)
	case typeStr:
		dst.SetStr(intern(raw))
	case typeSlice:
		n, w := binary.Uvarint(raw)
		sl := dst.SetEmptySlice()
		sl.EnsureCapacity(int(n))
		p := raw[w:]
		for range n {
			t, r, rest, ok := splitValue(p, 0)
			if !ok {
				return
			}
			putValue(sl.AppendEmpty(), t, r, intern)
			p = rest
		}
	case typeMap:
		n, w := binary.Uvarint(raw)
		m := dst.SetEmptyMap()
		m.EnsureCapacity(int(n))
		p := raw[w:]
		for range n {
			kn, kw := binary.Uvarint(p)
			k := p[kw : kw+int(kn)]
			t, r, rest, ok := splitValue(p[kw+int(kn):], 0)
			if !ok {
				return
			}
			putValue(m.PutEmpty(intern(k)), t, r, intern)
			p = rest
		}
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
