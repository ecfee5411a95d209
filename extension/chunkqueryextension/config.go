package chunkqueryextension

import (
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/config/confighttp"
)

// Config configures the chunkquery extension.
type Config struct {
	// ServerConfig is the HTTP server: endpoint (default localhost:8090), TLS, auth, CORS,
	// timeouts.
	ServerConfig confighttp.ServerConfig `mapstructure:",squash"`

	// Directory is the chunk directory to read: the chunkfile exporter's `directory`.
	Directory string `mapstructure:"directory"`
	// RescanInterval is how often the directory listing is refreshed at most; a new segment
	// becomes visible within it. The open segment's new data is read at every query.
	RescanInterval time.Duration `mapstructure:"rescan_interval"`
	// LookbackDelta is how far back an instant selector looks for a point (Prometheus: 5m).
	LookbackDelta time.Duration `mapstructure:"lookback_delta"`
	// QueryTimeout bounds the evaluation of one query.
	QueryTimeout time.Duration `mapstructure:"query_timeout"`
	// Limits bound the memory and work of one request.
	Limits LimitsConfig `mapstructure:"limits"`
}

// LimitsConfig bounds one request; a request that would pass a limit is refused with an error
// saying which.
type LimitsConfig struct {
	// MaxSeries is the number of series one selector may match.
	MaxSeries int `mapstructure:"max_series"`
	// MaxSamples is the number of points a query may decode (about 24 bytes of memory each
	// while the query runs).
	MaxSamples int `mapstructure:"max_samples"`
	// MaxSteps is the number of steps of a range query ((end-start)/step+1).
	MaxSteps int `mapstructure:"max_steps"`
	// MaxPoints is the number of points a result may hold (series × steps).
	MaxPoints int `mapstructure:"max_points"`
	// MaxMatchers is the number of `match[]` selectors one request may give.
	MaxMatchers int `mapstructure:"max_matchers"`
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	var errs []error
	if c.Directory == "" {
		errs = append(errs, errors.New("`directory` must be set: the chunkfile exporter's directory"))
	}
	if c.RescanInterval < 0 {
		errs = append(errs, fmt.Errorf("`rescan_interval` (%s) must not be negative", c.RescanInterval))
	}
	if c.LookbackDelta <= 0 {
		errs = append(errs, fmt.Errorf("`lookback_delta` (%s) must be positive", c.LookbackDelta))
	}
	if c.QueryTimeout <= 0 {
		errs = append(errs, fmt.Errorf("`query_timeout` (%s) must be positive", c.QueryTimeout))
	}
	for _, l := range []struct {
		key string
		v   int
	}{
		{"limits::max_series", c.Limits.MaxSeries}, {"limits::max_samples", c.Limits.MaxSamples},
		{"limits::max_steps", c.Limits.MaxSteps}, {"limits::max_points", c.Limits.MaxPoints},
		{"limits::max_matchers", c.Limits.MaxMatchers},
	} {
		if l.v <= 0 {
			errs = append(errs, fmt.Errorf("`%s` (%d) must be positive", l.key, l.v))
		}
	}
	return errors.Join(errs...)
}
