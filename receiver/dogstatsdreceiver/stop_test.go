package dogstatsdreceiver

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestShutdownReadsWhatTheSocketHolds: with default settings, a burst is sent and the receiver
// is shut down at once, while most of it still waits in the socket's receive buffer. Every
// datagram the kernel accepted must come out: the emitted total plus the kernel's own drops
// (counted from SO_RXQ_OVFL) equals what was sent. Before, Shutdown closed the socket and the
// datagrams still queued in it were lost.
func TestShutdownReadsWhatTheSocketHolds(t *testing.T) {
	h := startReceiver(t, nil)
	conn, err := net.Dial("udp", h.addr("udp"))
	require.NoError(t, err)
	defer conn.Close()
	const sent = 20_000
	line := []byte("burst:1|c|#k:v")
	for range sent {
		_, err := conn.Write(line)
		require.NoError(t, err)
	}
	require.NoError(t, h.r.Shutdown(context.Background()))

	stats := h.r.listeners[0].Stats()
	var total float64
	for _, m := range h.metricsByName()["burst"] {
		total += m.Sum().DataPoints().At(0).DoubleValue()
	}
	drops := stats.KernelDrops.Load()
	assert.Equal(t, float64(sent), total+float64(drops), "emitted %v, kernel drops %d, sent %d", total, drops, sent)
	assert.Equal(t, float64(stats.Packets.Load()), total, "every datagram read is emitted")
	assert.Less(t, drops, uint64(sent/2), "the socket buffer held most of the burst")
	t.Logf("sent %d, emitted %v, kernel drops %d", sent, total, drops)
}

// TestShutdownPastItsDeadlineStillEmits: a shutdown whose context is already done must still
// emit what was aggregated, not drop it.
func TestShutdownPastItsDeadlineStillEmits(t *testing.T) {
	h := startReceiver(t, nil)
	sendLines(t, h.addr("udp"), "kept:5|c")
	h.waitLines(t, 1)
	require.Eventually(t, func() bool { return h.r.workerStats.Samples.Load() == 1 }, 10*time.Second, time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = h.r.Shutdown(ctx) // may report the deadline; what matters is what was emitted
	ms := h.metricsByName()["kept"]
	require.Len(t, ms, 1)
	assert.Equal(t, 5.0, ms[0].Sum().DataPoints().At(0).DoubleValue())
}
