// Package chunkqueryextension serves the chunk store a chunkfile exporter writes over HTTP: a
// Prometheus HTTP API subset (so Grafana's Prometheus data source and Prometheus clients work),
// an OpenTSDB HTTP API subset, and a graphing page. It reads the directory and never writes.
package chunkqueryextension // import "github.com/doghouse-otel/doghouse/extension/chunkqueryextension"

//go:generate mdatagen metadata.yaml
