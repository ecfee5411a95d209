package chunkqueryextension

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/doghouse-otel/doghouse/extension/chunkqueryextension/internal/otsdb"
)

// maxOpenTSDBBody bounds a POST body: 1 MiB holds a query of the most sub queries a request
// may give (limits::max_matchers) with room to spare; the filters in it are bounded further.
const maxOpenTSDBBody = 1 << 20

// openTSDBAPI serves the OpenTSDB 2.4 HTTP API subset: every /api/ path that is not the
// Prometheus API's /api/v1/.
type openTSDBAPI struct {
	ext *chunkQuery
}

func (a *openTSDBAPI) routes(mux *http.ServeMux) {
	for path, h := range map[string]func(*http.Request) (any, error){
		"/api/query":          a.query,
		"/api/suggest":        a.suggest,
		"/api/aggregators":    a.aggregators,
		"/api/version":        a.version,
		"/api/config/filters": a.filters,
	} {
		mux.HandleFunc(path, a.ext.instrument(path, func(w http.ResponseWriter, r *http.Request) string {
			if r.Method != http.MethodGet && r.Method != http.MethodPost {
				w.Header().Set("Allow", "GET, POST")
				return writeOpenTSDBError(w, &otsdb.Error{Code: http.StatusMethodNotAllowed, Message: "Method not allowed",
					Details: fmt.Sprintf("The HTTP method [%s] is not permitted for this endpoint", r.Method)})
			}
			data, err := h(r)
			if err != nil {
				return writeOpenTSDBError(w, err)
			}
			b, ok := data.([]byte)
			if !ok {
				if b, err = json.Marshal(data); err != nil {
					return writeOpenTSDBError(w, err)
				}
			}
			w.Header().Set("Content-Type", "application/json; charset=UTF-8")
			_, _ = w.Write(b)
			return "success"
		}))
	}
	mux.HandleFunc("/api/", a.ext.instrument("/api/other", func(w http.ResponseWriter, _ *http.Request) string {
		return writeOpenTSDBError(w, &otsdb.Error{Code: http.StatusNotFound, Message: "Endpoint not found"})
	}))
}

// outcomes name an answer's status in the request telemetry, in the Prometheus API's terms.
var outcomes = map[int]string{
	http.StatusBadRequest: "bad_data", http.StatusMethodNotAllowed: "bad_data", http.StatusNotFound: "not_found",
	http.StatusRequestEntityTooLarge: "execution", http.StatusRequestTimeout: "timeout", 499: "canceled",
}

// writeOpenTSDBError answers err as OpenTSDB does: {"error":{"code":…,"message":…}} with that
// status.
func writeOpenTSDBError(w http.ResponseWriter, err error) string {
	var oe *otsdb.Error
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &oe):
	case errors.As(err, &mbe):
		oe = &otsdb.Error{Code: http.StatusRequestEntityTooLarge, Message: fmt.Sprintf("The request body is larger than %d bytes", mbe.Limit)}
	case errors.Is(err, context.DeadlineExceeded):
		oe = &otsdb.Error{Code: http.StatusRequestTimeout, Message: "The query timed out (query_timeout)"}
	case errors.Is(err, context.Canceled):
		oe = &otsdb.Error{Code: 499, Message: "The request was canceled"}
	default:
		oe = &otsdb.Error{Code: http.StatusInternalServerError, Message: err.Error()}
	}
	body, _ := json.Marshal(map[string]any{"error": struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Details string `json:"details,omitempty"`
	}{oe.Code, oe.Message, oe.Details}})
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(oe.Code)
	_, _ = w.Write(body)
	if o, ok := outcomes[oe.Code]; ok {
		return o
	}
	return "internal"
}

func (a *openTSDBAPI) limits() otsdb.Limits {
	l := a.ext.cfg.Limits
	return otsdb.Limits{MaxSeries: l.MaxSeries, MaxSamples: l.MaxSamples, MaxSteps: l.MaxSteps, MaxPoints: l.MaxPoints, MaxMatchers: l.MaxMatchers}
}

// body reads a POST body, at most maxOpenTSDBBody bytes.
func body(r *http.Request) ([]byte, error) {
	return io.ReadAll(http.MaxBytesReader(nil, r.Body, maxOpenTSDBBody))
}

// values reads the query string, as OpenTSDB does for a GET.
func values(r *http.Request) (url.Values, error) {
	v, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, &otsdb.Error{Code: http.StatusBadRequest, Message: "Bad query string: " + err.Error()}
	}
	return v, nil
}

func (a *openTSDBAPI) query(r *http.Request) (any, error) {
	now := time.Now()
	var q *otsdb.Query
	if r.Method == http.MethodPost {
		b, err := body(r)
		if err != nil {
			return nil, err
		}
		if q, err = otsdb.ParseJSON(b, now); err != nil {
			return nil, err
		}
	} else {
		v, err := values(r)
		if err != nil {
			return nil, err
		}
		if q, err = otsdb.ParseValues(v, now); err != nil {
			return nil, err
		}
	}
	lim := a.limits()
	if err := q.Validate(lim); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(r.Context(), a.ext.cfg.QueryTimeout)
	defer cancel()
	res, samples, err := otsdb.Execute(ctx, a.ext.store, q, lim)
	a.ext.countSamples(ctx, samples)
	if err != nil {
		return nil, err
	}
	return encodeOpenTSDB(res, q.MsResolution), nil
}

// encodeOpenTSDB writes results as OpenTSDB does:
// [{"metric":…,"tags":{…},"aggregateTags":[…],"dps":{"<ts>":value,…}},…]. With second keys,
// of several points in one second the last is written.
func encodeOpenTSDB(res []otsdb.Result, ms bool) []byte {
	b := make([]byte, 0, 256)
	b = append(b, '[')
	for i, r := range res {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"metric":`...)
		b = appendString(b, r.Metric)
		tags, _ := json.Marshal(r.Tags)
		b = append(append(b, `,"tags":`...), tags...)
		b = append(b, `,"aggregateTags":[`...)
		for j, k := range r.AggregateTags {
			if j > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k)
		}
		b = append(b, `],"dps":{`...)
		first := true
		for j, t := range r.T {
			if !ms {
				t /= 1000
				if j+1 < len(r.T) && r.T[j+1]/1000 == t {
					continue
				}
			}
			if !first {
				b = append(b, ',')
			}
			first = false
			b = append(b, '"')
			b = strconv.AppendInt(b, t, 10)
			b = append(b, `":`...)
			b = appendNumber(b, r.V[j], r.NaNAsNull)
		}
		b = append(b, "}}"...)
	}
	return append(b, ']')
}

// appendNumber writes v as a JSON number; NaN and the infinities, which JSON lacks, as the
// strings OpenTSDB's JSON writer gives them ("NaN", "Infinity", "-Infinity"), or NaN as null
// under the null fill policy.
func appendNumber(b []byte, v float64, nanAsNull bool) []byte {
	switch {
	case math.IsNaN(v) && nanAsNull:
		return append(b, "null"...)
	case math.IsNaN(v):
		return append(b, `"NaN"`...)
	case math.IsInf(v, 1):
		return append(b, `"Infinity"`...)
	case math.IsInf(v, -1):
		return append(b, `"-Infinity"`...)
	}
	abs := math.Abs(v)
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		return strconv.AppendFloat(b, v, 'e', -1, 64)
	}
	return strconv.AppendFloat(b, v, 'f', -1, 64)
}

func (a *openTSDBAPI) suggest(r *http.Request) (any, error) {
	var typ, q, max string
	if r.Method == http.MethodPost {
		b, err := body(r)
		if err != nil {
			return nil, err
		}
		if len(b) == 0 {
			return nil, &otsdb.Error{Code: http.StatusBadRequest, Message: "Missing message content", Details: "Supply valid JSON formatted data in the body of your request"}
		}
		var req map[string]any
		if err := json.Unmarshal(b, &req); err != nil {
			return nil, &otsdb.Error{Code: http.StatusBadRequest, Message: "Unable to parse the given JSON", Details: err.Error()}
		}
		typ, q, max = jsonText(req["type"]), jsonText(req["q"]), jsonText(req["max"])
		if typ == "" {
			return nil, &otsdb.Error{Code: http.StatusBadRequest, Message: "Missing 'type' parameter"}
		}
	} else {
		v, err := values(r)
		if err != nil {
			return nil, err
		}
		typ, q, max = v.Get("type"), v.Get("q"), v.Get("max")
		if typ == "" {
			return nil, &otsdb.Error{Code: http.StatusBadRequest, Message: "Missing parameter <code>type</code>"}
		}
	}
	n := 0
	if max != "" {
		var err error
		if n, err = strconv.Atoi(max); err != nil {
			return nil, &otsdb.Error{Code: http.StatusBadRequest, Message: "Unable to parse 'max' as a number"}
		}
	}
	return otsdb.Suggest(a.ext.store, typ, q, n)
}

// jsonText is a JSON string, or a number as written.
func jsonText(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return ""
}

func (a *openTSDBAPI) aggregators(*http.Request) (any, error) { return otsdb.AggregatorNames(), nil }

func (a *openTSDBAPI) filters(*http.Request) (any, error) { return otsdb.FilterTypes(), nil }

// version answers with OpenTSDB's keys; the version is the collector's.
func (a *openTSDBAPI) version(*http.Request) (any, error) {
	return map[string]string{
		"version": a.ext.set.BuildInfo.Version, "short_revision": "", "full_revision": "", "timestamp": "",
		"repo_status": "", "user": "", "host": "", "repo": "", "branch": "",
	}, nil
}
