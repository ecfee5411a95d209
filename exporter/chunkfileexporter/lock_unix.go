//go:build unix

package chunkfileexporter

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockDir takes an exclusive advisory lock (flock) on dir/lockName, held until the returned
// function is called or the process ends, so a second collector or exporter cannot take over a
// directory another one writes (it would "recover" the live segment).
func lockDir(dir string) (unlock func() error, err error) {
	path := filepath.Join(dir, lockName)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("chunkfile: opening lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("chunkfile: directory %s is in use by another exporter or collector (%s is locked): give each chunkfile exporter its own directory", dir, path)
		}
		return nil, fmt.Errorf("chunkfile: locking %s: %w", path, err)
	}
	return f.Close, nil // closing the descriptor releases the lock
}
