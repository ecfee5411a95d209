// Package intern deduplicates the strings a DogStatsD worker reads off the wire (metric names,
// tags, origin fields) so that a string seen on every packet is allocated once.
//
// Concurrency: an Interner is owned by one goroutine (one per worker); it has no locks. The owner
// reads the counters and publishes them. Strings returned by Get never alias the caller's buffer,
// so they stay valid after that buffer is reused.
package intern

const (
	// DefaultMaxEntries is the Datadog agent's default dogstatsd_string_interner_size.
	DefaultMaxEntries = 4096
	// DefaultMaxLen bounds the length of a stored string: 256 bytes covers Datadog's 200-character
	// limit on metric names and tags, so longer strings are rare and not worth keeping.
	DefaultMaxLen = 256
)

// Interner is a bounded string table. When it holds maxEntries strings and a new one arrives, it
// forgets everything and starts over (as the Datadog agent's interner does): a reset costs one
// allocation per string seen again, but the table never grows past its bound and no per-entry
// bookkeeping slows down the hit path.
//
// Memory bound: about maxEntries * (maxLen + 64) bytes (string bytes plus map slot and header).
type Interner struct {
	table      map[string]string
	maxEntries int
	maxLen     int

	hits    uint64
	misses  uint64
	resets  uint64
	tooLong uint64
}

// New returns an Interner that stores at most maxEntries strings of at most maxLen bytes each.
// maxEntries below 1 is treated as 1; maxLen below 1 means no string is stored.
func New(maxEntries, maxLen int) *Interner {
	if maxEntries < 1 {
		maxEntries = 1
	}
	return &Interner{
		table:      make(map[string]string, maxEntries),
		maxEntries: maxEntries,
		maxLen:     maxLen,
	}
}

// Get returns a string equal to b. On a hit it does not allocate. b is not retained.
func (in *Interner) Get(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	// The compiler turns a map index by string(b) into a lookup without a conversion allocation.
	if s, ok := in.table[string(b)]; ok {
		in.hits++
		return s
	}
	in.misses++
	if len(b) > in.maxLen {
		in.tooLong++
		return string(b)
	}
	if len(in.table) >= in.maxEntries {
		// clear keeps the map's buckets, so refilling after a reset does not allocate them again.
		clear(in.table)
		in.resets++
	}
	s := string(b)
	in.table[s] = s
	return s
}

// Hits is the number of Get calls served from the table.
func (in *Interner) Hits() uint64 { return in.hits }

// Misses is the number of Get calls that allocated a string (including too-long ones).
func (in *Interner) Misses() uint64 { return in.misses }

// Resets is the number of times the table was full and was emptied.
func (in *Interner) Resets() uint64 { return in.resets }

// TooLong is the number of misses whose string was longer than maxLen and was not stored.
func (in *Interner) TooLong() uint64 { return in.tooLong }

// Len is the number of strings currently stored.
func (in *Interner) Len() int { return len(in.table) }
