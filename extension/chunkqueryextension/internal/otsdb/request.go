package otsdb

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ParseValues reads a GET /api/query: start (required), end (default now), tz (for dates),
// ms (millisecond keys), and one or more m= sub queries. Of a repeated single parameter the
// last counts, as in OpenTSDB.
func ParseValues(v url.Values, now time.Time) (*Query, error) {
	if v.Has("tsuid") {
		return nil, badRequest("tsuid queries are not supported by this server: query by metric with m=")
	}
	if v.Has("exp") {
		return nil, badRequest("expressions (exp) are not supported by this server")
	}
	last := func(k string) string {
		if vs := v[k]; len(vs) > 0 {
			return vs[len(vs)-1]
		}
		return ""
	}
	start := last("start")
	if start == "" {
		return nil, badRequest("Missing parameter <code>start</code>")
	}
	q, err := newQuery(start, last("end"), last("tz"), now)
	if err != nil {
		return nil, err
	}
	q.MsResolution = v.Has("ms") && !strings.EqualFold(last("ms"), "false")
	for _, m := range v["m"] {
		sq, err := ParseSubQuery(m)
		if err != nil {
			return nil, err
		}
		q.Subs = append(q.Subs, sq)
	}
	if len(q.Subs) == 0 {
		return nil, badRequest("Missing sub queries")
	}
	return q, nil
}

func newQuery(start, end, tz string, now time.Time) (*Query, error) {
	loc := time.UTC
	if tz != "" {
		l, err := time.LoadLocation(tz)
		if err != nil {
			return nil, badRequest("Invalid timezone name: %s", tz)
		}
		loc = l
	}
	q := &Query{}
	var err error
	if q.Start, err = ParseTime(start, now, loc); err != nil {
		return nil, err
	}
	q.End = now.UnixMilli()
	if end != "" {
		if q.End, err = ParseTime(end, now, loc); err != nil {
			return nil, err
		}
	}
	return q, nil
}

// flexBool is a JSON boolean that may also come as the string "true" or "false", as
// OpenTSDB's JSON reader takes it.
type flexBool bool

func (b *flexBool) UnmarshalJSON(data []byte) error {
	s := strings.Trim(string(data), `"`)
	if s == "null" {
		return nil
	}
	v, err := strconv.ParseBool(s)
	if err != nil {
		return fmt.Errorf("%s is not a boolean", data)
	}
	*b = flexBool(v)
	return nil
}

// flexString is a JSON string that may also come as a number (times, counter values).
type flexString string

func (s *flexString) UnmarshalJSON(data []byte) error {
	if len(data) > 0 && data[0] == '"' {
		var v string
		err := json.Unmarshal(data, &v)
		*s = flexString(v)
		return err
	}
	if string(data) == "null" {
		return nil
	}
	var n json.Number
	err := json.Unmarshal(data, &n)
	*s = flexString(n)
	return err
}

// jsonQuery is the body of POST /api/query; fields OpenTSDB has but this API ignores are not
// listed (annotations, statistics, padding).
type jsonQuery struct {
	Start        flexString `json:"start"`
	End          flexString `json:"end"`
	Timezone     string     `json:"timezone"`
	MsResolution flexBool   `json:"msResolution"`
	UseCalendar  flexBool   `json:"useCalendar"`
	Delete       flexBool   `json:"delete"`
	Queries      []struct {
		Aggregator string            `json:"aggregator"`
		Metric     string            `json:"metric"`
		Tsuids     []string          `json:"tsuids"`
		Downsample string            `json:"downsample"`
		Rate       flexBool          `json:"rate"`
		Tags       map[string]string `json:"tags"`
		Filters    []struct {
			Type    string   `json:"type"`
			Tagk    string   `json:"tagk"`
			Filter  string   `json:"filter"`
			GroupBy flexBool `json:"groupBy"`
		} `json:"filters"`
		ExplicitTags flexBool  `json:"explicitTags"`
		Percentiles  []float64 `json:"percentiles"`
		RateOptions  *struct {
			Counter    flexBool   `json:"counter"`
			CounterMax flexString `json:"counterMax"`
			ResetValue flexString `json:"resetValue"`
			DropResets flexBool   `json:"dropResets"`
		} `json:"rateOptions"`
	} `json:"queries"`
}

// ParseJSON reads the body of a POST /api/query.
func ParseJSON(body []byte, now time.Time) (*Query, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, &Error{Code: 400, Message: "Missing message content", Details: "Supply valid JSON formatted data in the body of your request"}
	}
	var jq jsonQuery
	if err := json.Unmarshal(body, &jq); err != nil {
		details := err.Error()
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			details = fmt.Sprintf("%s: a JSON %s does not fit here", te.Field, te.Value)
		}
		return nil, &Error{Code: 400, Message: "Unable to parse the given JSON", Details: details}
	}
	switch {
	case jq.Start == "":
		return nil, badRequest("Missing start time")
	case bool(jq.UseCalendar):
		return nil, badRequest("useCalendar is not supported: downsampling buckets are aligned on the Unix epoch")
	case bool(jq.Delete):
		return nil, badRequest("Deleting data is not enabled: this API only reads")
	case len(jq.Queries) == 0:
		return nil, badRequest("Missing queries")
	}
	q, err := newQuery(string(jq.Start), string(jq.End), jq.Timezone, now)
	if err != nil {
		return nil, err
	}
	q.MsResolution = bool(jq.MsResolution)
	for _, js := range jq.Queries {
		if js.Aggregator == "" {
			return nil, badRequest("Missing the aggregation function")
		}
		agg, ok := LookupAggregator(js.Aggregator)
		if !ok {
			return nil, badRequest("No such aggregation function: %s", js.Aggregator)
		}
		switch {
		case js.Metric == "" && len(js.Tsuids) > 0:
			return nil, badRequest("tsuid queries are not supported by this server: query by metric")
		case js.Metric == "":
			return nil, badRequest("Missing the metric or tsuids, provide at least one")
		case len(js.Percentiles) > 0:
			return nil, badRequest("percentiles apply to histograms, which this API does not serve")
		}
		sq := &SubQuery{Aggregator: agg, Metric: js.Metric, Rate: bool(js.Rate), ExplicitTags: bool(js.ExplicitTags),
			RateOptions: RateOptions{CounterMax: defaultCounterMax}}
		if js.Downsample != "" {
			if sq.Downsample, err = ParseDownsample(js.Downsample); err != nil {
				return nil, err
			}
		}
		if ro := js.RateOptions; ro != nil {
			if sq.RateOptions, err = jsonRateOptions(bool(ro.Counter), bool(ro.DropResets), string(ro.CounterMax), string(ro.ResetValue)); err != nil {
				return nil, err
			}
		}
		for _, f := range js.Filters {
			flt := Filter{Type: f.Type, Tagk: f.Tagk, Expr: f.Filter, GroupBy: bool(f.GroupBy)}
			if err := flt.check(); err != nil {
				return nil, err
			}
			sq.Filters = append(sq.Filters, flt)
		}
		tagks := make([]string, 0, len(js.Tags))
		for k := range js.Tags {
			tagks = append(tagks, k)
		}
		sort.Strings(tagks)
		for _, k := range tagks {
			v := js.Tags[k]
			f, err := tagFilter(k+"="+v, true)
			if err != nil {
				return nil, badRequest("When parsing tag '%s=%s': %s", k, v, err.Error())
			}
			sq.Filters = append(sq.Filters, f)
		}
		q.Subs = append(q.Subs, sq)
	}
	return q, nil
}

func jsonRateOptions(counter, drop bool, counterMax, resetValue string) (RateOptions, error) {
	// As in OpenTSDB, dropResets only acts on a counter.
	o := RateOptions{Counter: counter, DropResets: drop, CounterMax: defaultCounterMax}
	if counterMax != "" {
		v, err := strconv.ParseInt(counterMax, 10, 64)
		if err != nil {
			return o, badRequest("Max value of counter was not a number, received '%s'", counterMax)
		}
		o.CounterMax = float64(v)
	}
	if resetValue != "" {
		v, err := strconv.ParseInt(resetValue, 10, 64)
		if err != nil {
			return o, badRequest("Reset value of counter was not a number, received '%s'", resetValue)
		}
		o.ResetValue = float64(v)
	}
	return o, nil
}
