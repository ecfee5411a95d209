package chunkfile

import (
	"encoding/binary"
	"fmt"

	"github.com/doghouse-otel/doghouse/chunkfile/internal/enc"
)

// appendFooterFrames appends the FOOTER frame (written at offset off) and the TRAILER frame.
func appendFooterFrames(dst []byte, off int64, nSeries int, defFrames []int64, blocks []blockIndex) []byte {
	var p []byte
	p = enc.AppendUvarint(p, uint64(nSeries))
	p = enc.AppendUvarint(p, uint64(len(defFrames)))
	prev := int64(0)
	for _, o := range defFrames {
		p = enc.AppendUvarint(p, uint64(o-prev))
		prev = o
	}
	p = enc.AppendUvarint(p, uint64(len(blocks)))
	prev = 0
	prevT := int64(0)
	for _, b := range blocks {
		p = enc.AppendUvarint(p, uint64(b.off-prev))
		p = enc.AppendUvarint(p, uint64(b.size))
		p = appendVarint(p, b.minT-prevT)
		p = enc.AppendUvarint(p, uint64(b.maxT-b.minT))
		p = enc.AppendUvarint(p, b.minID)
		p = enc.AppendUvarint(p, b.maxID-b.minID)
		p = enc.AppendUvarint(p, uint64(b.nSeries))
		p = enc.AppendUvarint(p, uint64(b.nPoints))
		prev, prevT = b.off, b.minT
	}
	dst = appendFrame(dst, frameFooter, p)
	return appendFrame(dst, frameTrailer, binary.LittleEndian.AppendUint64(nil, uint64(off)))
}

// footer is a decoded FOOTER frame.
type footer struct {
	nSeries   int
	defFrames []int64
	blocks    []blockIndex
}

func readFooter(p []byte, fileSize int64) (footer, error) {
	var f footer
	d := enc.NewDecbuf(p)
	ns := d.Uvarint()
	nd := d.Uvarint()
	if d.E == nil && nd > uint64(d.Len()) {
		return f, fmt.Errorf("footer lists %d series frames in %d bytes", nd, d.Len())
	}
	f.nSeries = int(min(ns, uint64(fileSize)))
	off := int64(0)
	for range nd {
		off += int64(d.Uvarint())
		f.defFrames = append(f.defFrames, off)
	}
	nb := d.Uvarint()
	if d.E == nil && nb > uint64(d.Len()/8) {
		return f, fmt.Errorf("footer lists %d blocks in %d bytes", nb, d.Len())
	}
	off = 0
	t := int64(0)
	for range nb {
		var b blockIndex
		off += int64(d.Uvarint())
		b.off = off
		b.size = int64(d.Uvarint())
		t += enc.Unzig(d.Uvarint())
		b.minT = t
		b.maxT = t + int64(d.Uvarint())
		b.minID = d.Uvarint()
		b.maxID = b.minID + d.Uvarint()
		b.nSeries = int(d.Uvarint())
		b.nPoints = int(d.Uvarint())
		if d.E != nil {
			break
		}
		if b.off < headerSize || b.size <= 0 || b.size > fileSize || b.off > fileSize-b.size {
			return f, fmt.Errorf("footer block entry outside the file (offset %d, size %d)", b.off, b.size)
		}
		f.blocks = append(f.blocks, b)
	}
	if d.E != nil {
		return f, d.E
	}
	if ns != uint64(f.nSeries) || d.Len() != 0 {
		return f, fmt.Errorf("footer malformed")
	}
	return f, nil
}
