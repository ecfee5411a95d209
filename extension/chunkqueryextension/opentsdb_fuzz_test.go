package chunkqueryextension

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzOpenTSDBAPI sends arbitrary query strings (and, when body is not empty, POST bodies) to
// every endpoint of the OpenTSDB API over the fixture directory: whatever the input, the
// answer is one JSON document, a success with 200 or {"error":{"code":…}} with that status,
// never a panic or a 500.
func FuzzOpenTSDBAPI(f *testing.F) {
	paths := []string{"/api/query", "/api/suggest", "/api/aggregators", "/api/version", "/api/config/filters", "/api/put"}
	for _, s := range []struct{ query, body string }{
		{"start=1700000000&end=1700000300&m=sum:1m-sum:page.views", ""},
		{"start=1700000000&m=sum:rate{counter,7,1}:queue.depth{queue=*}&ms=true", ""},
		{"start=2023/11/14-22:13:20&end=1700000600123&m=none:0all-p99-nan:page.views{host.name=regexp(web-[0-9]{1,2})}{env=not_iliteral_or(X|prod)}", ""},
		{"start=0&end=1&m=zimsum:1ms-dev-null:explicit_tags:queue.depth{}{queue=wildcard(*r*)}", ""},
		{"start=1h-ago&m=sum:rate:rate:x&m=", ""},
		{"type=tagv&q=web&max=1", ""},
		{"type=metrics&max=-1", ""},
		{"", `{"start":1700000000,"end":"1700000600","queries":[{"aggregator":"avg","metric":"page.views","downsample":"2m-avg-zero","rate":"true","rateOptions":{"counter":true,"counterMax":100,"resetValue":"5"},"filters":[{"type":"iwildcard","tagk":"host.name","filter":"WEB*","groupBy":true}],"tags":{"env":"*"}}]}`},
		{"", `{"type":"tagk","q":"h","max":"3"}`},
		{"", `{"start":"1d-ago","queries":[{"aggregator":"ep90r3","metric":"queue.depth","explicitTags":true}]}`},
		{"", `[1,2]`},
	} {
		for i := range paths {
			f.Add(uint8(i), s.query, s.body)
		}
	}
	dir := f.TempDir()
	writeFixture(f, dir)
	e, err := newExtension(func() *Config {
		c := createDefaultConfig().(*Config)
		c.Directory = dir
		c.Limits.MaxSamples, c.Limits.MaxSteps, c.Limits.MaxPoints = 100_000, 2_000, 100_000
		return c
	}(), nopSettings())
	if err != nil {
		f.Fatal(err)
	}
	defer e.store.Close()
	h := e.Handler()
	f.Fuzz(func(t *testing.T, which uint8, query, body string) {
		if strings.ContainsAny(query, "#\n\r ") {
			return // not a request line httptest accepts
		}
		method, rd := http.MethodGet, io.Reader(nil)
		if body != "" {
			method, rd = http.MethodPost, strings.NewReader(body)
		}
		req, err := http.NewRequest(method, paths[int(which)%len(paths)]+"?"+query, rd)
		if err != nil {
			return
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		dec := json.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
		var doc any
		if err := dec.Decode(&doc); err != nil {
			t.Fatalf("%s %s?%s: not JSON (%v): %q", method, req.URL.Path, query, err, rec.Body.String())
		}
		if _, err := dec.Token(); !errors.Is(err, io.EOF) {
			t.Fatalf("%s %s?%s: more than one JSON document: %q", method, req.URL.Path, query, rec.Body.String())
		}
		if rec.Code == http.StatusOK {
			return
		}
		var e struct {
			Error struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error.Code != rec.Code || e.Error.Message == "" {
			t.Fatalf("%s %s?%s: status %d, body %q", method, req.URL.Path, query, rec.Code, rec.Body.String())
		}
		if rec.Code >= 500 || rec.Code < 400 {
			t.Fatalf("%s %s?%s: status %d, body %q", method, req.URL.Path, query, rec.Code, rec.Body.String())
		}
	})
}
