package chunkfile

import (
	"bytes"
	"testing"

	"github.com/doghouse-otel/doghouse/chunkfile/workload"
)

// encodeWorkload writes ss the way an exporter receives it: one point of every series per
// second, interleaved. It returns the file bytes.
func encodeWorkload(tb testing.TB, ss []workload.Series, opts Options) []byte {
	tb.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, opts)
	if err != nil {
		tb.Fatal(err)
	}
	refs := addWorkloadSeries(tb, w, ss)
	np := len(ss[0].T)
	for j := range np {
		for i := range ss {
			s := &ss[i]
			if s.Ints != nil {
				err = w.AppendInt(refs[i], s.T[j], s.Ints[j])
			} else {
				err = w.AppendFloat(refs[i], s.T[j], s.Floats[j])
			}
			if err != nil {
				tb.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func addWorkloadSeries(tb testing.TB, w *Writer, ss []workload.Series) []SeriesRef {
	refs := make([]SeriesRef, len(ss))
	for i := range ss {
		s := Series{Name: ss[i].Name, Kind: KindGauge, Unit: "1",
			Attrs:    []Attr{{Key: "host", Value: StringValue(ss[i].Host)}},
			Resource: []Attr{{Key: "service.name", Value: StringValue("bench")}}}
		switch ss[i].Kind {
		case workload.Counter:
			s.Kind, s.Monotonic, s.Temporality = KindSum, true, TemporalityCumulative
		case workload.Latency:
			s.Unit = "ms"
		}
		ref, err := w.AddSeries(s)
		if err != nil {
			tb.Fatal(err)
		}
		refs[i] = ref
	}
	return refs
}

func filterKind(ss []workload.Series, k workload.Kind) []workload.Series {
	var out []workload.Series
	for _, s := range ss {
		if s.Kind == k {
			out = append(out, s)
		}
	}
	return out
}
