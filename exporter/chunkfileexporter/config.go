package chunkfileexporter

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/doghouse-otel/doghouse/chunkfile"
)

// Config configures the chunkfile exporter.
type Config struct {
	// Directory holds the segments; it is created if missing. Required.
	Directory string `mapstructure:"directory"`
	// Fsync says when written data is made durable: "always" (before each push returns),
	// "interval" (at most fsync_interval after it is written) or "never" (only when a segment
	// is sealed).
	Fsync string `mapstructure:"fsync"`
	// FsyncInterval is the period of the "interval" policy.
	FsyncInterval time.Duration `mapstructure:"fsync_interval"`
	// MaxSegmentBytes seals the open segment once it holds this many bytes.
	MaxSegmentBytes int64 `mapstructure:"max_segment_bytes"`
	// MaxSegmentAge seals the open segment this long after it was created.
	MaxSegmentAge time.Duration `mapstructure:"max_segment_age"`
	// MaxSegmentSeries seals the open segment once it defines this many series: the writer
	// keeps an entry of every series of its segment, so this bounds the exporter's memory when
	// new series keep arriving (a cardinality flood).
	MaxSegmentSeries int `mapstructure:"max_segment_series"`
	// Retention deletes the oldest sealed segments; zero values keep everything.
	Retention RetentionConfig `mapstructure:"retention"`
	// BlockDuration bounds the time span of one data block; a push is written as one block per
	// window it covers.
	BlockDuration time.Duration `mapstructure:"block_duration"`
	// Compression is "auto" (zstd on a frame when it makes it smaller) or "none".
	Compression string `mapstructure:"compression"`
	// Rollups are the tiers written for every sealed segment, in the background: one
	// directory per resolution (rollup-1m, rollup-1h) of files with the segment's name, each
	// tier with its own retention. An empty list disables them.
	Rollups []RollupConfig `mapstructure:"rollups"`
	// RollupMinPointsPerSeries leaves out of the tiers a sealed segment with fewer points than
	// this many per series (a cardinality flood's segment): its tier files would hold about a
	// window per point, several times its size, and cost the memory of eight rollup series per
	// raw one while written. Its points stay in the raw segment, which queries read instead.
	// 0 rolls up every segment.
	RollupMinPointsPerSeries float64 `mapstructure:"rollup_min_points_per_series"`

	TimeoutConfig exporterhelper.TimeoutConfig                             `mapstructure:",squash"`
	BackOff       configretry.BackOffConfig                                `mapstructure:"retry_on_failure"`
	QueueConfig   configoptional.Optional[exporterhelper.QueueBatchConfig] `mapstructure:"sending_queue"`

	_ struct{}
}

// RetentionConfig bounds what sealed segments are kept.
type RetentionConfig struct {
	// MaxAge deletes sealed segments whose newest data is older than this; 0 keeps them.
	MaxAge time.Duration `mapstructure:"max_age"`
	// MaxTotalBytes deletes the oldest sealed segments while all of them together are larger;
	// 0 means no bound.
	MaxTotalBytes int64 `mapstructure:"max_total_bytes"`
	_             struct{}
}

// RollupConfig is one rollup tier.
type RollupConfig struct {
	// Resolution is the length of the tier's windows: a whole number of seconds, at least 1s.
	Resolution time.Duration `mapstructure:"resolution"`
	// Retention deletes the tier's oldest files; a file's age is its raw segment's (the time
	// it was sealed). Zero values keep everything.
	Retention RetentionConfig `mapstructure:"retention"`
	_         struct{}
}

var _ component.Config = (*Config)(nil)

var (
	fsyncPolicies = []string{"always", "interval", "never"}
	compressions  = []string{"auto", "none"}
)

// Validate checks the configuration; messages name the YAML key and quote the bad value.
func (c *Config) Validate() error {
	switch {
	case c.Directory == "":
		return errors.New("`directory` must be set")
	case !slices.Contains(fsyncPolicies, c.Fsync):
		return fmt.Errorf("`fsync` (%q) must be one of %q", c.Fsync, fsyncPolicies)
	case c.Fsync == "interval" && c.FsyncInterval <= 0:
		return fmt.Errorf("`fsync_interval` (%s) must be positive with `fsync: interval`", c.FsyncInterval)
	case c.MaxSegmentBytes < 4096:
		return fmt.Errorf("`max_segment_bytes` (%d) must be at least 4096", c.MaxSegmentBytes)
	case c.MaxSegmentAge <= 0:
		return fmt.Errorf("`max_segment_age` (%s) must be positive", c.MaxSegmentAge)
	case c.MaxSegmentSeries <= 0:
		return fmt.Errorf("`max_segment_series` (%d) must be positive", c.MaxSegmentSeries)
	case c.Retention.MaxAge < 0:
		return fmt.Errorf("`retention.max_age` (%s) must not be negative", c.Retention.MaxAge)
	case c.Retention.MaxTotalBytes < 0:
		return fmt.Errorf("`retention.max_total_bytes` (%d) must not be negative", c.Retention.MaxTotalBytes)
	case c.BlockDuration < time.Millisecond:
		return fmt.Errorf("`block_duration` (%s) must be at least 1ms", c.BlockDuration)
	case !slices.Contains(compressions, c.Compression):
		return fmt.Errorf("`compression` (%q) must be one of %q", c.Compression, compressions)
	}
	return c.validateRollups()
}

func (c *Config) validateRollups() error {
	if c.RollupMinPointsPerSeries < 0 {
		return fmt.Errorf("`rollup_min_points_per_series` (%g) must not be negative", c.RollupMinPointsPerSeries)
	}
	seen := map[string]int{}
	for i, r := range c.Rollups {
		key := fmt.Sprintf("`rollups[%d]", i)
		switch {
		case r.Resolution < time.Second || r.Resolution%time.Second != 0:
			return fmt.Errorf("%s.resolution` (%s) must be a whole number of seconds, at least 1s", key, r.Resolution)
		case r.Retention.MaxAge < 0:
			return fmt.Errorf("%s.retention.max_age` (%s) must not be negative", key, r.Retention.MaxAge)
		case r.Retention.MaxTotalBytes < 0:
			return fmt.Errorf("%s.retention.max_total_bytes` (%d) must not be negative", key, r.Retention.MaxTotalBytes)
		}
		dir := chunkfile.RollupDirName(r.Resolution)
		if j, ok := seen[dir]; ok {
			return fmt.Errorf("%s.resolution` (%s) repeats `rollups[%d]`", key, r.Resolution, j)
		}
		seen[dir] = i
	}
	return nil
}
