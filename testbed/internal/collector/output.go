package collector

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// Output is what a file exporter wrote, summed per metric-name prefix (the text before the
// first '.', which the load generator sets per phase).
type Output struct {
	Requests int   // export requests in the file
	Points   int64 // data points of every kind
	// CounterSum adds every Sum data point (DogStatsD counters are the only Sums either
	// receiver emits), by prefix.
	CounterSum map[string]float64
	// CounterContexts is the number of distinct counter series (name, resource and point
	// attributes), by prefix.
	CounterContexts map[string]int
	// Truncated reports a torn last record (a killed collector); the records before it count.
	Truncated bool
}

// maxRecord bounds one length-prefixed record, so a corrupt prefix cannot make the reader
// allocate without limit.
const maxRecord = 1 << 30

// ReadOutput reads a file exporter's `format: proto` file: each record is a 4-byte big-endian
// length and an OTLP ExportMetricsServiceRequest.
func ReadOutput(path string) (Output, error) {
	f, err := os.Open(path)
	if err != nil {
		return Output{}, err
	}
	defer f.Close()
	return readOutput(bufio.NewReaderSize(f, 1<<20))
}

func readOutput(r io.Reader) (Output, error) {
	out := Output{CounterSum: map[string]float64{}, CounterContexts: map[string]int{}}
	seen := map[string]bool{}
	var u pmetric.ProtoUnmarshaler
	var hdr [4]byte
	var buf []byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			out.Truncated = true
			return out, nil
		}
		n := binary.BigEndian.Uint32(hdr[:])
		if n > maxRecord {
			return out, fmt.Errorf("collector: record of %d bytes", n)
		}
		if cap(buf) < int(n) {
			buf = make([]byte, n)
		}
		buf = buf[:n]
		if _, err := io.ReadFull(r, buf); err != nil {
			out.Truncated = true
			return out, nil
		}
		md, err := u.UnmarshalMetrics(buf)
		if err != nil {
			return out, fmt.Errorf("collector: record %d: %w", out.Requests, err)
		}
		out.Requests++
		out.Points += int64(md.DataPointCount())
		addCounters(md, &out, seen)
	}
}

func addCounters(md pmetric.Metrics, out *Output, seen map[string]bool) {
	var key strings.Builder
	rms := md.ResourceMetrics()
	for i := range rms.Len() {
		rm := rms.At(i)
		for j := range rm.ScopeMetrics().Len() {
			ms := rm.ScopeMetrics().At(j).Metrics()
			for k := range ms.Len() {
				m := ms.At(k)
				if m.Type() != pmetric.MetricTypeSum {
					continue
				}
				prefix, _, _ := strings.Cut(m.Name(), ".")
				dps := m.Sum().DataPoints()
				for p := range dps.Len() {
					dp := dps.At(p)
					switch dp.ValueType() {
					case pmetric.NumberDataPointValueTypeDouble:
						out.CounterSum[prefix] += dp.DoubleValue()
					case pmetric.NumberDataPointValueTypeInt:
						out.CounterSum[prefix] += float64(dp.IntValue())
					}
					key.Reset()
					key.WriteString(m.Name())
					writeAttrs(&key, rm.Resource().Attributes())
					writeAttrs(&key, dp.Attributes())
					if id := key.String(); !seen[id] {
						seen[id] = true
						out.CounterContexts[prefix]++
					}
				}
			}
		}
	}
}

// writeAttrs appends attributes in a canonical (sorted) order.
func writeAttrs(b *strings.Builder, attrs pcommon.Map) {
	kv := make([]string, 0, attrs.Len())
	for k, v := range attrs.All() {
		kv = append(kv, k+"="+v.AsString())
	}
	slices.Sort(kv)
	b.WriteByte('|')
	b.WriteString(strings.Join(kv, ","))
}

// CountLogRecords counts the log records in a file exporter's `format: proto` logs file.
func CountLogRecords(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	var u plog.ProtoUnmarshaler
	var hdr [4]byte
	var n int64
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return n, nil // EOF, or a torn last record of a killed collector
		}
		size := binary.BigEndian.Uint32(hdr[:])
		if size > maxRecord {
			return n, fmt.Errorf("collector: record of %d bytes", size)
		}
		buf := make([]byte, size)
		if _, err := io.ReadFull(r, buf); err != nil {
			return n, nil
		}
		ld, err := u.UnmarshalLogs(buf)
		if err != nil {
			return n, err
		}
		n += int64(ld.LogRecordCount())
	}
}
