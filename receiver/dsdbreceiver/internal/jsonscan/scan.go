// Package jsonscan reads JSON documents in place, without building a tree: the OpenTSDB put
// and StatsHouse parsers walk objects and arrays with it and take only the fields they know.
// Strings are unescaped into a caller's scratch buffer, numbers are returned as their bytes,
// and every error carries the offset where reading stopped. Nothing is allocated on the path
// of a well-formed document but what a decoded string needs to grow the scratch buffer.
package jsonscan

import (
	"bytes"
	"errors"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxDepth bounds the nesting Skip follows, so that a document of a million '[' cannot
// exhaust the stack: the parsers' own structure is at most four levels deep.
const MaxDepth = 64

// Error is a syntax error at Offset bytes into the document.
type Error struct {
	Offset int
	Msg    string
}

func (e *Error) Error() string { return fmt.Sprintf("%s at offset %d", e.Msg, e.Offset) }

// ErrTooDeep is wrapped by the error of a value nested deeper than MaxDepth.
var ErrTooDeep = errors.New("nested too deeply")

// Scanner reads one document held in Buf. Its zero value with Buf set is ready.
type Scanner struct {
	Buf []byte
	Pos int
}

// Reset points the scanner at b.
func (s *Scanner) Reset(b []byte) { s.Buf, s.Pos = b, 0 }

func (s *Scanner) errorf(format string, args ...any) error {
	return &Error{Offset: s.Pos, Msg: fmt.Sprintf(format, args...)}
}

// SkipSpace moves past JSON whitespace.
func (s *Scanner) SkipSpace() {
	for s.Pos < len(s.Buf) {
		switch s.Buf[s.Pos] {
		case ' ', '\t', '\n', '\r':
			s.Pos++
		default:
			return
		}
	}
}

// Peek returns the next byte after whitespace, or 0 at the end.
func (s *Scanner) Peek() byte {
	s.SkipSpace()
	if s.Pos < len(s.Buf) {
		return s.Buf[s.Pos]
	}
	return 0
}

// AtEnd reports whether only whitespace is left.
func (s *Scanner) AtEnd() bool {
	s.SkipSpace()
	return s.Pos == len(s.Buf)
}

// Expect consumes c after whitespace.
func (s *Scanner) Expect(c byte) error {
	if s.Peek() != c {
		if s.Pos == len(s.Buf) {
			return s.errorf("expected %q, found the end", c)
		}
		return s.errorf("expected %q, found %q", c, s.Buf[s.Pos])
	}
	s.Pos++
	return nil
}

// Object walks the members of an object: for each it reads the key (a slice of Buf, or
// unescaped into *key, whose storage is reused) and calls member, which must consume the value (with Skip if it has no
// use for it). An error from member ends the walk and is returned.
func (s *Scanner) Object(key *[]byte, member func(key []byte) error) error {
	if err := s.Expect('{'); err != nil {
		return err
	}
	if s.Peek() == '}' {
		s.Pos++
		return nil
	}
	for {
		k, buf, err := s.Text((*key)[:0])
		*key = buf
		if err != nil {
			return err
		}
		if err := s.Expect(':'); err != nil {
			return err
		}
		if err := member(k); err != nil {
			return err
		}
		switch s.Peek() {
		case ',':
			s.Pos++
		case '}':
			s.Pos++
			return nil
		default:
			return s.errorf("expected ',' or '}' in an object")
		}
	}
}

// Array walks the elements of an array, calling elem for each; elem must consume it.
func (s *Scanner) Array(elem func() error) error {
	if err := s.Expect('['); err != nil {
		return err
	}
	if s.Peek() == ']' {
		s.Pos++
		return nil
	}
	for {
		if err := elem(); err != nil {
			return err
		}
		switch s.Peek() {
		case ',':
			s.Pos++
		case ']':
			s.Pos++
			return nil
		default:
			return s.errorf("expected ',' or ']' in an array")
		}
	}
}

// Text reads a string value like String, but returns a slice of Buf itself when the string
// holds no escape (the common case: no copy), and the unescaped bytes appended to dst
// otherwise. dst is returned too, for reuse.
func (s *Scanner) Text(dst []byte) (val, buf []byte, err error) {
	if err := s.Expect('"'); err != nil {
		return nil, dst, err
	}
	start := s.Pos
	if end, ok := s.plain(start); ok {
		s.Pos = end + 1
		return s.Buf[start:end:end], dst, nil
	}
	s.Pos = start - 1 // read it again, unescaping
	n := len(dst)
	dst, err = s.String(dst)
	return dst[n:len(dst):len(dst)], dst, err
}

// plain finds the closing quote of a string starting at i and reports whether everything
// before it is printable ASCII without escapes: a fast path that a SIMD search for the quote
// and one pass over the bytes make.
func (s *Scanner) plain(i int) (int, bool) {
	q := bytes.IndexByte(s.Buf[i:], '"')
	if q < 0 {
		return 0, false
	}
	for _, c := range s.Buf[i : i+q] {
		if c < 0x20 || c >= utf8.RuneSelf || c == '\\' {
			return 0, false
		}
	}
	return i + q, true
}

// String reads a string value, appends its unescaped bytes to dst and returns it. Invalid
// UTF-8 and unpaired surrogates are errors: every name and tag the parsers keep is text.
func (s *Scanner) String(dst []byte) ([]byte, error) {
	if err := s.Expect('"'); err != nil {
		return dst, err
	}
	start := s.Pos
	if end, ok := s.plain(start); ok {
		s.Pos = end + 1
		return append(dst, s.Buf[start:end]...), nil
	}
	for s.Pos < len(s.Buf) {
		c := s.Buf[s.Pos]
		switch {
		case c == '"':
			dst = append(dst, s.Buf[start:s.Pos]...)
			s.Pos++
			return dst, nil
		case c == '\\':
			dst = append(dst, s.Buf[start:s.Pos]...)
			var err error
			if dst, err = s.escape(dst); err != nil {
				return dst, err
			}
			start = s.Pos
		case c < 0x20:
			return dst, s.errorf("control character %#x in a string", c)
		case c < utf8.RuneSelf:
			s.Pos++
		default:
			r, n := utf8.DecodeRune(s.Buf[s.Pos:])
			if r == utf8.RuneError && n <= 1 {
				return dst, s.errorf("invalid UTF-8 in a string")
			}
			s.Pos += n
		}
	}
	return dst, s.errorf("unterminated string")
}

func (s *Scanner) escape(dst []byte) ([]byte, error) {
	if s.Pos+1 >= len(s.Buf) {
		return dst, s.errorf("unterminated escape")
	}
	c := s.Buf[s.Pos+1]
	s.Pos += 2
	switch c {
	case '"', '\\', '/':
		return append(dst, c), nil
	case 'b':
		return append(dst, '\b'), nil
	case 'f':
		return append(dst, '\f'), nil
	case 'n':
		return append(dst, '\n'), nil
	case 'r':
		return append(dst, '\r'), nil
	case 't':
		return append(dst, '\t'), nil
	case 'u':
		r, ok := s.hex4()
		if !ok {
			return dst, s.errorf("bad \\u escape")
		}
		if utf16.IsSurrogate(r) {
			if s.Pos+1 < len(s.Buf) && s.Buf[s.Pos] == '\\' && s.Buf[s.Pos+1] == 'u' {
				s.Pos += 2
				r2, ok := s.hex4()
				if !ok {
					return dst, s.errorf("bad \\u escape")
				}
				if r = utf16.DecodeRune(r, r2); r != utf8.RuneError {
					return utf8.AppendRune(dst, r), nil
				}
			}
			return dst, s.errorf("unpaired surrogate in a \\u escape")
		}
		return utf8.AppendRune(dst, r), nil
	}
	return dst, s.errorf("bad escape \\%c", c)
}

func (s *Scanner) hex4() (rune, bool) {
	if s.Pos+4 > len(s.Buf) {
		return 0, false
	}
	var r rune
	for _, c := range s.Buf[s.Pos : s.Pos+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	s.Pos += 4
	return r, true
}

// Number reads a number value and returns its bytes, checked against JSON's grammar (an
// optional '-', digits without a leading zero, an optional fraction and exponent).
func (s *Scanner) Number() ([]byte, error) {
	s.SkipSpace()
	start := s.Pos
	b := s.Buf
	i := s.Pos
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
	default:
		return nil, s.errorf("expected a number")
	}
	if i < len(b) && b[i] == '.' {
		i++
		d := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		if i == d {
			s.Pos = i
			return nil, s.errorf("expected a digit after '.'")
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		if i == d {
			s.Pos = i
			return nil, s.errorf("expected a digit in the exponent")
		}
	}
	s.Pos = i
	return b[start:i], nil
}

// Literal reads true, false or null and returns it.
func (s *Scanner) Literal() ([]byte, error) {
	s.SkipSpace()
	for _, lit := range [...]string{"true", "false", "null"} {
		if len(s.Buf)-s.Pos >= len(lit) && string(s.Buf[s.Pos:s.Pos+len(lit)]) == lit {
			s.Pos += len(lit)
			return s.Buf[s.Pos-len(lit) : s.Pos], nil
		}
	}
	return nil, s.errorf("expected a value")
}

// Skip consumes one value of any kind, checking its syntax.
func (s *Scanner) Skip() error { return s.skip(0) }

func (s *Scanner) skip(depth int) error {
	if depth >= MaxDepth {
		return fmt.Errorf("%w: %w", s.errorf("more than %d levels", MaxDepth), ErrTooDeep)
	}
	var scratch []byte
	switch c := s.Peek(); {
	case c == '{':
		return s.Object(&scratch, func([]byte) error { return s.skip(depth + 1) })
	case c == '[':
		return s.Array(func() error { return s.skip(depth + 1) })
	case c == '"':
		return s.skipString()
	case c == '-' || ('0' <= c && c <= '9'):
		_, err := s.Number()
		return err
	default:
		_, err := s.Literal()
		return err
	}
}

// skipString checks a string without keeping it.
func (s *Scanner) skipString() error {
	var none [0]byte
	_, err := s.stringDiscard(none[:0])
	return err
}

func (s *Scanner) stringDiscard(dst []byte) ([]byte, error) {
	// Escapes append at most 4 bytes at a time; keep dst from growing by resetting it.
	if err := s.Expect('"'); err != nil {
		return dst, err
	}
	for s.Pos < len(s.Buf) {
		c := s.Buf[s.Pos]
		switch {
		case c == '"':
			s.Pos++
			return dst, nil
		case c == '\\':
			var err error
			if dst, err = s.escape(dst[:0]); err != nil {
				return dst, err
			}
		case c < 0x20:
			return dst, s.errorf("control character %#x in a string", c)
		case c < utf8.RuneSelf:
			s.Pos++
		default:
			r, n := utf8.DecodeRune(s.Buf[s.Pos:])
			if r == utf8.RuneError && n <= 1 {
				return dst, s.errorf("invalid UTF-8 in a string")
			}
			s.Pos += n
		}
	}
	return dst, s.errorf("unterminated string")
}
