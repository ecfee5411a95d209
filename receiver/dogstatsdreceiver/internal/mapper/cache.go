package mapper

// cache keeps the results of up to size names, matched or not (a nil result is a name no
// mapping matched). When full, it evicts by the CLOCK algorithm, an approximation of least
// recently used: a hit only sets the slot's reference bit, and the hand sweeping the slots for
// a victim clears the bits it passes and takes the first slot whose bit was already clear. So a
// hit costs one map lookup and no list surgery, and names in use survive a stream of one-off
// names.
type cache struct {
	index map[string]int32
	slots []slot
	hand  int
	size  int
}

type slot struct {
	name string
	res  *Result
	ref  bool
}

func newCache(size int) cache {
	size = max(size, 1)
	return cache{index: make(map[string]int32, size), slots: make([]slot, 0, size), size: size}
}

// get returns the cached result of name and whether there was one.
func (c *cache) get(name string) (*Result, bool) {
	i, ok := c.index[name]
	if !ok {
		return nil, false
	}
	s := &c.slots[i]
	s.ref = true
	return s.res, true
}

// add caches res for name, which must not be cached already.
func (c *cache) add(name string, res *Result) {
	if len(c.slots) < c.size {
		c.index[name] = int32(len(c.slots))
		c.slots = append(c.slots, slot{name: name, res: res})
		return
	}
	for c.slots[c.hand].ref {
		c.slots[c.hand].ref = false
		c.hand = (c.hand + 1) % c.size
	}
	s := &c.slots[c.hand]
	delete(c.index, s.name)
	*s = slot{name: name, res: res}
	c.index[name] = int32(c.hand)
	c.hand = (c.hand + 1) % c.size
}
