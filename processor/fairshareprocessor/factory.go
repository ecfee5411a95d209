package fairshareprocessor

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/processor"

	"github.com/doghouse-otel/doghouse/processor/fairshareprocessor/internal/metadata"
)

const (
	defaultResolution = time.Second
	// 30 s: a point delayed by a short network or exporter hiccup still counts (in the window
	// open when it arrives); older points would only distort that window.
	defaultMaxDelay = 30 * time.Second
	// 800 ms: long enough for a local pipeline that emits its interval right after it ends (the
	// dogstatsd receiver took 160-220 ms per interval of 100,000 new contexts on the 2-core test
	// machine), and short enough that the window is flushed (30-40 ms there) and recycled before
	// the receiver's next interval fills the next one, so a flood holds one window's rows per
	// shard instead of two. Gateways behind agents should raise it to cover the agents' flush and
	// spread.
	defaultGrace = 800 * time.Millisecond
	// 1,000,000 rows at about 300 bytes each (README: memory per row) bound the windows to
	// about 300 MB; 100,000 per metric keeps one exploding metric well below that.
	// 20,000 metric names cover a large fleet's custom metrics; see the README for the memory
	// a tracked metric costs.
	defaultMaxMetrics = 20_000
	// 50 per-metric points per metametric and flush show who dominates without letting a flood
	// of names flood the metametrics too.
	defaultMetametricsTopN  = 50
	defaultMaxRows          = 1_000_000
	defaultMaxRowsPerMetric = 100_000
	// 1 MiB/s is about 13,000 counter rows per second with a few attributes each.
	defaultBytesPerSecond = 1 << 20
)

// NewFactory returns the factory of the fairshare processor.
func NewFactory() processor.Factory {
	return processor.NewFactory(metadata.Type, createDefaultConfig,
		processor.WithMetrics(createMetrics, metadata.MetricsStability))
}

func createDefaultConfig() component.Config {
	return &Config{
		Resolution:            defaultResolution,
		KeyResourceAttributes: []string{keepAllResourceAttrsID},
		MaxDelay:              defaultMaxDelay,
		Grace:                 defaultGrace,
		SpreadFlush:           true,
		MaxMetrics:            defaultMaxMetrics,
		MaxRows:               defaultMaxRows,
		MaxRowsPerMetric:      defaultMaxRowsPerMetric,
		GaugeStats:            true,
		Budget:                BudgetConfig{BytesPerSecond: defaultBytesPerSecond},
		Mode:                  ModeStrict,
		FairShare:             FairShareConfig{Levels: []string{levelMetric}},
		Mainstays:             true,
		Metametrics:           true,
		MetametricsTopN:       defaultMetametricsTopN,
	}
}

func createMetrics(_ context.Context, set processor.Settings, cfg component.Config, next consumer.Metrics) (processor.Metrics, error) {
	return newProcessor(set, cfg.(*Config), next)
}
