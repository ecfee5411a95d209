package chunkqueryextension

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/extension/extensiontest"

	"github.com/doghouse-otel/doghouse/chunkfile"
	"github.com/doghouse-otel/doghouse/extension/chunkqueryextension/internal/metadata"
)

var update = flag.Bool("update", false, "rewrite the golden files of the API tests")

// t0 is the fixture's first point: 2023-11-14T22:13:20Z.
var t0 = time.Unix(1_700_000_000, 0).UTC()

// writeFixture writes the chunk directory the API tests read: a sealed segment with ten
// minutes of two DogStatsD-style delta counters and a gauge, and an open segment whose last
// push is only in a checkpoint.
func writeFixture(t testing.TB, dir string) {
	t.Helper()
	type series struct {
		cs   chunkfile.Series
		ref  chunkfile.SeriesRef
		vals func(i int) float64
	}
	mk := func(seg *chunkfile.Segment) []*series {
		list := []*series{
			{cs: chunkfile.Series{Name: "page.views", Kind: chunkfile.KindSum, Temporality: chunkfile.TemporalityDelta, Monotonic: true,
				Unit: "{view}", Description: "Pages served",
				Attrs:    []chunkfile.Attr{{Key: "env", Value: chunkfile.StringValue("prod")}},
				Resource: []chunkfile.Attr{{Key: "host.name", Value: chunkfile.StringValue("web-1")}}},
				vals: func(int) float64 { return 10 }},
			{cs: chunkfile.Series{Name: "page.views", Kind: chunkfile.KindSum, Temporality: chunkfile.TemporalityDelta, Monotonic: true,
				Unit: "{view}", Description: "Pages served",
				Attrs:    []chunkfile.Attr{{Key: "env", Value: chunkfile.StringValue("prod")}},
				Resource: []chunkfile.Attr{{Key: "host.name", Value: chunkfile.StringValue("web-2")}}},
				vals: func(int) float64 { return 30 }},
			{cs: chunkfile.Series{Name: "queue.depth", Kind: chunkfile.KindGauge,
				Attrs: []chunkfile.Attr{{Key: "queue", Value: chunkfile.StringValue("orders")}}},
				vals: func(i int) float64 { return float64(i % 7) }},
		}
		for _, s := range list {
			var err error
			s.ref, err = seg.AddSeries(s.cs)
			require.NoError(t, err)
		}
		return list
	}
	write := func(name string, from, to int) *chunkfile.Segment {
		seg, err := chunkfile.Create(filepath.Join(dir, name+".chunk.open"), chunkfile.Options{BlockDuration: time.Minute, Checkpoints: true})
		require.NoError(t, err)
		list := mk(seg)
		for i := from; i < to; i++ {
			ts := t0.Add(time.Duration(i) * 10 * time.Second).UnixMilli()
			for _, s := range list {
				p := chunkfile.Point{T: ts, Num: chunkfile.FloatNumber(s.vals(i))}
				if s.cs.Kind == chunkfile.KindSum {
					p.Start = ts - 10_000
				}
				require.NoError(t, seg.Append(s.ref, p))
			}
			if i%6 == 5 {
				require.NoError(t, seg.Checkpoint())
			}
		}
		require.NoError(t, seg.Checkpoint())
		return seg
	}
	sealed := write("segment-1700000000000-000001", 0, 60)
	require.NoError(t, sealed.Close())
	require.NoError(t, os.Rename(filepath.Join(dir, "segment-1700000000000-000001.chunk.open"), filepath.Join(dir, "segment-1700000000000-000001.chunk")))
	open := write("segment-1700000600000-000002", 60, 64)
	t.Cleanup(func() { open.Abandon() })
}

func newTestExtension(t *testing.T, dir string, edit func(*Config)) *chunkQuery {
	t.Helper()
	cfg := createDefaultConfig().(*Config)
	cfg.Directory = dir
	cfg.ServerConfig.NetAddr.Endpoint = "127.0.0.1:0"
	if edit != nil {
		edit(cfg)
	}
	require.NoError(t, cfg.Validate())
	e, err := newExtension(cfg, extensiontest.NewNopSettings(metadata.Type))
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, e.Shutdown(ctx))
	})
	return e
}

func get(t *testing.T, h http.Handler, target string) (int, []byte) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	body, err := io.ReadAll(rec.Result().Body)
	require.NoError(t, err)
	return rec.Code, body
}

func checkGolden(t *testing.T, name string, body []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name+".json")
	var pretty bytes.Buffer
	require.NoError(t, json.Indent(&pretty, body, "", "  "), string(body))
	pretty.WriteByte('\n')
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, pretty.Bytes(), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update once to create it")
	assert.Equal(t, string(want), pretty.String(), name)
}

func sec(d time.Duration) string {
	return fmt.Sprint(t0.Add(d).Unix())
}

// TestPrometheusAPIGolden answers each endpoint on the fixture; the golden files hold the
// answers, checked by hand against the fixture (and against Prometheus' documented shapes).
func TestPrometheusAPIGolden(t *testing.T) {
	dir := t.TempDir()
	writeFixture(t, dir)
	h := newTestExtension(t, dir, nil).Handler()
	q := url.QueryEscape
	for name, target := range map[string]string{
		"query_vector":        "/api/v1/query?query=" + q(`sum by ("host.name") (rate({"page.views"}[1m]))`) + "&time=" + sec(5*time.Minute),
		"query_selector":      "/api/v1/query?query=" + q(`{"queue.depth"}`) + "&time=" + sec(10*time.Minute+35*time.Second),
		"query_scalar":        "/api/v1/query?query=" + q(`1 + 2 * 3`) + "&time=1700000000.5",
		"query_raw_matrix":    "/api/v1/query?query=" + q(`{"queue.depth"}[30s]`) + "&time=" + sec(time.Minute),
		"query_range":         "/api/v1/query_range?query=" + q(`sum(increase({"page.views"}[1m]))`) + "&start=" + sec(time.Minute) + "&end=" + sec(4*time.Minute) + "&step=60",
		"query_range_live":    "/api/v1/query_range?query=" + q(`max_over_time({"queue.depth"}[20s])`) + "&start=" + sec(9*time.Minute+50*time.Second) + "&end=" + sec(10*time.Minute+30*time.Second) + "&step=20s",
		"labels":              "/api/v1/labels",
		"labels_match":        "/api/v1/labels?match[]=" + q(`{"queue.depth"}`),
		"label_values_name":   "/api/v1/label/__name__/values",
		"label_values_dotted": "/api/v1/label/U__host_2e_name/values",
		"label_values_plain":  "/api/v1/label/" + q("host.name") + "/values",
		"series":              "/api/v1/series?match[]=" + q(`{"page.views"}`) + "&match[]=" + q(`{queue="orders"}`) + "&start=" + sec(0) + "&end=" + sec(time.Hour),
		"metadata":            "/api/v1/metadata",
		"err_parse":           "/api/v1/query?query=" + q(`sum(`),
		"err_subset":          "/api/v1/query?query=" + q(`histogram_quantile(0.9, {"page.views"})`),
		"err_no_match":        "/api/v1/series",
		"err_steps":           "/api/v1/query_range?query=x&start=0&end=100000&step=1",
		"err_time":            "/api/v1/query?query=x&time=yesterday",
		"err_unknown":         "/api/v1/nope",
	} {
		t.Run(name, func(t *testing.T) {
			code, body := get(t, h, target)
			checkGolden(t, name, body)
			want := http.StatusOK
			switch {
			case name == "err_unknown":
				want = http.StatusNotFound
			case strings.HasPrefix(name, "err_"):
				want = http.StatusBadRequest
			}
			assert.Equal(t, want, code, string(body))
		})
	}
}

// TestQueryValuesAreWhatWasWritten checks the answers' numbers against the fixture directly,
// so the golden files cannot have recorded a wrong answer unnoticed.
func TestQueryValuesAreWhatWasWritten(t *testing.T) {
	dir := t.TempDir()
	writeFixture(t, dir)
	h := newTestExtension(t, dir, nil).Handler()
	var resp struct {
		Status string `json:"status"`
		Data   struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Metric map[string]string `json:"metric"`
				Value  []any             `json:"value"`
				Values [][]any           `json:"values"`
			} `json:"result"`
		} `json:"data"`
	}
	// web-1 counts 10 a point, web-2 30, a point every 10 s: 1/s and 3/s.
	_, body := get(t, h, "/api/v1/query?query="+url.QueryEscape(`sum by ("host.name") (rate({"page.views"}[1m]))`)+"&time="+sec(5*time.Minute))
	require.NoError(t, json.Unmarshal(body, &resp))
	require.Equal(t, "vector", resp.Data.ResultType)
	got := map[string]any{}
	for _, r := range resp.Data.Result {
		got[r.Metric["host.name"]] = r.Value[1]
	}
	assert.Equal(t, map[string]any{"web-1": "1", "web-2": "3"}, got)
	// The open segment's last push (points 60..63, the last in a checkpoint only) is read.
	_, body = get(t, h, "/api/v1/query?query="+url.QueryEscape(`{"queue.depth"}`)+"&time="+sec(10*time.Minute+30*time.Second))
	resp.Data.Result = nil
	require.NoError(t, json.Unmarshal(body, &resp))
	require.Len(t, resp.Data.Result, 1)
	assert.Equal(t, fmt.Sprint(63%7), resp.Data.Result[0].Value[1])
	assert.InDelta(t, float64(t0.Add(10*time.Minute+30*time.Second).Unix()), resp.Data.Result[0].Value[0], 0)
}

func TestLimitsAnswerExecutionErrors(t *testing.T) {
	dir := t.TempDir()
	writeFixture(t, dir)
	h := newTestExtension(t, dir, func(c *Config) { c.Limits.MaxSeries = 1; c.Limits.MaxMatchers = 1 }).Handler()
	code, body := get(t, h, "/api/v1/query?query="+url.QueryEscape(`{"page.views"}`)+"&time="+sec(time.Minute))
	assert.Equal(t, http.StatusUnprocessableEntity, code)
	assert.JSONEq(t, `{"status":"error","errorType":"execution","error":"{__name__=\"page.views\"}: the query selects 2 series, more than the limit of 1"}`, string(body))
	code, body = get(t, h, "/api/v1/series?match[]=a&match[]=b")
	assert.Equal(t, http.StatusBadRequest, code)
	assert.Contains(t, string(body), "2 match[] selectors given, the limit is 1")
}

func TestPostFormAndMethods(t *testing.T) {
	dir := t.TempDir()
	writeFixture(t, dir)
	h := newTestExtension(t, dir, nil).Handler()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/api/v1/query", strings.NewReader("query=2%2B2&time=1700000000"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	h.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.JSONEq(t, `{"status":"success","data":{"resultType":"scalar","result":[1700000000,"4"]}}`, rec.Body.String())
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodDelete, "/api/v1/query", nil))
	assert.Equal(t, http.StatusMethodNotAllowed, rec.Code)
}

// TestServesOverHTTP starts the extension on a port from the OS and queries it.
func TestServesOverHTTP(t *testing.T) {
	dir := t.TempDir()
	writeFixture(t, dir)
	e := newTestExtension(t, dir, nil)
	require.NoError(t, e.Start(t.Context(), componenttest.NewNopHost()))
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	resp, err := client.Get("http://" + e.Addr() + "/api/v1/label/__name__/values")
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.JSONEq(t, `{"status":"success","data":["page.views","queue.depth"]}`, string(body))
}

// TestLimitParameterShortensAnswers: `limit` cuts a listing short, as Prometheus does; it
// never turns it into an error.
func TestLimitParameterShortensAnswers(t *testing.T) {
	dir := t.TempDir()
	writeFixture(t, dir)
	h := newTestExtension(t, dir, nil).Handler()
	for target, want := range map[string]string{
		"/api/v1/label/__name__/values?limit=1":                               `["page.views"]`,
		"/api/v1/labels?limit=2":                                              `["__name__","env"]`,
		"/api/v1/series?limit=1&match[]=" + url.QueryEscape(`{"page.views"}`): `[{"__name__":"page.views","env":"prod","host.name":"web-1"}]`,
	} {
		code, body := get(t, h, target)
		require.Equal(t, http.StatusOK, code, "%s: %s", target, body)
		var resp struct {
			Data json.RawMessage `json:"data"`
		}
		require.NoError(t, json.Unmarshal(body, &resp))
		assert.JSONEq(t, want, string(resp.Data), target)
	}
}
