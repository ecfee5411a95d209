//go:build !unix

package chunkfileexporter

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// lockDir creates dir/lockName exclusively and removes it on unlock, so a second collector or
// exporter cannot take over a directory another one writes. Without flock a crash leaves the
// file behind; the error says to remove it.
func lockDir(dir string) (unlock func() error, err error) {
	path := filepath.Join(dir, lockName)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_RDWR, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("chunkfile: directory %s is in use by another exporter or collector (%s exists; remove it if no collector runs): give each chunkfile exporter its own directory", dir, path)
	}
	if err != nil {
		return nil, fmt.Errorf("chunkfile: creating lock file: %w", err)
	}
	f.Close()
	return func() error { return os.Remove(path) }, nil
}
