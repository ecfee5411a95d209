package chunkfileexporter

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/doghouse-otel/doghouse/exporter/chunkfileexporter/internal/metadata"
)

const (
	defaultFsyncInterval = time.Second
	// 256 MiB: large enough that a segment holds hours of a busy agent's data at about one
	// byte per point, small enough that retention deletes in reasonable steps.
	defaultMaxSegmentBytes = 256 << 20
	defaultMaxSegmentAge   = time.Hour
	// 50,000 series hold about 8 MB of writer state and cache entries (165 B each,
	// BenchmarkMemoryPerSeries). A push that brings more new series than this seals the segment
	// after every push: raise it above the series one push can carry (the dogstatsd receiver
	// sends at most 8192 points a push, fairshare's default budget about 13,000 rows a second).
	defaultMaxSegmentSeries = 50_000
	defaultBlockDuration    = time.Minute
	// Rollup tiers: 1-minute windows for a month (dashboards of a day to a month at a step
	// of a minute or more), 1-hour windows for 400 days (a year back, plus a month, for
	// year-over-year comparisons). What they cost on disk is in the README.
	defaultRollupFine      = time.Minute
	defaultRollupFineAge   = 30 * 24 * time.Hour
	defaultRollupCoarse    = time.Hour
	defaultRollupCoarseAge = 400 * 24 * time.Hour
	// defaultRollupMinPointsPerSeries: a segment needs two points per series on average to be
	// rolled up (a flood's segments hold one or two).
	defaultRollupMinPointsPerSeries = 2.0
)

// NewFactory returns the factory of the chunkfile exporter.
func NewFactory() exporter.Factory {
	return exporter.NewFactory(metadata.Type, createDefaultConfig,
		exporter.WithMetrics(createMetrics, metadata.MetricsStability))
}

func createDefaultConfig() component.Config {
	queue := exporterhelper.NewDefaultQueueConfig()
	queue.NumConsumers = 1 // one writer per directory; more consumers would only wait on its lock
	return &Config{
		Fsync:            "interval",
		FsyncInterval:    defaultFsyncInterval,
		MaxSegmentBytes:  defaultMaxSegmentBytes,
		MaxSegmentAge:    defaultMaxSegmentAge,
		MaxSegmentSeries: defaultMaxSegmentSeries,
		BlockDuration:    defaultBlockDuration,
		Compression:      "auto",
		Rollups: []RollupConfig{
			{Resolution: defaultRollupFine, Retention: RetentionConfig{MaxAge: defaultRollupFineAge}},
			{Resolution: defaultRollupCoarse, Retention: RetentionConfig{MaxAge: defaultRollupCoarseAge}},
		},
		RollupMinPointsPerSeries: defaultRollupMinPointsPerSeries,
		TimeoutConfig:            exporterhelper.NewDefaultTimeoutConfig(),
		BackOff:                  configretry.NewDefaultBackOffConfig(),
		QueueConfig:              configoptional.Some(queue),
	}
}

func createMetrics(ctx context.Context, set exporter.Settings, cfg component.Config) (exporter.Metrics, error) {
	c := cfg.(*Config)
	e := newExporter(c, set)
	return exporterhelper.NewMetrics(ctx, set, cfg, e.push,
		exporterhelper.WithStart(e.start),
		exporterhelper.WithShutdown(e.shutdown),
		exporterhelper.WithCapabilities(consumer.Capabilities{MutatesData: false}),
		exporterhelper.WithTimeout(c.TimeoutConfig),
		exporterhelper.WithRetry(c.BackOff),
		exporterhelper.WithQueue(c.QueueConfig),
	)
}
