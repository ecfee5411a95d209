package otsdb

import (
	"fmt"
	"net/http"
)

// Error is an answer other than success, as OpenTSDB gives it: an HTTP status and a message
// (and sometimes details), written as {"error":{"code":…,"message":…,"details":…}}.
type Error struct {
	Code    int
	Message string
	Details string
}

func (e *Error) Error() string { return e.Message }

// badRequest is a 400: the request is malformed or asks for what this API does not do.
func badRequest(format string, a ...any) *Error {
	return &Error{Code: http.StatusBadRequest, Message: fmt.Sprintf(format, a...)}
}

// tooLarge is a 413: the answer would pass a limit. OpenTSDB answers its own data-point and
// byte limits with this status.
func tooLarge(format string, a ...any) *Error {
	return &Error{Code: http.StatusRequestEntityTooLarge, Message: fmt.Sprintf(format, a...)}
}
