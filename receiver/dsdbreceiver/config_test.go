package dsdbreceiver

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/doghouse-otel/doghouse/receiver/dsdbreceiver/internal/metadata"
)

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	ext := component.MustNewID("chunkquery")
	for _, tc := range []struct {
		id   component.ID
		want *Config
	}{
		{id: component.NewID(metadata.Type), want: createDefaultConfig().(*Config)},
		{id: component.NewIDWithName(metadata.Type, "all"), want: &Config{
			Endpoint: "0.0.0.0:14242", MaxConnections: 64, IdleTimeout: 30 * time.Second,
			MaxBatchPoints: 1000, FlushTimeout: 50 * time.Millisecond, HTTPHandlerExtension: &ext,
			OpenTSDB:   OpenTSDBConfig{MaxLineLength: 1024, MaxTags: 16, AllowSpecialChars: "!:", MaxRequestBodySize: 1 << 20},
			StatsHouse: StatsHouseConfig{UDP: false, MaxMessageSize: 65536, MaxTags: 20},
		}},
	} {
		t.Run(tc.id.String(), func(t *testing.T) {
			cfg := createDefaultConfig()
			sub, err := cm.Sub(tc.id.String())
			require.NoError(t, err)
			require.NoError(t, sub.Unmarshal(cfg))
			require.NoError(t, cfg.(*Config).Validate())
			assert.Equal(t, tc.want, cfg)
		})
	}
}

func TestDefaults(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	assert.Equal(t, "localhost:4242", cfg.Endpoint)
	assert.Equal(t, 8, cfg.OpenTSDB.MaxTags)
	assert.True(t, cfg.StatsHouse.UDP)
	assert.Nil(t, cfg.HTTPHandlerExtension)
	require.NoError(t, cfg.Validate())
}

func TestInvalidConfig(t *testing.T) {
	for _, tc := range []struct {
		conf map[string]any
		msg  string
	}{
		{map[string]any{"endpoint": "4242"}, "`endpoint` (\"4242\") must be host:port"},
		{map[string]any{"max_connections": 0}, "`max_connections` (0) must be positive"},
		{map[string]any{"idle_timeout": "0s"}, "`idle_timeout` (0s) must be positive"},
		{map[string]any{"max_batch_points": -1}, "`max_batch_points` (-1) must be positive"},
		{map[string]any{"flush_timeout": "0s"}, "`flush_timeout` (0s) must be positive"},
		{map[string]any{"opentsdb": map[string]any{"max_line_length": 10}}, "`opentsdb::max_line_length` (10) must be between 64 and 1048576 bytes"},
		{map[string]any{"opentsdb": map[string]any{"max_tags": 0}}, "`opentsdb::max_tags` (0) must be positive"},
		{map[string]any{"opentsdb": map[string]any{"max_request_body_size": 0}}, "`opentsdb::max_request_body_size` (0) must be positive"},
		{map[string]any{"opentsdb": map[string]any{"allow_special_chars": "a b"}}, "`opentsdb::allow_special_chars` (\"a b\") must not hold ' ', '=' or line breaks"},
		{map[string]any{"statshouse": map[string]any{"max_message_size": 100}}, "`statshouse::max_message_size` (100) must be between 1024 and 67108864 bytes"},
		{map[string]any{"statshouse": map[string]any{"max_tags": -2}}, "`statshouse::max_tags` (-2) must be positive"},
	} {
		cfg := createDefaultConfig().(*Config)
		require.NoError(t, confmap.NewFromStringMap(tc.conf).Unmarshal(cfg))
		err := cfg.Validate()
		require.Error(t, err, tc.msg)
		assert.Contains(t, err.Error(), tc.msg)
	}
}
