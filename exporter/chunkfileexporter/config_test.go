package chunkfileexporter

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/doghouse-otel/doghouse/exporter/chunkfileexporter/internal/metadata"
)

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)

	def := createDefaultConfig().(*Config)
	def.Directory = "/var/lib/doghouse/chunks"

	tuned := createDefaultConfig().(*Config)
	tuned.Directory = "./data"
	tuned.Fsync = "always"
	tuned.FsyncInterval = 5 * time.Second
	tuned.MaxSegmentBytes = 1 << 20
	tuned.MaxSegmentAge = 10 * time.Minute
	tuned.MaxSegmentSeries = 5000
	tuned.Retention = RetentionConfig{MaxAge: 168 * time.Hour, MaxTotalBytes: 1 << 30}
	tuned.BlockDuration = 10 * time.Second
	tuned.Compression = "none"
	tuned.TimeoutConfig.Timeout = 3 * time.Second
	tuned.BackOff.Enabled = false
	tuned.QueueConfig = disabledQueue(tuned)
	tuned.Rollups = []RollupConfig{
		{Resolution: 5 * time.Minute, Retention: RetentionConfig{MaxAge: 48 * time.Hour}},
		{Resolution: time.Hour, Retention: RetentionConfig{MaxTotalBytes: 1_000_000}},
	}

	noRollups := createDefaultConfig().(*Config)
	noRollups.Directory = "/var/lib/doghouse/chunks"
	noRollups.Rollups = []RollupConfig{}

	for id, want := range map[component.ID]*Config{
		component.NewID(metadata.Type):                      def,
		component.NewIDWithName(metadata.Type, "tuned"):     tuned,
		component.NewIDWithName(metadata.Type, "norollups"): noRollups,
	} {
		t.Run(id.String(), func(t *testing.T) {
			cfg := createDefaultConfig()
			sub, err := cm.Sub(id.String())
			require.NoError(t, err)
			require.NoError(t, sub.Unmarshal(cfg))
			require.NoError(t, confmap.Validate(cfg))
			assert.Equal(t, want, cfg)
		})
	}
}

// disabledQueue returns what `sending_queue: enabled: false` unmarshals to.
func disabledQueue(*Config) configoptional.Optional[exporterhelper.QueueBatchConfig] {
	cm := confmap.NewFromStringMap(map[string]any{"sending_queue": map[string]any{"enabled": false}})
	cfg := createDefaultConfig().(*Config)
	if err := cm.Unmarshal(cfg); err != nil {
		panic(err)
	}
	return cfg.QueueConfig
}

func TestInvalidConfigs(t *testing.T) {
	for file, want := range map[string]string{
		"no_directory.yaml":      "`directory` must be set",
		"fsync.yaml":             "`fsync` (\"sometimes\") must be one of [\"always\" \"interval\" \"never\"]",
		"interval.yaml":          "`fsync_interval` (0s) must be positive with `fsync: interval`",
		"segment_bytes.yaml":     "`max_segment_bytes` (10) must be at least 4096",
		"segment_age.yaml":       "`max_segment_age` (0s) must be positive",
		"segment_series.yaml":    "`max_segment_series` (0) must be positive",
		"retention.yaml":         "`retention.max_total_bytes` (-1) must not be negative",
		"compression.yaml":       "`compression` (\"lz4\") must be one of [\"auto\" \"none\"]",
		"block.yaml":             "`block_duration` (0s) must be at least 1ms",
		"rollup_resolution.yaml": "`rollups[0].resolution` (1.5s) must be a whole number of seconds, at least 1s",
		"rollup_twice.yaml":      "`rollups[1].resolution` (1m0s) repeats `rollups[0]`",
		"rollup_retention.yaml":  "`rollups[0].retention.max_age` (-1h0m0s) must not be negative",
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
