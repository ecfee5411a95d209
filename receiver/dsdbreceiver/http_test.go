package dsdbreceiver

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/extension/extensiontest"

	"github.com/doghouse-otel/doghouse/extension/chunkqueryextension"
)

func post(t *testing.T, r *dsdbReceiver, path, body string, header ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://"+r.Addr().String()+path, strings.NewReader(body))
	require.NoError(t, err)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return do(t, req)
}

func do(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

const (
	goodPoint = `{"metric":"sys.cpu.nice","timestamp":1346846400,"value":18,"tags":{"host":"web01","dc":"lga"}}`
	badPoint  = `{"metric":"sys.cpu.nice","timestamp":1365465600,"value":"NaN","tags":{"host":"web01"}}`
)

// TestPut: POST /api/put answers as OpenTSDB documents it: 204, 400 with its error document,
// and the ?summary / ?details documents; a body that cannot be parsed stores nothing.
func TestPut(t *testing.T) {
	r, sink := start(t, testConfig(), nil)

	code, body := post(t, r, "/api/put", goodPoint)
	assert.Equal(t, http.StatusNoContent, code)
	assert.Empty(t, body)
	waitPoints(t, sink, 1)
	assert.Equal(t, point{"sys.cpu.nice", "gauge", "int:18", "host=web01,dc=lga", 1346846400000}, points(sink)[0])

	code, body = post(t, r, "/api/put?summary", "["+goodPoint+","+goodPoint+"]")
	assert.Equal(t, http.StatusOK, code)
	assert.JSONEq(t, `{"failed":0,"success":2}`, body)

	code, body = post(t, r, "/api/put", "["+goodPoint+","+badPoint+"]")
	assert.Equal(t, http.StatusBadRequest, code)
	assert.JSONEq(t, `{"error":{"code":400,"message":"One or more data points had errors","details":"Please see the TSD logs or append \"details\" to the put request"}}`, body)

	code, body = post(t, r, "/api/put?summary", badPoint)
	assert.Equal(t, http.StatusBadRequest, code)
	assert.JSONEq(t, `{"failed":1,"success":0}`, body)

	// The docs' details example, answered the same way.
	code, body = post(t, r, "/api/put?details", badPoint)
	assert.Equal(t, http.StatusBadRequest, code)
	assert.JSONEq(t, `{"errors":[{"datapoint":{"metric":"sys.cpu.nice","timestamp":1365465600,"value":"NaN","tags":{"host":"web01"}},"error":"Unable to parse value to a number"}],"failed":1,"success":0}`, body)

	code, body = post(t, r, "/api/put?details", goodPoint)
	assert.Equal(t, http.StatusOK, code)
	assert.JSONEq(t, `{"errors":[],"failed":0,"success":1}`, body)

	waitPoints(t, sink, 1+2+1+1)
	assert.EqualValues(t, 5, r.stats.points[protoHTTP].Load())

	// Refused whole: nothing of it is stored.
	code, body = post(t, r, "/api/put", "["+goodPoint+",{")
	assert.Equal(t, http.StatusBadRequest, code)
	assert.Contains(t, body, `"message":"Unable to parse the given JSON"`)
	code, body = post(t, r, "/api/put", "[]")
	assert.Equal(t, http.StatusBadRequest, code)
	assert.JSONEq(t, `{"error":{"code":400,"message":"No datapoints found in content"}}`, body)
	assert.Equal(t, 5, sink.DataPointCount())

	req, _ := http.NewRequest(http.MethodGet, "http://"+r.Addr().String()+"/api/put", http.NoBody)
	code, body = do(t, req)
	assert.Equal(t, http.StatusMethodNotAllowed, code)
	assert.JSONEq(t, `{"error":{"code":405,"message":"Method not allowed","details":"The HTTP method [GET] is not permitted for this endpoint"}}`, body)

	// gzip, as OpenTSDB's HTTP pipeline decompresses.
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = io.WriteString(zw, goodPoint)
	require.NoError(t, zw.Close())
	code, _ = post(t, r, "/api/put", gz.String(), "Content-Encoding", "gzip")
	assert.Equal(t, http.StatusNoContent, code)
	waitPoints(t, sink, 6)

	// Without an http_handler_extension, other paths are 404.
	req, _ = http.NewRequest(http.MethodGet, "http://"+r.Addr().String()+"/api/v1/labels", http.NoBody)
	code, _ = do(t, req)
	assert.Equal(t, http.StatusNotFound, code)
}

// TestPutBodyLimit: a body over max_request_body_size, plain or as a gzip bomb, gets 413 and
// stores nothing.
func TestPutBodyLimit(t *testing.T) {
	cfg := testConfig()
	cfg.OpenTSDB.MaxRequestBodySize = 4096
	r, sink := start(t, cfg, nil)
	big := "[" + strings.Repeat(goodPoint+",", 100) + goodPoint + "]"
	code, body := post(t, r, "/api/put", big)
	assert.Equal(t, http.StatusRequestEntityTooLarge, code, body)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = io.WriteString(zw, big)
	require.NoError(t, zw.Close())
	require.Less(t, gz.Len(), 4096)
	code, _ = post(t, r, "/api/put", gz.String(), "Content-Encoding", "gzip")
	assert.Equal(t, http.StatusRequestEntityTooLarge, code)
	assert.Equal(t, 0, sink.DataPointCount())
}

// handlerExt is a test extension with a Handler.
type handlerExt struct {
	component.StartFunc
	component.ShutdownFunc
}

func (handlerExt) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		fmt.Fprintf(w, "ext %s %s", req.Method, req.URL.Path)
	})
}

type plainExt struct {
	component.StartFunc
	component.ShutdownFunc
}

type testHost struct {
	component.Host
	exts map[component.ID]component.Component
}

func (h testHost) GetExtensions() map[component.ID]component.Component { return h.exts }

func hostWith(id component.ID, ext component.Component) component.Host {
	return testHost{Host: componenttest.NewNopHost(), exts: map[component.ID]component.Component{id: ext}}
}

// TestHandlerExtension: every request but POST /api/put goes to the extension's handler, on
// the same port as puts and telnet.
func TestHandlerExtension(t *testing.T) {
	id := component.MustNewID("webui")
	cfg := testConfig()
	cfg.HTTPHandlerExtension = &id
	r, sink := start(t, cfg, hostWith(id, handlerExt{}))
	req, _ := http.NewRequest(http.MethodGet, "http://"+r.Addr().String()+"/graph?x=1", http.NoBody)
	code, body := do(t, req)
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "ext GET /graph", body)
	code, body = post(t, r, "/api/query", "{}")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "ext POST /api/query", body)
	code, _ = post(t, r, "/api/put", goodPoint)
	assert.Equal(t, http.StatusNoContent, code)
	waitPoints(t, sink, 1)
	assert.EqualValues(t, 2, r.stats.requests[routeHandler].Load())
	assert.EqualValues(t, 1, r.stats.requests[routePut].Load())
}

func TestHandlerExtensionErrors(t *testing.T) {
	id := component.MustNewID("webui")
	cfg := testConfig()
	cfg.HTTPHandlerExtension = &id
	for name, host := range map[string]component.Host{
		"missing":    componenttest.NewNopHost(),
		"no handler": hostWith(id, plainExt{}),
	} {
		r := newReceiver(cfg, nopSettings(), nil)
		err := r.Start(context.Background(), host)
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), "`http_handler_extension` (\"webui\")", name)
		require.NoError(t, r.Shutdown(context.Background()))
	}
}

// TestChunkqueryExtension: the real chunkquery extension's Prometheus API answers through the
// receiver's port.
func TestChunkqueryExtension(t *testing.T) {
	f := chunkqueryextension.NewFactory()
	ecfg := f.CreateDefaultConfig().(*chunkqueryextension.Config)
	ecfg.Directory = t.TempDir()
	ecfg.ServerConfig.NetAddr.Endpoint = "127.0.0.1:0"
	ext, err := f.Create(context.Background(), extensiontest.NewNopSettings(f.Type()), ecfg)
	require.NoError(t, err)
	require.NoError(t, ext.Start(context.Background(), componenttest.NewNopHost()))
	defer func() { require.NoError(t, ext.Shutdown(context.Background())) }()

	id := component.NewID(f.Type())
	cfg := testConfig()
	cfg.HTTPHandlerExtension = &id
	r, _ := start(t, cfg, hostWith(id, ext))
	req, _ := http.NewRequest(http.MethodGet, "http://"+r.Addr().String()+"/api/v1/labels", http.NoBody)
	code, body := do(t, req)
	require.Equal(t, http.StatusOK, code, body)
	var doc struct {
		Status string   `json:"status"`
		Data   []string `json:"data"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &doc))
	assert.Equal(t, "success", doc.Status)
}

// TestPutBatchesRequests: the points of many small requests are handed on together (here at
// Shutdown, flush_timeout being a minute), and none is lost; ?sync hands a request's points on
// before it is answered.
func TestPutBatchesRequests(t *testing.T) {
	cfg := testConfig()
	cfg.FlushTimeout = time.Minute
	r, sink := start(t, cfg, nil)
	for range 50 {
		code, _ := post(t, r, "/api/put", goodPoint)
		require.Equal(t, http.StatusNoContent, code)
	}
	assert.Equal(t, 0, sink.DataPointCount())
	code, _ := post(t, r, "/api/put?sync", goodPoint)
	require.Equal(t, http.StatusNoContent, code)
	assert.Equal(t, 1, sink.DataPointCount())
	require.NoError(t, r.Shutdown(t.Context()))
	assert.Equal(t, 51, sink.DataPointCount())
	require.Len(t, sink.AllMetrics(), 2)
	// The 50 requests' points are one metric: merged by name, not one metric per request.
	assert.Equal(t, 1, sink.AllMetrics()[1].MetricCount())
}
