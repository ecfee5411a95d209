package chunkqueryextension

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/extension"

	"github.com/doghouse-otel/doghouse/extension/chunkqueryextension/internal/metadata"
)

const (
	defaultEndpoint = "localhost:8090"
	// Prometheus' defaults for the query API.
	defaultLookbackDelta = 5 * time.Minute
	defaultQueryTimeout  = 2 * time.Minute
	defaultMaxSteps      = 11_000
	// 10,000 series and 20 million points (about 480 MB while a query runs at 24 bytes a point)
	// cover a day of a busy host's series through the rollup tiers; raw data at 1 s for a day
	// (86,400 points a series) needs the tiers beyond about 230 series.
	defaultMaxSeries  = 10_000
	defaultMaxSamples = 20_000_000
	// A result of 1,000,000 points is about 30 MB of JSON.
	defaultMaxPoints   = 1_000_000
	defaultMaxMatchers = 100
)

// NewFactory returns the factory of the chunkquery extension.
func NewFactory() extension.Factory {
	return extension.NewFactory(metadata.Type, createDefaultConfig, create, metadata.ExtensionStability)
}

func createDefaultConfig() component.Config {
	srv := confighttp.NewDefaultServerConfig()
	srv.NetAddr.Endpoint = defaultEndpoint
	return &Config{
		ServerConfig:   srv,
		RescanInterval: time.Second,
		LookbackDelta:  defaultLookbackDelta,
		QueryTimeout:   defaultQueryTimeout,
		Limits: LimitsConfig{
			MaxSeries: defaultMaxSeries, MaxSamples: defaultMaxSamples, MaxSteps: defaultMaxSteps,
			MaxPoints: defaultMaxPoints, MaxMatchers: defaultMaxMatchers,
		},
	}
}

func create(_ context.Context, set extension.Settings, cfg component.Config) (extension.Extension, error) {
	return newExtension(cfg.(*Config), set)
}
