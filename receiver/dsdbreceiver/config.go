package dsdbreceiver

import (
	"errors"
	"fmt"
	"net"
	"time"

	"go.opentelemetry.io/collector/component"
)

// Config configures the dsdb receiver.
type Config struct {
	// Endpoint is the host:port of the TCP port every protocol shares, and of the UDP socket
	// for StatsHouse datagrams; port 0 lets the OS choose (TCP first, UDP then takes the same
	// number).
	Endpoint string `mapstructure:"endpoint"`
	// MaxConnections caps the TCP connections served at once; more are closed at once and
	// counted. Each costs a read buffer of max(64 KiB, max_line_length + 1).
	MaxConnections int `mapstructure:"max_connections"`
	// IdleTimeout closes a TCP connection whose client sent nothing for this long (before its
	// first byte, or between lines, messages or HTTP requests), so a silent client cannot hold
	// a connection slot for good.
	IdleTimeout time.Duration `mapstructure:"idle_timeout"`
	// MaxBatchPoints is the most data points a connection or the UDP socket gathers before it
	// hands them on (one ConsumeMetrics call).
	MaxBatchPoints int `mapstructure:"max_batch_points"`
	// FlushTimeout is how long gathered points wait for more before they are handed on.
	FlushTimeout time.Duration `mapstructure:"flush_timeout"`
	// HTTPHandlerExtension names an extension whose `Handler() http.Handler` serves every
	// HTTP request but `POST /api/put` (the chunkquery extension: query API and GUI); unset,
	// those requests get 404.
	HTTPHandlerExtension *component.ID `mapstructure:"http_handler_extension"`
	// OpenTSDB configures the telnet `put` protocol and `/api/put`.
	OpenTSDB OpenTSDBConfig `mapstructure:"opentsdb"`
	// StatsHouse configures StatsHouse JSON on TCP and UDP.
	StatsHouse StatsHouseConfig `mapstructure:"statshouse"`

	_ struct{}
}

// OpenTSDBConfig configures the OpenTSDB protocols.
type OpenTSDBConfig struct {
	// MaxLineLength is the longest telnet line, in bytes; a longer one is answered with an
	// error, counted (line_too_long) and skipped, and the connection is kept.
	MaxLineLength int `mapstructure:"max_line_length"`
	// MaxTags is the most tags a data point may have (OpenTSDB's tsd.storage.max_tags).
	MaxTags int `mapstructure:"max_tags"`
	// AllowSpecialChars are characters accepted in metric names and tags beyond letters,
	// digits and "-_./" (OpenTSDB's tsd.core.tag.allow_specialchars); empty: none.
	AllowSpecialChars string `mapstructure:"allow_special_chars"`
	// MaxRequestBodySize bounds the body of one `/api/put` request, in bytes, after gzip
	// decoding; a larger one gets 413.
	MaxRequestBodySize int `mapstructure:"max_request_body_size"`

	_ struct{}
}

// StatsHouseConfig configures StatsHouse JSON.
type StatsHouseConfig struct {
	// UDP listens for StatsHouse JSON datagrams on the endpoint's port number; false: TCP only.
	UDP bool `mapstructure:"udp"`
	// MaxMessageSize bounds one JSON batch on a TCP connection, in bytes; a longer one is
	// counted (message_too_long) and its connection closed, as its end cannot be found
	// without reading it. A UDP datagram is at most 65,507 bytes anyway.
	MaxMessageSize int `mapstructure:"max_message_size"`
	// MaxTags is the most tags a metric may have (StatsHouse has 48 tag slots).
	MaxTags int `mapstructure:"max_tags"`

	_ struct{}
}

var _ component.Config = (*Config)(nil)

// Validate checks the configuration; its messages name the YAML key and quote the bad value.
func (c *Config) Validate() error {
	if _, _, err := net.SplitHostPort(c.Endpoint); err != nil {
		return fmt.Errorf("`endpoint` (%q) must be host:port: %w", c.Endpoint, err)
	}
	switch {
	case c.MaxConnections <= 0:
		return fmt.Errorf("`max_connections` (%d) must be positive", c.MaxConnections)
	case c.IdleTimeout <= 0:
		return fmt.Errorf("`idle_timeout` (%s) must be positive", c.IdleTimeout)
	case c.MaxBatchPoints <= 0:
		return fmt.Errorf("`max_batch_points` (%d) must be positive", c.MaxBatchPoints)
	case c.FlushTimeout <= 0:
		return fmt.Errorf("`flush_timeout` (%s) must be positive", c.FlushTimeout)
	case c.OpenTSDB.MaxLineLength < 64 || c.OpenTSDB.MaxLineLength > 1<<20:
		return fmt.Errorf("`opentsdb::max_line_length` (%d) must be between 64 and 1048576 bytes", c.OpenTSDB.MaxLineLength)
	case c.OpenTSDB.MaxTags <= 0:
		return fmt.Errorf("`opentsdb::max_tags` (%d) must be positive", c.OpenTSDB.MaxTags)
	case c.OpenTSDB.MaxRequestBodySize <= 0:
		return fmt.Errorf("`opentsdb::max_request_body_size` (%d) must be positive", c.OpenTSDB.MaxRequestBodySize)
	case c.StatsHouse.MaxMessageSize < 1024 || c.StatsHouse.MaxMessageSize > 64<<20:
		return fmt.Errorf("`statshouse::max_message_size` (%d) must be between 1024 and 67108864 bytes", c.StatsHouse.MaxMessageSize)
	case c.StatsHouse.MaxTags <= 0:
		return fmt.Errorf("`statshouse::max_tags` (%d) must be positive", c.StatsHouse.MaxTags)
	}
	for _, r := range c.OpenTSDB.AllowSpecialChars {
		if r == ' ' || r == '=' || r == '\n' || r == '\r' {
			return errors.New("`opentsdb::allow_special_chars` (" + fmt.Sprintf("%q", c.OpenTSDB.AllowSpecialChars) +
				") must not hold ' ', '=' or line breaks: they separate the words of a put line")
		}
	}
	return nil
}
