// Package statusutil stands in for go.opentelemetry.io/collector/internal/statusutil, which the
// module proxy of our build machines refuses to serve (HTTP 403). The core OTLP receiver and
// OTLP exporters import it to translate between HTTP and gRPC status codes; this module provides
// the two functions they call with the same behaviour. See ../README.md.
package statusutil // import "go.opentelemetry.io/collector/internal/statusutil"

import (
	"net/http"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// httpToGRPC follows gRPC's documented HTTP-to-gRPC status mapping, with the two exceptions the
// Collector makes: 400 means the request itself was bad and 429 means "retry later".
var httpToGRPC = map[int]codes.Code{
	http.StatusBadRequest:         codes.InvalidArgument,
	http.StatusUnauthorized:       codes.Unauthenticated,
	http.StatusForbidden:          codes.PermissionDenied,
	http.StatusNotFound:           codes.Unimplemented,
	http.StatusTooManyRequests:    codes.ResourceExhausted,
	http.StatusBadGateway:         codes.Unavailable,
	http.StatusServiceUnavailable: codes.Unavailable,
	http.StatusGatewayTimeout:     codes.Unavailable,
}

// NewStatusFromMsgAndHTTPCode builds a gRPC status carrying msg whose code corresponds to the
// HTTP status code; codes without a counterpart become codes.Unknown.
func NewStatusFromMsgAndHTTPCode(msg string, code int) *status.Status {
	c, ok := httpToGRPC[code]
	if !ok {
		c = codes.Unknown
	}
	return status.New(c, msg)
}

// GetRetryInfo returns the first RetryInfo detail attached to st, or nil when there is none.
func GetRetryInfo(st *status.Status) *errdetails.RetryInfo {
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok {
			return ri
		}
	}
	return nil
}
