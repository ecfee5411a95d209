package enc

import (
	"errors"
	"fmt"

	"github.com/klauspost/compress/fse"
	"github.com/klauspost/compress/huff0"
)

// Stream codings (docs/chunk-format.md 4.3).
const (
	streamRaw  = 0
	streamRLE  = 1
	streamFSE  = 2
	streamHuff = 3
)

// huffSlack lets Huffman win when it is at most 1/64 larger than FSE: its 4-stream decoder is
// several times faster, and on the reference workload it costs under 0.3% in size.
const huffSlack = 64

// ErrBudget is returned when a stream or column claims more values than the reader allows.
var ErrBudget = errors.New("decoded size exceeds the reader's limit")

// StreamCoder entropy codes byte streams. It keeps scratch state between calls and must not be
// used by two goroutines at once.
type StreamCoder struct {
	s fse.Scratch
	h huff0.Scratch
}

// AppendStream appends the smallest of the raw, rle and fse codings of src to dst.
func (c *StreamCoder) AppendStream(dst, src []byte) []byte {
	if len(src) > 1 {
		c.s.Out = c.s.Out[:0]
		out, err := fse.Compress(src, &c.s)
		if err == nil && len(src) >= 1024 && len(src) <= huff0.BlockSizeMax {
			c.h.Reuse = huff0.ReusePolicyNone
			c.h.Out = c.h.Out[:0]
			if hout, _, herr := huff0.Compress4X(src, &c.h); herr == nil && len(hout) <= len(out)+len(out)/huffSlack {
				dst = append(dst, streamHuff)
				dst = AppendUvarint(dst, uint64(len(src)))
				dst = AppendUvarint(dst, uint64(len(hout)))
				return append(dst, hout...)
			}
		}
		switch {
		case err == nil && len(out)+8 < len(src):
			dst = append(dst, streamFSE)
			dst = AppendUvarint(dst, uint64(len(src)))
			dst = AppendUvarint(dst, uint64(len(out)))
			return append(dst, out...)
		case errors.Is(err, fse.ErrUseRLE):
			dst = append(dst, streamRLE)
			dst = AppendUvarint(dst, uint64(len(src)))
			return append(dst, src[0])
		}
	}
	dst = append(dst, streamRaw)
	dst = AppendUvarint(dst, uint64(len(src)))
	return append(dst, src...)
}

// StreamDecoder decodes streams written by AppendStream.
type StreamDecoder struct {
	s fse.Scratch
	h huff0.Scratch
}

// ReadStream decodes the next stream of d into dst[:0] (growing it as needed) and returns it.
// A stream longer than budget values fails with ErrBudget before anything is allocated.
func (c *StreamDecoder) ReadStream(d *Decbuf, dst []byte, budget int) []byte {
	coding := d.Byte()
	n := d.Uvarint()
	if d.E != nil {
		return dst[:0]
	}
	if n > uint64(budget) {
		d.Fail(ErrBudget)
		return dst[:0]
	}
	switch coding {
	case streamRaw:
		return append(dst[:0], d.Bytes(n)...)
	case streamRLE:
		b := d.Byte()
		if d.E != nil {
			return dst[:0]
		}
		dst = grow(dst, int(n))
		for i := range dst {
			dst[i] = b
		}
		return dst
	case streamFSE:
		src := d.UvarintBytes()
		if d.E != nil {
			return dst[:0]
		}
		out, err := c.decompress(src, dst, int(n))
		if err != nil {
			d.Fail(err)
			return dst[:0]
		}
		return out
	case streamHuff:
		src := d.UvarintBytes()
		if d.E != nil {
			return dst[:0]
		}
		out, err := c.dehuff(src, dst, int(n))
		if err != nil {
			d.Fail(err)
			return dst[:0]
		}
		return out
	default:
		d.Fail(fmt.Errorf("unknown stream coding %d", coding))
		return dst[:0]
	}
}

func (c *StreamDecoder) decompress(src, dst []byte, n int) (out []byte, err error) {
	// The FSE decoder is not documented to reject every malformed input; a frame whose CRC
	// matched but whose content is hostile must still yield an error, never a crash.
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("fse stream: %v", r)
		}
	}()
	if cap(dst) < n {
		dst = make([]byte, 0, n)
	}
	c.s.Out = dst[:0]
	c.s.DecompressLimit = n
	out, err = fse.Decompress(src, &c.s)
	c.s.Out = nil
	if err != nil {
		return nil, fmt.Errorf("fse stream: %w", err)
	}
	if len(out) != n {
		return nil, fmt.Errorf("fse stream decoded %d bytes, header says %d", len(out), n)
	}
	return out, nil
}

func (c *StreamDecoder) dehuff(src, dst []byte, n int) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("huffman stream: %v", r)
		}
	}()
	c.h.MaxDecodedSize = n
	hs, remain, err := huff0.ReadTable(src, &c.h)
	if err != nil {
		return nil, fmt.Errorf("huffman stream: %w", err)
	}
	if cap(dst) < n {
		dst = make([]byte, 0, n)
	}
	out, err = hs.Decoder().Decompress4X(dst[:0:n], remain)
	if err != nil {
		return nil, fmt.Errorf("huffman stream: %w", err)
	}
	if len(out) != n {
		return nil, fmt.Errorf("huffman stream decoded %d bytes, header says %d", len(out), n)
	}
	return out, nil
}

func grow(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n)
	}
	return b[:n]
}

// AppendUvarint appends v as a uvarint.
func AppendUvarint(dst []byte, v uint64) []byte {
	for v >= 0x80 {
		dst = append(dst, byte(v)|0x80)
		v >>= 7
	}
	return append(dst, byte(v))
}

// AppendString appends a uvarint length and s.
func AppendString(dst []byte, s string) []byte {
	dst = AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}
