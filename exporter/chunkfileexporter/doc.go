// Package chunkfileexporter writes metrics to compact, durable chunk files (see the chunkfile
// package and docs/chunk-format.md): an open segment is appended to and fsynced per policy,
// rotated by size and age into sealed files by atomic rename, recovered after a crash, and
// pruned by age and total size.
//
//go:generate ../../build/bin/mdatagen metadata.yaml
package chunkfileexporter // import "github.com/doghouse-otel/doghouse/exporter/chunkfileexporter"
