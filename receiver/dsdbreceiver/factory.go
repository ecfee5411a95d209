package dsdbreceiver

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"

	"github.com/doghouse-otel/doghouse/receiver/dsdbreceiver/internal/metadata"
)

const (
	// defaultEndpoint is OpenTSDB's port (tsd.network.port 4242), on localhost.
	defaultEndpoint = "localhost:4242"
	// 1024 connections cost at most 64 MiB of read buffers (64 KiB each).
	defaultMaxConnections = 1024
	// defaultIdleTimeout: tcollector-style clients keep one connection and send every 15 s;
	// five minutes of silence is a client that went away without closing.
	defaultIdleTimeout = 5 * time.Minute
	// defaultMaxBatchPoints: one ConsumeMetrics call per 8192 points keeps the per-call cost
	// out of a 1.85 M lines/s stream; a full batch of gauges is about 2.4 MiB of pdata
	// (BenchmarkTelnet: 294 B a point).
	defaultMaxBatchPoints = 8192
	// defaultFlushTimeout: a point waits at most 200 ms for its batch to fill.
	defaultFlushTimeout = 200 * time.Millisecond
	// defaultMaxLineLength: OpenTSDB's telnet frame limit is 1024 bytes; 4 KiB leaves room for
	// long tag values without letting one line hold much memory.
	defaultMaxLineLength = 4096
	// defaultMaxTags is OpenTSDB's tsd.storage.max_tags.
	defaultMaxTags = 8
	// defaultMaxRequestBodySize: 16 MiB is about 155,000 data points of BenchmarkPutParser's JSON
	// (108 bytes a point).
	defaultMaxRequestBodySize = 16 << 20
	// defaultMaxMessageSize: 1 MiB, sixteen times the largest UDP datagram.
	defaultMaxMessageSize = 1 << 20
	// defaultStatsHouseMaxTags: StatsHouse's 48 tag slots (format.MaxTags).
	defaultStatsHouseMaxTags = 48
)

// NewFactory returns the factory of the dsdb receiver.
func NewFactory() receiver.Factory {
	return receiver.NewFactory(
		metadata.Type,
		createDefaultConfig,
		receiver.WithMetrics(createMetrics, metadata.MetricsStability),
	)
}

func createDefaultConfig() component.Config {
	return &Config{
		Endpoint:       defaultEndpoint,
		MaxConnections: defaultMaxConnections,
		IdleTimeout:    defaultIdleTimeout,
		MaxBatchPoints: defaultMaxBatchPoints,
		FlushTimeout:   defaultFlushTimeout,
		OpenTSDB: OpenTSDBConfig{
			MaxLineLength:      defaultMaxLineLength,
			MaxTags:            defaultMaxTags,
			MaxRequestBodySize: defaultMaxRequestBodySize,
		},
		StatsHouse: StatsHouseConfig{
			UDP:            true,
			MaxMessageSize: defaultMaxMessageSize,
			MaxTags:        defaultStatsHouseMaxTags,
		},
	}
}

func createMetrics(_ context.Context, set receiver.Settings, cfg component.Config, next consumer.Metrics) (receiver.Metrics, error) {
	return newReceiver(cfg.(*Config), set, next), nil
}
