package parse

import (
	"math"
	"strconv"
	"testing"
)

func TestParseSimpleDecimalMatchesStrconv(t *testing.T) {
	for _, s := range []string{
		"0", "-0", "+0", "1", "12.5", "-0.25", "+5", "5.", ".5", "-.5", "0.1", "0.3", "123456789012345",
		"1234567890.12345", "0.000000000000000000001", "00000000000000000000001.5", "999999999999999",
		"3.14159265358979", "0.0000000123456789012345",
	} {
		want, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("bad test input %q", s)
		}
		got, ok := parseSimpleDecimal([]byte(s))
		if !ok {
			t.Fatalf("%q not handled by the fast path", s)
		}
		if math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("%q: fast path %v (%x), strconv %v (%x)", s, got, math.Float64bits(got), want, math.Float64bits(want))
		}
	}
	// Outside the exact range, or not a plain decimal: left to strconv.
	for _, s := range []string{"", "+", "-", ".", "-.", "1..2", "1e5", "0x10", "1234567890123456", "NaN", "inf",
		"0.00000000000000000000001", "1_000", " 1", "1 ", "0.1234567890123456789012"} {
		if _, ok := parseSimpleDecimal([]byte(s)); ok {
			t.Fatalf("%q taken by the fast path", s)
		}
	}
}

// FuzzParseSimpleDecimal checks the fast path against strconv bit for bit.
func FuzzParseSimpleDecimal(f *testing.F) {
	for _, s := range []string{"12.5", "-0", "0.1", "999999999999999.5", ".5", "5.", "+0.000001"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, ok := parseSimpleDecimal(b)
		if !ok {
			return
		}
		want, err := strconv.ParseFloat(string(b), 64)
		if err != nil || math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("%q: fast path %v, strconv %v (%v)", b, got, want, err)
		}
	})
}
