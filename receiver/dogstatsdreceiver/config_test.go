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
			SummaryQuantiles: []float64{0.5}, MaxHistogramBuckets: 80, MonotonicCounters: true, EnableMetricType: true,
			HistogramAggregates: []string{"max", "sum"}, HistogramPercentiles: []Percentile{0.99}, MaxHistogramValues: 200,
			HistogramCopyToDistribution: true, HistogramCopyToDistributionPrefix: "dist.",
			MaxPendingLogs:  100,
			ExtraTags:       []string{"dc:eu", "canary"},
			OriginDetection: OriginConfig{Enabled: true, ClientOrigin: true},
			MapperProfiles: []MapperProfile{
				{Name: "airflow", Prefix: "airflow.", Mappings: []MapperMapping{
					{Match: "airflow.job.duration.*.*", Name: "airflow.job.duration", Tags: map[string]string{"job_type": "$1", "job_name": "${2}"}},
					{Match: `airflow\.dag\.(\w+)\.duration`, MatchType: "regex", Name: "airflow.dag.duration", Tags: map[string]string{"dag_id": "$1"}},
				}},
				{Name: "everything", Prefix: "*", Mappings: []MapperMapping{{Match: "legacy.*", Name: "modern.$1"}}},
			},
			MapperCacheSize:            500,
			MetricNamespace:            "team",
			MetricNamespaceExclusions:  []string{"jvm", "datadog.agent"},
			MetricBlocklist:            []string{"team.debug", "team.test."},
			MetricBlocklistMatchPrefix: true,
		}},
		{id: component.NewIDWithName(metadata.Type, "no_exclusions"), want: func() *Config {
			// An empty list replaces the Agent's default exclusions: every name is prefixed.
			cfg := createDefaultConfig().(*Config)
			cfg.MetricNamespace = "team."
			cfg.MetricNamespaceExclusions = []string{}
			return cfg
		}()},
		{id: component.NewIDWithName(metadata.Type, "agent"), want: func() *Config {
			// Percentiles as the Agent writes them (strings) or as numbers.
			c := createDefaultConfig().(*Config)
			c.TimerHistogramMapping = "agent_aggregates"
			c.HistogramAggregates = []string{"max", "min", "median", "avg", "sum", "count"}
			c.HistogramPercentiles = []Percentile{0.5, 0.99, 0.95, 0.29}
			c.MaxHistogramValues = 0
			return c
		}()},
		{id: component.NewIDWithName(metadata.Type, "gauge"), want: withDefaults(func(c *Config) {
			c.TimerHistogramMapping, c.MaxTimestamped = "gauge", 5000
		})},
		{id: component.NewIDWithName(metadata.Type, "disabled"), want: withDefaults(func(c *Config) { c.TimerHistogramMapping = "disabled" })},
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
	// dogstatsd_mapper_cache_size and statsd_metric_namespace_blacklist (pkg/config/setup).
	assert.Equal(t, 1000, cfg.MapperCacheSize)
	assert.Equal(t, []string{
		"datadog.agent", "datadog.dogstatsd", "datadog.process", "datadog.trace_agent", "datadog.tracer",
		"activemq", "activemq_58", "airflow", "cassandra", "confluent", "hazelcast", "hive", "ignite",
		"jboss", "jvm", "kafka", "presto", "sidekiq", "solr", "tomcat", "runtime",
	}, cfg.MetricNamespaceExclusions)
	assert.Empty(t, cfg.MetricNamespace)
	assert.Empty(t, cfg.MetricBlocklist)
	assert.Empty(t, cfg.MapperProfiles)
	// pkg/config/setup: histogram_aggregates, histogram_percentiles, histogram_copy_to_distribution(_prefix).
	assert.Equal(t, []string{"max", "median", "avg", "count"}, cfg.HistogramAggregates)
	assert.Equal(t, []Percentile{0.95}, cfg.HistogramPercentiles)
	assert.False(t, cfg.HistogramCopyToDistribution)
	assert.Empty(t, cfg.HistogramCopyToDistributionPrefix)
	assert.Equal(t, "exponential_histogram", cfg.TimerHistogramMapping)
	assert.Equal(t, 1000, cfg.MaxHistogramValues)
	assert.False(t, cfg.UDP.EOLRequired || cfg.UnixDatagram.EOLRequired || cfg.UnixStream.EOLRequired || cfg.TCP.EOLRequired)
	assert.NoError(t, cfg.Validate())
}

// Percentiles are named by their whole percentage, rounded as the Agent rounds them (0.29 is
// 28.999… times 100; its test expects 29, 57 and 58 for 0.29, 0.57 and 0.58).
func TestPercentileNames(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.HistogramPercentiles = []Percentile{0.95, 0.96, 0.28, 0.29, 0.57, 0.58, 0, 1}
	require.NoError(t, cfg.Validate())
	assert.Equal(t, []int{95, 96, 28, 29, 57, 58, 0, 100}, cfg.percents())
}

// A percentile that is not a number fails when the configuration is read.
func TestPercentileNotANumber(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "invalid", "histogram_percentiles_text.yaml"))
	require.NoError(t, err)
	err = cm.Unmarshal(createDefaultConfig())
	require.ErrorContains(t, err, `histogram percentile "p95" is not a number such as 0.95`)
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
		"mapping.yaml":         "`timer_histogram_mapping` (\"histograms\") must be one of [\"exponential_histogram\" \"histogram\" \"summary\" \"agent_aggregates\" \"gauge\" \"disabled\"]",
		"buckets.yaml":         "`explicit_buckets` ([10 5]) must be finite and strictly increasing",
		"quantiles.yaml":       "`summary_quantiles` ([1.5]) must all be in [0, 1]",
		"extra_tags.yaml":      "`extra_tags[1]` (\"a,b\") must be a non-empty DogStatsD tag without ',', '|' or line breaks",

		// Metric names.
		"mapper_cache_size.yaml":    "`mapper_cache_size` (0) must be positive",
		"mapper_profiles.yaml":      "`mapper_profiles[0].mappings[1].match` (\"airflow.dag.**\") must not contain consecutive '*' (profile \"airflow\")",
		"mapper_regex.yaml":         "`mapper_profiles[1].mappings[0].match` (\"web\\\\.(get|post\") is not a valid regular expression: error parsing regexp: missing closing ): `^web\\.(get|post$` (profile \"web\")",
		"metric_namespace.yaml":     "`metric_namespace` (\"team:a\") must not contain ':', '|' or line breaks: no client could send such a name",
		"namespace_exclusions.yaml": "`metric_namespace_exclusions[1]` (\"\") must not be empty: it would exclude every name",
		"metric_blocklist.yaml":     "`metric_blocklist[1]` (\"\") must not be empty",
		// The Agent's histogram options.
		"histogram_aggregates.yaml":           "`histogram_aggregates[1]` (\"p99\") must be one of [\"max\" \"min\" \"median\" \"avg\" \"sum\" \"count\"]",
		"histogram_aggregates_twice.yaml":     "`histogram_aggregates[2]` (\"max\") is listed twice",
		"histogram_percentiles.yaml":          "`histogram_percentiles[1]` (1.5) must be in [0, 1], such as 0.95",
		"histogram_percentiles_negative.yaml": "`histogram_percentiles[0]` (-0.5) must be in [0, 1], such as 0.95",
		"histogram_percentiles_fraction.yaml": "`histogram_percentiles[0]` (0.999) must be a whole percentage such as 0.95 or 0.99 (the Agent would round it and name it .100percentile)",
		"histogram_percentiles_twice.yaml":    "`histogram_percentiles[1]` (0.95) is .95percentile again",
		"max_histogram_values.yaml":           "`max_histogram_values` (-1) must not be negative (0 estimates every median and percentile)",
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
