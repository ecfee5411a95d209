package chunkqueryextension

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// otsdbRange is "&start=…&end=…" in Unix seconds, from offsets to the fixture's t0.
func otsdbRange(from, to time.Duration) string {
	return "&start=" + sec(from) + "&end=" + sec(to)
}

func do(t *testing.T, h http.Handler, method, target, body string) (int, []byte) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, target, strings.NewReader(body)))
	b, err := io.ReadAll(rec.Result().Body)
	require.NoError(t, err)
	return rec.Code, b
}

// TestOpenTSDBAPIGolden answers each endpoint on the fixture of the Prometheus API tests; the
// golden files hold the answers, checked by hand (TestOpenTSDBValuesAreWhatWasWritten derives
// the numbers from the fixture).
func TestOpenTSDBAPIGolden(t *testing.T) {
	dir := t.TempDir()
	writeFixture(t, dir)
	h := newTestExtension(t, dir, nil).Handler()
	q := url.QueryEscape
	for _, c := range []struct {
		name, method, target, body string
		status                     int
	}{
		{"otsdb_sum_1m_sum", "GET", "/api/query?m=sum:1m-sum:page.views" + otsdbRange(0, 5*time.Minute), "", 200},
		{"otsdb_group_by", "GET", "/api/query?m=" + q("sum:page.views{host.name=*}") + otsdbRange(0, 20*time.Second), "", 200},
		{"otsdb_none_live", "GET", "/api/query?m=none:page.views" + otsdbRange(10*time.Minute, 11*time.Minute), "", 200},
		{"otsdb_avg_raw", "GET", "/api/query?m=avg:queue.depth" + otsdbRange(0, time.Minute), "", 200},
		{"otsdb_rate", "GET", "/api/query?m=sum:rate:queue.depth" + otsdbRange(0, 80*time.Second), "", 200},
		{"otsdb_rate_counter", "GET", "/api/query?m=" + q("sum:rate{counter,7,1}:queue.depth") + otsdbRange(0, 80*time.Second), "", 200},
		{"otsdb_fill_zero", "GET", "/api/query?m=sum:1m-count-zero:queue.depth" + otsdbRange(9*time.Minute, 12*time.Minute), "", 200},
		{"otsdb_fill_null", "GET", "/api/query?m=sum:1m-avg-null:queue.depth" + otsdbRange(9*time.Minute, 12*time.Minute), "", 200},
		{"otsdb_all", "GET", "/api/query?m=sum:0all-sum:page.views" + otsdbRange(0, 11*time.Minute), "", 200},
		{"otsdb_ms", "GET", "/api/query?ms=true&m=max:queue.depth" + otsdbRange(0, 20*time.Second), "", 200},
		{"otsdb_two_subqueries", "GET", "/api/query?m=count:page.views&m=" + q("dev:1m-max:page.views") + otsdbRange(time.Minute, 2*time.Minute), "", 200},
		{"otsdb_second_braces", "GET", "/api/query?m=" + q("sum:2m-avg:page.views{}{host.name=web-1}") + otsdbRange(0, 10*time.Minute), "", 200},
		{"otsdb_filters", "GET", "/api/query?m=" + q("max:page.views{host.name=regexp(2$),env=iliteral_or(PROD|dev)}") + otsdbRange(0, 10*time.Second), "", 200},
		{"otsdb_explicit_tags", "GET", "/api/query?m=" + q("sum:explicit_tags:page.views{env=prod}") + "&m=" + q("zimsum:explicit_tags:page.views{env=*,host.name=not_literal_or(web-2)}") + otsdbRange(0, 10*time.Second), "", 200},
		{"otsdb_date", "GET", "/api/query?m=sum:page.views&start=" + q("2023/11/14-22:13:20") + "&end=" + q("2023/11/14 22:13:30"), "", 200},
		{"otsdb_post", "POST", "/api/query", `{"start":` + sec(0) + `,"end":"` + sec(4*time.Minute) + `","msResolution":false,"queries":[
			{"aggregator":"sum","metric":"page.views","downsample":"2m-sum","filters":[
				{"type":"wildcard","tagk":"host.name","filter":"web-*","groupBy":true},
				{"type":"literal_or","tagk":"env","filter":"prod|staging","groupBy":false}]},
			{"aggregator":"p50","metric":"queue.depth","rate":"true","rateOptions":{"counter":true,"counterMax":7},"tags":{"queue":"orders"}}]}`, 200},
		{"otsdb_suggest_metrics", "GET", "/api/suggest?type=metrics", "", 200},
		{"otsdb_suggest_tagk", "GET", "/api/suggest?type=tagk&q=h", "", 200},
		{"otsdb_suggest_tagv", "GET", "/api/suggest?type=tagv&max=2", "", 200},
		{"otsdb_suggest_post", "POST", "/api/suggest", `{"type":"tagv","q":"web","max":1}`, 200},
		{"otsdb_aggregators", "GET", "/api/aggregators", "", 200},
		{"otsdb_config_filters", "GET", "/api/config/filters", "", 200},
		{"otsdb_err_no_start", "GET", "/api/query?m=sum:page.views", "", 400},
		{"otsdb_err_no_m", "GET", "/api/query?start=1h-ago", "", 400},
		{"otsdb_err_m", "GET", "/api/query?m=" + q("sum:page.views{host.name=web-1") + "&start=1h-ago", "", 400},
		{"otsdb_err_aggregator", "GET", "/api/query?m=total:page.views&start=1h-ago", "", 400},
		{"otsdb_err_metric", "GET", "/api/query?m=sum:page.clicks&start=1h-ago", "", 400},
		{"otsdb_err_time", "GET", "/api/query?m=sum:page.views&start=yesterday", "", 400},
		{"otsdb_err_range", "GET", "/api/query?m=sum:page.views" + otsdbRange(time.Minute, 0), "", 400},
		{"otsdb_err_buckets", "GET", "/api/query?m=sum:1s-sum:page.views&start=0&end=" + sec(0), "", 400},
		{"otsdb_err_json", "POST", "/api/query", `{"start":`, 400},
		{"otsdb_err_suggest_type", "GET", "/api/suggest?type=metric", "", 400},
		{"otsdb_err_method", "DELETE", "/api/query?m=sum:page.views&start=1h-ago", "", 405},
		{"otsdb_err_unknown", "GET", "/api/put", "", 404},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, body := do(t, h, c.method, c.target, c.body)
			checkGolden(t, c.name, body)
			assert.Equal(t, c.status, code, string(body))
		})
	}
	// The version is the collector's, whatever it is.
	code, body := do(t, h, "GET", "/api/version", "")
	assert.Equal(t, http.StatusOK, code)
	var v map[string]string
	require.NoError(t, json.Unmarshal(body, &v))
	assert.Contains(t, v, "version")
	assert.Contains(t, v, "short_revision")
}

// otsdbResult is one series of an /api/query answer.
type otsdbResult struct {
	Metric        string            `json:"metric"`
	Tags          map[string]string `json:"tags"`
	AggregateTags []string          `json:"aggregateTags"`
	DPs           map[string]any    `json:"dps"`
}

func otsdbQuery(t *testing.T, h http.Handler, query string) []otsdbResult {
	t.Helper()
	code, body := do(t, h, "GET", "/api/query?"+query, "")
	require.Equal(t, http.StatusOK, code, string(body))
	var res []otsdbResult
	require.NoError(t, json.Unmarshal(body, &res))
	return res
}

// fixturePoint is the fixture's point i: at t0 + 10 s·i for i in [0, 64), page.views counts
// 10 on web-1 and 30 on web-2 (each value the count of its 10 s), queue.depth is i mod 7.
func fixtureTime(i int) time.Time { return t0.Add(time.Duration(i) * 10 * time.Second) }

const fixturePoints = 64

// TestOpenTSDBValuesAreWhatWasWritten derives the numbers of the golden answers from the
// fixture's definition, so a wrong golden file cannot pass unnoticed.
func TestOpenTSDBValuesAreWhatWasWritten(t *testing.T) {
	dir := t.TempDir()
	writeFixture(t, dir)
	h := newTestExtension(t, dir, nil).Handler()
	key := func(tm time.Time) string { return strconv.FormatInt(tm.Unix(), 10) }

	// sum:1m-sum:page.views over [t0, t0+5m]: page views per minute. Buckets start on whole
	// minutes; t0 is 22:13:20, so the bucket of 22:13:00 starts before the query and is left
	// out, and the last, 22:18:00, holds the points up to the end, 22:18:20, included.
	want := map[string]any{}
	for i := range fixturePoints {
		tm := fixtureTime(i)
		if tm.After(t0.Add(5 * time.Minute)) {
			break
		}
		b := tm.Truncate(time.Minute)
		if b.Before(t0) {
			continue
		}
		v, _ := want[key(b)].(float64)
		want[key(b)] = v + 10 + 30
	}
	res := otsdbQuery(t, h, "m=sum:1m-sum:page.views"+otsdbRange(0, 5*time.Minute))
	require.Len(t, res, 1)
	assert.Equal(t, want, res[0].DPs)
	assert.Equal(t, map[string]bool{"240": true, "120": true}, valuesOf(want), "6 points a whole minute, 3 in the last")
	assert.Equal(t, map[string]string{"env": "prod"}, res[0].Tags)
	assert.Equal(t, []string{"host.name"}, res[0].AggregateTags)

	// sum:rate{counter,7,1}:queue.depth: i mod 7 counts up by 1 every 10 s and wraps at 7,
	// so with a counter maximum of 7 the rate is 0.1/s at every point after the first.
	want = map[string]any{}
	for i := 1; fixtureTime(i).Before(t0.Add(80*time.Second)) || fixtureTime(i).Equal(t0.Add(80*time.Second)); i++ {
		prev, cur := float64((i-1)%7), float64(i%7)
		d := cur - prev
		if d < 0 {
			d = 7 - prev + cur
		}
		want[key(fixtureTime(i))] = d / 10
	}
	res = otsdbQuery(t, h, "m="+url.QueryEscape("sum:rate{counter,7,1}:queue.depth")+otsdbRange(0, 80*time.Second))
	require.Len(t, res, 1)
	assert.Equal(t, want, res[0].DPs)

	// sum:1m-count-zero:queue.depth over [t0+9m, t0+12m]: the points counted in each whole
	// minute, 0 for the minutes after the last point (t0+10m30s, in the open segment).
	want = map[string]any{}
	for b := t0.Add(9 * time.Minute).Truncate(time.Minute); !b.After(t0.Add(12 * time.Minute)); b = b.Add(time.Minute) {
		if b.Before(t0.Add(9 * time.Minute)) {
			continue
		}
		n := 0.0
		for i := range fixturePoints {
			if tm := fixtureTime(i); !tm.Before(b) && tm.Before(b.Add(time.Minute)) {
				n++
			}
		}
		want[key(b)] = n
	}
	res = otsdbQuery(t, h, "m=sum:1m-count-zero:queue.depth"+otsdbRange(9*time.Minute, 12*time.Minute))
	require.Len(t, res, 1)
	assert.Equal(t, want, res[0].DPs)

	// sum:0all-sum:page.views: every point of both hosts in one value at the start.
	res = otsdbQuery(t, h, "m=sum:0all-sum:page.views"+otsdbRange(0, 11*time.Minute))
	require.Len(t, res, 1)
	assert.Equal(t, map[string]any{key(t0): float64(fixturePoints * (10 + 30))}, res[0].DPs)

	// sum:page.views{host.name=*}: one series a host, its own values.
	res = otsdbQuery(t, h, "m="+url.QueryEscape("sum:page.views{host.name=*}")+otsdbRange(0, 20*time.Second))
	require.Len(t, res, 2)
	for _, r := range res {
		per := map[string]float64{"web-1": 10, "web-2": 30}[r.Tags["host.name"]]
		assert.Equal(t, map[string]any{key(fixtureTime(0)): per, key(fixtureTime(1)): per, key(fixtureTime(2)): per}, r.DPs, r.Tags)
		assert.Empty(t, r.AggregateTags)
	}
}

func valuesOf(m map[string]any) map[string]bool {
	out := map[string]bool{}
	for _, v := range m {
		out[fmt.Sprint(v)] = true
	}
	return out
}

func TestOpenTSDBLimits(t *testing.T) {
	dir := t.TempDir()
	writeFixture(t, dir)
	h := newTestExtension(t, dir, func(c *Config) {
		c.Limits.MaxSeries, c.Limits.MaxMatchers, c.Limits.MaxPoints, c.Limits.MaxSteps = 1, 2, 10, 100
	}).Handler()
	for _, c := range []struct {
		target string
		status int
		msg    string
	}{
		{"m=sum:page.views&start=" + sec(0), 413, "page.views: the query selects 2 series, more than the limit of 1"},
		{"m=sum:queue.depth" + otsdbRange(0, 2*time.Minute), 413, "the answer has more than 10 points, the limit (limits::max_points): use a downsampler or a shorter range"},
		{"m=sum:1s-sum:queue.depth" + otsdbRange(0, 2*time.Minute), 400, "queue.depth: the downsampler 1s-sum makes 121 buckets over the query's range, more than the limit of 100 (limits::max_steps): use a longer interval"},
		{"m=sum:a&m=sum:b&m=sum:c&start=0", 400, "3 sub queries given, the limit is 2 (limits::max_matchers)"},
		{"m=" + url.QueryEscape("sum:queue.depth{a=b,c=d,e=f}") + "&start=0", 400, "queue.depth: 3 tag filters given, the limit is 2 (limits::max_matchers)"},
		{"m=" + url.QueryEscape("sum:queue.depth{a=literal_or("+strings.Repeat("x|", 9000)+")}") + "&start=0", 400, "the tag filters hold 18001 bytes, more than the limit of 16384"},
		{"m=sum:1m-sum:queue.depth" + otsdbRange(0, 2*time.Minute), 200, ""},
	} {
		code, body := do(t, h, "GET", "/api/query?"+c.target, "")
		assert.Equal(t, c.status, code, c.target)
		if c.msg != "" {
			assert.JSONEq(t, fmt.Sprintf(`{"error":{"code":%d,"message":%q}}`, c.status, c.msg), string(body), c.target)
		}
	}
	code, body := do(t, h, "POST", "/api/query", `{"start":0,"queries":[{"metric":"x","aggregator":"sum","filters":[{"type":"regexp","tagk":"k","filter":"`+strings.Repeat("a", 2<<20)+`"}]}]}`)
	assert.Equal(t, http.StatusRequestEntityTooLarge, code)
	assert.JSONEq(t, `{"error":{"code":413,"message":"The request body is larger than 1048576 bytes"}}`, string(body))
}

// TestPrometheusAndOpenTSDBShareAPI keeps each API's unknown paths answered in its own shape.
func TestPrometheusAndOpenTSDBShareAPI(t *testing.T) {
	h := newTestExtension(t, t.TempDir(), nil).Handler()
	code, body := do(t, h, "GET", "/api/v1/nope", "")
	assert.Equal(t, http.StatusNotFound, code)
	assert.JSONEq(t, `{"status":"error","errorType":"not_found","error":"unknown API endpoint"}`, string(body))
	for _, p := range []string{"/api/nope", "/api/query/last", "/api/v2/query"} {
		code, body = do(t, h, "GET", p, "")
		assert.Equal(t, http.StatusNotFound, code, p)
		assert.JSONEq(t, `{"error":{"code":404,"message":"Endpoint not found"}}`, string(body), p)
	}
}

func TestOpenTSDBQueryTimeout(t *testing.T) {
	dir := t.TempDir()
	writeFixture(t, dir)
	h := newTestExtension(t, dir, func(c *Config) { c.QueryTimeout = time.Nanosecond }).Handler()
	code, body := do(t, h, "GET", "/api/query?m=sum:page.views"+otsdbRange(0, time.Minute), "")
	assert.Equal(t, http.StatusRequestTimeout, code)
	assert.JSONEq(t, `{"error":{"code":408,"message":"The query timed out (query_timeout)"}}`, string(body))
}
