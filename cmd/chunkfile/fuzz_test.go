package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzImport feeds arbitrary JSON lines to import: it must import or fail with an error,
// never panic, and never leave a file behind when it fails.
func FuzzImport(f *testing.F) {
	f.Add([]byte(`{"series":{"id":0,"name":"a","kind":"gauge"}}` + "\n" + `{"id":0,"t":1,"float":"0x7ff8000000000001"}`))
	f.Add([]byte(`{"series":{"id":0,"name":"h","kind":"histogram"}}` + "\n" + `{"id":0,"t":5,"histogram":{"count":3,"bounds":[1,2],"counts":[1,1,1]}}`))
	f.Add([]byte(`{"series":{"id":0,"name":"s","kind":"summary","attributes":[{"key":"k","double":"NaN"}]}}` + "\n" + `{"id":0,"t":5,"summary":{"count":3,"sum":1,"quantiles":[[0.5,1]]}}`))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, in []byte) {
		path := filepath.Join(dir, "f.chunk")
		os.Remove(path)
		_, err := importLines(bytes.NewReader(in), path, time.Minute)
		if _, serr := os.Stat(path); err != nil && serr == nil {
			t.Fatalf("failed import (%v) left a file", err)
		}
	})
}
