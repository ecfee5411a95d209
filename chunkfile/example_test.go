package chunkfile_test

import (
	"bytes"
	"fmt"

	"github.com/doghouse-otel/doghouse/chunkfile"
)

// A writer on any io.Writer, read back with a series filter.
func Example() {
	var buf bytes.Buffer
	w, err := chunkfile.NewWriter(&buf, chunkfile.Options{})
	if err != nil {
		panic(err)
	}
	cpu, _ := w.AddSeries(chunkfile.Series{Name: "cpu.load", Kind: chunkfile.KindGauge,
		Attrs: []chunkfile.Attr{{Key: "host", Value: chunkfile.StringValue("a")}}})
	reqs, _ := w.AddSeries(chunkfile.Series{Name: "requests", Kind: chunkfile.KindSum,
		Monotonic: true, Temporality: chunkfile.TemporalityCumulative})
	for i := range int64(3) {
		w.AppendFloat(cpu, 1_700_000_000_000+i*1000, 0.25*float64(i))
		w.AppendInt(reqs, 1_700_000_000_000+i*1000, 100+i)
	}
	if err := w.Close(); err != nil {
		panic(err)
	}
	r, err := chunkfile.NewReader(&buf, chunkfile.ReaderOptions{
		Match: func(s *chunkfile.Series) bool { return s.Name == "cpu.load" },
	})
	if err != nil {
		panic(err)
	}
	for r.Next() {
		b := r.Batch()
		for i := range b.Len() {
			fmt.Println(b.Series.Name, b.T[i], b.Num[i].Float64())
		}
	}
	fmt.Println(r.Err())
	// Output:
	// cpu.load 1700000000000 0
	// cpu.load 1700000001000 0.25
	// cpu.load 1700000002000 0.5
	// <nil>
}
