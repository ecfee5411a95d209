// Package enc holds the low-level encodings of the chunk file format: a sticky-error decoding
// buffer, the token/extra-bit split of integer residuals, bit streams, entropy-coded byte
// streams and header columns. docs/chunk-format.md is the byte-level reference.
package enc

import (
	"encoding/binary"
	"errors"
)

// ErrShort is the sticky error of a Decbuf that ran out of bytes.
var ErrShort = errors.New("unexpected end of data")

// ErrVarint is the sticky error of a Decbuf that met a varint longer than 10 bytes.
var ErrVarint = errors.New("invalid varint")

// Decbuf reads the primitive types of the format from a byte slice. After the first error every
// getter returns a zero value and the error sticks, so decoders read straight through and check
// Err once. Decbuf never panics on short or hostile input.
type Decbuf struct {
	B   []byte
	Pos int
	E   error
}

// NewDecbuf returns a Decbuf reading b from the start.
func NewDecbuf(b []byte) Decbuf { return Decbuf{B: b} }

// Err returns the first error met, or nil.
func (d *Decbuf) Err() error { return d.E }

// Len returns the bytes not read yet.
func (d *Decbuf) Len() int { return len(d.B) - d.Pos }

// Fail records err unless an error is already recorded.
func (d *Decbuf) Fail(err error) {
	if d.E == nil {
		d.E = err
	}
}

// Byte reads one byte.
func (d *Decbuf) Byte() byte {
	if d.E != nil {
		return 0
	}
	if d.Pos >= len(d.B) {
		d.E = ErrShort
		return 0
	}
	c := d.B[d.Pos]
	d.Pos++
	return c
}

// Uvarint reads an unsigned LEB128 varint.
func (d *Decbuf) Uvarint() uint64 {
	if d.E != nil {
		return 0
	}
	v, n := binary.Uvarint(d.B[d.Pos:])
	if n <= 0 {
		if n == 0 {
			d.E = ErrShort
		} else {
			d.E = ErrVarint
		}
		return 0
	}
	d.Pos += n
	return v
}

// Varint reads a zigzag signed varint.
func (d *Decbuf) Varint() int64 {
	if d.E != nil {
		return 0
	}
	v, n := binary.Varint(d.B[d.Pos:])
	if n <= 0 {
		if n == 0 {
			d.E = ErrShort
		} else {
			d.E = ErrVarint
		}
		return 0
	}
	d.Pos += n
	return v
}

// Uint64 reads 8 bytes little endian.
func (d *Decbuf) Uint64() uint64 {
	b := d.Bytes(8)
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint64(b)
}

// Bytes returns the next n bytes without copying; the result aliases the buffer.
func (d *Decbuf) Bytes(n uint64) []byte {
	if d.E != nil {
		return nil
	}
	if n > uint64(len(d.B)-d.Pos) {
		d.E = ErrShort
		return nil
	}
	b := d.B[d.Pos : d.Pos+int(n) : d.Pos+int(n)]
	d.Pos += int(n)
	return b
}

// UvarintBytes reads a uvarint length and that many bytes (aliasing the buffer).
func (d *Decbuf) UvarintBytes() []byte { return d.Bytes(d.Uvarint()) }

// String reads a uvarint length and that many bytes as a new string that owns its memory.
func (d *Decbuf) String() string { return string(d.UvarintBytes()) }

var (
	errHcolLen  = errors.New("header column length mismatch")
	errHcolForm = errors.New("unknown header column form")
)
