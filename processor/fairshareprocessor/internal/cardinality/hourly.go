// Package cardinality estimates how many distinct rows a metric had in a wall-clock hour, the
// number that decides how many rows the metric leaves in long-term storage.
package cardinality

import "github.com/axiomhq/hyperloglog"

// precision 12: 4096 one-byte registers (4 KiB once dense, less while sparse) and a standard
// error of 1.04/sqrt(4096) = 1.6%.
const precision = 12

// Hourly is a HyperLogLog of row hashes for the current hour and the one before it (windows of
// the previous hour may still be open while the new hour starts). The zero value is ready.
// It is not safe for concurrent use.
type Hourly struct {
	cur, prev         *hyperloglog.Sketch
	curHour, prevHour int64
	dense             bool // cur is dense
}

// denseAt is the row count of a window from which a metric's sketch goes dense: 4 KiB of
// registers is little next to 256 rows, and dense inserts cost a few nanoseconds, while the
// sparse form re-merges its list every few dozen inserts.
const denseAt = 256

// Insert records a row hash seen in hour (unix seconds / 3600). rows is the metric's row count
// in the window so far; a large metric switches to the dense representation. Hours older than
// the previous one are ignored: their estimate is no longer reported.
func (h *Hourly) Insert(hour int64, hash uint64, rows int) {
	if rows >= denseAt && !h.dense && h.cur != nil && hour == h.curHour {
		d := newSketch(false)
		if err := d.Merge(h.cur); err == nil {
			h.cur, h.dense = d, true
		}
	}
	switch {
	case h.cur != nil && hour == h.curHour:
		h.cur.InsertHash(hash)
	case h.prev != nil && hour == h.prevHour:
		h.prev.InsertHash(hash)
	case h.cur == nil || hour > h.curHour:
		if h.cur != nil && hour == h.curHour+1 {
			h.prev, h.prevHour = h.cur, h.curHour
		} else {
			h.prev = nil
		}
		h.cur, h.curHour, h.dense = newSketch(true), hour, false
		h.cur.InsertHash(hash)
	}
}

// Estimate returns the estimated distinct rows of hour, 0 if the hour is not tracked.
func (h *Hourly) Estimate(hour int64) uint64 {
	switch {
	case h.cur != nil && hour == h.curHour:
		return h.cur.Estimate()
	case h.prev != nil && hour == h.prevHour:
		return h.prev.Estimate()
	}
	return 0
}

func newSketch(sparse bool) *hyperloglog.Sketch {
	sk, err := hyperloglog.NewSketch(precision, sparse)
	if err != nil {
		panic(err) // precision is a valid constant
	}
	return sk
}
