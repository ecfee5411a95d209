package chunkfile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"slices"
	"sync"

	"github.com/doghouse-otel/doghouse/chunkfile/internal/enc"
	"github.com/klauspost/compress/zstd"
)

// Format constants (docs/chunk-format.md sections 1 and 2).
const (
	magic        = "DHCK"
	versionMajor = 1
	versionMinor = 0
	headerSize   = 12

	frameSeries  = 1
	frameBlock   = 2
	frameFooter  = 3
	frameTrailer = 4
	// frameCheckpoint holds points that the next BLOCK frame repeats (Writer.Checkpoint).
	frameCheckpoint = 5

	frameKindMask   = 0x3f
	frameCompressed = 0x40
	frameOptional   = 0x80

	// trailerSize is the whole TRAILER frame: type, length 8, 8-byte offset, CRC.
	trailerSize = 14
	// maxWriteFrame keeps frames a writer produces well under what any reader accepts.
	maxWriteFrame = 1 << 30
	// DefaultMaxFrameSize bounds the memory one frame can make a reader allocate.
	DefaultMaxFrameSize = 256 << 20
	// DefaultMaxBlockValues bounds the values one block can make a reader decode: 2^23 values
	// (about 256 MiB decoded at worst), twice what a Writer puts in a block.
	DefaultMaxBlockValues = 1 << 23
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func appendHeader(dst []byte) []byte {
	start := len(dst)
	dst = append(dst, magic...)
	dst = append(dst, versionMajor, versionMinor, 0, 0)
	return binary.LittleEndian.AppendUint32(dst, crc32.Checksum(dst[start:], castagnoli))
}

func checkHeader(h []byte) error {
	if len(h) < headerSize || string(h[:4]) != magic {
		return corrupt(0, "header", ErrNotChunkFile)
	}
	if crc32.Checksum(h[:8], castagnoli) != binary.LittleEndian.Uint32(h[8:12]) {
		return corrupt(0, "header checksum mismatch", nil)
	}
	if h[4] != versionMajor {
		return fmt.Errorf("%w: chunk file major version %d is not supported (this reader reads %d)",
			ErrUnsupportedVersion, h[4], versionMajor)
	}
	return nil
}

// appendFrame appends a frame of the given type around payload.
func appendFrame(dst []byte, typ byte, payload []byte) []byte {
	start := len(dst)
	dst = append(dst, typ)
	dst = enc.AppendUvarint(dst, uint64(len(payload)))
	dst = append(dst, payload...)
	return binary.LittleEndian.AppendUint32(dst, crc32.Checksum(dst[start:], castagnoli))
}

func appendU64(dst []byte, v uint64) []byte { return binary.LittleEndian.AppendUint64(dst, v) }

// encoders are shared by all writers: EncodeAll keeps no state between calls, and a writer
// per segment would otherwise allocate an encoder (and its history buffer) per segment.
var encoders = sync.Pool{New: func() any {
	// A 1 MiB window bounds the history buffer to about 1 MiB instead of 8; blocks and
	// checkpoints are usually smaller, and matches further back than that are rare.
	e, _ := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderConcurrency(1),
		zstd.WithLowerEncoderMem(true), zstd.WithWindowSize(1<<20))
	return e
}}

// frameCompressor zstd-compresses frame payloads when that pays.
type frameCompressor struct {
	buf    []byte
	misses int // consecutive blocks zstd did not shrink
	skips  int
}

// tryBlock says whether to try zstd on the next block. Entropy-coded blocks rarely shrink, so
// after 4 misses in a row only every 16th block is tried (zstd costs about 2 ns an event).
func (c *frameCompressor) tryBlock() bool {
	if c.misses < 4 {
		return true
	}
	c.skips++
	if c.skips >= 16 {
		c.skips = 0
		return true
	}
	return false
}

// appendMaybeCompressed appends a frame holding payload, compressed if that is smaller.
func (c *frameCompressor) appendMaybeCompressed(dst []byte, typ byte, payload []byte, try bool) []byte {
	if try && len(payload) > 64 {
		c.buf = enc.AppendUvarint(c.buf[:0], uint64(len(payload)))
		ze := encoders.Get().(*zstd.Encoder)
		c.buf = ze.EncodeAll(payload, c.buf)
		encoders.Put(ze)
		if len(c.buf) < len(payload) {
			c.misses = 0
			return appendFrame(dst, typ|frameCompressed, c.buf)
		}
		c.misses++
	}
	return appendFrame(dst, typ, payload)
}

// frame is one frame read from a file.
type frame struct {
	off     int64 // offset of the type byte
	size    int64 // whole frame length
	typ     byte
	payload []byte // decompressed payload
	raw     []byte // the whole frame as stored (aliases the reader's buffer)
}

// frameReader reads frames one after another from an io.Reader.
type frameReader struct {
	r        io.Reader
	off      int64
	maxFrame int
	buf      []byte
	zbuf     []byte
	zdec     *zstd.Decoder
}

var errEOF = io.EOF

// next reads the next frame. It returns io.EOF at a clean end, a *CorruptionError for a torn or
// damaged frame, or the reader's own error.
func (fr *frameReader) next() (frame, error) {
	f := frame{off: fr.off}
	// Type byte and length varint, read one byte at a time: the length decides how much to read.
	var hdr [binary.MaxVarintLen64 + 1]byte
	n, err := io.ReadFull(fr.r, hdr[:1])
	if n == 0 && (err == io.EOF) {
		return f, errEOF
	}
	if err != nil {
		return f, fr.readErr(err, "frame type")
	}
	hl := 1
	var length uint64
	for shift := uint(0); ; shift += 7 {
		if hl == len(hdr) {
			return f, corrupt(f.off, "frame length varint too long", nil)
		}
		if _, err := io.ReadFull(fr.r, hdr[hl:hl+1]); err != nil {
			return f, fr.readErr(err, "frame length")
		}
		c := hdr[hl]
		hl++
		length |= uint64(c&0x7f) << shift
		if c < 0x80 {
			break
		}
	}
	if length > uint64(fr.maxFrame) {
		return f, corrupt(f.off, fmt.Sprintf("frame length %d exceeds the limit %d", length, fr.maxFrame), nil)
	}
	total := hl + int(length) + 4
	// Grow the buffer as bytes arrive so a hostile length on a short stream costs no memory.
	fr.buf = append(fr.buf[:0], hdr[:hl]...)
	for len(fr.buf) < total {
		chunk := min(total-len(fr.buf), 1<<20)
		start := len(fr.buf)
		fr.buf = slices.Grow(fr.buf, chunk)[:start+chunk]
		if _, err := io.ReadFull(fr.r, fr.buf[start:]); err != nil {
			return f, fr.readErr(err, "frame payload")
		}
	}
	body := fr.buf[:total-4]
	if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(fr.buf[total-4:]) {
		return f, corrupt(f.off, "frame checksum mismatch", nil)
	}
	f.typ = hdr[0]
	f.size = int64(total)
	f.payload = body[hl:]
	f.raw = fr.buf[:total]
	fr.off += int64(total)
	if f.typ&frameCompressed != 0 {
		p, err := fr.decompress(f.payload)
		if err != nil {
			return f, corrupt(f.off, "compressed frame", err)
		}
		f.payload = p
	}
	return f, nil
}

func (fr *frameReader) readErr(err error, what string) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return corrupt(fr.off, "truncated "+what, io.ErrUnexpectedEOF)
	}
	return err
}

func (fr *frameReader) decompress(p []byte) ([]byte, error) {
	d := enc.NewDecbuf(p)
	raw := d.Uvarint()
	if d.E != nil {
		return nil, d.E
	}
	if raw > uint64(fr.maxFrame) {
		return nil, fmt.Errorf("decompressed length %d exceeds the limit %d", raw, fr.maxFrame)
	}
	if fr.zdec == nil {
		var err error
		fr.zdec, err = zstd.NewReader(nil, zstd.WithDecoderConcurrency(1),
			zstd.WithDecoderMaxMemory(uint64(fr.maxFrame)), zstd.WithDecoderLowmem(true))
		if err != nil {
			return nil, err
		}
	}
	if cap(fr.zbuf) < int(raw) {
		fr.zbuf = make([]byte, 0, raw)
	}
	out, err := fr.zdec.DecodeAll(p[d.Pos:], fr.zbuf[:0])
	if err != nil {
		return nil, err
	}
	fr.zbuf = out
	if uint64(len(out)) != raw {
		return nil, fmt.Errorf("decompressed %d bytes, frame says %d", len(out), raw)
	}
	return out, nil
}

func (fr *frameReader) close() {
	if fr.zdec != nil {
		fr.zdec.Close()
		fr.zdec = nil
	}
}
