package chunkqueryextension

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/doghouse-otel/doghouse/extension/chunkqueryextension/internal/metadata"
)

func loadConfig(t *testing.T, name string) *Config {
	t.Helper()
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	sub, err := cm.Sub(component.NewIDWithName(metadata.Type, name).String())
	require.NoError(t, err)
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	require.NoError(t, sub.Unmarshal(cfg))
	return cfg
}

func TestConfigDefaults(t *testing.T) {
	cfg := loadConfig(t, "")
	require.NoError(t, cfg.Validate())
	assert.Equal(t, "localhost:8090", cfg.ServerConfig.NetAddr.Endpoint)
	assert.Equal(t, "./data/chunks", cfg.Directory)
	assert.Equal(t, time.Second, cfg.RescanInterval)
	assert.Equal(t, 5*time.Minute, cfg.LookbackDelta)
	assert.Equal(t, 2*time.Minute, cfg.QueryTimeout)
	assert.Equal(t, LimitsConfig{MaxSeries: 10_000, MaxSamples: 20_000_000, MaxSteps: 11_000, MaxPoints: 1_000_000, MaxMatchers: 100}, cfg.Limits)
}

func TestConfigCustom(t *testing.T) {
	cfg := loadConfig(t, "custom")
	require.NoError(t, cfg.Validate())
	assert.Equal(t, "0.0.0.0:9500", cfg.ServerConfig.NetAddr.Endpoint)
	assert.Equal(t, 5*time.Second, cfg.RescanInterval)
	assert.Equal(t, 10*time.Minute, cfg.LookbackDelta)
	assert.Equal(t, 30*time.Second, cfg.QueryTimeout)
	assert.Equal(t, LimitsConfig{MaxSeries: 500, MaxSamples: 1_000_000, MaxSteps: 2000, MaxPoints: 50_000, MaxMatchers: 10}, cfg.Limits)
}

func TestConfigInvalid(t *testing.T) {
	err := loadConfig(t, "no_directory").Validate()
	assert.ErrorContains(t, err, "`directory` must be set")
	err = loadConfig(t, "bad_limits").Validate()
	assert.ErrorContains(t, err, "`lookback_delta` (0s) must be positive")
	assert.ErrorContains(t, err, "`limits::max_series` (0) must be positive")
	assert.ErrorContains(t, err, "`limits::max_samples` (-1) must be positive")
}
