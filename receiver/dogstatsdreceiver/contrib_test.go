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

// contribDefaultQuantiles are contrib's default summary percentiles as quantiles.
var contribDefaultQuantiles = []float64{0, 0.1, 0.5, 0.9, 0.95, 1}

// types is the per-type table of a contrib list: `h` and `d` share contrib's histogram category.
func types(timer, histogram typeMapping) *typeMappings {
	return &typeMappings{Timer: timer, Histogram: histogram, Distribution: histogram}
}

var dropped = typeMapping{Mapping: "disabled"}

// The contrib statsd receiver's own documented examples and test data (copied unchanged into
// testdata/contrib, sources noted there), loaded as they are under this receiver. Only the test
// data's made-up transport cannot work here.
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
		// The histogram entry is overridden by the distribution entry, as in contrib, where both
		// decide `h` and `d`.
		{file: "statsd_readme_example.yaml", id: "receivers::statsd/2", want: withDefaults(func(c *Config) {
			c.UDP.Endpoint = "localhost:8127"
			c.AggregationInterval = 70 * time.Second
			c.EnableMetricType = true
			c.MonotonicCounters = false
			c.perType = types(
				typeMapping{Mapping: "exponential_histogram", MaxBuckets: 100},
				typeMapping{Mapping: "summary", Quantiles: contribDefaultQuantiles},
			)
		})},
		{file: "statsd_readme_full_sample.yaml", id: "receivers::statsd", want: withDefaults(func(c *Config) {
			c.UDP.Endpoint = "localhost:8125"
			c.AggregationInterval = 60 * time.Second
			c.perType = types(
				typeMapping{Mapping: "summary", Quantiles: contribDefaultQuantiles},
				typeMapping{Mapping: "exponential_histogram", MaxBuckets: 50},
			)
		})},
		// Only `ms` is named: `h` and `d` are dropped, as contrib's default observer does.
		{file: "statsd_readme_explicit_buckets.yaml", id: "statsd", want: withDefaults(func(c *Config) {
			c.perType = types(typeMapping{
				Mapping: "exponential_histogram", MaxBuckets: 100,
				Named: []namedBuckets{{Pattern: "foo.*", Buckets: []float64{1, 10, 100}}},
			}, dropped)
		})},
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
		{name: "metric type", in: map[string]any{"enable_metric_type": true}, want: func(c *Config) { c.EnableMetricType = true }},
		{name: "aggregation interval", in: map[string]any{"aggregation_interval": "70s"}, want: func(c *Config) { c.AggregationInterval = 70 * time.Second }},
		{name: "our string form", in: map[string]any{"timer_histogram_mapping": "summary"}, want: func(c *Config) { c.TimerHistogramMapping = "summary" }},
		{name: "summary percentiles", in: map[string]any{"timer_histogram_mapping": []any{
			mapping("timing", "summary", map[string]any{"summary": map[string]any{"percentiles": []any{50, 99.9}}}),
		}}, want: func(c *Config) {
			c.perType = types(typeMapping{Mapping: "summary", Quantiles: []float64{0.5, 0.999}}, dropped)
		}},
		{name: "summary default percentiles", in: map[string]any{"timer_histogram_mapping": []any{mapping("histogram", "summary", nil)}},
			want: func(c *Config) {
				c.perType = types(dropped, typeMapping{Mapping: "summary", Quantiles: contribDefaultQuantiles})
			}},
		{name: "one size for all: our keys", in: map[string]any{"timer_histogram_mapping": []any{
			mapping("timer", "histogram", map[string]any{"histogram": map[string]any{"max_size": 80}}),
			mapping("distribution", "histogram", map[string]any{"histogram": map[string]any{"max_size": 80}}),
		}}, want: func(c *Config) { c.TimerHistogramMapping, c.MaxHistogramBuckets = "exponential_histogram", 80 }},
		{name: "a size each", in: map[string]any{"timer_histogram_mapping": []any{
			mapping("timer", "histogram", map[string]any{"histogram": map[string]any{"max_size": 80}}),
			mapping("distribution", "histogram", nil),
		}}, want: func(c *Config) {
			c.perType = types(typeMapping{Mapping: "exponential_histogram", MaxBuckets: 80}, typeMapping{Mapping: "exponential_histogram"})
		}},
		{name: "last entry of a kind wins", in: map[string]any{"timer_histogram_mapping": []any{
			mapping("timing", "gauge", nil), mapping("timing", "histogram", nil),
			mapping("histogram", "summary", nil), mapping("distribution", "histogram", nil),
		}}, want: func(c *Config) { c.TimerHistogramMapping = "exponential_histogram" }},
		{name: "gauge", in: map[string]any{"timer_histogram_mapping": []any{mapping("timing", "gauge", nil), mapping("histogram", "gauge", nil)}},
			want: func(c *Config) { c.perType = types(typeMapping{Mapping: "gauge"}, typeMapping{Mapping: "gauge"}) }},
		{name: "disabled", in: map[string]any{"timer_histogram_mapping": []any{mapping("distribution", "disabled", nil)}},
			want: func(c *Config) { c.perType = types(dropped, dropped) }},
		{name: "an empty list drops all three", in: map[string]any{"timer_histogram_mapping": []any{}},
			want: func(c *Config) { c.perType = types(dropped, dropped) }},
		{name: "sizes differ", in: map[string]any{"timer_histogram_mapping": []any{
			mapping("timing", "histogram", map[string]any{"histogram": map[string]any{"max_size": 50}}),
			mapping("histogram", "histogram", map[string]any{"histogram": map[string]any{"max_size": 60}}),
		}}, want: func(c *Config) {
			c.perType = types(typeMapping{Mapping: "exponential_histogram", MaxBuckets: 50}, typeMapping{Mapping: "exponential_histogram", MaxBuckets: 60})
		}},
		{name: "percentiles differ", in: map[string]any{"timer_histogram_mapping": []any{
			mapping("timing", "summary", map[string]any{"summary": map[string]any{"percentiles": []any{50}}}),
			mapping("histogram", "summary", nil),
		}}, want: func(c *Config) {
			c.perType = types(typeMapping{Mapping: "summary", Quantiles: []float64{0.5}}, typeMapping{Mapping: "summary", Quantiles: contribDefaultQuantiles})
		}},
		{name: "max_scale", in: map[string]any{"timer_histogram_mapping": []any{
			mapping("timing", "histogram", map[string]any{"histogram": map[string]any{"max_scale": 0}}),
			mapping("histogram", "histogram", nil),
		}}, want: func(c *Config) {
			zero := int32(0)
			c.perType = types(typeMapping{Mapping: "exponential_histogram", MaxScale: &zero}, typeMapping{Mapping: "exponential_histogram"})
		}},
		{name: "explicit buckets", in: map[string]any{"timer_histogram_mapping": []any{
			mapping("histogram", "histogram", map[string]any{"histogram": map[string]any{"explicit_buckets": []any{
				map[string]any{"matcher_pattern": "^api\\.", "buckets": []any{1, 2, 2, 5}},
				map[string]any{"matcher_pattern": ".*", "buckets": []any{10}},
			}}}),
		}}, want: func(c *Config) {
			c.perType = types(dropped, typeMapping{Mapping: "exponential_histogram", Named: []namedBuckets{
				{Pattern: "^api\\.", Buckets: []float64{1, 2, 5}}, {Pattern: ".*", Buckets: []float64{10}},
			}})
		}},

		{name: "bad transport", in: map[string]any{"transport": "http"}, err: "`transport` (\"http\") must be one of udp, udp4, udp6, tcp, tcp4, tcp6, unixgram"},
		{name: "endpoint twice", in: map[string]any{"endpoint": "x:1", "udp": map[string]any{"endpoint": "y:2"}},
			err: "`endpoint` (contrib statsd receiver) and `udp.endpoint` are both set: keep `udp.endpoint`"},
		{name: "monotonic twice", in: map[string]any{"is_monotonic_counter": true, "monotonic_counters": false},
			err: "`is_monotonic_counter` (contrib statsd receiver) and `monotonic_counters` are both set: keep `monotonic_counters`"},
		{name: "metric type not a bool", in: map[string]any{"enable_metric_type": "yes"}, err: "enable_metric_type"},
		{name: "int counters", in: map[string]any{"counter_type": "int"},
			err: "`counter_type` (\"int\") has no equivalent: counters are double sums here (as contrib's \"float\"); remove the key or set \"float\""},
		{name: "bad mode", in: map[string]any{"socket_permissions": 1.5}, err: "`socket_permissions` (1.5) must be an octal file mode such as 0622"},
		{name: "histogram section without histogram observer", in: map[string]any{"timer_histogram_mapping": []any{
			mapping("timing", "summary", map[string]any{"histogram": map[string]any{"max_size": 10}}),
		}}, err: "`timer_histogram_mapping[0].histogram` is set but observer_type is \"summary\": it needs observer_type \"histogram\""},
		{name: "max_scale range", in: map[string]any{"timer_histogram_mapping": []any{
			mapping("timing", "histogram", map[string]any{"histogram": map[string]any{"max_scale": 21}}),
		}}, err: "`timer_histogram_mapping[0].histogram.max_scale` (21) must be between -10 and 20, the scales of an exponential histogram"},
		{name: "explicit buckets: bad pattern", in: map[string]any{"timer_histogram_mapping": []any{
			mapping("timing", "histogram", map[string]any{"histogram": map[string]any{"explicit_buckets": []any{
				map[string]any{"matcher_pattern": "(", "buckets": []any{1}},
			}}}),
		}}, err: "`timer_histogram_mapping[0].histogram.explicit_buckets[0].matcher_pattern` (\"(\") is not a regular expression"},
		{name: "explicit buckets: no pattern", in: map[string]any{"timer_histogram_mapping": []any{
			mapping("timing", "histogram", map[string]any{"histogram": map[string]any{"explicit_buckets": []any{
				map[string]any{"buckets": []any{1}},
			}}}),
		}}, err: "`timer_histogram_mapping[0].histogram.explicit_buckets[0].matcher_pattern` must be set"},
		{name: "explicit buckets: none", in: map[string]any{"timer_histogram_mapping": []any{
			mapping("timing", "histogram", map[string]any{"histogram": map[string]any{"explicit_buckets": []any{
				map[string]any{"matcher_pattern": "x"},
			}}}),
		}}, err: "`timer_histogram_mapping[0].histogram.explicit_buckets[0].buckets` must not be empty"},
		{name: "explicit buckets: descending", in: map[string]any{"timer_histogram_mapping": []any{
			mapping("timing", "histogram", map[string]any{"histogram": map[string]any{"explicit_buckets": []any{
				map[string]any{"matcher_pattern": "x", "buckets": []any{5, 1}},
			}}}),
		}}, err: "`timer_histogram_mapping[0].histogram.explicit_buckets[0].buckets` ([5 1]) must be finite and in ascending order"},
		{name: "summary section without summary observer", in: map[string]any{"timer_histogram_mapping": []any{
			mapping("timing", "histogram", map[string]any{"summary": map[string]any{"percentiles": []any{50}}}),
		}}, err: "`timer_histogram_mapping[0].summary` is set but observer_type is \"histogram\": it needs observer_type \"summary\""},
		{name: "bad observer", in: map[string]any{"timer_histogram_mapping": []any{mapping("timing", "counter", nil)}},
			err: "`timer_histogram_mapping[0].observer_type` (\"counter\") must be one of histogram, summary, gauge, disabled"},
		{name: "list summary and our quantiles", in: map[string]any{"summary_quantiles": []any{0.5}, "timer_histogram_mapping": []any{
			mapping("timing", "summary", nil),
		}}, err: "`timer_histogram_mapping[0].summary.percentiles` (contrib statsd receiver) and `summary_quantiles` are both set: keep `summary_quantiles`"},
		{name: "max_size range", in: map[string]any{"timer_histogram_mapping": []any{
			mapping("timing", "histogram", map[string]any{"histogram": map[string]any{"max_size": 1}}),
		}}, err: "`timer_histogram_mapping[0].histogram.max_size` (1) must be between 2 and 16384"},
		{name: "statsd type", in: map[string]any{"timer_histogram_mapping": []any{mapping("counter", "histogram", nil)}},
			err: "`timer_histogram_mapping[0].statsd_type` (\"counter\") must be one of timing, timer, histogram, distribution"},
		{name: "no observer", in: map[string]any{"timer_histogram_mapping": []any{map[string]any{"statsd_type": "timing"}}},
			err: "`timer_histogram_mapping[0].observer_type` must be set (histogram, summary, gauge or disabled)"},
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
