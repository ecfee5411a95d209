package enc

import "encoding/binary"

// BitWriter appends bit fields least significant bit first. The zero value is ready to use;
// Bytes finishes the stream.
type BitWriter struct {
	buf []byte
	acc uint64
	n   uint
}

// Reset empties the writer and keeps its buffer.
func (w *BitWriter) Reset() { w.buf, w.acc, w.n = w.buf[:0], 0, 0 }

// Write appends the low nb bits of v (nb <= 64; the other bits of v must be zero).
func (w *BitWriter) Write(v uint64, nb uint) {
	if nb > 32 {
		w.write32(v&0xffffffff, 32)
		v >>= 32
		nb -= 32
	}
	w.write32(v, nb)
}

func (w *BitWriter) write32(v uint64, nb uint) {
	w.acc |= v << w.n
	w.n += nb
	if w.n >= 32 {
		w.buf = binary.LittleEndian.AppendUint32(w.buf, uint32(w.acc))
		w.acc >>= 32
		w.n -= 32
	}
}

// Bytes flushes the pending bits (zero padded to a byte) and returns the stream. The writer must
// be Reset before it is written again.
func (w *BitWriter) Bytes() []byte {
	for w.n > 0 {
		w.buf = append(w.buf, byte(w.acc))
		w.acc >>= 8
		if w.n < 8 {
			w.n = 0
		} else {
			w.n -= 8
		}
	}
	return w.buf
}

// BitReader reads what a BitWriter wrote. Reading past the end yields zeros and sets Overrun.
// Hot decode loops may keep Acc and N in locals: bits are taken from the low end of Acc, N of
// them are valid, and Ensure tops them up.
type BitReader struct {
	b       []byte
	pos     int
	Acc     uint64
	N       uint
	Overrun bool
}

// Reset starts reading b.
func (r *BitReader) Reset(b []byte) { *r = BitReader{b: b} }

func (r *BitReader) refill() {
	if r.pos+8 <= len(r.b) {
		r.Acc |= binary.LittleEndian.Uint64(r.b[r.pos:]) << r.N
		k := (63 - r.N) >> 3
		r.pos += int(k)
		r.N += k << 3
		return
	}
	for r.N <= 56 && r.pos < len(r.b) {
		r.Acc |= uint64(r.b[r.pos]) << r.N
		r.pos++
		r.N += 8
	}
}

// Ensure makes at least nb bits (nb <= 56) available in Acc, setting Overrun (and providing
// zeros) when the stream has fewer.
func (r *BitReader) Ensure(nb uint) {
	r.refill()
	if r.N < nb {
		r.Overrun = true
		r.Acc, r.N = 0, 64
	}
}

// Read returns the next nb bits (nb <= 64).
func (r *BitReader) Read(nb uint) uint64 {
	if nb > 32 {
		lo := r.read32(32)
		return lo | r.read32(nb-32)<<32
	}
	return r.read32(nb)
}

func (r *BitReader) read32(nb uint) uint64 {
	if r.N < nb {
		r.refill()
		if r.N < nb {
			r.Overrun = true
			r.Acc, r.N = 0, 64
		}
	}
	v := r.Acc & (1<<nb - 1)
	r.Acc >>= nb
	r.N -= nb
	return v
}

// Remaining returns how many whole bytes after the current position were never touched.
// A well-formed stream ends with fewer than 8 bits unread.
func (r *BitReader) Remaining() int { return len(r.b) - r.pos }

// Unread returns how many bits are buffered or not yet loaded.
func (r *BitReader) Unread() int { return int(r.N) + 8*(len(r.b)-r.pos) }
