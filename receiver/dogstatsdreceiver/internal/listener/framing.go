package listener

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"

	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/packets"
)

// frameHeader is the DogStatsD Unix stream framing: each payload is preceded by its length as
// a 4-byte little-endian integer, as the Datadog clients send it.
const frameHeader = 4

// errFrameTooLarge ends a Unix stream connection whose frame is longer than buffer_size: the
// length cannot be trusted and skipping it could mean reading gigabytes.
var errFrameTooLarge = errors.New("dogstatsd unix stream: frame longer than buffer_size")

// streamReader turns a byte stream into packets: frames (Unix stream) or newline-separated
// lines (TCP). Its memory is fixed: a read buffer of 2*(buffer_size+4) bytes and the pooled
// packet being filled, whatever the stream says. After each read it hands over what it has
// assembled, so a packet never waits for more data; under load one read brings many lines
// and the packets fill up.
type streamReader struct {
	pool   *packets.Pool
	sink   packets.Sink
	source packets.Source
	origin string
	stats  *Stats

	rbuf       []byte
	start, end int
	pk         *packets.Packet
	used       int
	discarding bool // TCP: dropping the rest of an oversized line
	// eolRequired drops a frame's last line without '\n' (Unix stream), or a last line
	// without '\n' at a clean close (TCP), counting it in stats.Unterminated.
	eolRequired bool
}

func newStreamReader(pool *packets.Pool, sink packets.Sink, source packets.Source, origin string, stats *Stats) *streamReader {
	return &streamReader{
		pool: pool, sink: sink, source: source, origin: origin, stats: stats,
		rbuf: make([]byte, 2*(pool.BufferSize()+frameHeader)),
	}
}

// readFrames consumes r until EOF or an error; io.EOF is not an error. What was read is always
// handed over before it returns.
func (s *streamReader) readFrames(r io.Reader) error {
	return s.run(r, s.frames)
}

// readLines is readFrames for newline-separated lines.
func (s *streamReader) readLines(r io.Reader) error {
	return s.run(r, s.lines)
}

func (s *streamReader) run(r io.Reader, parse func(eof bool) error) error {
	defer s.release()
	for {
		n, err := r.Read(s.rbuf[s.end:])
		s.end += n
		s.stats.Bytes.Add(uint64(n))
		// Only a clean end makes an unterminated last line whole; after any other error it is
		// probably cut.
		eof := errors.Is(err, io.EOF)
		perr := parse(eof)
		s.emit()
		if perr != nil {
			return perr
		}
		if s.start > 0 {
			s.end = copy(s.rbuf, s.rbuf[s.start:s.end])
			s.start = 0
		}
		if err != nil {
			if !eof {
				return err
			}
			if s.end > 0 {
				s.stats.ReadErrors.Add(1) // the stream ended inside a frame
			}
			return nil
		}
	}
}

// frames moves every complete frame from the read buffer into packets.
func (s *streamReader) frames(bool) error {
	size := s.pool.BufferSize()
	for s.end-s.start >= frameHeader {
		length := binary.LittleEndian.Uint32(s.rbuf[s.start:])
		if length > uint32(size) {
			s.stats.Oversized.Add(1)
			return errFrameTooLarge
		}
		l := int(length)
		if s.end-s.start-frameHeader < l {
			return nil // incomplete: the read buffer holds at least one whole frame, read on
		}
		payload := s.rbuf[s.start+frameHeader : s.start+frameHeader+l]
		s.start += frameHeader + l
		s.stats.Packets.Add(1)
		if s.eolRequired {
			var cut bool
			if payload, cut = packets.DropUnterminated(payload); cut {
				s.stats.Unterminated.Add(1)
			}
		}
		s.add(payload)
	}
	return nil
}

// lines moves every complete line from the read buffer into packets; at EOF the unterminated
// last line counts as complete, unless eolRequired drops it.
func (s *streamReader) lines(eof bool) error {
	size := s.pool.BufferSize()
	data := s.rbuf[s.start:s.end]
	if s.discarding {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			s.start = s.end
			return nil
		}
		s.discarding = false
		s.start += i + 1
		data = data[i+1:]
	}
	var complete []byte
	if eof {
		complete, s.start = data, s.end
		if s.eolRequired {
			var cut bool
			if complete, cut = packets.DropUnterminated(complete); cut {
				s.stats.Unterminated.Add(1)
			}
		}
	} else if i := bytes.LastIndexByte(data, '\n'); i >= 0 {
		complete, s.start = data[:i], s.start+i+1
	}
	if eof {
		complete = bytes.TrimSuffix(complete, []byte{'\n'})
	}
	if len(complete) > 0 {
		s.stats.Packets.Add(uint64(bytes.Count(complete, []byte{'\n'}) + 1))
	}
	for len(complete) > 0 {
		if len(complete) <= size-s.sep() {
			s.add(complete)
			break
		}
		// Take the whole lines that fit in what is left of the packet.
		cut := bytes.LastIndexByte(complete[:size-s.sep()+1], '\n')
		if cut >= 0 {
			s.add(complete[:cut])
			complete = complete[cut+1:]
			continue
		}
		if s.used > 0 {
			s.emit() // the next line may fit in an empty packet
			continue
		}
		// One line longer than a packet: drop it.
		s.stats.Oversized.Add(1)
		i := bytes.IndexByte(complete, '\n')
		if i < 0 {
			break
		}
		complete = complete[i+1:]
	}
	if rest := s.end - s.start; rest > size {
		// The unterminated line is already longer than a packet: drop it up to its '\n'.
		s.stats.Oversized.Add(1)
		s.start, s.end, s.discarding = 0, 0, true
	}
	return nil
}

// sep is the separator the next addition needs: 1 once the packet holds something.
func (s *streamReader) sep() int {
	if s.used > 0 {
		return 1
	}
	return 0
}

// add appends one payload (one or more lines, at most buffer_size bytes) to the packet,
// handing the packet over first when it would not fit.
func (s *streamReader) add(p []byte) {
	if n := len(p); n > 0 && p[n-1] == '\n' {
		p = p[:n-1]
	}
	if len(p) == 0 {
		return
	}
	if s.used > 0 && s.used+1+len(p) > s.pool.BufferSize() {
		s.emit()
	}
	if s.pk == nil {
		s.pk = s.pool.Get()
	}
	buf := s.pk.Buffer()
	if s.used > 0 {
		buf[s.used] = '\n'
		s.used++
	}
	s.used += copy(buf[s.used:], p)
}

// emit hands the packet being filled to the sink.
func (s *streamReader) emit() {
	if s.used == 0 {
		return
	}
	s.pk.SetLen(s.used)
	s.pk.Source = s.source
	s.pk.Origin = s.origin
	s.sink.Append(s.pk)
	s.pk, s.used = nil, 0
}

// release gives back an unused packet when the stream ends.
func (s *streamReader) release() {
	if s.pk != nil {
		s.pool.Put(s.pk)
		s.pk = nil
	}
}
