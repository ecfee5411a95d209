// Package chunkfile reads and writes chunk files: compact, append-only, crash-safe files of
// metric points (gauges, sums, histograms, exponential histograms, summaries) with exact values
// and millisecond timestamps. docs/chunk-format.md in the repository is the byte-level spec.
//
// A Writer appends to any io.Writer; a Segment is a Writer on a file with Sync, sealing and
// Recover for files left unsealed by a crash. A Reader streams a file or any io.Reader and can
// filter by time range and series.
package chunkfile
