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

	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/aggregate"
	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/mapper"
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
	// histogram counts are kept; they are counted in `otelcol_receiver_dogstatsd_contexts_overflow`.
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
	// MaxTimestamped bounds the timestamped (`|T`) samples, and the values of a type mapped to
	// gauge, each worker's aggregator shard holds between emissions; beyond it they are dropped
	// and counted in otelcol_receiver_dogstatsd_timestamped_dropped.
	MaxTimestamped int `mapstructure:"max_timestamped"`
	// TimerHistogramMapping says what `ms` and `h` samples become: exponential_histogram,
	// histogram (explicit bounds), summary, agent_aggregates (the Datadog Agent's gauges
	// `<name>.max`, `.median`, `.95percentile`…, per HistogramAggregates and
	// HistogramPercentiles), gauge (every value a gauge point of its own, not aggregated, held
	// within MaxTimestamped) or disabled (dropped and counted). `d` samples are exponential
	// histograms. The contrib statsd receiver's list form is translated by Unmarshal (contrib.go)
	// into it or, when it gives `ms`, `h` and `d` different outputs, into perType.
	TimerHistogramMapping string `mapstructure:"timer_histogram_mapping"`
	// ExplicitBuckets are the upper bounds of the buckets of the histogram mapping.
	ExplicitBuckets []float64 `mapstructure:"explicit_buckets"`
	// SummaryQuantiles are the quantiles of the summary mapping, each in [0, 1].
	SummaryQuantiles []float64 `mapstructure:"summary_quantiles"`
	// MaxHistogramBuckets bounds the buckets per sign of an exponential histogram.
	MaxHistogramBuckets int `mapstructure:"max_histogram_buckets"`
	// HistogramAggregates are the gauges the agent_aggregates mapping emits per timer or
	// histogram context and interval, as the Agent's `histogram_aggregates`: any of max, min,
	// median, avg, sum and count, each named `<name>.<aggregate>`.
	HistogramAggregates []string `mapstructure:"histogram_aggregates"`
	// HistogramPercentiles are the percentiles the agent_aggregates mapping emits, as the
	// Agent's `histogram_percentiles`: whole percentages in [0, 1] written as numbers or strings
	// ("0.95"), each named `<name>.<p>percentile` (0.95 → `.95percentile`).
	HistogramPercentiles []Percentile `mapstructure:"histogram_percentiles"`
	// MaxHistogramValues bounds the values a timer or histogram context keeps per interval
	// under agent_aggregates, so its median and percentiles are exact as in the Agent (which
	// keeps them all); beyond it they are estimated from an exponential histogram (error under
	// half a bucket). 0 estimates them always.
	MaxHistogramValues int `mapstructure:"max_histogram_values"`
	// HistogramCopyToDistribution also feeds every `h` and `ms` sample, with its tags, rate and
	// origin, as a `d` sample named HistogramCopyToDistributionPrefix + its name (the Agent's
	// `histogram_copy_to_distribution`).
	HistogramCopyToDistribution bool `mapstructure:"histogram_copy_to_distribution"`
	// HistogramCopyToDistributionPrefix prefixes the names of those copies (the Agent's
	// `histogram_copy_to_distribution_prefix`); empty keeps the name.
	HistogramCopyToDistributionPrefix string `mapstructure:"histogram_copy_to_distribution_prefix"`
	// MonotonicCounters marks counter sums as monotonic (false: DogStatsD counters may be negative).
	MonotonicCounters bool `mapstructure:"monotonic_counters"`
	// EnableMetricType adds the attribute `metric_type` to every data point: counter, gauge,
	// timing (`ms`), histogram (`h`), distribution (`d`) or set, as the contrib statsd
	// receiver's key of the same name does. It wins over a client tag `metric_type:…`.
	EnableMetricType bool `mapstructure:"enable_metric_type"`
	// MaxPendingLogs bounds the events and service checks waiting for the next emission.
	MaxPendingLogs int `mapstructure:"max_pending_logs"`
	// ExtraTags are added to the tags of every metric, event and service check (the Agent's
	// `dogstatsd_tags`), `key:value` or bare, as a client would send them.
	ExtraTags []string `mapstructure:"extra_tags"`

	// Metric names go through MapperProfiles, then MetricNamespace, then MetricBlocklist, in the
	// Agent's order; events and service checks are not renamed.
	//
	// MapperProfiles rename metrics whose names match a pattern and turn parts of the name into
	// tags (the Agent's dogstatsd_mapper_profiles): the first profile whose prefix starts the
	// name decides, and the first of its mappings that matches the whole name wins.
	MapperProfiles []MapperProfile `mapstructure:"mapper_profiles"`
	// MapperCacheSize bounds the names whose mapping result (matched or not) each worker keeps
	// (the Agent's dogstatsd_mapper_cache_size).
	MapperCacheSize int `mapstructure:"mapper_cache_size"`
	// MetricNamespace is prefixed to every metric name, with a '.' appended when missing (the
	// Agent's statsd_metric_namespace); empty: none.
	MetricNamespace string `mapstructure:"metric_namespace"`
	// MetricNamespaceExclusions are name prefixes MetricNamespace is not added to (the Agent's
	// statsd_metric_namespace_blacklist, whose default list it has).
	MetricNamespaceExclusions []string `mapstructure:"metric_namespace_exclusions"`
	// MetricBlocklist lists metric names whose samples are dropped, counted in
	// otelcol_receiver_dogstatsd_samples_blocked (the Agent's statsd_metric_blocklist). Names are
	// compared after the mapper and the namespace.
	MetricBlocklist []string `mapstructure:"metric_blocklist"`
	// MetricBlocklistMatchPrefix makes MetricBlocklist entries match every name they start
	// (the Agent's statsd_metric_blocklist_match_prefix).
	MetricBlocklistMatchPrefix bool `mapstructure:"metric_blocklist_match_prefix"`

	// OriginDetection configures how the sender's container is found.
	OriginDetection OriginConfig `mapstructure:"origin_detection"`

	// perType is what a contrib statsd receiver's timer_histogram_mapping list asks for that
	// this receiver's keys cannot say: `ms`, `h` and `d` apart, each with its own histogram
	// size, summary percentiles, scale cap and buckets per name. Unmarshal fills it
	// (contrib.go); when set it takes the place of TimerHistogramMapping. nil otherwise.
	perType *typeMappings

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

// MapperProfile is a group of mappings for the names starting with Prefix (the Agent's
// dogstatsd_mapper_profiles entry).
type MapperProfile struct {
	// Name identifies the profile in configuration errors.
	Name string `mapstructure:"name"`
	// Prefix selects the names the profile applies to; "*" selects every name.
	Prefix string `mapstructure:"prefix"`
	// Mappings are tried in order; the first that matches the whole name wins.
	Mappings []MapperMapping `mapstructure:"mappings"`
	_        struct{}
}

// MapperMapping renames the metrics whose name matches Match.
type MapperMapping struct {
	// Match is a wildcard pattern (letters, digits, '-', '_', '.', and '*' for one dot-free
	// piece) or, with MatchType "regex", a regular expression; it must match the whole name.
	Match string `mapstructure:"match"`
	// MatchType is "wildcard" (the default) or "regex".
	MatchType string `mapstructure:"match_type"`
	// Name is the new name; `$1` or `${1}` stand for the first piece the pattern captured.
	Name string `mapstructure:"name"`
	// Tags are added to the sample's tags; their values expand `$n` like Name. A `host` tag
	// sets the host, as a `host:` tag on the line does.
	Tags map[string]string `mapstructure:"tags"`
	_    struct{}
}

// mapperProfiles converts the configured profiles for the mapper package.
func (c *Config) mapperProfiles() []mapper.Profile {
	out := make([]mapper.Profile, 0, len(c.MapperProfiles))
	for _, p := range c.MapperProfiles {
		mp := mapper.Profile{Name: p.Name, Prefix: p.Prefix, Mappings: make([]mapper.Mapping, 0, len(p.Mappings))}
		for _, m := range p.Mappings {
			mp.Mappings = append(mp.Mappings, mapper.Mapping{Match: m.Match, MatchType: m.MatchType, Name: m.Name, Tags: m.Tags})
		}
		out = append(out, mp)
	}
	return out
}

// OriginConfig configures origin detection.
type OriginConfig struct {
	// Enabled reads the sender's credentials on the Unix datagram socket (SO_PASSCRED) and maps
	// its pid to a container id through /proc/<pid>/cgroup (Linux only).
	Enabled bool `mapstructure:"enabled"`
	// ClientOrigin honours the origin clients send: the `|c:` container id (it wins over the
	// socket's) or cgroup v2 inode (mapped to its container by walking /sys/fs/cgroup), the
	// `|e:` external data (its pod uid and container name) and the `|card:` cardinality. The
	// `dd.internal.entity_id` and `dd.internal.card` tags are honoured either way, as the
	// Agent does.
	ClientOrigin bool `mapstructure:"client_origin"`
	_            struct{}
}

// Percentile is one of histogram_percentiles: a fraction in [0, 1], read from a YAML number or,
// as the Agent's configuration writes them, a string ("0.95").
type Percentile float64

// UnmarshalText reads a percentile written as a string.
func (p *Percentile) UnmarshalText(text []byte) error {
	v, err := strconv.ParseFloat(strings.TrimSpace(string(text)), 64)
	if err != nil {
		return fmt.Errorf("histogram percentile %q is not a number such as 0.95", text)
	}
	*p = Percentile(v)
	return nil
}

// percent is the whole percentage that names the percentile, rounded as the Agent does.
func (p Percentile) percent() int { return int(float64(p)*100 + 0.5) }

var _ component.Config = (*Config)(nil)

var timerMappings = []string{"exponential_histogram", "histogram", "summary", "agent_aggregates", "gauge", "disabled"}

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
	case c.MaxHistogramValues < 0:
		return fmt.Errorf("`max_histogram_values` (%d) must not be negative (0 estimates every median and percentile)", c.MaxHistogramValues)
	case c.MaxPendingLogs <= 0:
		return fmt.Errorf("`max_pending_logs` (%d) must be positive", c.MaxPendingLogs)
	case slices.IndexFunc(c.ExtraTags, badTag) >= 0:
		i := slices.IndexFunc(c.ExtraTags, badTag)
		return fmt.Errorf("`extra_tags[%d]` (%q) must be a non-empty DogStatsD tag without ',', '|' or line breaks", i, c.ExtraTags[i])
	case c.MapperCacheSize <= 0:
		return fmt.Errorf("`mapper_cache_size` (%d) must be positive", c.MapperCacheSize)
	case strings.ContainsAny(c.MetricNamespace, ":|\n\r"):
		return fmt.Errorf("`metric_namespace` (%q) must not contain ':', '|' or line breaks: no client could send such a name", c.MetricNamespace)
	case slices.Contains(c.MetricNamespaceExclusions, ""):
		return fmt.Errorf("`metric_namespace_exclusions[%d]` (\"\") must not be empty: it would exclude every name", slices.Index(c.MetricNamespaceExclusions, ""))
	case slices.Contains(c.MetricBlocklist, ""):
		return fmt.Errorf("`metric_blocklist[%d]` (\"\") must not be empty", slices.Index(c.MetricBlocklist, ""))
	}
	if _, err := mapper.Compile(c.mapperProfiles()); err != nil {
		return err
	}
	if c.perType != nil {
		if err := c.perType.validate(); err != nil {
			return err
		}
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
	if err := c.validateAgentOutputs(); err != nil {
		return err
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

// validateAgentOutputs checks histogram_aggregates and histogram_percentiles whatever the
// mapping: a bad entry is a mistake even while another mapping ignores it. Where the Agent logs
// and skips an entry it cannot use, or emits one name twice, the receiver refuses to start.
func (c *Config) validateAgentOutputs() error {
	for i, a := range c.HistogramAggregates {
		if !slices.Contains(aggregate.AgentAggregates, a) {
			return fmt.Errorf("`histogram_aggregates[%d]` (%q) must be one of %q", i, a, aggregate.AgentAggregates)
		}
		if slices.Index(c.HistogramAggregates, a) < i {
			return fmt.Errorf("`histogram_aggregates[%d]` (%q) is listed twice", i, a)
		}
	}
	for i, p := range c.HistogramPercentiles {
		v := float64(p)
		if !(v >= 0 && v <= 1) {
			return fmt.Errorf("`histogram_percentiles[%d]` (%v) must be in [0, 1], such as 0.95", i, v)
		}
		if math.Abs(v*100-float64(p.percent())) > 1e-9 {
			return fmt.Errorf("`histogram_percentiles[%d]` (%v) must be a whole percentage such as 0.95 or 0.99 (the Agent would round it and name it .%dpercentile)", i, v, p.percent())
		}
		if j := slices.IndexFunc(c.HistogramPercentiles, func(q Percentile) bool { return q.percent() == p.percent() }); j < i {
			return fmt.Errorf("`histogram_percentiles[%d]` (%v) is .%dpercentile again", i, v, p.percent())
		}
	}
	return nil
}

// percents returns histogram_percentiles as the whole percentages that name them.
func (c *Config) percents() []int {
	out := make([]int, len(c.HistogramPercentiles))
	for i, p := range c.HistogramPercentiles {
		out[i] = p.percent()
	}
	return out
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
