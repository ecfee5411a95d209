// Package listener reads DogStatsD traffic from UDP, Unix datagram, Unix stream and TCP
// sockets into pooled packets and sends them, batched, to the receiver's bounded worker queue.
//
// Concurrency contract (see README.md): a listener takes packets from Settings.Pool, fills them
// in its own goroutines and hands each one to a packets.Buffer, which sends batches on
// Settings.Out. From that send on, the receiver of the batch owns the packets and gives them
// back to the pool. Stop closes the sockets, waits for every goroutine of the listener and then
// flushes what the assemblers and the buffer hold, so nothing read is lost; the consumer of Out
// must keep receiving until Stop has returned when Buffer.BlockWhenFull is set.
package listener

import (
	"errors"
	"net"
	"sync/atomic"

	"go.uber.org/zap"

	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/packets"
)

// Listener is one enabled transport.
type Listener interface {
	// Start binds the socket synchronously (so a bind error is returned and Addr is known)
	// and then reads in goroutines.
	Start() error
	// Stop closes the socket, waits for the reading goroutines and flushes what they read.
	// It is safe to call without Start and more than once.
	Stop()
	// Addr is the bound address, nil before Start.
	Addr() net.Addr
	// Stats returns the listener's live counters.
	Stats() *Stats
}

// Settings are shared by all listeners of a receiver.
type Settings struct {
	// Pool provides the packets; its buffer size is buffer_size. Required.
	Pool *packets.Pool
	// Out is the worker queue (queue_size batches). Required.
	Out chan<- packets.Packets
	// Buffer sets packet_buffer_size, packet_buffer_flush_timeout (also the UDP assembler's
	// flush timeout) and whether a full queue blocks instead of dropping.
	Buffer packets.BufferConfig
	// Logger receives debug and warning messages; nil discards them.
	Logger *zap.Logger
}

var errSettings = errors.New("listener: Settings.Pool and Settings.Out are required")

func (s *Settings) check() error {
	if s.Pool == nil || s.Out == nil {
		return errSettings
	}
	if s.Logger == nil {
		s.Logger = zap.NewNop()
	}
	return nil
}

// Stats are the counters of one listener. Fields are read with Load by the receiver's
// observable instruments; only the listener writes them.
type Stats struct {
	// Transport is the listener's transport, for the telemetry attribute.
	Transport packets.Source
	// Packets counts datagrams (UDP, Unix datagram), frames (Unix stream) or lines (TCP) read.
	Packets atomic.Uint64
	// Bytes counts bytes read from the socket, framing included.
	Bytes atomic.Uint64
	// ReadErrors counts failed reads and accepts (not the socket closing at Stop).
	ReadErrors atomic.Uint64
	// Connections counts accepted connections (stream transports).
	Connections atomic.Uint64
	// OpenConnections is the number of connections being served now.
	OpenConnections atomic.Int64
	// RejectedConnections counts connections closed at once because MaxConnections were open.
	RejectedConnections atomic.Uint64
	// Oversized counts datagrams longer than buffer_size (their whole lines that fit are
	// kept), Unix stream frames longer than buffer_size (the connection is closed) and TCP
	// lines longer than buffer_size (the line is dropped, the connection kept).
	Oversized atomic.Uint64
	// KernelDrops is the socket's cumulative count of datagrams the kernel dropped because the
	// receive buffer was full (UDP on Linux; see so_rcvbuf).
	KernelDrops atomic.Uint64
	// ReceiveBuffer is the socket receive buffer size the kernel reports after so_rcvbuf was
	// applied (Linux reports twice the requested value, capped by net.core.rmem_max).
	ReceiveBuffer atomic.Int64
	// Unterminated counts lines dropped because the transport's EOLRequired is set and they
	// were the last line of a datagram, frame or TCP connection and had no '\n' (the Agent's
	// dogstatsd_eol_required). The receiver reports them as lines rejected with reason no_eol.
	Unterminated atomic.Uint64
	// OriginErrors counts packets whose sender's container could not be determined.
	OriginErrors atomic.Uint64
	// Assembler counts the UDP assemblers' flushes and truncations.
	Assembler packets.AssemblerStats
	// Buffer counts batches sent to and dropped at the worker queue.
	Buffer packets.BufferStats
}

// raiseTo stores v in c if it is larger: the kernel's drop counter only grows, and several
// readers may report it out of order.
func raiseTo(c *atomic.Uint64, v uint64) {
	for {
		old := c.Load()
		if v <= old || c.CompareAndSwap(old, v) {
			return
		}
	}
}
