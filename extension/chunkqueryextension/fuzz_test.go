package chunkqueryextension

import (
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/extension/extensiontest"

	"encoding/json"
	"github.com/doghouse-otel/doghouse/extension/chunkqueryextension/internal/metadata"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzPromAPI sends arbitrary query strings to every endpoint of the Prometheus API over the
// fixture directory: whatever the parameters (queries, times, steps, matchers), the answer is
// one JSON document saying success or an error with its type, never a panic.
func FuzzPromAPI(f *testing.F) {
	paths := []string{"/api/v1/query", "/api/v1/query_range", "/api/v1/labels", "/api/v1/series",
		"/api/v1/label/__name__/values", "/api/v1/metadata", "/api/v1/label/U__x_2e_y/values"}
	for _, s := range []string{
		"query=sum+by+(env)+(rate({\"page.views\"}[1m]))&time=1700000300",
		"query=topk(1,{\"queue.depth\"})&start=1700000000&end=1700000600&step=15",
		"query=x&start=1e300&end=-1e300&step=0.0000001",
		"match[]={\"page.views\",env=~\"p.*\"}&start=0&end=9999999999",
		"query=-(1/0)%25{__name__=~\".+\"}[5m]&time=NaN",
		"query=count_over_time({\"queue.depth\"}[1s])+offset+-1h&time=2023-11-14T22:20:00Z",
		"limit=-3&match[]=up",
	} {
		for i := range paths {
			f.Add(uint8(i), s)
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
	f.Fuzz(func(t *testing.T, which uint8, query string) {
		if strings.ContainsAny(query, "#\n\r ") {
			return // not a request line httptest accepts
		}
		rec := httptest.NewRecorder()
		req, err := http.NewRequest(http.MethodGet, paths[int(which)%len(paths)]+"?"+query, nil)
		if err != nil {
			return
		}
		h.ServeHTTP(rec, req)
		var resp struct {
			Status    string `json:"status"`
			ErrorType string `json:"errorType"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
			t.Fatalf("%s?%s: not JSON (%v): %q", req.URL.Path, query, err, rec.Body.String())
		}
		switch {
		case resp.Status == "success" && rec.Code == http.StatusOK:
		case resp.Status == "error" && resp.ErrorType != "" && rec.Code >= 400:
			if resp.ErrorType == "internal" {
				t.Fatalf("%s?%s: internal error %q", req.URL.Path, query, rec.Body.String())
			}
		default:
			t.Fatalf("%s?%s: status %d, body %q", req.URL.Path, query, rec.Code, rec.Body.String())
		}
	})
}

func nopSettings() extension.Settings { return extensiontest.NewNopSettings(metadata.Type) }
