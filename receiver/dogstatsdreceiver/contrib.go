package dogstatsdreceiver

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/confmap"
)

// configFields is Config without its Unmarshal method, so decoding into it cannot recurse.
type configFields Config

var _ confmap.Unmarshaler = (*Config)(nil)

// Unmarshal implements confmap.Unmarshaler. Besides this receiver's own keys it accepts the keys
// of the contrib statsd receiver that have an equivalent here (see contribKeys), so that a
// statsd receiver's configuration moves over by renaming the receiver; keys without an
// equivalent get an error that says why.
func (c *Config) Unmarshal(conf *confmap.Conf) error {
	if conf == nil {
		return nil
	}
	if conf.IsSet("eol_required") {
		return errors.New("`eol_required` is set per transport here: use `udp.eol_required`, `unixgram.eol_required`, `unix.eol_required` or `tcp.eol_required` (true or false) instead of the Agent's list")
	}
	if err := fromContrib(conf); err != nil {
		return err
	}
	return conf.Unmarshal((*configFields)(c))
}

// contribConfig holds the contrib statsd receiver's keys that are not keys of this receiver.
// Pointers tell an absent key from a zero value.
type contribConfig struct {
	Endpoint                *string `mapstructure:"endpoint"`
	Transport               *string `mapstructure:"transport"`
	SocketPermissions       any     `mapstructure:"socket_permissions"`
	SocketBufferSize        *int    `mapstructure:"socket_buffer_size"`
	IsMonotonicCounter      *bool   `mapstructure:"is_monotonic_counter"`
	EnableMetricType        *bool   `mapstructure:"enable_metric_type"`
	EnableSimpleTags        *bool   `mapstructure:"enable_simple_tags"`
	EnableIPOnlyAggregation *bool   `mapstructure:"enable_ip_only_aggregation"`
	CounterType             *string `mapstructure:"counter_type"`
	// TimerHistogramMapping is set only for the list form; the string form is this receiver's.
	TimerHistogramMapping []contribMapping `mapstructure:"timer_histogram_mapping"`
}

// contribMapping is one entry of the contrib receiver's timer_histogram_mapping list.
type contribMapping struct {
	StatsdType   string            `mapstructure:"statsd_type"`
	ObserverType string            `mapstructure:"observer_type"`
	Histogram    *contribHistogram `mapstructure:"histogram"`
	Summary      *contribSummary   `mapstructure:"summary"`
}

type contribHistogram struct {
	MaxSize         int   `mapstructure:"max_size"`
	MaxScale        *int  `mapstructure:"max_scale"`
	ExplicitBuckets []any `mapstructure:"explicit_buckets"`
}

type contribSummary struct {
	Percentiles []float64 `mapstructure:"percentiles"`
}

// contribKeys are the contrib statsd receiver's keys this receiver accepts (aggregation_interval
// is a key of both, with the same meaning).
var contribKeys = []string{
	"endpoint", "transport", "socket_permissions", "socket_buffer_size", "is_monotonic_counter",
	"enable_metric_type", "enable_simple_tags", "enable_ip_only_aggregation", "counter_type",
}

// Defaults of the contrib statsd receiver that a translated configuration needs.
const (
	contribDefaultEndpoint     = "localhost:8125"
	contribDefaultSocket       = "/var/run/statsd-receiver.sock"
	contribMaxHistogramSize    = 16384 // go-expohisto's largest max_size, which contrib enforces
	contribTimerCategory       = "`ms` timers"
	contribHistogramCategory   = "`h` histograms"
	contribObserverHistogram   = "histogram"
	contribObserverSummary     = "summary"
	contribTimerHistogramField = "timer_histogram_mapping"
)

// contribDefaultPercentiles are the contrib receiver's summary percentiles when none are given.
var contribDefaultPercentiles = []float64{0, 10, 50, 90, 95, 100}

// fromContrib rewrites the contrib statsd receiver's keys in conf into this receiver's keys.
// A contrib key whose translation is also given under this receiver's own key is an error, so
// no setting silently wins over another.
func fromContrib(conf *confmap.Conf) error {
	raw := map[string]any{}
	for _, k := range contribKeys {
		if conf.IsSet(k) {
			raw[k] = conf.Get(k)
		}
	}
	list, isList := conf.Get(contribTimerHistogramField).([]any)
	if isList {
		raw[contribTimerHistogramField] = list
	}
	if len(raw) == 0 {
		return nil
	}
	var cc contribConfig
	if err := confmap.NewFromStringMap(raw).Unmarshal(&cc); err != nil {
		return fmt.Errorf("contrib statsd receiver keys: %w", err)
	}
	t := translation{conf: conf, out: map[string]any{}}
	t.transport(cc)
	if cc.SocketPermissions != nil {
		t.socketPermissions(cc.SocketPermissions)
	}
	if cc.SocketBufferSize != nil {
		t.set("socket_buffer_size", "unixgram::so_rcvbuf", *cc.SocketBufferSize)
	}
	if cc.IsMonotonicCounter != nil {
		t.set("is_monotonic_counter", "monotonic_counters", *cc.IsMonotonicCounter)
	}
	if cc.EnableMetricType != nil && *cc.EnableMetricType {
		t.fail("`enable_metric_type` (true) has no equivalent: no `metric_type` attribute is added here; remove the key")
	}
	// enable_simple_tags: bare tags (`#mykey`) are always kept here, as attributes with an empty
	// value. enable_ip_only_aggregation: samples are never split by client address here, so
	// both of its values aggregate at least as widely as asked. Both are accepted and ignored.
	if cc.CounterType != nil && *cc.CounterType != "float" {
		t.fail(fmt.Sprintf("`counter_type` (%q) has no equivalent: counters are double sums here (as contrib's \"float\"); remove the key or set \"float\"", *cc.CounterType))
	}
	if isList {
		t.timerHistogramMapping(cc.TimerHistogramMapping)
	}
	if len(t.errs) > 0 {
		return errors.Join(t.errs...)
	}
	for _, k := range contribKeys {
		conf.Delete(k)
	}
	if isList {
		conf.Delete(contribTimerHistogramField)
	}
	return conf.Merge(confmap.NewFromStringMap(t.out))
}

// translation collects the keys of this receiver that contrib keys translate to, and errors.
type translation struct {
	conf *confmap.Conf
	out  map[string]any
	errs []error
}

func (t *translation) fail(msg string) { t.errs = append(t.errs, errors.New(msg)) }

// set puts v under path (confmap's "::"-separated key) unless the user set that key too.
func (t *translation) set(from, path string, v any) {
	key := strings.ReplaceAll(path, confmap.KeyDelimiter, ".")
	if t.conf.IsSet(path) {
		t.fail(fmt.Sprintf("`%s` (contrib statsd receiver) and `%s` are both set: keep `%s`", from, key, key))
		return
	}
	m := t.out
	parts := strings.Split(path, confmap.KeyDelimiter)
	for _, p := range parts[:len(parts)-1] {
		sub, ok := m[p].(map[string]any)
		if !ok {
			sub = map[string]any{}
			m[p] = sub
		}
		m = sub
	}
	m[parts[len(parts)-1]] = v
}

// transport maps contrib's single `transport` and `endpoint` onto this receiver's transports. A
// contrib receiver listens on one transport only, so a TCP or Unix datagram one turns the
// default UDP listener off unless `udp.endpoint` is set as well.
func (t *translation) transport(cc contribConfig) {
	if cc.Endpoint == nil && cc.Transport == nil {
		return
	}
	transport := "udp"
	if cc.Transport != nil {
		transport = *cc.Transport
	}
	endpoint := func(def string) string {
		if cc.Endpoint != nil {
			return *cc.Endpoint
		}
		return def
	}
	disableUDP := func() {
		if !t.conf.IsSet("udp::endpoint") {
			t.set("transport", "udp::endpoint", "")
		}
	}
	switch transport {
	case "udp", "udp4", "udp6":
		if cc.Endpoint != nil {
			t.set("endpoint", "udp::endpoint", *cc.Endpoint)
		}
	case "tcp", "tcp4", "tcp6":
		t.set("endpoint", "tcp::endpoint", endpoint(contribDefaultEndpoint))
		disableUDP()
	case "unixgram":
		t.set("endpoint", "unixgram::path", endpoint(contribDefaultSocket))
		disableUDP()
	default:
		t.fail(fmt.Sprintf("`transport` (%q) must be one of udp, udp4, udp6, tcp, tcp4, tcp6, unixgram (the contrib statsd receiver's transports; the address family follows the endpoint's host here)", transport))
	}
}

// socketPermissions takes contrib's file mode: a YAML octal number (0622) or an octal string.
func (t *translation) socketPermissions(v any) {
	var mode string
	switch p := v.(type) {
	case int:
		mode = "0" + strconv.FormatInt(int64(p), 8)
	case uint64:
		mode = "0" + strconv.FormatUint(p, 8)
	case string:
		mode = p
	default:
		t.fail(fmt.Sprintf("`socket_permissions` (%v) must be an octal file mode such as 0622", v))
		return
	}
	t.set("socket_permissions", "unixgram::socket_permissions", mode)
}

// resolvedMapping is the entry that decides a contrib category (the last one naming it).
type resolvedMapping struct {
	index int
	m     contribMapping
}

// timerHistogramMapping translates contrib's list form. There, `timing`/`timer` entries set what
// `ms` becomes and `histogram`/`distribution` entries set what both `h` and `d` become, the last
// entry of each kind winning. Here `ms` and `h` share one mapping and `d` is always an
// exponential histogram, so the two kinds must agree; `gauge` (each value sent as a gauge point)
// and `disabled` (values dropped) have no equivalent.
func (t *translation) timerHistogramMapping(list []contribMapping) {
	errs := len(t.errs)
	var timers, histograms *resolvedMapping
	for i, m := range list {
		if !t.checkEntry(i, m) {
			continue
		}
		switch m.StatsdType {
		case "timing", "timer":
			timers = &resolvedMapping{i, m}
		case "histogram", "distribution":
			histograms = &resolvedMapping{i, m}
		}
	}
	if len(t.errs) > errs {
		return
	}
	for _, r := range []*resolvedMapping{timers, histograms} {
		if r == nil {
			continue
		}
		switch r.m.ObserverType {
		case "gauge":
			t.fail(fmt.Sprintf("`timer_histogram_mapping[%d]` (statsd_type %q, observer_type \"gauge\"): sending each value as a gauge point has no equivalent; use observer_type \"histogram\" or \"summary\"", r.index, r.m.StatsdType))
		case "disabled":
			t.fail(fmt.Sprintf("`timer_histogram_mapping[%d]` (statsd_type %q, observer_type \"disabled\"): dropping these samples has no equivalent; use observer_type \"histogram\" or \"summary\"", r.index, r.m.StatsdType))
		}
	}
	if len(t.errs) > errs || (timers == nil && histograms == nil) {
		return
	}
	decide := timers
	if decide == nil {
		decide = histograms
	}
	size := maxSize(decide.m)
	if timers != nil && histograms != nil {
		if timers.m.ObserverType != histograms.m.ObserverType {
			t.fail(fmt.Sprintf("`timer_histogram_mapping[%d]` (%s → %q) and `timer_histogram_mapping[%d]` (%s → %q) differ: here `ms` and `h` share one mapping; give both the same observer_type",
				timers.index, contribTimerCategory, timers.m.ObserverType, histograms.index, contribHistogramCategory, histograms.m.ObserverType))
			return
		}
		a, b := maxSize(timers.m), maxSize(histograms.m)
		if a != 0 && b != 0 && a != b {
			t.fail(fmt.Sprintf("`timer_histogram_mapping[%d].histogram.max_size` (%d) and `timer_histogram_mapping[%d].histogram.max_size` (%d) differ: here one `max_histogram_buckets` serves every exponential histogram",
				timers.index, a, histograms.index, b))
			return
		}
		size = max(a, b)
		if pa, pb := percentiles(timers.m), percentiles(histograms.m); !slices.Equal(pa, pb) {
			t.fail(fmt.Sprintf("`timer_histogram_mapping[%d].summary.percentiles` (%v) and `timer_histogram_mapping[%d].summary.percentiles` (%v) differ: here one `summary_quantiles` serves every summary",
				timers.index, pa, histograms.index, pb))
			return
		}
	}
	from := fmt.Sprintf("timer_histogram_mapping[%d]", decide.index)
	switch decide.m.ObserverType {
	case contribObserverHistogram:
		// The list itself is the key being replaced, so it cannot conflict.
		t.out[contribTimerHistogramField] = "exponential_histogram"
		if size != 0 {
			t.set(from+".histogram.max_size", "max_histogram_buckets", size)
		}
	case contribObserverSummary:
		t.out[contribTimerHistogramField] = "summary"
		var qs []any
		for _, p := range percentiles(decide.m) {
			qs = append(qs, percentToQuantile(p))
		}
		t.set(from+".summary.percentiles", "summary_quantiles", qs)
	}
}

// checkEntry reports (and records) what is wrong with one list entry; true means it is usable.
func (t *translation) checkEntry(i int, m contribMapping) bool {
	n := len(t.errs)
	at := fmt.Sprintf("timer_histogram_mapping[%d]", i)
	switch m.StatsdType {
	case "timing", "timer", "histogram", "distribution":
	case "":
		t.fail(fmt.Sprintf("`%s.statsd_type` must be set (timing, timer, histogram or distribution)", at))
	default:
		t.fail(fmt.Sprintf("`%s.statsd_type` (%q) must be one of timing, timer, histogram, distribution", at, m.StatsdType))
	}
	switch m.ObserverType {
	case "gauge", contribObserverSummary, contribObserverHistogram, "disabled":
	case "":
		t.fail(fmt.Sprintf("`%s.observer_type` must be set (histogram or summary)", at))
	default:
		t.fail(fmt.Sprintf("`%s.observer_type` (%q) must be one of histogram, summary", at, m.ObserverType))
	}
	if h := m.Histogram; h != nil {
		if m.ObserverType != contribObserverHistogram {
			t.fail(fmt.Sprintf("`%s.histogram` is set but observer_type is %q: it needs observer_type \"histogram\"", at, m.ObserverType))
		}
		if h.MaxSize != 0 && (h.MaxSize < 2 || h.MaxSize > contribMaxHistogramSize) {
			t.fail(fmt.Sprintf("`%s.histogram.max_size` (%d) must be between 2 and %d", at, h.MaxSize, contribMaxHistogramSize))
		}
		if h.MaxScale != nil {
			t.fail(fmt.Sprintf("`%s.histogram.max_scale` (%d) has no equivalent: the scale follows the values' range and `max_histogram_buckets`; remove it", at, *h.MaxScale))
		}
		if len(h.ExplicitBuckets) > 0 {
			t.fail(fmt.Sprintf("`%s.histogram.explicit_buckets` (buckets per metric name) has no equivalent: use `timer_histogram_mapping: histogram` with `explicit_buckets`, which apply to every `ms` and `h`", at))
		}
	}
	if s := m.Summary; s != nil {
		for _, p := range s.Percentiles {
			if math.IsNaN(p) || p < 0 || p > 100 {
				t.fail(fmt.Sprintf("`%s.summary.percentiles` (%v) must all be in [0, 100]", at, s.Percentiles))
				break
			}
		}
	}
	return len(t.errs) == n
}

func maxSize(m contribMapping) int {
	if m.Histogram == nil {
		return 0
	}
	return m.Histogram.MaxSize
}

// percentiles are an entry's summary percentiles, contrib's defaults when it gives none; nil
// for a histogram entry.
func percentiles(m contribMapping) []float64 {
	if m.ObserverType != contribObserverSummary {
		return nil
	}
	if m.Summary == nil || len(m.Summary.Percentiles) == 0 {
		return contribDefaultPercentiles
	}
	return m.Summary.Percentiles
}

// percentToQuantile is p/100 rounded from the decimal p is written as, so 99.9 gives 0.999 and
// not the float division's 0.9990000000000001.
func percentToQuantile(p float64) float64 {
	q, err := strconv.ParseFloat(strconv.FormatFloat(p, 'g', -1, 64)+"e-2", 64)
	if err != nil {
		return p / 100
	}
	return q
}
