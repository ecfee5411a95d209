package jsonscan

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestString(t *testing.T) {
	for in, want := range map[string]string{
		`"plain"`:                "plain",
		`"a\"b\\c\/d\n\t\r\b\f"`: "a\"b\\c/d\n\t\r\b\f",
		`"h\u00f4te"`:            "hôte",
		`"\ud83d\ude00"`:         "😀",
		`"wéb"`:                  "wéb",
	} {
		var s Scanner
		s.Reset([]byte(in))
		got, err := s.String(nil)
		if err != nil || string(got) != want || !s.AtEnd() {
			t.Errorf("%s: got %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{`"abc`, `"\x"`, `"\u12"`, `"\ud83d"`, "\"\xff\"", "\"a\nb\"", `abc`} {
		var s Scanner
		s.Reset([]byte(in))
		if _, err := s.String(nil); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
}

func TestNumber(t *testing.T) {
	for _, in := range []string{"0", "-0", "12", "-1.5", "1e10", "1.5E-3", "123456789012345678901234567890"} {
		var s Scanner
		s.Reset([]byte(in))
		if b, err := s.Number(); err != nil || string(b) != in {
			t.Errorf("%s: got %q, %v", in, b, err)
		}
	}
	for _, in := range []string{"", "-", "01x", ".5", "1.", "1e", "+1", "NaN"} {
		var s Scanner
		s.Reset([]byte(in))
		b, err := s.Number()
		if err == nil && s.AtEnd() {
			t.Errorf("%q: read %q", in, b)
		}
	}
}

func TestSkipDepth(t *testing.T) {
	var s Scanner
	s.Reset([]byte(strings.Repeat("[", 100_000)))
	if err := s.Skip(); !errors.Is(err, ErrTooDeep) {
		t.Fatalf("got %v", err)
	}
}

// FuzzSkip: Skip accepts a document exactly when encoding/json does, except for invalid UTF-8
// in strings (refused here, replaced there) and nesting beyond MaxDepth.
func FuzzSkip(f *testing.F) {
	for _, s := range []string{`{"a":[1,2,{"b":null}],"c":"\u00e9"}`, `[true,false]`, `"x"`, `1e5`, `{"a":}`, "[\"\xff\"]"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var s Scanner
		s.Reset(b)
		err := s.Skip()
		ok := err == nil && s.AtEnd()
		if ok && !json.Valid(b) {
			t.Fatalf("accepted %q", b)
		}
		if !ok && json.Valid(b) && !errors.Is(err, ErrTooDeep) {
			var e *Error
			if errors.As(err, &e) && strings.Contains(e.Msg, "UTF-8") {
				return
			}
			t.Fatalf("refused valid JSON %q: %v", b, err)
		}
	})
}
