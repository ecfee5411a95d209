package collector

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"os"
	"slices"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// Output is what a collector stored, summed per metric-name prefix (the text before the first
// '.', which the load generator sets per phase).
type Output struct {
	Requests int   // export requests in a file exporter's file; segments of a chunkfile directory
	Points   int64 // data points of every kind
	// CounterSum adds every Sum data point (DogStatsD counters are the only Sums either
	// receiver emits), by prefix.
	CounterSum map[string]float64
	// CounterContexts is the number of distinct counter series (name, resource and point
	// attributes), by prefix.
	CounterContexts map[string]int
	// Truncated reports a torn last record (a killed collector), or a chunk segment left
	// unsealed; what comes before it counts.
	Truncated bool
	// Flushes summarises the fairshare processor's metametrics in the output, if any.
	Flushes Flushes
}

// Flushes is what the fairshare processor's per-flush metametrics say: each flush emits
// fairshare.budget (the bytes it could keep) and fairshare.bytes by fairshare.outcome (kept,
// dropped), all stamped with the flush's time.
type Flushes struct {
	Count int // flushes: distinct timestamps of fairshare.budget points
	// OverBudget counts flushes whose kept bytes exceed their budget by more than the 1 byte
	// the processor's rounding allows.
	OverBudget int
	// Budget, Kept and Offered add the bytes of every flush (offered = kept + dropped).
	Budget, Kept, Offered float64
}

// tally adds up an output the same way whatever its format.
type tally struct {
	out     Output
	seen    map[uint64]struct{} // counter series, by the hash of their identity
	flushes map[int64]*flushTally
	h       maphash.Hash
}

type flushTally struct{ budget, kept, offered float64 }

func newTally() *tally {
	return &tally{
		out:  Output{CounterSum: map[string]float64{}, CounterContexts: map[string]int{}},
		seen: map[uint64]struct{}{}, flushes: map[int64]*flushTally{},
	}
}

// seriesID hashes a series' identity: its name and its resource and point attributes, each set
// as sorted key=value strings. 64 bits keep a few million series in tens of MB where their
// text would take hundreds; a collision among 10 million series has a chance of about 3e-6.
func (t *tally) seriesID(name string, resource, attrs []string) uint64 {
	t.h.Reset()
	t.h.WriteString(name)
	for _, set := range [2][]string{resource, attrs} {
		slices.Sort(set)
		t.h.WriteByte(0)
		for _, kv := range set {
			t.h.WriteString(kv)
			t.h.WriteByte(1)
		}
	}
	return t.h.Sum64()
}

// OverflowPrefix is the prefix under which the counters of the overflow metrics are added up:
// the receiver's `dogstatsd.overflow.count` (samples of contexts beyond max_contexts) and
// fairshare's `fairshare.overflow.sum` (points of metrics beyond max_metrics). They keep the
// total of counters whose names they no longer carry, so a run of one phase counts them in
// that phase's total.
const OverflowPrefix = "(overflow)"

// prefix is a metric name's text before its first '.', or OverflowPrefix for an overflow metric.
func prefix(name string) string {
	if strings.HasPrefix(name, "dogstatsd.overflow.") || strings.HasPrefix(name, "fairshare.overflow.") {
		return OverflowPrefix
	}
	p, _, _ := strings.Cut(name, ".")
	return p
}

// metaPrefix starts the names of fairshare's metametrics; their series are not counted, since
// they would only cost memory (a few per metric name in a cardinality flood).
const metaPrefix = "fairshare"

// counter adds one Sum point of the series whose identity hashes to id, of metrics named with
// the prefix p.
func (t *tally) counter(p string, id uint64, v float64) {
	t.out.CounterSum[p] += v
	if p == metaPrefix {
		return
	}
	if _, ok := t.seen[id]; !ok {
		t.seen[id] = struct{}{}
		t.out.CounterContexts[p]++
	}
}

// meta records a point of fairshare's metametrics (other names are ignored); ms is its time.
func (t *tally) meta(name, outcome string, ms int64, v float64) {
	if name != "fairshare.budget" && name != "fairshare.bytes" {
		return
	}
	f := t.flushes[ms]
	if f == nil {
		f = &flushTally{}
		t.flushes[ms] = f
	}
	switch {
	case name == "fairshare.budget":
		f.budget += v
	case outcome == "kept":
		f.kept += v
		f.offered += v
	default:
		f.offered += v
	}
}

func (t *tally) result() Output {
	out := t.out
	for _, f := range t.flushes {
		if f.budget == 0 {
			continue // bytes without a budget point: not a flush of this processor
		}
		fl := &out.Flushes
		fl.Count++
		fl.Budget += f.budget
		fl.Kept += f.kept
		fl.Offered += f.offered
		if f.kept > f.budget+1 {
			fl.OverBudget++
		}
	}
	return out
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
	t := newTally()
	out := &t.out
	var u pmetric.ProtoUnmarshaler
	var hdr [4]byte
	var buf []byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			out.Truncated = !errors.Is(err, io.EOF)
			return t.result(), nil
		}
		n := binary.BigEndian.Uint32(hdr[:])
		if n > maxRecord {
			return t.result(), fmt.Errorf("collector: record of %d bytes", n)
		}
		if cap(buf) < int(n) {
			buf = make([]byte, n)
		}
		buf = buf[:n]
		if _, err := io.ReadFull(r, buf); err != nil {
			out.Truncated = true
			return t.result(), nil
		}
		md, err := u.UnmarshalMetrics(buf)
		if err != nil {
			return t.result(), fmt.Errorf("collector: record %d: %w", out.Requests, err)
		}
		out.Requests++
		out.Points += int64(md.DataPointCount())
		t.addMetrics(md)
	}
}

func (t *tally) addMetrics(md pmetric.Metrics) {
	rms := md.ResourceMetrics()
	for i := range rms.Len() {
		rm := rms.At(i)
		resource := attrStrings(rm.Resource().Attributes())
		for j := range rm.ScopeMetrics().Len() {
			ms := rm.ScopeMetrics().At(j).Metrics()
			for k := range ms.Len() {
				m := ms.At(k)
				var dps pmetric.NumberDataPointSlice
				switch m.Type() {
				case pmetric.MetricTypeSum:
					dps = m.Sum().DataPoints()
				case pmetric.MetricTypeGauge:
					dps = m.Gauge().DataPoints()
				default:
					continue
				}
				for p := range dps.Len() {
					dp := dps.At(p)
					v := dp.DoubleValue()
					if dp.ValueType() == pmetric.NumberDataPointValueTypeInt {
						v = float64(dp.IntValue())
					}
					var outcome string
					if o, ok := dp.Attributes().Get("fairshare.outcome"); ok {
						outcome = o.AsString()
					}
					t.meta(m.Name(), outcome, int64(dp.Timestamp())/1e6, v)
					if p := prefix(m.Name()); m.Type() == pmetric.MetricTypeSum && p != metaPrefix {
						t.counter(p, t.seriesID(m.Name(), resource, attrStrings(dp.Attributes())), v)
					} else if m.Type() == pmetric.MetricTypeSum {
						t.counter(p, 0, v)
					}
				}
			}
		}
	}
}

// attrStrings returns attributes as key=value strings.
func attrStrings(attrs pcommon.Map) []string {
	kv := make([]string, 0, attrs.Len())
	for k, v := range attrs.All() {
		kv = append(kv, k+"="+v.AsString())
	}
	return kv
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
