package chunkqueryextension

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/doghouse-otel/doghouse/chunkfile"
	"github.com/doghouse-otel/doghouse/extension/chunkqueryextension/internal/eval"
	"github.com/doghouse-otel/doghouse/extension/chunkqueryextension/internal/store"
)

// Times outside what a query can mean are refused: Prometheus' own bounds for a missing start
// or end of a metadata request.
var (
	minTime = time.Unix(math.MinInt64/1000+62135596801, 0).UTC()
	maxTime = time.Unix(math.MaxInt64/1000-62135596801, 999999999).UTC()
)

// apiError is an error with the Prometheus API's error type.
type apiError struct {
	typ string
	err error
}

func (e *apiError) Error() string { return e.err.Error() }

func badData(format string, a ...any) *apiError {
	return &apiError{typ: "bad_data", err: fmt.Errorf(format, a...)}
}

// status of each error type, as Prometheus answers.
var errorStatus = map[string]int{
	"bad_data":  http.StatusBadRequest,
	"execution": http.StatusUnprocessableEntity,
	"timeout":   http.StatusServiceUnavailable,
	"canceled":  499,
	"not_found": http.StatusNotFound,
	"internal":  http.StatusInternalServerError,
}

// promAPI serves the Prometheus HTTP API subset.
type promAPI struct {
	ext *chunkQuery
}

func (a *promAPI) routes(mux *http.ServeMux) {
	for path, h := range map[string]func(*http.Request) (any, error){
		"/api/v1/query":               a.query,
		"/api/v1/query_range":         a.queryRange,
		"/api/v1/labels":              a.labelNames,
		"/api/v1/series":              a.series,
		"/api/v1/metadata":            a.metadata,
		"/api/v1/status/buildinfo":    a.buildInfo,
		"/api/v1/label/{name}/values": a.labelValues,
	} {
		endpoint := path
		if strings.Contains(path, "{name}") {
			endpoint = "/api/v1/label/values"
		}
		mux.HandleFunc(path, a.ext.instrument(endpoint, func(w http.ResponseWriter, r *http.Request) string {
			if r.Method != http.MethodGet && r.Method != http.MethodPost {
				w.Header().Set("Allow", "GET, POST")
				return writeError(w, &apiError{typ: "bad_data", err: fmt.Errorf("method %s not allowed", r.Method)}, http.StatusMethodNotAllowed)
			}
			if err := r.ParseForm(); err != nil {
				return writeError(w, badData("error parsing form values: %v", err), 0)
			}
			data, err := h(r)
			if err != nil {
				return writeError(w, err, 0)
			}
			return writeData(w, data)
		}))
	}
	mux.HandleFunc("/api/v1/", a.ext.instrument("/api/other", func(w http.ResponseWriter, _ *http.Request) string {
		return writeError(w, &apiError{typ: "not_found", err: errors.New("unknown API endpoint")}, 0)
	}))
}

func writeError(w http.ResponseWriter, err error, status int) string {
	typ, msg := "internal", err.Error()
	var ae *apiError
	var ee *eval.Error
	var le *store.LimitError
	switch {
	case errors.As(err, &ae):
		typ = ae.typ
	case errors.As(err, &ee):
		typ = string(ee.Type)
	case errors.As(err, &le):
		typ = "execution"
	case errors.Is(err, context.DeadlineExceeded):
		typ = "timeout"
	case errors.Is(err, context.Canceled):
		typ = "canceled"
	}
	if status == 0 {
		status = errorStatus[typ]
	}
	body, _ := json.Marshal(struct {
		Status    string `json:"status"`
		ErrorType string `json:"errorType"`
		Error     string `json:"error"`
	}{"error", typ, msg})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
	return typ
}

// rawJSON is data already encoded.
type rawJSON []byte

func writeData(w http.ResponseWriter, data any) string {
	var buf bytes.Buffer
	buf.WriteString(`{"status":"success","data":`)
	if raw, ok := data.(rawJSON); ok {
		buf.Write(raw)
	} else {
		b, err := json.Marshal(data)
		if err != nil {
			return writeError(w, err, 0)
		}
		buf.Write(b)
	}
	buf.WriteString("}")
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(buf.Bytes())
	return "success"
}

// parseTime reads a timestamp as Prometheus does: Unix seconds (with a fraction) or RFC 3339.
func parseTime(s string, def time.Time) (time.Time, error) {
	if s == "" {
		return def, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if math.IsNaN(f) || math.IsInf(f, 0) || f > float64(maxTime.Unix()) || f < float64(minTime.Unix()) {
			return time.Time{}, fmt.Errorf("cannot parse %q to a valid timestamp", s)
		}
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(math.Round(frac*1000))*int64(time.Millisecond)).UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("cannot parse %q to a valid timestamp", s)
}

// parseDuration reads a duration as Prometheus does: seconds (with a fraction) or 5m, 1h30m.
func parseDuration(s string) (time.Duration, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		ts := f * float64(time.Second)
		if math.IsNaN(ts) || ts > float64(math.MaxInt64) || ts < float64(math.MinInt64) {
			return 0, fmt.Errorf("cannot parse %q to a valid duration. It overflows int64", s)
		}
		return time.Duration(ts), nil
	}
	if d, err := model.ParseDuration(s); err == nil {
		return time.Duration(d), nil
	}
	return 0, fmt.Errorf("cannot parse %q to a valid duration", s)
}

// queryContext bounds a query by the configured timeout and the request's `timeout`.
func (a *promAPI) queryContext(r *http.Request) (context.Context, context.CancelFunc, error) {
	timeout := a.ext.cfg.QueryTimeout
	if s := r.FormValue("timeout"); s != "" {
		d, err := parseDuration(s)
		if err != nil {
			return nil, nil, badData("invalid parameter \"timeout\": %v", err)
		}
		if d > 0 && d < timeout {
			timeout = d
		}
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	return ctx, cancel, nil
}

func (a *promAPI) query(r *http.Request) (any, error) {
	ts, err := parseTime(r.FormValue("time"), time.Now())
	if err != nil {
		return nil, badData("invalid parameter \"time\": %v", err)
	}
	q := r.FormValue("query")
	if q == "" {
		return nil, badData("invalid parameter \"query\": query must not be empty")
	}
	ctx, cancel, err := a.queryContext(r)
	if err != nil {
		return nil, err
	}
	defer cancel()
	res, err := a.ext.engine.Instant(ctx, q, ts)
	if err != nil {
		return nil, err
	}
	a.ext.countSamples(ctx, res.Samples)
	return encodeResult(res), nil
}

func (a *promAPI) queryRange(r *http.Request) (any, error) {
	start, err := parseTime(r.FormValue("start"), time.Time{})
	if err != nil || r.FormValue("start") == "" {
		return nil, badData("invalid parameter \"start\": %v", orMissing(err))
	}
	end, err := parseTime(r.FormValue("end"), time.Time{})
	if err != nil || r.FormValue("end") == "" {
		return nil, badData("invalid parameter \"end\": %v", orMissing(err))
	}
	if end.Before(start) {
		return nil, badData("invalid parameter \"end\": end timestamp must not be before start time")
	}
	step, err := parseDuration(r.FormValue("step"))
	if err != nil || r.FormValue("step") == "" {
		return nil, badData("invalid parameter \"step\": %v", orMissing(err))
	}
	if step <= 0 {
		return nil, badData("invalid parameter \"step\": zero or negative query resolution step widths are not accepted. Try a positive integer")
	}
	if max := a.ext.cfg.Limits.MaxSteps; end.Sub(start)/step >= time.Duration(max) {
		return nil, badData("exceeded maximum resolution of %d points per timeseries. Try decreasing the query resolution (?step=XX)", max)
	}
	q := r.FormValue("query")
	if q == "" {
		return nil, badData("invalid parameter \"query\": query must not be empty")
	}
	ctx, cancel, err := a.queryContext(r)
	if err != nil {
		return nil, err
	}
	defer cancel()
	res, err := a.ext.engine.Range(ctx, q, start, end, step)
	if err != nil {
		return nil, err
	}
	a.ext.countSamples(ctx, res.Samples)
	return encodeResult(res), nil
}

func orMissing(err error) error {
	if err == nil {
		return errors.New("missing")
	}
	return err
}

// encodeResult writes a query result in the Prometheus API's JSON.
func encodeResult(res *eval.Result) rawJSON {
	b := make([]byte, 0, 256)
	b = append(b, `{"resultType":"`...)
	b = append(b, res.Type...)
	b = append(b, `","result":`...)
	if res.Type == eval.TypeScalar {
		p := res.Series[0].Points[0]
		b = appendSample(b, p.T, p.V)
		return append(b, '}')
	}
	b = append(b, '[')
	for i, s := range res.Series {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"metric":`...)
		b = appendLabels(b, s.Labels)
		if res.Type == eval.TypeVector {
			b = append(b, `,"value":`...)
			b = appendSample(b, s.Points[0].T, s.Points[0].V)
		} else {
			b = append(b, `,"values":[`...)
			for j, p := range s.Points {
				if j > 0 {
					b = append(b, ',')
				}
				b = appendSample(b, p.T, p.V)
			}
			b = append(b, ']')
		}
		b = append(b, '}')
	}
	return append(b, "]}"...)
}

// appendSample appends [seconds,"value"].
func appendSample(b []byte, t int64, v float64) []byte {
	b = append(b, '[')
	b = strconv.AppendFloat(b, float64(t)/1000, 'f', -1, 64)
	b = append(b, `,"`...)
	switch {
	case math.IsNaN(v):
		b = append(b, "NaN"...)
	case math.IsInf(v, 1):
		b = append(b, "+Inf"...)
	case math.IsInf(v, -1):
		b = append(b, "-Inf"...)
	default:
		b = strconv.AppendFloat(b, v, 'f', -1, 64)
	}
	return append(b, `"]`...)
}

func appendLabels(b []byte, ls labels.Labels) []byte {
	b = append(b, '{')
	first := true
	ls.Range(func(l labels.Label) {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendString(b, l.Name)
		b = append(b, ':')
		b = appendString(b, l.Value)
	})
	return append(b, '}')
}

func appendString(b []byte, s string) []byte {
	q, _ := json.Marshal(s)
	return append(b, q...)
}

// matchSets parses the `match[]` parameters.
func (a *promAPI) matchSets(r *http.Request) ([][]*labels.Matcher, error) {
	ms := r.Form["match[]"]
	if len(ms) > a.ext.cfg.Limits.MaxMatchers {
		return nil, badData("%d match[] selectors given, the limit is %d", len(ms), a.ext.cfg.Limits.MaxMatchers)
	}
	p := parser.NewParser(parser.Options{})
	var sets [][]*labels.Matcher
	for _, s := range ms {
		m, err := p.ParseMetricSelector(s)
		if err != nil {
			return nil, badData("invalid parameter \"match[]\": %v", err)
		}
		sets = append(sets, m)
	}
	return sets, nil
}

// timeRange reads `start` and `end` of a metadata request (default: everything).
func timeRange(r *http.Request) (int64, int64, error) {
	start, err := parseTime(r.FormValue("start"), minTime)
	if err != nil {
		return 0, 0, badData("invalid parameter \"start\": %v", err)
	}
	end, err := parseTime(r.FormValue("end"), maxTime)
	if err != nil {
		return 0, 0, badData("invalid parameter \"end\": %v", err)
	}
	if end.Before(start) {
		return 0, 0, badData("invalid parameter \"end\": end timestamp must not be before start time")
	}
	return start.UnixMilli(), end.UnixMilli(), nil
}

// seriesOf returns the series of a metadata request.
func (a *promAPI) seriesOf(r *http.Request, needMatch bool) ([]*store.Series, error) {
	sets, err := a.matchSets(r)
	if err != nil {
		return nil, err
	}
	if needMatch && len(sets) == 0 {
		return nil, badData("no match[] parameter provided")
	}
	mint, maxt, err := timeRange(r)
	if err != nil {
		return nil, err
	}
	return a.ext.store.SeriesIn(sets, mint, maxt, 0) // `limit` shortens the answer (truncate), as Prometheus does
}

// limitParam reads the `limit` parameter (0: none; bad values are ignored, as the limit only
// shortens the answer).
func limitParam(r *http.Request) int {
	n, err := strconv.Atoi(r.FormValue("limit"))
	if err != nil || n < 0 {
		return 0
	}
	return n
}

func truncate[T any](s []T, limit int) []T {
	if limit > 0 && len(s) > limit {
		return s[:limit]
	}
	return s
}

func (a *promAPI) labelNames(r *http.Request) (any, error) {
	ss, err := a.seriesOf(r, false)
	if err != nil {
		return nil, err
	}
	set := map[string]bool{}
	for _, s := range ss {
		s.Labels.Range(func(l labels.Label) { set[l.Name] = true })
	}
	names := make([]string, 0, len(set))
	for n := range set {
		names = append(names, n)
	}
	slices.Sort(names)
	return truncate(names, limitParam(r)), nil
}

func (a *promAPI) labelValues(r *http.Request) (any, error) {
	name := r.PathValue("name")
	if strings.HasPrefix(name, "U__") {
		name = model.UnescapeName(name, model.ValueEncodingEscaping)
	}
	if !model.UTF8Validation.IsValidLabelName(name) {
		return nil, badData("invalid label name: %q", name)
	}
	ss, err := a.seriesOf(r, false)
	if err != nil {
		return nil, err
	}
	set := map[string]bool{}
	for _, s := range ss {
		if v := s.Labels.Get(name); v != "" {
			set[v] = true
		}
	}
	vals := make([]string, 0, len(set))
	for v := range set {
		vals = append(vals, v)
	}
	slices.Sort(vals)
	return truncate(vals, limitParam(r)), nil
}

func (a *promAPI) series(r *http.Request) (any, error) {
	ss, err := a.seriesOf(r, true)
	if err != nil {
		return nil, err
	}
	ss = truncate(ss, limitParam(r))
	out := make([]map[string]string, 0, len(ss))
	for _, s := range ss {
		out = append(out, s.Labels.Map())
	}
	return out, nil
}

// metricMetadata is one entry of /api/v1/metadata.
type metricMetadata struct {
	Type string `json:"type"`
	Help string `json:"help"`
	Unit string `json:"unit"`
}

func (a *promAPI) metadata(r *http.Request) (any, error) {
	ss, err := a.ext.store.SeriesIn(nil, minTime.UnixMilli(), maxTime.UnixMilli(), 0)
	if err != nil {
		return nil, err
	}
	only := r.FormValue("metric")
	out := map[string][]metricMetadata{}
	for _, s := range ss {
		name := s.Labels.Get(labels.MetricName)
		if only != "" && name != only {
			continue
		}
		md := metricMetadata{Type: promType(s), Help: s.Description, Unit: s.Unit}
		if !slices.Contains(out[name], md) {
			out[name] = append(out[name], md)
		}
	}
	if lim := limitParam(r); lim > 0 && len(out) > lim {
		names := make([]string, 0, len(out))
		for n := range out {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names[lim:] {
			delete(out, n)
		}
	}
	return out, nil
}

// promType names a series' kind in Prometheus' metadata terms.
func promType(s *store.Series) string {
	switch s.Kind {
	case chunkfile.KindSum:
		if s.Monotonic {
			return "counter"
		}
		return "gauge"
	case chunkfile.KindHistogram, chunkfile.KindExpHistogram:
		return "histogram"
	case chunkfile.KindSummary:
		return "summary"
	}
	return "gauge"
}

func (a *promAPI) buildInfo(*http.Request) (any, error) {
	return map[string]string{
		"version":   a.ext.set.BuildInfo.Version,
		"revision":  "",
		"branch":    "",
		"buildUser": "",
		"buildDate": "",
		"goVersion": runtime.Version(),
	}, nil
}

// instrument wraps a handler with the request telemetry.
func (e *chunkQuery) instrument(endpoint string, h func(http.ResponseWriter, *http.Request) string) http.HandlerFunc {
	ep := attribute.String("endpoint", endpoint)
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		outcome := h(w, r)
		ctx := context.WithoutCancel(r.Context())
		e.tel.ExtensionChunkqueryRequests.Add(ctx, 1, metric.WithAttributes(ep, attribute.String("outcome", outcome)))
		e.tel.ExtensionChunkqueryRequestDuration.Record(ctx, time.Since(start).Seconds(), metric.WithAttributes(ep))
	}
}

func (e *chunkQuery) countSamples(ctx context.Context, n int) {
	e.tel.ExtensionChunkquerySamplesRead.Add(context.WithoutCancel(ctx), int64(n))
}
