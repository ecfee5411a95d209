package aggregate

import (
	"unsafe"

	"github.com/axiomhq/hyperloglog"
)

// exactSetLimit is how many distinct members a set context counts exactly in one interval
// (about 50 B each) before it switches to a HyperLogLog sketch: a set's memory stays below
// about 16 KiB (the sketch at precision 14) plus the exact part, however many members arrive.
const exactSetLimit = 1000

// distinct counts the distinct members of a set in one interval: exactly up to exactSetLimit,
// then with a HyperLogLog sketch (precision 14: 0.8% standard error).
type distinct struct {
	members map[string]struct{}
	sketch  *hyperloglog.Sketch
}

func newDistinct() *distinct { return &distinct{members: make(map[string]struct{})} }

func (d *distinct) add(m string) {
	if d.sketch != nil {
		d.sketch.Insert(unsafe.Slice(unsafe.StringData(m), len(m)))
		return
	}
	d.members[m] = struct{}{}
	if len(d.members) > exactSetLimit {
		d.toSketch()
	}
}

func (d *distinct) toSketch() {
	d.sketch = hyperloglog.New14()
	for m := range d.members {
		d.sketch.Insert(unsafe.Slice(unsafe.StringData(m), len(m)))
	}
	clear(d.members)
}

func (d *distinct) merge(o *distinct) {
	if o.sketch != nil {
		if d.sketch == nil {
			d.toSketch()
		}
		_ = d.sketch.Merge(o.sketch) // both are precision 14: Merge cannot fail
	}
	for m := range o.members {
		d.add(m)
	}
}

func (d *distinct) count() int64 {
	if d.sketch != nil {
		return int64(d.sketch.Estimate())
	}
	return int64(len(d.members))
}

// reset empties d for the next interval, which counts exactly again until it too passes the
// limit.
func (d *distinct) reset() {
	clear(d.members)
	d.sketch = nil
}
