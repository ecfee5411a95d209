package dogstatsdreceiver

import (
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/component"
)

// Config configures the dogstatsd receiver. A transport is enabled when its endpoint or path is
// set; by default only UDP on localhost:8125 is.
type Config struct {
	// UDP listens for datagrams; an empty endpoint disables it.
	UDP UDPConfig `mapstructure:"udp"`
	// UnixDatagram listens on a Unix datagram socket (Datadog's "UDS"); an empty path disables it.
	UnixDatagram UnixDatagramConfig `mapstructure:"unixgram"`
	// UnixStream listens on a Unix stream socket whose frames carry a 4-byte little-endian length
	// prefix, as Datadog clients send; an empty path disables it.
	UnixStream UnixStreamConfig `mapstructure:"unix"`
	// TCP listens for newline-separated lines; an empty endpoint disables it.
	TCP TCPConfig `mapstructure:"tcp"`

	// BufferSize is the size in bytes of one packet: the largest datagram, stream frame or TCP
	// line accepted, and the size UDP datagrams are packed into.
	BufferSize int `mapstructure:"buffer_size"`
	// PacketBufferSize is the number of packets handed to a worker at once.
	PacketBufferSize int `mapstructure:"packet_buffer_size"`
	// PacketBufferFlushTimeout is how long a partly filled packet or batch waits before it is sent.
	PacketBufferFlushTimeout time.Duration `mapstructure:"packet_buffer_flush_timeout"`
	// QueueSize is the number of packet batches waiting for the workers.
	QueueSize int `mapstructure:"queue_size"`
	// BlockWhenQueueFull makes listeners wait for room in the queue (applying back-pressure to
	// stream clients and leaving datagrams to the kernel buffer) instead of dropping packets.
	BlockWhenQueueFull bool `mapstructure:"block_when_queue_full"`
	// Workers is the number of parsing workers; 0 means the number of CPUs minus 2, at least 2.
	Workers int `mapstructure:"workers"`
	// StringInternerSize is the number of strings each worker's interner keeps.
	StringInternerSize int `mapstructure:"string_interner_size"`
	// BatchSize is the number of samples a worker hands to the aggregator at once.
	BatchSize int `mapstructure:"batch_size"`

	// AggregationInterval is how often aggregated metrics are emitted.
	AggregationInterval time.Duration `mapstructure:"aggregation_interval"`
	// MaxContexts bounds the distinct contexts (name, type, tags, origin) the receiver tracks at
	// once. Samples of new contexts beyond it go to one overflow context per metric type
	// (`dogstatsd.overflow.<type>` with `otel.metric.overflow: true`), so counter totals and
	// histogram counts are kept; they are counted in `otelcol_dogstatsd_contexts_overflow`.
	MaxContexts int `mapstructure:"max_contexts"`
	// Expiry is how long an idle counter keeps being emitted as 0 before its context is
	// forgotten (the Agent's dogstatsd_expiry_seconds); 0 forgets every context at the first
	// interval it had no sample in, so a flood of one-off contexts is released at once.
	Expiry time.Duration `mapstructure:"expiry"`
	// MaxNameLength is the longest metric name accepted, in bytes; longer lines are rejected and
	// counted with reason name_too_long.
	MaxNameLength int `mapstructure:"max_name_length"`
	// MaxTagsLength is the longest `|#` tags field accepted, in bytes; longer lines are rejected
	// and counted with reason tags_too_long. With MaxNameLength it bounds a context's key, so
	// the contexts' memory is bounded by max_contexts whatever clients send.
	MaxTagsLength int `mapstructure:"max_tags_length"`
	// MaxTimestamped bounds the timestamped (`|T`) samples each worker holds between emissions.
	MaxTimestamped int `mapstructure:"max_timestamped"`
	// TimerHistogramMapping says what `ms` and `h` samples become: exponential_histogram,
	// histogram (explicit bounds) or summary. `d` samples are always exponential histograms.
	// The contrib statsd receiver's list form is translated into it by Unmarshal (contrib.go).
	TimerHistogramMapping string `mapstructure:"timer_histogram_mapping"`
	// ExplicitBuckets are the upper bounds of the buckets of the histogram mapping.
	ExplicitBuckets []float64 `mapstructure:"explicit_buckets"`
	// SummaryQuantiles are the quantiles of the summary mapping, each in [0, 1].
	SummaryQuantiles []float64 `mapstructure:"summary_quantiles"`
	// MaxHistogramBuckets bounds the buckets per sign of an exponential histogram.
	MaxHistogramBuckets int `mapstructure:"max_histogram_buckets"`
	// MonotonicCounters marks counter sums as monotonic (false: DogStatsD counters may be negative).
	MonotonicCounters bool `mapstructure:"monotonic_counters"`
	// MaxPendingLogs bounds the events and service checks waiting for the next emission.
	MaxPendingLogs int `mapstructure:"max_pending_logs"`
	// ExtraTags are added to the tags of every metric, event and service check (the Agent's
	// `dogstatsd_tags`), `key:value` or bare, as a client would send them.
	ExtraTags []string `mapstructure:"extra_tags"`

	// OriginDetection configures how the sender's container is found.
	OriginDetection OriginConfig `mapstructure:"origin_detection"`

	_ struct{}
}

// UDPConfig configures the UDP listener.
type UDPConfig struct {
	// Endpoint is the host:port to listen on; empty disables UDP.
	Endpoint string `mapstructure:"endpoint"`
	// SoRcvbuf sets the socket receive buffer in bytes; 0 keeps the system default.
	SoRcvbuf int `mapstructure:"so_rcvbuf"`
	// Readers is the number of goroutines reading the socket, each with its own assembler.
	Readers int `mapstructure:"readers"`
	// EOLRequired drops the last line of a datagram when it does not end with '\n' and counts it
	// (reason no_eol), as the Agent's dogstatsd_eol_required "udp" does.
	EOLRequired bool `mapstructure:"eol_required"`
	_           struct{}
}

// UnixDatagramConfig configures the Unix datagram listener.
type UnixDatagramConfig struct {
	// Path of the socket file; empty disables the listener. A stale file is replaced.
	Path string `mapstructure:"path"`
	// SocketPermissions is the socket file's mode in octal; empty means "0600" (owner only).
	SocketPermissions string `mapstructure:"socket_permissions"`
	// SoRcvbuf sets the socket receive buffer in bytes; 0 keeps the system default.
	SoRcvbuf int `mapstructure:"so_rcvbuf"`
	// EOLRequired drops the last line of a datagram when it does not end with '\n' and counts it
	// (reason no_eol), as the Agent's dogstatsd_eol_required "uds" does.
	EOLRequired bool `mapstructure:"eol_required"`
	_           struct{}
}

// UnixStreamConfig configures the Unix stream listener.
type UnixStreamConfig struct {
	// Path of the socket file; empty disables the listener. A stale file is replaced.
	Path string `mapstructure:"path"`
	// SocketPermissions is the socket file's mode in octal; empty means "0600" (owner only).
	SocketPermissions string `mapstructure:"socket_permissions"`
	// MaxConnections caps the connections served at once; 0 means no cap.
	MaxConnections int `mapstructure:"max_connections"`
	// EOLRequired drops the last line of a frame when it does not end with '\n' and counts it
	// (reason no_eol), as the Agent's dogstatsd_eol_required "uds" does.
	EOLRequired bool `mapstructure:"eol_required"`
	_           struct{}
}

// TCPConfig configures the TCP listener.
type TCPConfig struct {
	// Endpoint is the host:port to listen on; empty disables TCP.
	Endpoint string `mapstructure:"endpoint"`
	// MaxConnections caps the connections served at once; 0 means no cap.
	MaxConnections int `mapstructure:"max_connections"`
	// EOLRequired drops a last line without '\n' when a client closes its connection, and
	// counts it (reason no_eol); without it that line is delivered on a clean close.
	EOLRequired bool `mapstructure:"eol_required"`
	_           struct{}
}

// OriginConfig configures origin detection.
type OriginConfig struct {
	// Enabled reads the sender's credentials on the Unix datagram socket (SO_PASSCRED) and maps
	// its pid to a container id through /proc/<pid>/cgroup (Linux only).
	Enabled bool `mapstructure:"enabled"`
	// ClientOrigin honours the origin clients send: the `|c:` container id (it wins over the
	// socket's) and the `|e:` external data (its pod uid and container name).
	ClientOrigin bool `mapstructure:"client_origin"`
	_            struct{}
}

var _ component.Config = (*Config)(nil)

var timerMappings = []string{"exponential_histogram", "histogram", "summary"}

// Validate checks the configuration; its messages name the YAML key and quote the bad value.
func (c *Config) Validate() error {
	if c.UDP.Endpoint == "" && c.UnixDatagram.Path == "" && c.UnixStream.Path == "" && c.TCP.Endpoint == "" {
		return errors.New("no transport enabled: set at least one of `udp.endpoint`, `unixgram.path`, `unix.path`, `tcp.endpoint`")
	}
	if c.UnixDatagram.Path != "" && c.UnixDatagram.Path == c.UnixStream.Path {
		return fmt.Errorf("`unixgram.path` and `unix.path` are the same file (%q)", c.UnixDatagram.Path)
	}
	for key, mode := range map[string]string{"unixgram": c.UnixDatagram.SocketPermissions, "unix": c.UnixStream.SocketPermissions} {
		if _, err := parsePermissions(mode); err != nil {
			return fmt.Errorf("`%s.socket_permissions` (%q) must be an octal file mode such as \"0600\"", key, mode)
		}
	}
	switch {
	case c.UDP.SoRcvbuf < 0:
		return fmt.Errorf("`udp.so_rcvbuf` (%d) must not be negative", c.UDP.SoRcvbuf)
	case c.UDP.Readers < 0:
		return fmt.Errorf("`udp.readers` (%d) must not be negative (0 means 1)", c.UDP.Readers)
	case c.UnixDatagram.SoRcvbuf < 0:
		return fmt.Errorf("`unixgram.so_rcvbuf` (%d) must not be negative", c.UnixDatagram.SoRcvbuf)
	case c.UnixStream.MaxConnections < 0:
		return fmt.Errorf("`unix.max_connections` (%d) must not be negative", c.UnixStream.MaxConnections)
	case c.TCP.MaxConnections < 0:
		return fmt.Errorf("`tcp.max_connections` (%d) must not be negative", c.TCP.MaxConnections)
	case c.BufferSize < 512 || c.BufferSize > 1<<20:
		return fmt.Errorf("`buffer_size` (%d) must be between 512 and 1048576 bytes", c.BufferSize)
	case c.PacketBufferSize <= 0:
		return fmt.Errorf("`packet_buffer_size` (%d) must be positive", c.PacketBufferSize)
	case c.PacketBufferFlushTimeout <= 0:
		return fmt.Errorf("`packet_buffer_flush_timeout` (%s) must be positive", c.PacketBufferFlushTimeout)
	case c.QueueSize <= 0:
		return fmt.Errorf("`queue_size` (%d) must be positive", c.QueueSize)
	case c.Workers < 0:
		return fmt.Errorf("`workers` (%d) must not be negative (0 means CPUs - 2, at least 2)", c.Workers)
	case c.StringInternerSize <= 0:
		return fmt.Errorf("`string_interner_size` (%d) must be positive", c.StringInternerSize)
	case c.BatchSize <= 0:
		return fmt.Errorf("`batch_size` (%d) must be positive", c.BatchSize)
	case c.AggregationInterval < time.Millisecond:
		return fmt.Errorf("`aggregation_interval` (%s) must be at least 1ms", c.AggregationInterval)
	case c.MaxContexts <= 0:
		return fmt.Errorf("`max_contexts` (%d) must be positive", c.MaxContexts)
	case c.MaxNameLength <= 0:
		return fmt.Errorf("`max_name_length` (%d) must be positive", c.MaxNameLength)
	case c.MaxTagsLength <= 0:
		return fmt.Errorf("`max_tags_length` (%d) must be positive", c.MaxTagsLength)
	case c.Expiry < 0:
		return fmt.Errorf("`expiry` (%s) must not be negative", c.Expiry)
	case c.MaxTimestamped <= 0:
		return fmt.Errorf("`max_timestamped` (%d) must be positive", c.MaxTimestamped)
	case !slices.Contains(timerMappings, c.TimerHistogramMapping):
		return fmt.Errorf("`timer_histogram_mapping` (%q) must be one of %q", c.TimerHistogramMapping, timerMappings)
	case c.MaxHistogramBuckets < 2:
		return fmt.Errorf("`max_histogram_buckets` (%d) must be at least 2", c.MaxHistogramBuckets)
	case c.MaxPendingLogs <= 0:
		return fmt.Errorf("`max_pending_logs` (%d) must be positive", c.MaxPendingLogs)
	case slices.IndexFunc(c.ExtraTags, badTag) >= 0:
		i := slices.IndexFunc(c.ExtraTags, badTag)
		return fmt.Errorf("`extra_tags[%d]` (%q) must be a non-empty DogStatsD tag without ',', '|' or line breaks", i, c.ExtraTags[i])
	}
	if c.TimerHistogramMapping == "histogram" {
		if len(c.ExplicitBuckets) == 0 {
			return errors.New("`explicit_buckets` must not be empty when `timer_histogram_mapping` is \"histogram\"")
		}
		for i, b := range c.ExplicitBuckets {
			if math.IsNaN(b) || math.IsInf(b, 0) || (i > 0 && b <= c.ExplicitBuckets[i-1]) {
				return fmt.Errorf("`explicit_buckets` (%v) must be finite and strictly increasing", c.ExplicitBuckets)
			}
		}
	}
	if c.TimerHistogramMapping == "summary" {
		for _, q := range c.SummaryQuantiles {
			if !(q >= 0 && q <= 1) {
				return fmt.Errorf("`summary_quantiles` (%v) must all be in [0, 1]", c.SummaryQuantiles)
			}
		}
	}
	return nil
}

// parsePermissions reads an octal file mode; empty means 0600 (owner read/write).
func parsePermissions(s string) (os.FileMode, error) {
	if s == "" {
		return 0o600, nil
	}
	v, err := strconv.ParseUint(strings.TrimPrefix(s, "0o"), 8, 32)
	if err != nil || v > 0o777 {
		return 0, fmt.Errorf("bad mode %q", s)
	}
	return os.FileMode(v), nil
}

// badTag reports a tag a client could not have sent: empty, or holding a field separator.
func badTag(tag string) bool { return tag == "" || strings.ContainsAny(tag, ",|\n\r") }
