// Package packets holds the units the DogStatsD listeners hand to the workers: pooled
// fixed-size packets, the assembler that packs small UDP datagrams into one packet, and the
// buffer that batches packets onto the bounded worker queue.
//
// Ownership: a *Packet has exactly one owner at a time. The listener that takes it from the
// Pool owns it while it fills it; Assembler.Add copies bytes in (the caller keeps its slice);
// Buffer.Append takes ownership of the packet; the receiver of a Packets batch from the queue
// owns every packet in it and must give each back with Pool.Put (or PutAll) when it is done.
package packets

import "bytes"

// Source says which transport a packet came in on.
type Source uint8

// The transports a packet can come from.
const (
	SourceUnknown Source = iota
	SourceUDP
	SourceUnixDatagram
	SourceUnixStream
	SourceTCP
)

// String returns the name used in logs and as a telemetry attribute value.
func (s Source) String() string {
	switch s {
	case SourceUDP:
		return "udp"
	case SourceUnixDatagram:
		return "unixgram"
	case SourceUnixStream:
		return "unix"
	case SourceTCP:
		return "tcp"
	}
	return "unknown"
}

// Packet is up to one buffer_size of DogStatsD text: one or more lines separated by '\n'.
type Packet struct {
	// Contents is the valid part of the packet; it aliases the packet's pooled backing array.
	Contents []byte
	// Origin is the container id of the sender when origin detection found one (Unix sockets
	// only), empty otherwise.
	Origin string
	// Source is the transport the packet was read from.
	Source Source

	// buf is the backing array, len == cap == the pool's buffer size, never reallocated.
	buf []byte
}

// Buffer returns the whole backing array of the packet, buffer_size bytes, for a reader to
// fill. It aliases Contents.
func (p *Packet) Buffer() []byte { return p.buf }

// SetLen sets Contents to the first n bytes of the backing array.
func (p *Packet) SetLen(n int) { p.Contents = p.buf[:n] }

// Packets is a batch of packets handed to a worker in one channel send.
type Packets []*Packet

// CompleteLines returns the longest prefix of b that ends at a line boundary: everything up to
// and excluding the last '\n', or nil when b holds no '\n'. It is what is kept of a datagram
// the kernel truncated: its last line is cut and must not be parsed as if it were whole.
func CompleteLines(b []byte) []byte {
	i := bytes.LastIndexByte(b, '\n')
	if i < 0 {
		return nil
	}
	return b[:i]
}

// DropUnterminated is the eol_required check of one datagram or stream frame (the Agent's
// dogstatsd_eol_required), for clients that end every line with '\n': a last line without one
// may have been cut short and is not trusted. It returns b without its last line
// when that line does not end with '\n' (kept holds the terminated lines, their '\n' included,
// and may be empty), and whether it dropped one. An empty b, or one ending in '\n', is returned
// as is.
func DropUnterminated(b []byte) (kept []byte, dropped bool) {
	n := len(b)
	if n == 0 || b[n-1] == '\n' {
		return b, false
	}
	return b[:bytes.LastIndexByte(b, '\n')+1], true
}
