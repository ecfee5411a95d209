package dsdbreceiver

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/doghouse-otel/doghouse/receiver/dsdbreceiver/internal/opentsdb"
)

// serveHTTP routes a request: POST /api/put is OpenTSDB's put, everything else goes to the
// http_handler_extension's handler (query API, GUI) or gets 404.
func (r *dsdbReceiver) serveHTTP(w http.ResponseWriter, req *http.Request) {
	if req.URL.Path == "/api/put" || req.URL.Path == "/api/put/" {
		r.stats.requests[routePut].Add(1)
		r.handlePut(w, req)
		return
	}
	if r.handler != nil {
		r.stats.requests[routeHandler].Add(1)
		r.handler.ServeHTTP(w, req)
		return
	}
	r.stats.requests[routeNotFound].Add(1)
	writeError(w, http.StatusNotFound, "Endpoint not found",
		"This port takes POST /api/put; set the dsdb receiver's http_handler_extension to serve the query API and GUI here")
}

// putState is one request's scratch space, pooled.
type putState struct {
	body   bytes.Buffer
	parser opentsdb.PutParser
	b      *batch
}

var putStates sync.Pool

// handlePut is OpenTSDB's POST /api/put: 204 when every point was accepted; with failures 400
// and OpenTSDB's error document, or with ?summary / ?details the counts (and failures) it
// documents, 200 or 400. A body that cannot be parsed stores nothing. As in OpenTSDB, the
// answer comes once the points are queued (in the batch all requests share, see putBatch);
// with ?sync, once the next consumer took them.
func (r *dsdbReceiver) handlePut(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost {
		writeError(w, http.StatusMethodNotAllowed, "Method not allowed",
			"The HTTP method ["+req.Method+"] is not permitted for this endpoint")
		return
	}
	st, _ := putStates.Get().(*putState)
	if st == nil {
		st = &putState{b: newBatch(r.set.BuildInfo.Version)}
	}
	defer func() {
		if st.body.Cap() <= 1<<20 { // keep ordinary buffers, let a huge one go
			st.body.Reset()
			putStates.Put(st)
		}
	}()
	if code, err := r.readBody(w, &st.body, req); err != nil {
		writeError(w, code, err.Error(), "")
		return
	}
	r.stats.bytes[protoHTTP].Add(uint64(st.body.Len()))

	q := req.URL.Query()
	showDetails, showSummary := q.Has("details"), q.Has("summary")
	var details []putDetail
	var success, failed int
	st.parser.Rules = r.tsdbRules()
	now := time.Now()
	err := st.parser.Parse(st.body.Bytes(), func(p *opentsdb.Point, raw *opentsdb.Raw, rej *opentsdb.Error) {
		if rej != nil {
			failed++
			r.stats.rejectTSDB(protoHTTP, rej.Reason)
			if showDetails && len(details) < maxDetails {
				details = append(details, newPutDetail(raw, rej.Msg))
			}
			return
		}
		success++
		st.b.addOpenTSDB(p, now)
	})
	if err != nil {
		st.b.take() // the body is refused whole: none of its points is kept
		var be *opentsdb.BodyError
		errors.As(err, &be)
		writeError(w, http.StatusBadRequest, be.Message, be.Details)
		return
	}
	if q.Has("sync") {
		// OpenTSDB's ?sync: answer once the points are stored; here, once the next consumer
		// took them, with its error if it refused them.
		md, n := st.b.take()
		if err := r.consume(protoHTTP, md, n); err != nil {
			code := http.StatusServiceUnavailable // worth retrying
			if consumererror.IsPermanent(err) {
				code = http.StatusInternalServerError
			}
			writeError(w, code, "Storage exception", err.Error())
			return
		}
	} else {
		r.puts.add(st.b)
	}
	switch {
	case !showSummary && !showDetails && failed == 0:
		w.WriteHeader(http.StatusNoContent)
	case !showSummary && !showDetails:
		writeError(w, http.StatusBadRequest, "One or more data points had errors",
			`Please see the TSD logs or append "details" to the put request`)
	default:
		doc := putSummary{Success: success, Failed: failed}
		if showDetails {
			if details == nil {
				details = []putDetail{}
			}
			doc.Errors = &details
		}
		code := http.StatusOK
		if failed > 0 {
			code = http.StatusBadRequest
		}
		writeJSON(w, code, doc)
	}
}

// maxDetails bounds the failures a details answer lists, so that a body of a million bad
// points does not get a reply many times its size; the counts stay exact.
const maxDetails = 10_000

// readBody reads the body, gzip-decoded when the client says so, up to max_request_body_size.
func (r *dsdbReceiver) readBody(w http.ResponseWriter, dst *bytes.Buffer, req *http.Request) (int, error) {
	limit := int64(r.cfg.OpenTSDB.MaxRequestBodySize)
	var body io.Reader = http.MaxBytesReader(w, req.Body, limit)
	switch enc := req.Header.Get("Content-Encoding"); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(body)
		if err != nil {
			return http.StatusBadRequest, fmt.Errorf("Unable to read the gzip request body: %w", err)
		}
		defer zr.Close()
		body = zr
	default:
		return http.StatusUnsupportedMediaType, fmt.Errorf("Unsupported Content-Encoding %q (identity or gzip)", enc)
	}
	n, err := dst.ReadFrom(io.LimitReader(body, limit+1))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe) || n > limit:
		return http.StatusRequestEntityTooLarge, fmt.Errorf("Request body too large: more than %d bytes (max_request_body_size)", limit)
	case err != nil:
		return http.StatusBadRequest, fmt.Errorf("Unable to read the request body: %w", err)
	}
	return 0, nil
}

// putSummary is OpenTSDB's ?summary / ?details answer.
type putSummary struct {
	Errors  *[]putDetail `json:"errors,omitempty"` // with ?details, even when empty
	Failed  int          `json:"failed"`
	Success int          `json:"success"`
}

type putDetail struct {
	Datapoint putDatapoint `json:"datapoint"`
	Error     string       `json:"error"`
}

// putDatapoint echoes a data point as OpenTSDB serialises its IncomingDataPoint: the value
// as a string.
type putDatapoint struct {
	Metric    string            `json:"metric"`
	Timestamp int64             `json:"timestamp"`
	Value     *string           `json:"value"`
	Tags      map[string]string `json:"tags"`
}

func newPutDetail(raw *opentsdb.Raw, msg string) putDetail {
	d := putDetail{Error: msg, Datapoint: putDatapoint{
		Metric: string(raw.Metric), Timestamp: raw.Timestamp, Tags: make(map[string]string, len(raw.Tags)),
	}}
	if raw.Value != nil {
		v := string(raw.Value)
		d.Datapoint.Value = &v
	}
	for _, t := range raw.Tags {
		d.Datapoint.Tags[string(t.Key)] = string(t.Value)
	}
	return d
}

// writeError writes OpenTSDB's error document: {"error":{"code":…,"message":…,"details":…}}.
func writeError(w http.ResponseWriter, code int, message, details string) {
	type body struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Details string `json:"details,omitempty"`
	}
	writeJSON(w, code, struct {
		Error body `json:"error"`
	}{body{code, message, details}})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

// putBatch gathers the points of all /api/put requests, so that 100-point requests do not each
// cost a ConsumeMetrics call (and the exporter's per-call work): a request's metrics are moved
// into it under its lock, and it is handed on when it holds max_batch_points, when its first
// point is flush_timeout old (run checks), and at Shutdown.
type putBatch struct {
	r      *dsdbReceiver
	mu     sync.Mutex
	b      *batch
	closed bool // after the last flush: a request still running hands its points on itself
	stop   chan struct{}
}

func newPutBatch(r *dsdbReceiver) *putBatch {
	return &putBatch{r: r, b: newBatch(r.set.BuildInfo.Version), stop: make(chan struct{})}
}

// add moves a request's points (emptying from) into the shared batch, and hands the batch on
// if it is full.
func (pb *putBatch) add(from *batch) {
	md, n := from.take()
	if n == 0 {
		return
	}
	pb.mu.Lock()
	if pb.closed {
		pb.mu.Unlock()
		_ = pb.r.consume(protoHTTP, md, n)
		return
	}
	if pb.b.points == 0 {
		pb.b.started = time.Now()
	}
	pb.b.merge(md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics())
	pb.b.points += n
	var full pmetric.Metrics
	var fn int
	if pb.b.points >= pb.r.cfg.MaxBatchPoints {
		full, fn = pb.b.take()
	}
	pb.mu.Unlock()
	_ = pb.r.consume(protoHTTP, full, fn)
}

// run hands the batch on when it is flush_timeout old, until stop is closed; then it hands on
// what is left.
func (pb *putBatch) run() {
	t := time.NewTicker(max(pb.r.cfg.FlushTimeout/4, time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-pb.stop:
			pb.mu.Lock()
			pb.closed = true
			pb.mu.Unlock()
			pb.flush()
			return
		case now := <-t.C:
			pb.flushIfDue(now)
		}
	}
}

func (pb *putBatch) flushIfDue(now time.Time) {
	pb.mu.Lock()
	due := pb.b.points > 0 && now.Sub(pb.b.started) >= pb.r.cfg.FlushTimeout
	pb.mu.Unlock()
	if due {
		pb.flush()
	}
}

func (pb *putBatch) flush() {
	pb.mu.Lock()
	md, n := pb.b.take()
	pb.mu.Unlock()
	_ = pb.r.consume(protoHTTP, md, n)
}
