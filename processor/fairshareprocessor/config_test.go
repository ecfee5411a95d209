package fairshareprocessor

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/doghouse-otel/doghouse/processor/fairshareprocessor/internal/metadata"
)

func TestDefaultConfig(t *testing.T) {
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	require.NoError(t, confmap.NewFromStringMap(map[string]any{}).Unmarshal(cfg))
	assert.Equal(t, &Config{
		Resolution:            time.Second,
		KeyResourceAttributes: []string{"*"},
		MaxDelay:              30 * time.Second,
		Grace:                 800 * time.Millisecond,
		SpreadFlush:           true,
		MaxMetrics:            20_000,
		MaxRows:               1_000_000,
		MaxRowsPerMetric:      100_000,
		GaugeStats:            true,
		Budget:                BudgetConfig{BytesPerSecond: 1 << 20},
		Mode:                  ModeStrict,
		FairShare:             FairShareConfig{Levels: []string{"metric"}},
		Mainstays:             true,
		Metametrics:           true,
		MetametricsTopN:       50,
	}, cfg)
	require.NoError(t, cfg.Validate())
}

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	tests := []struct {
		id   component.ID
		want *Config
	}{
		{id: component.NewID(metadata.Type), want: createDefaultConfig().(*Config)},
		{id: component.NewIDWithName(metadata.Type, "full"), want: &Config{
			Resolution: 5 * time.Second,
			ResolutionOverrides: []ResolutionOverride{
				{Metrics: "batch.*", Resolution: time.Minute},
				{Metrics: "http.server.?", Resolution: 15 * time.Second},
			},
			MergeAttributes:       []string{"host.name", "container.id"},
			MaxHostAttribute:      "host.name",
			KeyResourceAttributes: []string{"service.namespace", "service.name"},
			MaxDelay:              2 * time.Minute,
			Grace:                 3 * time.Second,
			SpreadFlush:           false,
			MaxMetrics:            5_000,
			MaxRows:               500_000,
			MaxRowsPerMetric:      20_000,
			GaugeStats:            false,
			Budget:                BudgetConfig{BytesPerSecond: 4_000_000},
			Mode:                  ModeStatsHouse,
			FairShare: FairShareConfig{
				Levels: []string{"resource.service.namespace", "metric", "attribute.tenant"},
				Weights: []WeightRule{
					{Metrics: "billing.*", Weight: 4},
					{Metrics: "debug.*", Weight: 0.25},
				},
			},
			Mainstays:       false,
			RandomRounding:  []string{"*.count"},
			Metametrics:     false,
			Shards:          4,
			MetametricsTopN: 10,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.id.String(), func(t *testing.T) {
			sub, err := cm.Sub(tt.id.String())
			require.NoError(t, err)
			cfg := createDefaultConfig()
			require.NoError(t, sub.Unmarshal(cfg))
			require.NoError(t, confmap.Validate(cfg))
			assert.Equal(t, tt.want, cfg)
		})
	}
}

func TestInvalidConfig(t *testing.T) {
	tests := map[string]string{
		"resolution_not_divisor":       "`resolution` (7s) must be a whole number of seconds dividing 60s (1s, 5s, 15s and 60s are native)",
		"resolution_subsecond":         "`resolution` (500ms) must be a whole number of seconds dividing 60s (1s, 5s, 15s and 60s are native)",
		"override_resolution":          "`resolution_overrides[0].resolution` (45s) must be a whole number of seconds dividing 60s (1s, 5s, 15s and 60s are native)",
		"override_metrics":             "`resolution_overrides[0].metrics` must not be empty",
		"max_host_not_merged":          "`max_host_attribute` (\"host.name\") must be one of `merge_attributes`",
		"key_resource_star":            "`key_resource_attributes` lists \"*\" (keep all) next to other names",
		"max_delay_negative":           "`max_delay` (-1s) must not be negative",
		"grace_negative":               "`grace` (-1s) must not be negative",
		"max_metrics_zero":             "`max_metrics` (0) must be positive",
		"shards_negative":              "`shards` (-1) must be between 0 (one per core) and 64",
		"shards_too_many":              "`shards` (65) must be between 0 (one per core) and 64",
		"metametrics_top_n_zero":       "`metametrics_top_n` (0) must be positive",
		"max_rows_zero":                "`max_rows` (0) must be positive",
		"max_rows_per_metric_negative": "`max_rows_per_metric` (-5) must be positive",
		"budget_zero":                  "`budget.bytes_per_second` (0) must be positive",
		"mode_unknown":                 "`mode` (\"fast\") must be \"strict\" or \"statshouse\"",
		"levels_without_metric":        "`fair_share.levels` ([attribute.tenant]) must include \"metric\"",
		"levels_too_many":              "`fair_share.levels` (5 levels) can hold at most 4",
		"levels_twice":                 "`fair_share.levels[1]` (\"metric\") is listed twice",
		"levels_unknown":               "`fair_share.levels[0]` (\"tenant\") must be \"metric\", \"resource.<attribute>\" or \"attribute.<attribute>\"",
		"levels_resource_not_kept":     "`fair_share.levels[0]` (\"resource.service.namespace\") names a resource attribute that `key_resource_attributes` does not keep",
		"levels_attribute_merged":      "`fair_share.levels[1]` (\"attribute.host.name\") names an attribute in `merge_attributes`",
		"weight_zero":                  "`fair_share.weights[0].weight` (0) must be positive",
		"weight_metrics":               "`fair_share.weights[0].metrics` must not be empty",
		"random_rounding_empty":        "`random_rounding[0]` must not be empty",
	}
	for name, msg := range tests {
		t.Run(name, func(t *testing.T) {
			cm, err := confmaptest.LoadConf(filepath.Join("testdata", "invalid", name+".yaml"))
			require.NoError(t, err)
			cfg := createDefaultConfig().(*Config)
			require.NoError(t, cm.Unmarshal(cfg))
			assert.EqualError(t, cfg.Validate(), msg)
			assert.ErrorContains(t, confmap.Validate(cfg), msg)
		})
	}
}

func TestMatchGlob(t *testing.T) {
	cases := []struct {
		pattern, name string
		want          bool
	}{
		{"*", "anything.at/all", true},
		{"http.*", "http.server.duration", true},
		{"http.*", "grpc.server", false},
		{"*.count", "jobs.count", true},
		{"*.count", "jobs.count.total", false},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"a*b*c", "a--b--b--c", true},
		{"a*b*c", "a--b--b--", false},
		{"exact", "exact", true},
		{"", "", true},
		{"", "x", false},
	}
	for _, c := range cases {
		if got := matchGlob(c.pattern, c.name); got != c.want {
			t.Errorf("matchGlob(%q, %q) = %v, want %v", c.pattern, c.name, got, c.want)
		}
	}
}
