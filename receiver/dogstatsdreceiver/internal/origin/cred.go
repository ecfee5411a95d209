package origin

import "errors"

// ErrUnsupported is returned by the socket options on systems without SO_PASSCRED.
var ErrUnsupported = errors.New("origin: origin detection is only supported on Linux")

// Credentials are the sender's ids the kernel attaches to a Unix socket message.
type Credentials struct {
	PID int32
	UID uint32
	GID uint32
}
