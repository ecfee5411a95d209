package listener

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"syscall"
	"time"
)

// DefaultSocketPermissions lets only the collector's user write to the socket files; widen it
// (socket_permissions) for clients running as other users.
const DefaultSocketPermissions fs.FileMode = 0o600

// ErrSocketInUse means another process is serving the configured socket path.
var ErrSocketInUse = errors.New("socket path is in use by another process")

// prepareSocketPath removes a stale socket file left by a process that did not clean up, and
// refuses to touch a path that is not a socket or that someone is still listening on.
func prepareSocketPath(network, path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.Mode()&fs.ModeSocket == 0 {
		return fmt.Errorf("%s exists and is not a socket", path)
	}
	c, err := net.DialTimeout(network, path, time.Second)
	if err == nil {
		_ = c.Close()
		return fmt.Errorf("%s: %w", path, ErrSocketInUse)
	}
	if errors.Is(err, syscall.EPROTOTYPE) {
		// Someone serves the other kind of Unix socket there (datagram vs stream).
		return fmt.Errorf("%s: %w", path, ErrSocketInUse)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing stale socket %s: %w", path, err)
	}
	return nil
}

func socketPermissions(p fs.FileMode) fs.FileMode {
	if p == 0 {
		return DefaultSocketPermissions
	}
	return p & fs.ModePerm
}

// removeSocket deletes the socket file at Stop; it may already be gone.
func removeSocket(path string) { _ = os.Remove(path) }
