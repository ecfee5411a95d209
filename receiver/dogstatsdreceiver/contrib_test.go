package dogstatsdreceiver

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"
)

// unmarshal decodes conf over the default configuration, as the collector does, and validates.
func unmarshal(conf *confmap.Conf) (*Config, error) {
	cfg := createDefaultConfig().(*Config)
	if err := conf.Unmarshal(cfg); err != nil {
		return nil, err
	}
	return cfg, confmap.Validate(cfg)
}

func withDefaults(mutate func(*Config)) *Config {
	cfg := createDefaultConfig().(*Config)
	mutate(cfg)
	return cfg
}

// The contrib statsd receiver's own documented examples and test data (copied unchanged into
// testdata/contrib, sources noted there), loaded as they are under this receiver.
func TestContribExamples(t *testing.T) {
	for _, tc := range []struct {
		file, id string
		want     *Config
		errs     []string
	}{
		{file: "statsd_testdata_config.yaml", id: "statsd", want: createDefaultConfig().(*Config)},
		{file: "statsd_testdata_config.yaml", id: "statsd/receiver_settings", errs: []string{
			"`transport` (\"custom_transport\") must be one of udp, udp4, udp6, tcp, tcp4, tcp6, unixgram",
		}},
		{file: "statsd_readme_example.yaml", id: "receivers::statsd", want: createDefaultConfig().(*Config)},
		{file: "statsd_readme_example.yaml", id: "receivers::statsd/2", errs: []string{
			"`enable_metric_type` (true) has no equivalent: no `metric_type` attribute is added here; remove the key",
			"`timer_histogram_mapping[1]` (`ms` timers → \"histogram\") and `timer_histogram_mapping[2]` (`h` histograms → \"summary\") differ: here `ms` and `h` share one mapping; give both the same observer_type",
		}},
		{file: "statsd_readme_full_sample.yaml", id: "receivers::statsd", errs: []string{
			"`timer_histogram_mapping[2]` (`ms` timers → \"summary\") and `timer_histogram_mapping[1]` (`h` histograms → \"histogram\") differ: here `ms` and `h` share one mapping; give both the same observer_type",
		}},
	} {
		t.Run(tc.file+"/"+tc.id, func(t *testing.T) {
			cm, err := confmaptest.LoadConf(filepath.Join("testdata", "contrib", tc.file))
			require.NoError(t, err)
			sub, err := cm.Sub(tc.id)
			require.NoError(t, err)
			cfg, err := unmarshal(sub)
			if tc.errs != nil {
				require.Error(t, err)
				for _, e := range tc.errs {
					assert.ErrorContains(t, err, e)
				}
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, cfg)
		})
	}
}

// Contrib's test data with a real transport: the list form (whose first entry is overridden by
// the distribution entry, as in contrib) becomes exponential histograms of 170 buckets.
func TestContribTestDataWithUDPTransport(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "contrib", "statsd_testdata_config.yaml"))
	require.NoError(t, err)
	sub, err := cm.Sub("statsd/receiver_settings")
	require.NoError(t, err)
	require.NoError(t, sub.Merge(confmap.NewFromStringMap(map[string]any{"transport": "udp"})))
	cfg, err := unmarshal(sub)
	require.NoError(t, err)
	assert.Equal(t, withDefaults(func(c *Config) {
		c.UDP.Endpoint = "localhost:12345"
		c.AggregationInterval = 70 * time.Second
		c.TimerHistogramMapping = "exponential_histogram"
		c.MaxHistogramBuckets = 170
	}), cfg)
}

func mapping(statsdType, observerType string, extra map[string]any) map[string]any {
	m := map[string]any{"statsd_type": statsdType, "observer_type": observerType}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func TestContribKeys(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   map[string]any
		want func(*Config)
		err  string
	}{
		{name: "udp endpoint", in: map[string]any{"endpoint": "0.0.0.0:8125"}, want: func(c *Config) { c.UDP.Endpoint = "0.0.0.0:8125" }},
		{name: "udp endpoint next to our udp keys", in: map[string]any{"endpoint": "0.0.0.0:8125", "udp": map[string]any{"so_rcvbuf": 1024, "eol_required": true}},
			want: func(c *Config) {
				c.UDP = UDPConfig{Endpoint: "0.0.0.0:8125", SoRcvbuf: 1024, Readers: 1, EOLRequired: true}
			}},
		{name: "udp6", in: map[string]any{"transport": "udp6", "endpoint": "[::1]:8125"}, want: func(c *Config) { c.UDP.Endpoint = "[::1]:8125" }},
		{name: "udp without endpoint keeps ours", in: map[string]any{"transport": "udp"}, want: func(*Config) {}},
		{name: "tcp", in: map[string]any{"transport": "tcp", "endpoint": "0.0.0.0:8125"}, want: func(c *Config) {
			c.TCP.Endpoint, c.UDP.Endpoint = "0.0.0.0:8125", ""
		}},
		{name: "tcp default endpoint", in: map[string]any{"transport": "tcp4"}, want: func(c *Config) {
			c.TCP.Endpoint, c.UDP.Endpoint = "localhost:8125", ""
		}},
		{name: "tcp and our udp", in: map[string]any{"transport": "tcp", "udp": map[string]any{"endpoint": "127.0.0.1:9125"}}, want: func(c *Config) {
			c.TCP.Endpoint, c.UDP.Endpoint = "localhost:8125", "127.0.0.1:9125"
		}},
		{name: "unixgram defaults", in: map[string]any{"transport": "unixgram", "socket_permissions": 0o622, "socket_buffer_size": 1 << 20}, want: func(c *Config) {
			c.UDP.Endpoint = ""
			c.UnixDatagram = UnixDatagramConfig{Path: "/var/run/statsd-receiver.sock", SocketPermissions: "0622", SoRcvbuf: 1 << 20}
		}},
		{name: "unixgram string mode", in: map[string]any{"transport": "unixgram", "endpoint": "/tmp/s.sock", "socket_permissions": "0660"}, want: func(c *Config) {
			c.UDP.Endpoint = ""
			c.UnixDatagram = UnixDatagramConfig{Path: "/tmp/s.sock", SocketPermissions: "0660"}
		}},
		{name: "monotonic", in: map[string]any{"is_monotonic_counter": true}, want: func(c *Config) { c.MonotonicCounters = true }},
		{name: "accepted and ignored", in: map[string]any{
			"enable_simple_tags": false, "enable_ip_only_aggregation": true, "enable_metric_type": false, "counter_type": "float",
		}, want: func(*Config) {}},
		{name: "aggregation interval", in: map[string]any{"aggregation_interval": "70s"}, want: func(c *Config) { c.AggregationInterval = 70 * time.Second }},
		{name: "our string form", in: map[string]any{"timer_histogram_mapping": "summary"}, want: func(c *Config) { c.TimerHistogramMapping = "summary" }},
		{name: "summary percentiles", in: map[string]any{"timer_histogram_mapping": []any{
			mapping("timing", "summary", map[string]any{"summary": map[string]any{"percentiles": []any{50, 99.9}}}),
		}}, want: func(c *Config) { c.TimerHistogramMapping, c.SummaryQuantiles = "summary", []float64{0.5, 0.999} }},
		{name: "summary default percentiles", in: map[string]any{"timer_histogram_mapping": []any{mapping("histogram", "summary", nil)}},
			want: func(c *Config) {
				c.TimerHistogramMapping, c.SummaryQuantiles = "summary", []float64{0, 0.1, 0.5, 0.9, 0.95, 1}
			}},
		{name: "histogram max_size", in: map[string]any{"timer_histogram_mapping": []any{
			mapping("timer", "histogram", map[string]any{"histogram": map[string]any{"max_size": 80}}),
			mapping("distribution", "histogram", nil),
		}}, want: func(c *Config) { c.TimerHistogramMapping, c.MaxHistogramBuckets = "exponential_histogram", 80 }},
		{name: "last entry of a kind wins", in: map[string]any{"timer_histogram_mapping": []any{
			mapping("timing", "gauge", nil), mapping("timing", "histogram", nil),
		}}, want: func(c *Config) { c.TimerHistogramMapping = "exponential_histogram" }},

		{name: "bad transport", in: map[string]any{"transport": "http"}, err: "`transport` (\"http\") must be one of udp, udp4, udp6, tcp, tcp4, tcp6, unixgram"},
		{name: "endpoint twice", in: map[string]any{"endpoint": "x:1", "udp": map[string]any{"endpoint": "y:2"}},
			err: "`endpoint` (contrib statsd receiver) and `udp.endpoint` are both set: keep `udp.endpoint`"},
		{name: "monotonic twice", in: map[string]any{"is_monotonic_counter": true, "monotonic_counters": false},
			err: "`is_monotonic_counter` (contrib statsd receiver) and `monotonic_counters` are both set: keep `monotonic_counters`"},
		{name: "metric type", in: map[string]any{"enable_metric_type": true}, err: "`enable_metric_type` (true) has no equivalent"},
		{name: "metric type not a bool", in: map[string]any{"enable_metric_type": "yes"}, err: "enable_metric_type"},
		{name: "int counters", in: map[string]any{"counter_type": "int"},
			err: "`counter_type` (\"int\") has no equivalent: counters are double sums here (as contrib's \"float\"); remove the key or set \"float\""},
		{name: "bad mode", in: map[string]any{"socket_permissions": 1.5}, err: "`socket_permissions` (1.5) must be an octal file mode such as 0622"},
		{name: "gauge", in: map[string]any{"timer_histogram_mapping": []any{mapping("timing", "gauge", nil)}},
			err: "`timer_histogram_mapping[0]` (statsd_type \"timing\", observer_type \"gauge\"): sending each value as a gauge point has no equivalent; use observer_type \"histogram\" or \"summary\""},
		{name: "disabled", in: map[string]any{"timer_histogram_mapping": []any{mapping("distribution", "disabled", nil)}},
			err: "`timer_histogram_mapping[0]` (statsd_type \"distribution\", observer_type \"disabled\"): dropping these samples has no equivalent"},
		{name: "sizes differ", in: map[string]any{"timer_histogram_mapping": []any{
			mapping("timing", "histogram", map[string]any{"histogram": map[string]any{"max_size": 50}}),
			mapping("histogram", "histogram", map[string]any{"histogram": map[string]any{"max_size": 60}}),
		}}, err: "`timer_histogram_mapping[0].histogram.max_size` (50) and `timer_histogram_mapping[1].histogram.max_size` (60) differ"},
		{name: "percentiles differ", in: map[string]any{"timer_histogram_mapping": []any{
			mapping("timing", "summary", map[string]any{"summary": map[string]any{"percentiles": []any{50}}}),
			mapping("histogram", "summary", nil),
		}}, err: "`timer_histogram_mapping[0].summary.percentiles` ([50]) and `timer_histogram_mapping[1].summary.percentiles` ([0 10 50 90 95 100]) differ"},
		{name: "histogram section without histogram observer", in: map[string]any{"timer_histogram_mapping": []any{
			mapping("timing", "summary", map[string]any{"histogram": map[string]any{"max_size": 10}}),
		}}, err: "`timer_histogram_mapping[0].histogram` is set but observer_type is \"summary\": it needs observer_type \"histogram\""},
		{name: "max_scale", in: map[string]any{"timer_histogram_mapping": []any{
			mapping("timing", "histogram", map[string]any{"histogram": map[string]any{"max_scale": 10}}),
		}}, err: "`timer_histogram_mapping[0].histogram.max_scale` (10) has no equivalent"},
		{name: "explicit buckets", in: map[string]any{"timer_histogram_mapping": []any{
			mapping("timing", "histogram", map[string]any{"histogram": map[string]any{"explicit_buckets": []any{
				map[string]any{"matcher_pattern": ".*", "buckets": []any{1, 2}},
			}}}),
		}}, err: "`timer_histogram_mapping[0].histogram.explicit_buckets` (buckets per metric name) has no equivalent"},
		{name: "max_size range", in: map[string]any{"timer_histogram_mapping": []any{
			mapping("timing", "histogram", map[string]any{"histogram": map[string]any{"max_size": 1}}),
		}}, err: "`timer_histogram_mapping[0].histogram.max_size` (1) must be between 2 and 16384"},
		{name: "statsd type", in: map[string]any{"timer_histogram_mapping": []any{mapping("counter", "histogram", nil)}},
			err: "`timer_histogram_mapping[0].statsd_type` (\"counter\") must be one of timing, timer, histogram, distribution"},
		{name: "no observer", in: map[string]any{"timer_histogram_mapping": []any{map[string]any{"statsd_type": "timing"}}},
			err: "`timer_histogram_mapping[0].observer_type` must be set (histogram or summary)"},
		{name: "percentile range", in: map[string]any{"timer_histogram_mapping": []any{
			mapping("timing", "summary", map[string]any{"summary": map[string]any{"percentiles": []any{150}}}),
		}}, err: "`timer_histogram_mapping[0].summary.percentiles` ([150]) must all be in [0, 100]"},
		{name: "unknown entry key", in: map[string]any{"timer_histogram_mapping": []any{mapping("timing", "histogram", map[string]any{"buckets": 3})}},
			err: "buckets"},
		{name: "list and our buckets", in: map[string]any{"max_histogram_buckets": 80, "timer_histogram_mapping": []any{
			mapping("timing", "histogram", map[string]any{"histogram": map[string]any{"max_size": 50}}),
		}}, err: "`timer_histogram_mapping[0].histogram.max_size` (contrib statsd receiver) and `max_histogram_buckets` are both set: keep `max_histogram_buckets`"},
		{name: "the Agent's eol_required list", in: map[string]any{"eol_required": []any{"udp", "uds"}},
			err: "`eol_required` is set per transport here: use `udp.eol_required`, `unixgram.eol_required`, `unix.eol_required` or `tcp.eol_required` (true or false) instead of the Agent's list"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := unmarshal(confmap.NewFromStringMap(tc.in))
			if tc.err != "" {
				require.Error(t, err)
				assert.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, withDefaults(tc.want), cfg)
		})
	}
}

// The README's migration example: the contrib form and this receiver's own keys agree.
func TestContribMovedExample(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "contrib", "moved.yaml"))
	require.NoError(t, err)
	var got []*Config
	for _, id := range []string{"dogstatsd/contrib_form", "dogstatsd/native_form"} {
		sub, err := cm.Sub(id)
		require.NoError(t, err)
		cfg, err := unmarshal(sub)
		require.NoError(t, err, id)
		got = append(got, cfg)
	}
	assert.Equal(t, withDefaults(func(c *Config) {
		c.UDP.Endpoint = "0.0.0.0:8125"
		c.AggregationInterval = 10 * time.Second
		c.MonotonicCounters = true
		c.MaxHistogramBuckets = 100
	}), got[0])
	assert.Equal(t, got[1], got[0])
}
