package aggregate

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/golden"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// FuzzAdd feeds arbitrary OTLP metrics (the processor's entry point) through aggregation,
// flushing and export with scaling: nothing may panic, and every held row must be released.
func FuzzAdd(f *testing.F) {
	var m pmetric.ProtoMarshaler
	for _, tc := range goldenCases {
		md, err := golden.ReadMetrics(filepath.Join("..", "..", "testdata", tc.name, "input.yaml"))
		if err != nil {
			f.Fatal(err)
		}
		b, err := m.MarshalMetrics(md)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint8(0))
	}
	f.Fuzz(func(t *testing.T, data []byte, knobs uint8) {
		md, err := (&pmetric.ProtoUnmarshaler{}).UnmarshalMetrics(data)
		if err != nil {
			return
		}
		opt := baseOptions()
		opt.Classify = classifier(map[string]time.Duration{"s": 5 * time.Second, "m": time.Minute})
		opt.SpreadFlush = knobs&1 != 0
		opt.GaugeStats = knobs&2 != 0
		opt.MaxRowsPerMetric = int(knobs >> 4)
		opt.MaxRows = int(knobs>>2) & 3 * 4
		opt.MergeAttributes = []string{"host.name"}
		opt.MaxHostAttribute = "host.name"
		s := New(opt)
		s.Add(md, at(10))
		var b Batch
		s.Flush(at(11), true, &b)
		factors := make([]float64, len(b.Rows))
		for i := range factors {
			factors[i] = []float64{0, 1, 2.5}[i%3]
		}
		s.Emit(NewOutput(pmetric.NewMetrics()), b.Rows, factors)
		s.Release(&b)
		if s.Rows() != 0 {
			t.Fatalf("%d rows held after a full flush", s.Rows())
		}
	})
}
