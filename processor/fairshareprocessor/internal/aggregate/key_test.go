package aggregate

import (
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// TestKeyKeepsEveryAttributeType: a row key must give back the attributes exactly, types and
// nesting included (our receiver sends repeated DogStatsD tag keys as string slices).
func TestKeyKeepsEveryAttributeType(t *testing.T) {
	in := pcommon.NewMap()
	in.PutStr("s", "x")
	in.PutInt("i", -42)
	in.PutDouble("d", 2.5)
	in.PutBool("b", true)
	in.PutEmptyBytes("raw").FromRaw([]byte{0, 1, 2})
	team := in.PutEmptySlice("team")
	team.AppendEmpty().SetStr("a")
	team.AppendEmpty().SetInt(7)
	nested := in.PutEmptyMap("m")
	nested.PutStr("z", "last")
	nested.PutEmptySlice("inner").AppendEmpty().SetBool(false)
	nested.PutStr("a", "first")
	in.PutEmpty("nothing")

	var e keyEncoder
	key, _, _ := e.encode(nil, in)
	out := pcommon.NewMap()
	decodeKey(out, key, func(b []byte) string { return string(b) })
	if !out.Equal(in) {
		t.Fatalf("decoded %v, want %v", out.AsRaw(), in.AsRaw())
	}
	if n := countFields(key); n != in.Len() {
		t.Fatalf("countFields = %d, want %d", n, in.Len())
	}

	// Map entries in another order encode to the same key.
	again := pcommon.NewMap()
	in.CopyTo(again)
	m2 := again.PutEmptyMap("m")
	m2.PutStr("a", "first")
	m2.PutEmptySlice("inner").AppendEmpty().SetBool(false)
	m2.PutStr("z", "last")
	key2, _, _ := e.encode(nil, again)
	if string(key2) != string(key) {
		t.Fatal("the same attributes in another order gave another key")
	}
}
