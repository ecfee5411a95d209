package aggregate

// rowIndex maps row hashes to row indexes with open addressing and linear probing. A slot holds
// the hash's upper 32 bits and row+1, so a probe touches one 8-byte slot and, only when those
// bits match, the row itself; 0 is an empty slot. Finding a row and reserving the slot for a new
// one is a single probe sequence. The table stays at most half full and keeps its size when the
// window is recycled.
//
// It replaces map[uint64]int32, which probes again to insert and costs a second cache miss per
// new row.
type rowIndex struct {
	slots []uint64
	n     int
}

const minIndexSlots = 1024

func (x *rowIndex) reset() {
	clear(x.slots)
	x.n = 0
}

// probe returns the slot where the probe for hash starts and the mask to wrap it.
func (x *rowIndex) probe(hash uint64) (pos, mask uint64) {
	if len(x.slots) == 0 {
		x.slots = make([]uint64, minIndexSlots)
	}
	mask = uint64(len(x.slots) - 1)
	return hash & mask, mask
}

// set stores row i for hash in the empty slot pos found by a probe, growing the table when it
// gets half full (rows gives the hashes to re-insert).
func (x *rowIndex) set(pos uint64, hash uint64, i int32, rows []Row) {
	x.slots[pos] = hash>>32<<32 | uint64(uint32(i+1))
	x.n++
	if x.n*2 > len(x.slots) {
		x.grow(rows)
	}
}

func (x *rowIndex) grow(rows []Row) {
	x.slots = make([]uint64, len(x.slots)*2)
	mask := uint64(len(x.slots) - 1)
	for i := range rows {
		h := rows[i].hash
		pos := h & mask
		for x.slots[pos] != 0 {
			pos = (pos + 1) & mask
		}
		x.slots[pos] = h>>32<<32 | uint64(uint32(i+1))
	}
}
