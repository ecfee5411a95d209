package dogstatsdreceiver

import (
	"context"
	"slices"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"

	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/mapper"
	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/metadata"
	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/parse"
)

// Defaults: the Datadog Agent's values where it has one and they fit, except where noted.
const (
	defaultUDPEndpoint = "localhost:8125"
	// defaultSoRcvbuf is 4 MiB: the system default (208 KiB on Linux) holds about 50 datagrams of
	// 1432 bytes, a few milliseconds of a busy client's bursts, and the testbed measured kernel
	// drops there at a fraction of what the pipeline sustains (docs/benchmarks.md). Linux caps
	// it at net.core.rmem_max unless the collector has CAP_NET_ADMIN.
	defaultSoRcvbuf         = 4 << 20
	defaultBufferSize       = 8192 // one packet: the largest datagram Datadog clients send over UDS
	defaultPacketBufferSize = 32
	defaultFlushTimeout     = 100 * time.Millisecond
	defaultQueueSize        = 1024 // batches; 1024 * 32 * 8 KiB = 256 MiB worst case
	defaultInternerSize     = 4096
	defaultBatchSize        = 32
	// defaultInterval is 1 s, not the Agent's 10 s buckets: points are handed on within a second,
	// and each interval fills one of fairshare's 1 s windows.
	defaultInterval = time.Second
	// 100k contexts cost about 26 MB as counters, 271 MB as distributions of 20 distinct values
	// (BenchmarkContextMemory; README).
	defaultMaxContexts    = 100_000
	defaultMaxTimestamped = 100_000
	defaultMaxBuckets     = 160 // the OpenTelemetry SDK's default exponential histogram size
	defaultMaxPendingLogs = 10_000
	// defaultMaxHistogramValues keeps a timer's median and percentiles exact up to 1000 values
	// per context and interval: 8 KiB per context at rate 1, 16 KiB with sample rates
	// (BenchmarkContextMemory), and never more values than arrive in an interval.
	defaultMaxHistogramValues = 1000
	// Each stream connection holds about 3 * buffer_size bytes: 1024 of them about 24 MiB.
	defaultMaxConnections = 1024
)

// agentNamespaceExclusions is the Agent's default statsd_metric_namespace_blacklist
// (pkg/config/setup StandardStatsdPrefixes): the prefixes of the metrics the Agent, its tracers
// and its JMX integrations send through DogStatsD, which keep their names under a namespace.
var agentNamespaceExclusions = []string{
	"datadog.agent", "datadog.dogstatsd", "datadog.process", "datadog.trace_agent", "datadog.tracer",
	"activemq", "activemq_58", "airflow", "cassandra", "confluent", "hazelcast", "hive", "ignite",
	"jboss", "jvm", "kafka", "presto", "sidekiq", "solr", "tomcat",
	"runtime",
}

// NewFactory returns the factory of the dogstatsd receiver.
func NewFactory() receiver.Factory {
	return receiver.NewFactory(
		metadata.Type,
		createDefaultConfig,
		receiver.WithMetrics(createMetrics, metadata.MetricsStability),
		receiver.WithLogs(createLogs, metadata.LogsStability),
	)
}

func createDefaultConfig() component.Config {
	return &Config{
		// eol_required is off on every transport, as the Agent's dogstatsd_eol_required is [].
		UDP:                      UDPConfig{Endpoint: defaultUDPEndpoint, SoRcvbuf: defaultSoRcvbuf, Readers: 1},
		UnixStream:               UnixStreamConfig{MaxConnections: defaultMaxConnections},
		TCP:                      TCPConfig{MaxConnections: defaultMaxConnections},
		BufferSize:               defaultBufferSize,
		PacketBufferSize:         defaultPacketBufferSize,
		PacketBufferFlushTimeout: defaultFlushTimeout,
		QueueSize:                defaultQueueSize,
		StringInternerSize:       defaultInternerSize,
		BatchSize:                defaultBatchSize,
		AggregationInterval:      defaultInterval,
		MaxContexts:              defaultMaxContexts,
		MaxNameLength:            parse.DefaultMaxNameLength,
		MaxTagsLength:            parse.DefaultMaxTagsLength,
		MaxTimestamped:           defaultMaxTimestamped,
		TimerHistogramMapping:    "exponential_histogram",
		ExplicitBuckets:          []float64{1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000},
		SummaryQuantiles:         []float64{0.5, 0.9, 0.95, 0.99},
		MaxHistogramBuckets:      defaultMaxBuckets,
		MaxPendingLogs:           defaultMaxPendingLogs,

		// Metric names: the Agent's mapper cache size and namespace exclusions.
		MapperCacheSize:           mapper.DefaultCacheSize,
		MetricNamespaceExclusions: slices.Clone(agentNamespaceExclusions),
		// The Agent's defaults (pkg/config/setup): what agent_aggregates emits.
		HistogramAggregates:  []string{"max", "median", "avg", "count"},
		HistogramPercentiles: []Percentile{0.95},
		MaxHistogramValues:   defaultMaxHistogramValues,
	}
}

// receivers holds one receiver per configuration, shared by the metrics and logs pipelines that
// name it: both signals come off the same sockets.
var receivers = struct {
	sync.Mutex
	m map[*Config]*dogstatsdReceiver
}{m: map[*Config]*dogstatsdReceiver{}}

func shared(cfg *Config, set receiver.Settings) *dogstatsdReceiver {
	receivers.Lock()
	defer receivers.Unlock()
	r, ok := receivers.m[cfg]
	if !ok {
		r = newReceiver(cfg, set, func() {
			receivers.Lock()
			delete(receivers.m, cfg)
			receivers.Unlock()
		})
		receivers.m[cfg] = r
	}
	return r
}

func createMetrics(_ context.Context, set receiver.Settings, cfg component.Config, next consumer.Metrics) (receiver.Metrics, error) {
	r := shared(cfg.(*Config), set)
	r.metrics = next
	return r, nil
}

func createLogs(_ context.Context, set receiver.Settings, cfg component.Config, next consumer.Logs) (receiver.Logs, error) {
	r := shared(cfg.(*Config), set)
	r.logs = next
	return r, nil
}
