package statshouse

// Splitter finds where a JSON object ends in a stream of them (StatsHouse JSON batches sent
// one after another on a TCP connection, with or without whitespace between them). It only
// tracks strings and nesting; the parser checks the rest. It keeps its place between calls,
// so a large object arriving in small reads is scanned once.
type Splitter struct {
	pos      int // bytes of the current object scanned so far
	depth    int
	inString bool
	escape   bool
}

// Reset forgets the current object: call it after an object was taken.
func (s *Splitter) Reset() { *s = Splitter{} }

// Scanned is how many bytes of the current object have been scanned.
func (s *Splitter) Scanned() int { return s.pos }

// Next scans b, which starts at the first byte of an object ('{') and holds every byte of it
// received so far, from where the last call stopped. It returns the object's length once b
// holds all of it, else 0.
func (s *Splitter) Next(b []byte) int {
	for ; s.pos < len(b); s.pos++ {
		c := b[s.pos]
		if s.inString {
			switch {
			case s.escape:
				s.escape = false
			case c == '\\':
				s.escape = true
			case c == '"':
				s.inString = false
			}
			continue
		}
		switch c {
		case '"':
			s.inString = true
		case '{', '[':
			s.depth++
		case '}', ']':
			s.depth--
			if s.depth <= 0 {
				s.pos++
				return s.pos
			}
		}
	}
	return 0
}
