package exphist

// Buckets is one sign's dense run of bucket counts: bucket Offset()+i holds Counts()[i].
type Buckets struct {
	offset int32
	counts []float64
}

// Offset returns the index of the first bucket.
func (b *Buckets) Offset() int32 { return b.offset }

// Len returns the number of buckets in the run.
func (b *Buckets) Len() int { return len(b.counts) }

// Counts returns the run's counts. The slice belongs to the histogram: read it before the next
// change.
func (b *Buckets) Counts() []float64 { return b.counts }

func (b *Buckets) reset() {
	b.offset, b.counts = 0, b.counts[:0]
}

// hi returns the index of the last bucket; b must not be empty.
func (b *Buckets) hi() int32 { return b.offset + int32(len(b.counts)) - 1 }

// span returns the indexes b covers after by halvings of the resolution.
func (b *Buckets) span(by int32) span {
	if len(b.counts) == 0 {
		return noSpan
	}
	return span{int64(b.offset) >> by, int64(b.hi()) >> by}
}

// downscale merges each 2^by adjacent buckets into one. It works in place: a bucket never
// moves to a higher position, and every position it moves to has already been read.
func (b *Buckets) downscale(by int32) {
	if by <= 0 || len(b.counts) == 0 {
		return
	}
	off := b.offset >> by
	for i, c := range b.counts {
		if j := (b.offset+int32(i))>>by - off; j != int32(i) {
			b.counts[j] += c
			b.counts[i] = 0
		}
	}
	b.counts = b.counts[:b.hi()>>by-off+1]
	b.offset = off
}

// cover grows b so that it holds indexes lo..hi, reusing its capacity.
func (b *Buckets) cover(lo, hi int32) {
	if len(b.counts) == 0 {
		b.offset = lo
		b.counts = append(b.counts[:0], make([]float64, hi-lo+1)...)
		return
	}
	if lo < b.offset {
		n := int(b.offset - lo)
		old := len(b.counts)
		b.counts = append(b.counts, make([]float64, n)...)
		copy(b.counts[n:], b.counts[:old])
		clear(b.counts[:n])
		b.offset = lo
	}
	if hi > b.hi() {
		b.counts = append(b.counts, make([]float64, hi-b.hi())...)
	}
}

// merge adds src's counts, downscaled by the given halvings, to b.
func (b *Buckets) merge(src *Buckets, by int32) {
	if len(src.counts) == 0 {
		return
	}
	b.cover(src.offset>>by, src.hi()>>by)
	for i, c := range src.counts {
		b.counts[(src.offset+int32(i))>>by-b.offset] += c
	}
}

// span is an inclusive range of bucket indexes, empty when lo > hi. int64 keeps the end of a
// run at the edge of int32 (offset + length - 1) from overflowing.
type span struct{ lo, hi int64 }

var noSpan = span{0, -1}

func (s span) empty() bool { return s.lo > s.hi }

func (s span) len() int { return int(max(s.hi-s.lo+1, 0)) }

// halvingsToFit returns how many halvings of the resolution, at most most, bring the union of
// a and b (either may be empty) within limit buckets.
func halvingsToFit(a, b span, limit int64, most int32) int32 {
	switch {
	case a.empty():
		a = b
	case !b.empty():
		a = span{min(a.lo, b.lo), max(a.hi, b.hi)}
	}
	if a.empty() {
		return 0
	}
	var by int32
	for by < most && a.hi-a.lo >= limit {
		a.lo >>= 1
		a.hi >>= 1
		by++
	}
	return by
}
