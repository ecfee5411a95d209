package otsdb

import (
	"math"
	"strconv"
	"strings"
)

// SubQuery is one metric query of a request: an m= parameter, or one entry of the JSON
// body's "queries".
type SubQuery struct {
	Aggregator   *Aggregator
	Metric       string
	Rate         bool
	RateOptions  RateOptions
	Downsample   *Downsample // nil: none
	Filters      []Filter
	ExplicitTags bool // only series whose tag keys are exactly those of the filters
}

// RateOptions say how the rate treats a drop: with Counter, a drop is a counter that wrapped
// at CounterMax (or was reset); a rate above ResetValue (when positive) after a drop is then
// 0, and DropResets drops the point instead.
type RateOptions struct {
	Counter    bool
	CounterMax float64
	ResetValue float64
	DropResets bool
}

// defaultCounterMax is OpenTSDB's: Long.MAX_VALUE.
const defaultCounterMax = float64(math.MaxInt64)

// ParseSubQuery reads an m= parameter:
//
//	<aggregator>:[rate[{counter[,<max>[,<reset>]]}]:][<interval>-<function>[-<fill>]:][explicit_tags:]<metric>[{<tag filters>}][{<filters without grouping>}]
//
// The optional parts may come in any order. Tag filters are tagk=value pairs separated by
// commas; see tagFilter for the values.
func ParseSubQuery(m string) (*SubQuery, error) {
	if m == "" {
		return nil, badRequest("The query string was empty")
	}
	parts := splitParts(m)
	if len(parts) < 2 || len(parts) > 5 {
		return nil, badRequest("Invalid parameter m=%s (%s :-separated parts)", m, map[bool]string{true: "not enough", false: "too many"}[len(parts) < 2])
	}
	agg, ok := LookupAggregator(parts[0])
	if !ok {
		if parts[0] == "" {
			return nil, badRequest("Missing the aggregation function")
		}
		return nil, badRequest("No such aggregation function: %s", parts[0])
	}
	sq := &SubQuery{Aggregator: agg, RateOptions: RateOptions{CounterMax: defaultCounterMax}}
	for _, p := range parts[1 : len(parts)-1] {
		lower := strings.ToLower(p)
		switch {
		case strings.HasPrefix(lower, "rate"):
			if sq.Rate {
				return nil, badRequest("Invalid parameter m=%s (rate given twice)", m)
			}
			opts, err := parseRateOptions(p)
			if err != nil {
				return nil, err
			}
			sq.Rate, sq.RateOptions = true, opts
		case p != "" && p[0] >= '0' && p[0] <= '9':
			if sq.Downsample != nil {
				return nil, badRequest("Invalid parameter m=%s (downsampling given twice)", m)
			}
			ds, err := ParseDownsample(p)
			if err != nil {
				return nil, err
			}
			sq.Downsample = ds
		case lower == "explicit_tags":
			sq.ExplicitTags = true
		case strings.HasPrefix(lower, "percentiles"), lower == "show-histogram-buckets":
			return nil, badRequest("Invalid parameter m=%s (%s applies to histograms, which this API does not serve)", m, p)
		default:
			return nil, badRequest("Invalid parameter m=%s (unknown part %q: expected rate, a downsampler such as 1m-avg, or explicit_tags)", m, p)
		}
	}
	metric := parts[len(parts)-1]
	braces := ""
	sq.Metric = metric
	if i := strings.IndexByte(metric, '{'); i >= 0 {
		sq.Metric, braces = metric[:i], metric[i:]
	}
	if sq.Metric == "" {
		return nil, badRequest("Metric cannot be null or empty")
	}
	filters, err := parseBraces(metric, braces)
	if err != nil {
		return nil, err
	}
	sq.Filters = filters
	return sq, nil
}

// splitParts splits an m= parameter at the colons outside braces, so that a tag filter may
// hold a colon.
func splitParts(m string) []string {
	var parts []string
	depth, from := 0, 0
	for i := range len(m) {
		switch m[i] {
		case '{':
			depth++
		case '}':
			depth = max(depth-1, 0)
		case ':':
			if depth == 0 {
				parts = append(parts, m[from:i])
				from = i + 1
			}
		}
	}
	return append(parts, m[from:])
}

// parseBraces reads "{group by filters}{other filters}" after the metric name.
func parseBraces(metric, s string) ([]Filter, error) {
	var filters []Filter
	for set := 0; s != ""; set++ {
		if set == 2 || s[0] != '{' {
			return nil, badRequest("Unexpected %q after the tag filters of: %s", s, metric)
		}
		end := closingBrace(s)
		if end < 0 {
			return nil, badRequest("Missing '}' at the end of: %s", metric)
		}
		for _, pair := range splitTopLevel(s[1:end]) {
			if pair == "" && end == 1 {
				break // "{}"
			}
			f, err := tagFilter(pair, set == 0)
			if err != nil {
				what := map[bool]string{true: "tag", false: "filter"}[set == 0]
				return nil, badRequest("When parsing %s '%s': %s", what, pair, err.Error())
			}
			filters = append(filters, f)
		}
		s = s[end+1:]
	}
	return filters, nil
}

// closingBrace returns the index of the '}' closing the '{' at s[0], outside parentheses (a
// regexp filter may use braces), or -1.
func closingBrace(s string) int {
	depth := 0
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '(':
			depth++
		case ')':
			depth = max(depth-1, 0)
		case '}':
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

// splitTopLevel splits s at the commas outside parentheses.
func splitTopLevel(s string) []string {
	var out []string
	depth, from := 0, 0
	for i := range len(s) {
		switch s[i] {
		case '(':
			depth++
		case ')':
			depth = max(depth-1, 0)
		case ',':
			if depth == 0 {
				out = append(out, s[from:i])
				from = i + 1
			}
		}
	}
	return append(out, s[from:])
}

// parseRateOptions reads "rate" or "rate{counter[,<max>[,<reset>]]}" ("dropcounter" drops
// the points after a reset instead).
func parseRateOptions(spec string) (RateOptions, error) {
	opts := RateOptions{CounterMax: defaultCounterMax}
	if len(spec) == len("rate") {
		return opts, nil
	}
	if spec[4] != '{' || spec[len(spec)-1] != '}' {
		return opts, badRequest("Invalid rate options specification: %s", spec)
	}
	parts := strings.Split(spec[5:len(spec)-1], ",")
	if len(parts) > 3 {
		return opts, badRequest("Incorrect number of values in rate options specification, must be counter[,counter max value,reset value], received: %d parts", len(parts))
	}
	switch parts[0] {
	case "counter":
		opts.Counter = true
	case "dropcounter":
		opts.Counter, opts.DropResets = true, true
	default:
		return opts, badRequest("Invalid rate options specification: %s (the first option must be counter or dropcounter)", spec)
	}
	if len(parts) >= 2 && parts[1] != "" {
		v, err := strconv.ParseInt(parts[1], 10, 64)
		if err != nil {
			return opts, badRequest("Max value of counter was not a number, received '%s'", parts[1])
		}
		opts.CounterMax = float64(v)
	}
	if len(parts) == 3 && parts[2] != "" {
		v, err := strconv.ParseInt(parts[2], 10, 64)
		if err != nil {
			return opts, badRequest("Reset value of counter was not a number, received '%s'", parts[2])
		}
		opts.ResetValue = float64(v)
	}
	return opts, nil
}
