//go:build !windows

package listener

import (
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/DataDog/datadog-go/v5/statsd"

	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/packets"
)

// The official DogStatsD client, over each transport it speaks, reaches the queue intact:
// its UDS stream framing in particular is the one Unix stream listeners must decode.
func TestDatadogClient(t *testing.T) {
	for _, tc := range []struct {
		name   string
		start  func(t *testing.T, set Settings) Listener
		prefix string
	}{
		{"udp", func(t *testing.T, set Settings) Listener {
			return mustStart(t, NewUDP(UDPConfig{Endpoint: "127.0.0.1:0"}, set))
		}, ""},
		{"unixgram", func(t *testing.T, set Settings) Listener {
			return mustStart(t, NewUnixDatagram(UnixDatagramConfig{Path: filepath.Join(t.TempDir(), "dsd.sock")}, set))
		}, "unixgram://"},
		{"unixstream", func(t *testing.T, set Settings) Listener {
			return mustStart(t, NewUnixStream(UnixStreamConfig{Path: filepath.Join(t.TempDir(), "dsd.sock")}, set))
		}, "unixstream://"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pool := packets.NewPool(packets.DefaultBufferSize)
			col := newCollector(t, pool, 64)
			l := tc.start(t, settings(pool, col, 5*time.Millisecond))
			client, err := statsd.New(tc.prefix+l.Addr().String(),
				statsd.WithoutTelemetry(), statsd.WithoutClientSideAggregation(),
				statsd.WithoutOriginDetection(), statsd.WithBufferFlushInterval(10*time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for i := range 300 {
				if err := client.Distribution("dd.test.latency", float64(i), []string{fmt.Sprintf("idx:%d", i)}, 1); err != nil {
					t.Fatal(err)
				}
				want = append(want, fmt.Sprintf("dd.test.latency:%d|d|#idx:%d", i, i))
			}
			if err := client.Close(); err != nil {
				t.Fatal(err)
			}
			got := col.waitLines(t, len(want))
			if !slices.Equal(sortedCopy(got), sortedCopy(want)) {
				t.Fatalf("lines differ:\n got %q\nwant %q", got, want)
			}
		})
	}
}
