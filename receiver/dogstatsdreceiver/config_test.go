package dogstatsdreceiver

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/metadata"
)

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	for _, tc := range []struct {
		id   component.ID
		want *Config
	}{
		{id: component.NewID(metadata.Type), want: createDefaultConfig().(*Config)},
		{id: component.NewIDWithName(metadata.Type, "all"), want: &Config{
			UDP:          UDPConfig{Endpoint: "127.0.0.1:18125", SoRcvbuf: 8388608, Readers: 2, EOLRequired: true},
			UnixDatagram: UnixDatagramConfig{Path: "/var/run/doghouse/dsd.socket", SocketPermissions: "0660", SoRcvbuf: 4194304, EOLRequired: true},
			UnixStream:   UnixStreamConfig{Path: "/var/run/doghouse/dsd-stream.socket", MaxConnections: 64, EOLRequired: true},
			TCP:          TCPConfig{Endpoint: "127.0.0.1:18126", MaxConnections: 16, EOLRequired: true},
			BufferSize:   16384, PacketBufferSize: 64, PacketBufferFlushTimeout: 50 * time.Millisecond,
			QueueSize: 256, BlockWhenQueueFull: true, Workers: 4, StringInternerSize: 8192, BatchSize: 64,
			AggregationInterval: 10 * time.Second, MaxContexts: 500000, MaxTimestamped: 1000,
			MaxNameLength: 200, MaxTagsLength: 1000, Expiry: 300 * time.Second,
			TimerHistogramMapping: "histogram", ExplicitBuckets: []float64{10, 100, 1000},
			SummaryQuantiles: []float64{0.5}, MaxHistogramBuckets: 80, MonotonicCounters: true,
			MaxPendingLogs:  100,
			ExtraTags:       []string{"dc:eu", "canary"},
			OriginDetection: OriginConfig{Enabled: true, ClientOrigin: true},
		}},
	} {
		t.Run(tc.id.String(), func(t *testing.T) {
			cfg := createDefaultConfig()
			sub, err := cm.Sub(tc.id.String())
			require.NoError(t, err)
			require.NoError(t, sub.Unmarshal(cfg))
			require.NoError(t, confmap.Validate(cfg))
			assert.Equal(t, tc.want, cfg)
		})
	}
}

func TestDefaultConfigMatchesTheAgent(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	assert.Equal(t, "localhost:8125", cfg.UDP.Endpoint)
	assert.Equal(t, 4<<20, cfg.UDP.SoRcvbuf)
	assert.Equal(t, 8192, cfg.BufferSize)
	assert.Equal(t, 32, cfg.PacketBufferSize)
	assert.Equal(t, 100*time.Millisecond, cfg.PacketBufferFlushTimeout)
	assert.Equal(t, 1024, cfg.QueueSize)
	assert.Equal(t, 4096, cfg.StringInternerSize)
	assert.Equal(t, 32, cfg.BatchSize)
	assert.Equal(t, time.Second, cfg.AggregationInterval)
	assert.False(t, cfg.UDP.EOLRequired || cfg.UnixDatagram.EOLRequired || cfg.UnixStream.EOLRequired || cfg.TCP.EOLRequired)
	assert.NoError(t, cfg.Validate())
}

func TestInvalidConfigs(t *testing.T) {
	for file, want := range map[string]string{
		"no_transport.yaml":    "no transport enabled: set at least one of `udp.endpoint`, `unixgram.path`, `unix.path`, `tcp.endpoint`",
		"same_socket.yaml":     "`unixgram.path` and `unix.path` are the same file (\"/tmp/x.sock\")",
		"permissions.yaml":     "`unixgram.socket_permissions` (\"rw-\") must be an octal file mode such as \"0600\"",
		"buffer_size.yaml":     "`buffer_size` (100) must be between 512 and 1048576 bytes",
		"queue_size.yaml":      "`queue_size` (0) must be positive",
		"workers.yaml":         "`workers` (-1) must not be negative (0 means CPUs - 2, at least 2)",
		"interval.yaml":        "`aggregation_interval` (0s) must be at least 1ms",
		"max_contexts.yaml":    "`max_contexts` (0) must be positive",
		"expiry.yaml":          "`expiry` (-1s) must not be negative",
		"max_name_length.yaml": "`max_name_length` (0) must be positive",
		"max_tags_length.yaml": "`max_tags_length` (-5) must be positive",
		"mapping.yaml":         "`timer_histogram_mapping` (\"gauge\") must be one of [\"exponential_histogram\" \"histogram\" \"summary\"]",
		"buckets.yaml":         "`explicit_buckets` ([10 5]) must be finite and strictly increasing",
		"quantiles.yaml":       "`summary_quantiles` ([1.5]) must all be in [0, 1]",
		"extra_tags.yaml":      "`extra_tags[1]` (\"a,b\") must be a non-empty DogStatsD tag without ',', '|' or line breaks",
	} {
		t.Run(strings.TrimSuffix(file, ".yaml"), func(t *testing.T) {
			cm, err := confmaptest.LoadConf(filepath.Join("testdata", "invalid", file))
			require.NoError(t, err)
			cfg := createDefaultConfig()
			require.NoError(t, cm.Unmarshal(cfg))
			assert.EqualError(t, confmap.Validate(cfg), want)
		})
	}
}
