package fairshareprocessor

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.opentelemetry.io/collector/component"

	"github.com/doghouse-otel/doghouse/processor/fairshareprocessor/internal/sampling"
)

// Sampling modes.
const (
	ModeStrict     = "strict"
	ModeStatsHouse = "statshouse"
)

// Fair-share level names: "metric", or an attribute of the resource or of the data point.
const (
	levelMetric            = "metric"
	levelResourcePrefix    = "resource."
	levelAttributePrefix   = "attribute."
	keepAllResourceAttrsID = "*"
)

// maxShards bounds the shards option (the set of shards a request touches is a 64-bit mask).
const maxShards = 64

// Config configures the fairshare processor.
type Config struct {
	// Resolution is the window length of every metric without an override: a whole number of
	// seconds dividing 60 (1, 5, 15 and 60 are StatsHouse's native ones). Default 1s.
	Resolution time.Duration `mapstructure:"resolution"`
	// ResolutionOverrides sets the resolution of metrics whose name matches a glob; the first
	// matching entry wins. Default none.
	ResolutionOverrides []ResolutionOverride `mapstructure:"resolution_overrides"`
	// MergeAttributes are removed from every row key (data point and resource attributes), so
	// that rows of many sources merge, e.g. [host.name]. Default none.
	MergeAttributes []string `mapstructure:"merge_attributes"`
	// MaxHostAttribute, one of MergeAttributes, names each merged row's top contributor in the
	// attribute fairshare.max_host (StatsHouse's "max host"). Empty (default) disables it.
	MaxHostAttribute string `mapstructure:"max_host_attribute"`
	// KeyResourceAttributes are the resource attributes kept in the row key and the output;
	// ["*"] (default) keeps all of them except MergeAttributes.
	KeyResourceAttributes []string `mapstructure:"key_resource_attributes"`
	// MaxDelay is how old a point may be: a point whose window has closed joins the window open
	// now if it is at most this old, and is dropped otherwise. Default 30s.
	MaxDelay time.Duration `mapstructure:"max_delay"`
	// Grace is how long after its end a window waits for stragglers before it is flushed.
	// Default 1s.
	Grace time.Duration `mapstructure:"grace"`
	// SpreadFlush sends a window of R seconds as R shards, one per second, as StatsHouse does,
	// so that slow-resolution metrics share each second's budget fairly. Default true.
	SpreadFlush bool `mapstructure:"spread_flush"`
	// MaxMetrics bounds the metric identities (name, type, unit, temporality) tracked at once.
	// A new metric beyond it takes the place of the least recently used metric that holds no
	// rows; while all of them hold rows, its points merge into one row per resource of the
	// metric fairshare.overflow.<kind> (attribute otel.metric.overflow=true), so sums and counts
	// are kept. Default 20,000.
	MaxMetrics int `mapstructure:"max_metrics"`
	// MaxRows bounds the rows held in all windows; beyond it new rows fold into their metric's
	// overflow row (attribute otel.metric.overflow=true). Default 1,000,000.
	MaxRows int `mapstructure:"max_rows"`
	// MaxRowsPerMetric bounds the rows of one metric in one window, with the same overflow row.
	// Default 100,000.
	MaxRowsPerMetric int `mapstructure:"max_rows_per_metric"`
	// GaugeStats emits <name>.min, <name>.max and <name>.count next to every gauge. Default true.
	GaugeStats bool `mapstructure:"gauge_stats"`
	// Budget is what the processor may send.
	Budget BudgetConfig `mapstructure:"budget"`
	// Mode is "strict" (default: never more than the budget in any flush) or "statshouse"
	// (a coin flip per row: the budget holds on average).
	Mode string `mapstructure:"mode"`
	// FairShare says how the budget is shared.
	FairShare FairShareConfig `mapstructure:"fair_share"`
	// Mainstays gives half of a sampled metric's budget to its largest rows, kept exactly.
	// Default true.
	Mainstays bool `mapstructure:"mainstays"`
	// RandomRounding lists metric name globs whose sampling factor is randomly rounded to an
	// integer (1.1 becomes 1 nine times in ten, 2 otherwise), so integer counters stay
	// integers. Default none.
	RandomRounding []string `mapstructure:"random_rounding"`
	// Metametrics emits sampling factors, kept and dropped rows and bytes, the budget and
	// cardinality into the same pipeline. Default true.
	Metametrics bool `mapstructure:"metametrics"`
	// Shards is the number of window stores, each with its own lock, that aggregation is split
	// over by metric name, so that concurrent ConsumeMetrics calls use more than one core. 0
	// (default) means one per core (GOMAXPROCS), at most 8; at most 64. The limits and the
	// budget hold for all shards together.
	Shards int `mapstructure:"shards"`
	// MetametricsTopN bounds the per-metric points of each metametric in a flush: the N metrics
	// (or name prefixes) with the most rows, bytes or new names get their own point, the rest
	// are added up under metric.name "(others)". A flood of new names costs N+1 points, not
	// one per name. Default 50.
	MetametricsTopN int `mapstructure:"metametrics_top_n"`

	_ struct{}
}

// ResolutionOverride sets the resolution of the metrics matching a name glob.
type ResolutionOverride struct {
	// Metrics is a glob over metric names: * matches any run of characters, ? one character.
	Metrics string `mapstructure:"metrics"`
	// Resolution is a whole number of seconds dividing 60.
	Resolution time.Duration `mapstructure:"resolution"`

	_ struct{}
}

// BudgetConfig is the sampling budget.
type BudgetConfig struct {
	// BytesPerSecond is the estimated size of the rows the processor sends per second (metametrics
	// excluded). Default 1 MiB.
	BytesPerSecond int64 `mapstructure:"bytes_per_second"`

	_ struct{}
}

// FairShareConfig is the fair-share hierarchy.
type FairShareConfig struct {
	// Levels is the hierarchy the budget is shared over, outermost first: "metric",
	// "resource.<attribute>" or "attribute.<attribute>"; it must include "metric" and holds at
	// most 4 levels. Default [metric].
	Levels []string `mapstructure:"levels"`
	// Weights gives metrics matching a name glob a larger (or smaller) share; first match wins,
	// others weigh 1.
	Weights []WeightRule `mapstructure:"weights"`

	_ struct{}
}

// WeightRule weighs the metrics matching a name glob.
type WeightRule struct {
	// Metrics is a glob over metric names.
	Metrics string `mapstructure:"metrics"`
	// Weight is the metric's share relative to weight 1; must be positive.
	Weight float64 `mapstructure:"weight"`

	_ struct{}
}

var _ component.Config = (*Config)(nil)

// Validate checks the configuration.
func (c *Config) Validate() error {
	if err := checkResolution("resolution", c.Resolution); err != nil {
		return err
	}
	for i, o := range c.ResolutionOverrides {
		if o.Metrics == "" {
			return fmt.Errorf("`resolution_overrides[%d].metrics` must not be empty", i)
		}
		if err := checkResolution(fmt.Sprintf("resolution_overrides[%d].resolution", i), o.Resolution); err != nil {
			return err
		}
	}
	if c.MaxHostAttribute != "" && !contains(c.MergeAttributes, c.MaxHostAttribute) {
		return fmt.Errorf("`max_host_attribute` (%q) must be one of `merge_attributes`", c.MaxHostAttribute)
	}
	if contains(c.KeyResourceAttributes, keepAllResourceAttrsID) && len(c.KeyResourceAttributes) > 1 {
		return errors.New("`key_resource_attributes` lists \"*\" (keep all) next to other names")
	}
	if c.MaxDelay < 0 {
		return fmt.Errorf("`max_delay` (%v) must not be negative", c.MaxDelay)
	}
	if c.Grace < 0 {
		return fmt.Errorf("`grace` (%v) must not be negative", c.Grace)
	}
	if c.MetametricsTopN <= 0 {
		return fmt.Errorf("`metametrics_top_n` (%d) must be positive", c.MetametricsTopN)
	}
	if c.Shards < 0 || c.Shards > maxShards {
		return fmt.Errorf("`shards` (%d) must be between 0 (one per core) and %d", c.Shards, maxShards)
	}
	if c.MaxMetrics <= 0 {
		return fmt.Errorf("`max_metrics` (%d) must be positive", c.MaxMetrics)
	}
	if c.MaxRows <= 0 {
		return fmt.Errorf("`max_rows` (%d) must be positive", c.MaxRows)
	}
	if c.MaxRowsPerMetric <= 0 {
		return fmt.Errorf("`max_rows_per_metric` (%d) must be positive", c.MaxRowsPerMetric)
	}
	if c.Budget.BytesPerSecond <= 0 {
		return fmt.Errorf("`budget.bytes_per_second` (%d) must be positive", c.Budget.BytesPerSecond)
	}
	if c.Mode != ModeStrict && c.Mode != ModeStatsHouse {
		return fmt.Errorf("`mode` (%q) must be %q or %q", c.Mode, ModeStrict, ModeStatsHouse)
	}
	if err := c.validateLevels(); err != nil {
		return err
	}
	for i, w := range c.FairShare.Weights {
		if w.Metrics == "" {
			return fmt.Errorf("`fair_share.weights[%d].metrics` must not be empty", i)
		}
		if !(w.Weight > 0) {
			return fmt.Errorf("`fair_share.weights[%d].weight` (%v) must be positive", i, w.Weight)
		}
	}
	for i, g := range c.RandomRounding {
		if g == "" {
			return fmt.Errorf("`random_rounding[%d]` must not be empty", i)
		}
	}
	return nil
}

func (c *Config) validateLevels() error {
	levels := c.FairShare.Levels
	if len(levels) > sampling.MaxLevels {
		return fmt.Errorf("`fair_share.levels` (%d levels) can hold at most %d", len(levels), sampling.MaxLevels)
	}
	if !contains(levels, levelMetric) {
		return fmt.Errorf("`fair_share.levels` (%v) must include %q", levels, levelMetric)
	}
	for i, l := range levels {
		if contains(levels[:i], l) {
			return fmt.Errorf("`fair_share.levels[%d]` (%q) is listed twice", i, l)
		}
		switch {
		case l == levelMetric:
		case strings.HasPrefix(l, levelResourcePrefix) && len(l) > len(levelResourcePrefix):
			name := strings.TrimPrefix(l, levelResourcePrefix)
			keeps := contains(c.KeyResourceAttributes, keepAllResourceAttrsID) || contains(c.KeyResourceAttributes, name)
			if !keeps || contains(c.MergeAttributes, name) {
				return fmt.Errorf("`fair_share.levels[%d]` (%q) names a resource attribute that `key_resource_attributes` does not keep", i, l)
			}
		case strings.HasPrefix(l, levelAttributePrefix) && len(l) > len(levelAttributePrefix):
			if name := strings.TrimPrefix(l, levelAttributePrefix); contains(c.MergeAttributes, name) {
				return fmt.Errorf("`fair_share.levels[%d]` (%q) names an attribute in `merge_attributes`", i, l)
			}
		default:
			return fmt.Errorf("`fair_share.levels[%d]` (%q) must be %q, \"resource.<attribute>\" or \"attribute.<attribute>\"", i, l, levelMetric)
		}
	}
	return nil
}

func checkResolution(key string, r time.Duration) error {
	if r < time.Second || r%time.Second != 0 || (60*time.Second)%r != 0 {
		return fmt.Errorf("`%s` (%v) must be a whole number of seconds dividing 60s (1s, 5s, 15s and 60s are native)", key, r)
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
