// Package cardinality estimates how many distinct rows a metric had in a wall-clock hour, the
// number that decides how many rows the metric leaves in long-term storage.
package cardinality

import (
	"slices"

	"github.com/axiomhq/hyperloglog"
)

// precision 12: 4096 one-byte registers (4 KiB once dense, less while sparse) and a standard
// error of 1.04/sqrt(4096) = 1.6%.
const precision = 12

// Hourly counts the distinct row hashes of the current hour and of the one before it (windows
// of the previous hour may still be open while the new hour starts). The zero value is ready.
// It is not safe for concurrent use.
type Hourly struct {
	cur               hourSet
	prev              *hourSet // the hour before cur, once the metric has seen an hour turn
	curHour, prevHour int64
}

// hourSet holds one hour's hashes: the first few exactly, then a HyperLogLog. Most metrics of a
// cardinality flood have a single row, and a sketch (even sparse) costs about ten times the
// inline hashes.
type hourSet struct {
	sk    *hyperloglog.Sketch
	small [smallSet]uint64
	n     uint8 // hashes in small; sk is nil while n <= smallSet
	used  bool
	dense bool
}

// smallSet is how many distinct hashes an hour keeps exactly before it starts a sketch.
const smallSet = 3

// denseAt is the row count of a window from which a metric's sketch goes dense: 4 KiB of
// registers is little next to 256 rows, and dense inserts cost a few nanoseconds, while the
// sparse form re-merges its list every few dozen inserts.
const denseAt = 256

// Insert records a row hash seen in hour (unix seconds / 3600). rows is the metric's row count
// in the window so far; a large metric switches to the dense representation. Hours older than
// the previous one are ignored: their estimate is no longer reported.
func (h *Hourly) Insert(hour int64, hash uint64, rows int) {
	switch {
	case h.cur.used && hour == h.curHour:
		h.cur.insert(hash, rows)
	case h.prev != nil && hour == h.prevHour:
		h.prev.insert(hash, rows)
	case !h.cur.used || hour > h.curHour:
		h.prev = nil
		if h.cur.used && hour == h.curHour+1 {
			prev := h.cur
			h.prev, h.prevHour = &prev, h.curHour
		}
		h.cur, h.curHour = hourSet{used: true}, hour
		h.cur.insert(hash, rows)
	}
}

// Estimate returns the estimated distinct rows of hour, 0 if the hour is not tracked.
func (h *Hourly) Estimate(hour int64) uint64 {
	switch {
	case h.cur.used && hour == h.curHour:
		return h.cur.estimate()
	case h.prev != nil && hour == h.prevHour:
		return h.prev.estimate()
	}
	return 0
}

func (s *hourSet) insert(hash uint64, rows int) {
	if s.sk == nil {
		if slices.Contains(s.small[:s.n], hash) {
			return
		}
		if int(s.n) < smallSet {
			s.small[s.n] = hash
			s.n++
			return
		}
		s.sk = newSketch(true)
		for _, x := range s.small {
			s.sk.InsertHash(x)
		}
	}
	if rows >= denseAt && !s.dense {
		d := newSketch(false)
		if err := d.Merge(s.sk); err == nil {
			s.sk, s.dense = d, true
		}
	}
	s.sk.InsertHash(hash)
}

func (s *hourSet) estimate() uint64 {
	if s.sk == nil {
		return uint64(s.n)
	}
	return s.sk.Estimate()
}

func newSketch(sparse bool) *hyperloglog.Sketch {
	sk, err := hyperloglog.NewSketch(precision, sparse)
	if err != nil {
		panic(err) // precision is a valid constant
	}
	return sk
}
