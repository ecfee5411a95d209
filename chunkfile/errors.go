package chunkfile

import (
	"errors"
	"fmt"
)

// ErrUnsupportedVersion is wrapped by the error for a file whose major version this package
// does not read.
var ErrUnsupportedVersion = errors.New("unsupported chunk file version")

// ErrNotChunkFile is wrapped by the error for input that does not start with the magic.
var ErrNotChunkFile = errors.New("not a chunk file")

// ErrClosed is returned by a Writer used after Close or after a write error it cannot undo.
var ErrClosed = errors.New("chunk writer closed")

// CorruptionError reports damaged or malformed input and where it is: Offset is the byte offset
// of the frame (or header) that holds the problem.
type CorruptionError struct {
	Offset int64
	Reason string
	Err    error
}

func (e *CorruptionError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("chunk file corrupt at offset %d: %s: %v", e.Offset, e.Reason, e.Err)
	}
	return fmt.Sprintf("chunk file corrupt at offset %d: %s", e.Offset, e.Reason)
}

func (e *CorruptionError) Unwrap() error { return e.Err }

func corrupt(off int64, reason string, err error) *CorruptionError {
	return &CorruptionError{Offset: off, Reason: reason, Err: err}
}
