// Package webui is the chunkquery extension's built-in graphing page: static files embedded in
// the binary, served by Handler. The page speaks only the extension's Prometheus API.
package webui

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

// static holds the page. The patterns name the served files so that the vendor directory's
// README (how to update uPlot) stays out of the binary.
//
//go:embed static/*.html static/*.js static/*.css
//go:embed static/vendor/uplot-1.6.32/uPlot.iife.min.js static/vendor/uplot-1.6.32/uPlot.min.css static/vendor/uplot-1.6.32/LICENSE
var static embed.FS

// vendorPrefix marks files whose path carries their version: they never change under the same
// URL, so browsers may keep them for a year without asking again.
const vendorPrefix = "vendor/"

// contentSecurityPolicy lets the page load only its own files and talk only to its own origin.
// Inline styles are allowed because uPlot positions its cursor and legend markers with them.
const contentSecurityPolicy = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
	"object-src 'none'; base-uri 'none'; frame-ancestors 'none'"

// file is one served file, read once at start.
type file struct {
	name        string
	content     []byte
	contentType string
	etag        string
}

var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	"":      "text/plain; charset=utf-8", // LICENSE
}

// handler serves the embedded files by exact path; anything else, a directory included, is 404.
type handler struct {
	files map[string]*file
}

// Handler returns the page's handler: `/` is the page, the other files under their own names.
// Only GET and HEAD are served; the page and its modules are revalidated by ETag on every load,
// the versioned vendor files are cached for a year.
func Handler() http.Handler {
	h := &handler{files: map[string]*file{}}
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := static.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		name := strings.TrimPrefix(p, "static/")
		h.files[name] = &file{
			name:        name,
			content:     b,
			contentType: contentTypes[path.Ext(name)],
			etag:        `"` + hex.EncodeToString(sum[:12]) + `"`,
		}
		return nil
	})
	if err != nil {
		panic(err) // the files are compiled in: a failure here is a build defect
	}
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name := strings.TrimPrefix(r.URL.Path, "/")
	if name == "" {
		name = "index.html"
	}
	f, ok := h.files[name]
	if !ok || f.contentType == "" {
		http.NotFound(w, r)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", f.contentType)
	hd.Set("ETag", f.etag)
	hd.Set("X-Content-Type-Options", "nosniff")
	if strings.HasPrefix(name, vendorPrefix) {
		hd.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		hd.Set("Cache-Control", "no-cache")
	}
	if f.name == "index.html" {
		hd.Set("Content-Security-Policy", contentSecurityPolicy)
		hd.Set("Referrer-Policy", "no-referrer")
	}
	// ServeContent answers If-None-Match with 304 from the ETag set above, and Range requests.
	http.ServeContent(w, r, f.name, time.Time{}, bytes.NewReader(f.content))
}
