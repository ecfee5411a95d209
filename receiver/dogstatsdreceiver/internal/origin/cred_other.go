//go:build !linux

package origin

import "syscall"

// Supported reports whether this system can tell a Unix socket sender's pid.
const Supported = false

// OOBSize is 0: there are no credentials to read here.
var OOBSize = 0

// EnablePassCred reports ErrUnsupported: only Linux passes credentials this way.
func EnablePassCred(syscall.RawConn) error { return ErrUnsupported }

// PeerCredentials reports ErrUnsupported: only Linux is supported.
func PeerCredentials(syscall.RawConn) (Credentials, error) { return Credentials{}, ErrUnsupported }

// ParseCredentials finds nothing: only Linux is supported.
func ParseCredentials([]byte) (Credentials, bool) { return Credentials{}, false }

// ControlMessage finds nothing: only Linux is supported.
func ControlMessage([]byte, int32, int32) []byte { return nil }
