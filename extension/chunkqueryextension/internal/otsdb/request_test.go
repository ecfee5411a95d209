package otsdb

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var testNow = time.Date(2026, 11, 29, 8, 0, 0, 0, time.UTC)

func TestParseJSON(t *testing.T) {
	q, err := ParseJSON([]byte(`{"start":"1h-ago","msResolution":"true","unknownField":1,"queries":[
		{"aggregator":"sum","metric":"m","rate":"true","rateOptions":{"counter":true,"counterMax":"100","resetValue":5},
		 "tags":{"host":"*","dc":"lax|dal"},"filters":[{"type":"regexp","tagk":"env","filter":"^p","groupBy":false}],"explicitTags":true},
		{"aggregator":"avg","metric":"n","downsample":"5m-avg-zero","rateOptions":{"dropResets":true}}]}`), testNow)
	require.NoError(t, err)
	assert.Equal(t, testNow.Add(-time.Hour).UnixMilli(), q.Start)
	assert.Equal(t, testNow.UnixMilli(), q.End)
	assert.True(t, q.MsResolution)
	require.Len(t, q.Subs, 2)
	s := q.Subs[0]
	assert.True(t, s.Rate)
	assert.True(t, s.ExplicitTags)
	assert.Equal(t, RateOptions{Counter: true, CounterMax: 100, ResetValue: 5}, s.RateOptions)
	// The filters first, then the tags in key order.
	assert.Equal(t, []Filter{
		{Type: "regexp", Tagk: "env", Expr: "^p"},
		{Type: "literal_or", Tagk: "dc", Expr: "lax|dal", GroupBy: true},
		{Type: "wildcard", Tagk: "host", Expr: "*", GroupBy: true},
	}, s.Filters)
	assert.Equal(t, "5m-avg-zero", q.Subs[1].Downsample.Spec)
	// dropResets without counter does nothing, as in OpenTSDB.
	assert.Equal(t, RateOptions{DropResets: true, CounterMax: defaultCounterMax}, q.Subs[1].RateOptions)

	q, err = ParseJSON([]byte(`{"start":1700000000,"end":1700000060.5,"timezone":"Asia/Tokyo","queries":[{"aggregator":"none","metric":"m"}]}`), testNow)
	require.NoError(t, err)
	assert.Equal(t, int64(1_700_000_000_000), q.Start)
	assert.Equal(t, int64(1_700_000_060_500), q.End)
}

func TestParseJSONErrors(t *testing.T) {
	for _, c := range []struct{ body, msg, details string }{
		{``, "Missing message content", "Supply valid JSON formatted data in the body of your request"},
		{`{"start":`, "Unable to parse the given JSON", "unexpected end of JSON input"},
		{`{"start":"1h-ago","queries":{}}`, "Unable to parse the given JSON", "queries: a JSON object does not fit here"},
		{`{"start":"1h-ago","queries":[{"filters":[{"groupBy":3}]}]}`, "Unable to parse the given JSON", "3 is not a boolean"},
		{`{"start":"1h-ago","queries":[{"rate":"maybe"}]}`, "Unable to parse the given JSON", `"maybe" is not a boolean`},
		{`{"queries":[]}`, "Missing start time", ""},
		{`{"start":"1h-ago"}`, "Missing queries", ""},
		{`{"start":"1h-ago","useCalendar":true,"queries":[{}]}`, "useCalendar is not supported: downsampling buckets are aligned on the Unix epoch", ""},
		{`{"start":"1h-ago","delete":true,"queries":[{}]}`, "Deleting data is not enabled: this API only reads", ""},
		{`{"start":"1h-ago","timezone":"Mars/Olympus","queries":[{}]}`, "Invalid timezone name: Mars/Olympus", ""},
		{`{"start":"1h-ago","queries":[{"metric":"m"}]}`, "Missing the aggregation function", ""},
		{`{"start":"1h-ago","queries":[{"aggregator":"add","metric":"m"}]}`, "No such aggregation function: add", ""},
		{`{"start":"1h-ago","queries":[{"aggregator":"sum"}]}`, "Missing the metric or tsuids, provide at least one", ""},
		{`{"start":"1h-ago","queries":[{"aggregator":"sum","tsuids":["000001"]}]}`, "tsuid queries are not supported by this server: query by metric", ""},
		{`{"start":"1h-ago","queries":[{"aggregator":"sum","metric":"m","percentiles":[99]}]}`, "percentiles apply to histograms, which this API does not serve", ""},
		{`{"start":"1h-ago","queries":[{"aggregator":"sum","metric":"m","downsample":"1m"}]}`, "Invalid downsampling specifier '1m': must provide at least interval and function", ""},
		{`{"start":"1h-ago","queries":[{"aggregator":"sum","metric":"m","rateOptions":{"counterMax":"x"}}]}`, "Max value of counter was not a number, received 'x'", ""},
		{`{"start":"1h-ago","queries":[{"aggregator":"sum","metric":"m","rateOptions":{"resetValue":1.5}}]}`, "Reset value of counter was not a number, received '1.5'", ""},
		{`{"start":"1h-ago","queries":[{"aggregator":"sum","metric":"m","filters":[{"tagk":"h","filter":"x"}]}]}`, "The filter type cannot be null or empty", ""},
		{`{"start":"1h-ago","queries":[{"aggregator":"sum","metric":"m","filters":[{"type":"literal_or","filter":"x"}]}]}`, "The tagk cannot be null or empty", ""},
		{`{"start":"1h-ago","queries":[{"aggregator":"sum","metric":"m","filters":[{"type":"glob","tagk":"h","filter":"x"}]}]}`, "Could not find a tag value filter of the type: glob", ""},
		{`{"start":"1h-ago","queries":[{"aggregator":"sum","metric":"m","filters":[{"type":"regexp","tagk":"h"}]}]}`, "Filter cannot be null or empty", ""},
		{`{"start":"1h-ago","queries":[{"aggregator":"sum","metric":"m","tags":{"h":""}}]}`, "When parsing tag 'h=': invalid tag: h=", ""},
	} {
		_, err := ParseJSON([]byte(c.body), testNow)
		var e *Error
		require.ErrorAs(t, err, &e, c.body)
		assert.Equal(t, &Error{Code: 400, Message: c.msg, Details: c.details}, e, c.body)
	}
}

func TestParseValues(t *testing.T) {
	v, err := url.ParseQuery("start=1h-ago&start=2h-ago&end=30m-ago&ms&m=sum:a&m=avg:1m-avg:b{h=*}")
	require.NoError(t, err)
	q, err := ParseValues(v, testNow)
	require.NoError(t, err)
	assert.Equal(t, testNow.Add(-2*time.Hour).UnixMilli(), q.Start, "the last start counts")
	assert.Equal(t, testNow.Add(-30*time.Minute).UnixMilli(), q.End)
	assert.True(t, q.MsResolution)
	require.Len(t, q.Subs, 2)
	assert.Equal(t, "b", q.Subs[1].Metric)

	v, _ = url.ParseQuery("start=1h-ago&ms=false&m=sum:a")
	q, err = ParseValues(v, testNow)
	require.NoError(t, err)
	assert.False(t, q.MsResolution)

	for query, msg := range map[string]string{
		"m=sum:a":                       "Missing parameter <code>start</code>",
		"start=1h-ago":                  "Missing sub queries",
		"start=1h-ago&tsuid=sum:000001": "tsuid queries are not supported by this server: query by metric with m=",
		"start=1h-ago&exp=a":            "expressions (exp) are not supported by this server",
		"start=1h-ago&end=x&m=sum:a":    "Invalid time: x. It is not a relative time (1h-ago), a Unix timestamp or a date (yyyy/MM/dd-HH:mm:ss)",
		"start=2023/11/14&tz=UTC%2B1":   "Invalid timezone name: UTC+1",
	} {
		v, _ := url.ParseQuery(query)
		_, err := ParseValues(v, testNow)
		var e *Error
		require.ErrorAs(t, err, &e, query)
		assert.Equal(t, msg, e.Message, query)
	}
}

func TestValidate(t *testing.T) {
	sq, _ := ParseSubQuery("sum:1m-avg:m")
	lim := Limits{MaxSteps: 60, MaxMatchers: 2}
	assert.NoError(t, (&Query{Start: 0, End: 59 * 60_000, Subs: []*SubQuery{sq}}).Validate(lim))
	err := (&Query{Start: 30_000, End: 60*60_000 + 30_000, Subs: []*SubQuery{sq}}).Validate(lim)
	assert.EqualError(t, err, "m: the downsampler 1m-avg makes 61 buckets over the query's range, more than the limit of 60 (limits::max_steps): use a longer interval")
	all, _ := ParseSubQuery("sum:0all-avg:m")
	assert.NoError(t, (&Query{Start: 0, End: 1 << 40, Subs: []*SubQuery{all}}).Validate(lim))
	assert.EqualError(t, (&Query{Start: 5, End: 5, Subs: []*SubQuery{sq}}).Validate(lim), "End time [5] must be greater than the start time [5]")
	assert.EqualError(t, (&Query{Start: 0, End: 5}).Validate(lim), "Missing sub queries")
	// 40 repetitions of 1,000 instructions (and one for the class each time).
	big := &SubQuery{Metric: "m", Filters: []Filter{{Type: "regexp", Tagk: "h", Expr: strings.Repeat("[a-z]{1000}", 40)}}}
	assert.EqualError(t, (&Query{Start: 0, End: 5, Subs: []*SubQuery{big}}).Validate(lim),
		"the regular expressions of the tag filters compile to about 80041 instructions, more than the limit of 32768: use fewer counted repetitions ({n})")
	big.Filters[0].Expr = strings.Repeat("[a-z]{1000}", 16)
	assert.NoError(t, (&Query{Start: 0, End: 5, Subs: []*SubQuery{big}}).Validate(lim))
}
