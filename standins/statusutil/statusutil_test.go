package statusutil

import (
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

func TestNewStatusFromMsgAndHTTPCode(t *testing.T) {
	for code, want := range map[int]codes.Code{
		400: codes.InvalidArgument, 401: codes.Unauthenticated, 403: codes.PermissionDenied,
		404: codes.Unimplemented, 429: codes.ResourceExhausted, 502: codes.Unavailable,
		503: codes.Unavailable, 504: codes.Unavailable, 500: codes.Unknown, 418: codes.Unknown,
	} {
		st := NewStatusFromMsgAndHTTPCode("boom", code)
		if st.Code() != want || st.Message() != "boom" {
			t.Errorf("HTTP %d: got %v %q, want %v \"boom\"", code, st.Code(), st.Message(), want)
		}
	}
}

func TestGetRetryInfo(t *testing.T) {
	if ri := GetRetryInfo(status.New(codes.Unavailable, "x")); ri != nil {
		t.Fatalf("status without details: got %v, want nil", ri)
	}
	st, err := status.New(codes.Unavailable, "x").WithDetails(
		&errdetails.ErrorInfo{Reason: "r"},
		&errdetails.RetryInfo{RetryDelay: durationpb.New(3 * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	ri := GetRetryInfo(st)
	if ri == nil || ri.RetryDelay.AsDuration() != 3*time.Second {
		t.Fatalf("got %v, want a RetryInfo of 3s", ri)
	}
}
