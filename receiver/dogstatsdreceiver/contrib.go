package dogstatsdreceiver

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/confmap"

	"github.com/doghouse-otel/doghouse/internal/exphist"
	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/aggregate"
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
	perType, isList, err := fromContrib(conf)
	if err != nil {
		return err
	}
	if err := conf.Unmarshal((*configFields)(c)); err != nil {
		return err
	}
	if isList {
		c.perType = perType
	}
	return nil
}

// contribConfig holds the contrib statsd receiver's keys that are not keys of this receiver.
// Pointers tell an absent key from a zero value.
type contribConfig struct {
	Endpoint                *string `mapstructure:"endpoint"`
	Transport               *string `mapstructure:"transport"`
	SocketPermissions       any     `mapstructure:"socket_permissions"`
	SocketBufferSize        *int    `mapstructure:"socket_buffer_size"`
	IsMonotonicCounter      *bool   `mapstructure:"is_monotonic_counter"`
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
	MaxSize         int                     `mapstructure:"max_size"`
	MaxScale        *int                    `mapstructure:"max_scale"`
	ExplicitBuckets []contribExplicitBucket `mapstructure:"explicit_buckets"`
}

// contribExplicitBucket gives the metrics whose name matcher_pattern (a regular expression)
// matches an explicit-bucket histogram instead of an exponential one.
type contribExplicitBucket struct {
	MatcherPattern string    `mapstructure:"matcher_pattern"`
	Buckets        []float64 `mapstructure:"buckets"`
}

type contribSummary struct {
	Percentiles []float64 `mapstructure:"percentiles"`
}

// contribKeys are the contrib statsd receiver's keys this receiver accepts (aggregation_interval
// and enable_metric_type are keys of both, with the same meaning).
var contribKeys = []string{
	"endpoint", "transport", "socket_permissions", "socket_buffer_size", "is_monotonic_counter",
	"enable_simple_tags", "enable_ip_only_aggregation", "counter_type",
}

// Defaults of the contrib statsd receiver that a translated configuration needs.
const (
	contribDefaultEndpoint     = "localhost:8125"
	contribDefaultSocket       = "/var/run/statsd-receiver.sock"
	contribMaxHistogramSize    = 16384 // go-expohisto's largest max_size, which contrib enforces
	contribObserverHistogram   = "histogram"
	contribObserverSummary     = "summary"
	contribObserverGauge       = "gauge"
	contribObserverDisabled    = "disabled"
	contribTimerHistogramField = "timer_histogram_mapping"
	mappingExponential         = "exponential_histogram"
)

// contribDefaultPercentiles are the contrib receiver's summary percentiles when none are given.
var contribDefaultPercentiles = []float64{0, 10, 50, 90, 95, 100}

// fromContrib rewrites the contrib statsd receiver's keys in conf into this receiver's keys.
// A contrib key whose translation is also given under this receiver's own key is an error, so
// no setting silently wins over another. When conf holds the list form of
// timer_histogram_mapping, isList is true and perType is what the list asks for beyond this
// receiver's keys (nil when they say it all).
func fromContrib(conf *confmap.Conf) (perType *typeMappings, isList bool, err error) {
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
		return nil, false, nil
	}
	var cc contribConfig
	if err := confmap.NewFromStringMap(raw).Unmarshal(&cc); err != nil {
		return nil, false, fmt.Errorf("contrib statsd receiver keys: %w", err)
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
	// enable_simple_tags: bare tags (`#mykey`) are always kept here, as attributes with an empty
	// value. enable_ip_only_aggregation: samples are never split by client address here, so
	// both of its values aggregate at least as widely as asked. Both are accepted and ignored.
	if cc.CounterType != nil && *cc.CounterType != "float" {
		t.fail(fmt.Sprintf("`counter_type` (%q) has no equivalent: counters are double sums here (as contrib's \"float\"); remove the key or set \"float\"", *cc.CounterType))
	}
	if isList {
		perType = t.timerHistogramMapping(cc.TimerHistogramMapping)
	}
	if len(t.errs) > 0 {
		return nil, false, errors.Join(t.errs...)
	}
	for _, k := range contribKeys {
		conf.Delete(k)
	}
	if isList {
		conf.Delete(contribTimerHistogramField)
	}
	return perType, isList, conf.Merge(confmap.NewFromStringMap(t.out))
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

// typeMappings are the outputs of `ms`, `h` and `d` a contrib mapping list gives.
type typeMappings struct {
	Timer, Histogram, Distribution typeMapping
}

// typeMapping is one type's output.
type typeMapping struct {
	// Mapping is one of timerMappings (agent_aggregates and histogram excepted).
	Mapping string
	// MaxBuckets is the exponential histogram's max_size; 0 keeps max_histogram_buckets.
	MaxBuckets int
	// MaxScale caps the exponential histogram's scale; nil: no cap.
	MaxScale *int32
	// Quantiles are a summary's, in [0, 1].
	Quantiles []float64
	// Named are the explicit buckets of the metric names their pattern matches, the first
	// matching entry winning; other names stay exponential histograms.
	Named []namedBuckets
}

// namedBuckets are the explicit buckets of the metric names Pattern matches.
type namedBuckets struct {
	Pattern string
	Buckets []float64
}

// aggregate returns the aggregator's form of m. Its patterns compile: Validate checked them.
func (m *typeMapping) aggregate() *aggregate.TypeConfig {
	tc := &aggregate.TypeConfig{Mapping: mappings[m.Mapping], MaxBuckets: m.MaxBuckets, Quantiles: m.Quantiles}
	if m.MaxScale != nil {
		tc.MaxScale, tc.HasMaxScale = *m.MaxScale, true
	}
	for _, n := range m.Named {
		tc.Named = append(tc.Named, aggregate.NamedBounds{Match: regexp.MustCompile(n.Pattern), Bounds: n.Buckets})
	}
	return tc
}

// validate checks what Unmarshal checked, for a configuration built another way.
func (p *typeMappings) validate() error {
	for _, m := range []*typeMapping{&p.Timer, &p.Histogram, &p.Distribution} {
		if _, ok := mappings[m.Mapping]; !ok {
			return fmt.Errorf("contrib timer_histogram_mapping: unknown output %q", m.Mapping)
		}
		for _, n := range m.Named {
			if _, err := regexp.Compile(n.Pattern); err != nil {
				return fmt.Errorf("contrib timer_histogram_mapping: matcher_pattern %q: %w", n.Pattern, err)
			}
		}
	}
	return nil
}

// timerHistogramMapping translates contrib's list form. There, `timing`/`timer` entries set what
// `ms` becomes and `histogram`/`distribution` entries set what both `h` and `d` become (one
// category in contrib), the last entry of each kind winning; a kind no entry names is dropped
// (contrib's default observer, "disabled"). When `ms`, `h` and `d` all become exponential
// histograms of one size, the list translates into this receiver's keys and the result is nil;
// otherwise the result holds each type's output.
func (t *translation) timerHistogramMapping(list []contribMapping) *typeMappings {
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
		return nil
	}
	for _, r := range []*resolvedMapping{timers, histograms} {
		if r != nil && maxSize(r.m) != 0 && t.conf.IsSet("max_histogram_buckets") {
			t.set(fmt.Sprintf("timer_histogram_mapping[%d].histogram.max_size", r.index), "max_histogram_buckets", nil)
		}
		if r != nil && r.m.ObserverType == contribObserverSummary && t.conf.IsSet("summary_quantiles") {
			t.set(fmt.Sprintf("timer_histogram_mapping[%d].summary.percentiles", r.index), "summary_quantiles", nil)
		}
	}
	if len(t.errs) > errs {
		return nil
	}
	tm, hm := typeMappingOf(timers), typeMappingOf(histograms)
	if tm.Mapping == mappingExponential && hm.Mapping == mappingExponential && tm.MaxBuckets == hm.MaxBuckets &&
		tm.MaxScale == nil && hm.MaxScale == nil && tm.Named == nil && hm.Named == nil {
		// The list itself is the key being replaced, so it cannot conflict.
		t.out[contribTimerHistogramField] = mappingExponential
		if tm.MaxBuckets != 0 {
			t.out["max_histogram_buckets"] = tm.MaxBuckets
		}
		return nil
	}
	return &typeMappings{Timer: tm, Histogram: hm, Distribution: hm}
}

// typeMappingOf is the output the entry r gives its types; nil r (no entry) drops them.
func typeMappingOf(r *resolvedMapping) typeMapping {
	if r == nil {
		return typeMapping{Mapping: contribObserverDisabled}
	}
	switch r.m.ObserverType {
	case contribObserverHistogram:
		tm := typeMapping{Mapping: mappingExponential, MaxBuckets: maxSize(r.m)}
		if h := r.m.Histogram; h != nil {
			if h.MaxScale != nil {
				s := int32(*h.MaxScale)
				tm.MaxScale = &s
			}
			for _, eb := range h.ExplicitBuckets {
				b := slices.Compact(slices.Clone(eb.Buckets)) // contrib keeps each bound once
				tm.Named = append(tm.Named, namedBuckets{Pattern: eb.MatcherPattern, Buckets: b})
			}
		}
		return tm
	case contribObserverSummary:
		var qs []float64
		for _, p := range percentiles(r.m) {
			qs = append(qs, percentToQuantile(p))
		}
		return typeMapping{Mapping: contribObserverSummary, Quantiles: qs}
	default: // gauge, disabled
		return typeMapping{Mapping: r.m.ObserverType}
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
	case contribObserverGauge, contribObserverSummary, contribObserverHistogram, contribObserverDisabled:
	case "":
		t.fail(fmt.Sprintf("`%s.observer_type` must be set (histogram, summary, gauge or disabled)", at))
	default:
		t.fail(fmt.Sprintf("`%s.observer_type` (%q) must be one of histogram, summary, gauge, disabled", at, m.ObserverType))
	}
	if h := m.Histogram; h != nil {
		if m.ObserverType != contribObserverHistogram {
			t.fail(fmt.Sprintf("`%s.histogram` is set but observer_type is %q: it needs observer_type \"histogram\"", at, m.ObserverType))
		}
		if h.MaxSize != 0 && (h.MaxSize < 2 || h.MaxSize > contribMaxHistogramSize) {
			t.fail(fmt.Sprintf("`%s.histogram.max_size` (%d) must be between 2 and %d", at, h.MaxSize, contribMaxHistogramSize))
		}
		if h.MaxScale != nil && (*h.MaxScale < exphist.MinScale || *h.MaxScale > exphist.MaxScale) {
			t.fail(fmt.Sprintf("`%s.histogram.max_scale` (%d) must be between %d and %d, the scales of an exponential histogram", at, *h.MaxScale, exphist.MinScale, exphist.MaxScale))
		}
		for j, eb := range h.ExplicitBuckets {
			t.checkExplicitBucket(fmt.Sprintf("%s.histogram.explicit_buckets[%d]", at, j), eb)
		}
	}
	if s := m.Summary; s != nil {
		if m.ObserverType != contribObserverSummary && len(s.Percentiles) > 0 {
			t.fail(fmt.Sprintf("`%s.summary` is set but observer_type is %q: it needs observer_type \"summary\"", at, m.ObserverType))
		}
		for _, p := range s.Percentiles {
			if math.IsNaN(p) || p < 0 || p > 100 {
				t.fail(fmt.Sprintf("`%s.summary.percentiles` (%v) must all be in [0, 100]", at, s.Percentiles))
				break
			}
		}
	}
	return len(t.errs) == n
}

// checkExplicitBucket checks one explicit_buckets entry as contrib does: a regular expression
// and ascending finite bounds (a bound given twice counts once).
func (t *translation) checkExplicitBucket(at string, eb contribExplicitBucket) {
	if eb.MatcherPattern == "" {
		t.fail(fmt.Sprintf("`%s.matcher_pattern` must be set: a regular expression that metric names are matched against", at))
	} else if _, err := regexp.Compile(eb.MatcherPattern); err != nil {
		t.fail(fmt.Sprintf("`%s.matcher_pattern` (%q) is not a regular expression: %v", at, eb.MatcherPattern, err))
	}
	if len(eb.Buckets) == 0 {
		t.fail(fmt.Sprintf("`%s.buckets` must not be empty", at))
	}
	for k, b := range eb.Buckets {
		if math.IsNaN(b) || math.IsInf(b, 0) || (k > 0 && b < eb.Buckets[k-1]) {
			t.fail(fmt.Sprintf("`%s.buckets` (%v) must be finite and in ascending order", at, eb.Buckets))
			return
		}
	}
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
