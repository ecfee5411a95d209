package otsdb

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseSubQuery(t *testing.T) {
	type want struct {
		agg, metric string
		rate        bool
		rateOpts    RateOptions
		ds          string // Spec, "" for none
		interval    int64
		fill        Fill
		explicit    bool
		filters     []Filter
	}
	plainRate := RateOptions{CounterMax: defaultCounterMax}
	for _, c := range []struct {
		m string
		w want
	}{
		{"sum:sys.cpu.user", want{agg: "sum", metric: "sys.cpu.user", rateOpts: plainRate}},
		{"avg:rate:1m-avg:page.views{host=*}", want{agg: "avg", metric: "page.views", rate: true, rateOpts: plainRate, ds: "1m-avg", interval: 60_000,
			filters: []Filter{{Type: "wildcard", Tagk: "host", Expr: "*", GroupBy: true}}}},
		{"sum:1h-avg-zero:rate{counter,100,10}:m{host=web01|web02,dc=regexp(la.*)}{owner=wildcard(j*)}", want{agg: "sum", metric: "m", rate: true,
			rateOpts: RateOptions{Counter: true, CounterMax: 100, ResetValue: 10}, ds: "1h-avg-zero", interval: 3_600_000, fill: FillZero,
			filters: []Filter{
				{Type: "literal_or", Tagk: "host", Expr: "web01|web02", GroupBy: true},
				{Type: "regexp", Tagk: "dc", Expr: "la.*", GroupBy: true},
				{Type: "wildcard", Tagk: "owner", Expr: "j*"},
			}}},
		{"none:RATE{dropcounter}:m", want{agg: "none", metric: "m", rate: true, rateOpts: RateOptions{Counter: true, DropResets: true, CounterMax: defaultCounterMax}}},
		{"mimmax:rate{counter,,5}:m", want{agg: "mimmax", metric: "m", rate: true, rateOpts: RateOptions{Counter: true, CounterMax: defaultCounterMax, ResetValue: 5}}},
		{"p99:0all-sum:explicit_tags:m{host=web*}", want{agg: "p99", metric: "m", rateOpts: plainRate, ds: "0all-sum", explicit: true,
			filters: []Filter{{Type: "iwildcard", Tagk: "host", Expr: "web*", GroupBy: true}}}},
		{"max:10s-p95-NaN:m{a=b}{c=NOT_ILITERAL_OR(X|Y)}", want{agg: "max", metric: "m", rateOpts: plainRate, ds: "10s-p95-NaN", interval: 10_000, fill: FillNaN,
			filters: []Filter{{Type: "literal_or", Tagk: "a", Expr: "b", GroupBy: true}, {Type: "not_iliteral_or", Tagk: "c", Expr: "X|Y"}}}},
		{"zimsum:500ms-count-null:m", want{agg: "zimsum", metric: "m", rateOpts: plainRate, ds: "500ms-count-null", interval: 500, fill: FillNull}},
		// A filter may hold ':' and, inside its parentheses, ',' '{' '}' '='.
		{"sum:m{url=http://x/y}", want{agg: "sum", metric: "m", rateOpts: plainRate, filters: []Filter{{Type: "literal_or", Tagk: "url", Expr: "http://x/y", GroupBy: true}}}},
		{"sum:m{host=regexp(web[0-9]{2,3}),k=regexp(a=b)}", want{agg: "sum", metric: "m", rateOpts: plainRate, filters: []Filter{
			{Type: "regexp", Tagk: "host", Expr: "web[0-9]{2,3}", GroupBy: true}, {Type: "regexp", Tagk: "k", Expr: "a=b", GroupBy: true}}}},
		{"sum:m{}", want{agg: "sum", metric: "m", rateOpts: plainRate}},
		{"sum:m{}{dc=lax}", want{agg: "sum", metric: "m", rateOpts: plainRate, filters: []Filter{{Type: "literal_or", Tagk: "dc", Expr: "lax"}}}},
	} {
		t.Run(c.m, func(t *testing.T) {
			sq, err := ParseSubQuery(c.m)
			require.NoError(t, err)
			got := want{agg: sq.Aggregator.Name, metric: sq.Metric, rate: sq.Rate, rateOpts: sq.RateOptions, explicit: sq.ExplicitTags, filters: sq.Filters}
			if sq.Downsample != nil {
				got.ds, got.interval, got.fill = sq.Downsample.Spec, sq.Downsample.Interval, sq.Downsample.Fill
			}
			assert.Equal(t, c.w, got)
		})
	}
}

func TestParseSubQueryErrors(t *testing.T) {
	for _, c := range []struct{ m, msg string }{
		{"", "The query string was empty"},
		{"sum", "Invalid parameter m=sum (not enough :-separated parts)"},
		{"sum:rate:1m-avg:explicit_tags:x:m", "Invalid parameter m=sum:rate:1m-avg:explicit_tags:x:m (too many :-separated parts)"},
		{":m", "Missing the aggregation function"},
		{"total:m", "No such aggregation function: total"},
		{"Sum:m", "No such aggregation function: Sum"},
		{"sum:", "Metric cannot be null or empty"},
		{"sum:{a=b}", "Metric cannot be null or empty"},
		{"sum:foo:m", `Invalid parameter m=sum:foo:m (unknown part "foo": expected rate, a downsampler such as 1m-avg, or explicit_tags)`},
		{"sum:rate:rate:m", "Invalid parameter m=sum:rate:rate:m (rate given twice)"},
		{"sum:1m-avg:5m-sum:m", "Invalid parameter m=sum:1m-avg:5m-sum:m (downsampling given twice)"},
		{"sum:percentiles[99]:m", "Invalid parameter m=sum:percentiles[99]:m (percentiles[99] applies to histograms, which this API does not serve)"},
		{"sum:ratex:m", "Invalid rate options specification: ratex"},
		{"sum:rate{foo}:m", "Invalid rate options specification: rate{foo} (the first option must be counter or dropcounter)"},
		{"sum:rate{counter,x}:m", "Max value of counter was not a number, received 'x'"},
		{"sum:rate{counter,1,y}:m", "Reset value of counter was not a number, received 'y'"},
		{"sum:rate{counter,1,2,3}:m", "Incorrect number of values in rate options specification, must be counter[,counter max value,reset value], received: 4 parts"},
		{"sum:1m:m", "Invalid downsampling specifier '1m': must provide at least interval and function"},
		{"sum:1m-avg-zero-x:m", "Invalid downsampling specifier '1m-avg-zero-x': must consist of interval, function, and optional fill policy"},
		{"sum:1m-foo:m", "No such downsampling function: foo"},
		{"sum:1m-none:m", "cannot use the NONE aggregator for downsampling"},
		{"sum:1m-avg-linear:m", "Unrecognized fill policy: linear"},
		{"sum:1m-avg-scalar:m", "Invalid downsampling specifier '1m-avg-scalar': the scalar fill policy is not supported"},
		{"sum:1dc-avg:m", "Invalid downsampling specifier '1dc-avg': calendar intervals (1dc) are not supported"},
		{"sum:0m-avg:m", "Zero or negative duration: 0m"},
		{"sum:1x-avg:m", "Invalid duration (suffix): 1x"},
		{"sum:1-avg:m", "Invalid duration, must have an integer and unit: 1"},
		{"sum:99999999999999999999s-avg:m", "Invalid duration (number): 99999999999999999999s"},
		{"sum:9223372036854775807y-avg:m", "Duration must be < Long.MAX_VALUE ms: 9223372036854775807y"},
		{"sum:9000y-avg:m", "Invalid downsampling specifier '9000y-avg': the interval is longer than the time this API can represent"},
		{"sum:m{host}", "When parsing tag 'host': invalid tag: host"},
		{"sum:m{host=}", "When parsing tag 'host=': invalid tag: host="},
		{"sum:m{=web}", "When parsing tag '=web': invalid tag: =web"},
		{"sum:m{a=b,}", "When parsing tag '': invalid tag: "},
		{"sum:m{host=web", "Missing '}' at the end of: m{host=web"},
		{"sum:m{host=a}x", `Unexpected "x" after the tag filters of: m{host=a}x`},
		{"sum:m{a=b}{c=d}{e=f}", `Unexpected "{e=f}" after the tag filters of: m{a=b}{c=d}{e=f}`},
		{"sum:m{host=foo(web)}", "When parsing tag 'host=foo(web)': Could not find a tag value filter of the type: foo"},
		{"sum:m{host=regexp(web)x}", "When parsing tag 'host=regexp(web)x': Filter must end with a ')': regexp(web)x"},
		{"sum:m{}{host=regexp([)}", "When parsing filter 'host=regexp([)': Invalid regular expression in filter host=regexp([): error parsing regexp: missing closing ]: `[`"},
		{"sum:m{host=wildcard(web)}", "When parsing tag 'host=wildcard(web)': Filter must contain an asterisk"},
		{"sum:m{host=literal_or(|)}", "When parsing tag 'host=literal_or(|)': Filter must contain more than just a pipe"},
		{"sum:m{host=regexp()}", "When parsing tag 'host=regexp()': Filter cannot be null or empty"},
	} {
		t.Run(c.m, func(t *testing.T) {
			_, err := ParseSubQuery(c.m)
			require.Error(t, err)
			var e *Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, 400, e.Code)
			assert.Equal(t, c.msg, e.Message)
		})
	}
}
