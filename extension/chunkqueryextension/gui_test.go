package chunkqueryextension

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestGUIAtRootAPIUnderAPI: the page is served at / by the same handler as the API, and the
// API keeps every path under /api/ (an unknown one is the API's JSON 404, not the GUI's).
func TestGUIAtRootAPIUnderAPI(t *testing.T) {
	h := newTestExtension(t, t.TempDir(), nil).Handler()
	code, body := get(t, h, "/")
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, string(body), `<script type="module" src="app.js"></script>`)
	code, _ = get(t, h, "/vendor/uplot-1.6.32/uPlot.iife.min.js")
	assert.Equal(t, http.StatusOK, code)
	code, body = get(t, h, "/api/v1/nothing")
	assert.Equal(t, http.StatusNotFound, code)
	assert.JSONEq(t, `{"status":"error","errorType":"not_found","error":"unknown API endpoint"}`, string(body))
	code, _ = get(t, h, "/nothing")
	assert.Equal(t, http.StatusNotFound, code)
}
