package webui

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func get(t *testing.T, h http.Handler, method, path string, header map[string]string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

func TestRootServesThePage(t *testing.T) {
	resp := get(t, Handler(), http.MethodGet, "/", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
	assert.Equal(t, "no-cache", resp.Header.Get("Cache-Control"))
	assert.Contains(t, resp.Header.Get("Content-Security-Policy"), "default-src 'self'")
	assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
	page := body(t, resp)
	want, err := os.ReadFile("static/index.html")
	require.NoError(t, err)
	assert.Equal(t, string(want), page)
}

// Every file the page refers to is served, with its type: a renamed file or a missed embed
// pattern would leave the page broken in the browser.
func TestEveryReferencedFileIsServed(t *testing.T) {
	h := Handler()
	page := body(t, get(t, h, http.MethodGet, "/", nil))
	refs := regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllStringSubmatch(page, -1)
	app := body(t, get(t, h, http.MethodGet, "/app.js", nil))
	for _, m := range regexp.MustCompile(`from '\./([^']+)'`).FindAllStringSubmatch(app, -1) {
		refs = append(refs, []string{"", m[1]})
	}
	require.GreaterOrEqual(t, len(refs), 7, "stylesheets, scripts and modules referenced")
	types := map[string]string{".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
	for _, ref := range refs {
		name := ref[1]
		if strings.Contains(name, ":") {
			continue // a data: URL
		}
		resp := get(t, h, http.MethodGet, "/"+name, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, name)
		ext := name[strings.LastIndex(name, "."):]
		assert.Equal(t, types[ext], resp.Header.Get("Content-Type"), name)
		want, err := os.ReadFile("static/" + name)
		require.NoError(t, err)
		assert.Equal(t, string(want), body(t, resp), name)
	}
}

func TestCacheHeaders(t *testing.T) {
	h := Handler()
	vendor := get(t, h, http.MethodGet, "/vendor/uplot-1.6.32/uPlot.iife.min.js", nil)
	require.Equal(t, http.StatusOK, vendor.StatusCode)
	assert.Equal(t, "public, max-age=31536000, immutable", vendor.Header.Get("Cache-Control"))
	assert.Contains(t, body(t, vendor), "(v1.6.32)", "the vendored build is the pinned version")

	own := get(t, h, http.MethodGet, "/app.js", nil)
	assert.Equal(t, "no-cache", own.Header.Get("Cache-Control"))
	etag := own.Header.Get("ETag")
	require.Regexp(t, `^"[0-9a-f]{24}"$`, etag)

	again := get(t, h, http.MethodGet, "/app.js", map[string]string{"If-None-Match": etag})
	assert.Equal(t, http.StatusNotModified, again.StatusCode)
	assert.Empty(t, body(t, again))
	other := get(t, h, http.MethodGet, "/chart.js", nil).Header.Get("ETag")
	assert.NotEqual(t, etag, other, "each file has its own ETag")
}

func TestLicenceIsServed(t *testing.T) {
	resp := get(t, Handler(), http.MethodGet, "/vendor/uplot-1.6.32/LICENSE", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/plain; charset=utf-8", resp.Header.Get("Content-Type"))
	assert.Contains(t, body(t, resp), "The MIT License")
}

func TestNotServed(t *testing.T) {
	h := Handler()
	for _, path := range []string{
		"/vendor/", "/vendor", "/vendor/uplot-1.6.32/", // directories: no listing
		"/vendor/uplot-1.6.32/README.md", // kept out of the binary
		"/missing.js", "/static/index.html", "/../webui.go", "/index.html/",
	} {
		resp := get(t, h, http.MethodGet, path, nil)
		assert.Equal(t, http.StatusNotFound, resp.StatusCode, path)
		assert.NotContains(t, body(t, resp), "<a href", path)
	}
}

func TestMethods(t *testing.T) {
	h := Handler()
	head := get(t, h, http.MethodHead, "/", nil)
	assert.Equal(t, http.StatusOK, head.StatusCode)
	assert.Empty(t, body(t, head))
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete} {
		resp := get(t, h, m, "/", nil)
		assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode, m)
		assert.Equal(t, "GET, HEAD", resp.Header.Get("Allow"), m)
	}
}
