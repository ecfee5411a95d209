package chunkfile

import (
	"bytes"
	"testing"
	"time"

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

func TestWorkloadSizeReport(t *testing.T) {
	if testing.Short() {
		t.Skip()
	}
	for _, v := range []struct {
		name   string
		jitter bool
		dur    time.Duration
	}{{"60s", false, time.Minute}, {"10s", false, 10 * time.Second}, {"60s-jitter", true, time.Minute}} {
		ss := workload.Generate(workload.Options{Jitter: v.jitter})
		b := encodeWorkload(t, ss, Options{BlockDuration: v.dur})
		t.Logf("%s: total %.3f B/event", v.name, float64(len(b))/float64(workload.Events(ss)))
		for k := workload.Counter; k <= workload.Latency; k++ {
			sub := filterKind(ss, k)
			b := encodeWorkload(t, sub, Options{BlockDuration: v.dur})
			t.Logf("  %s: %.3f", k, float64(len(b))/float64(workload.Events(sub)))
		}
	}
}
