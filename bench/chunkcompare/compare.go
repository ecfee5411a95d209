// Command chunkcompare measures the chunk file format against Prometheus' XOR chunks (tsdb/chunkenc,
// 120 samples per chunk) on the reference workload (shared/workloads/chunk-reference.md), in
// the same run and on the same data, and prints a markdown table. It is its own Go module so
// that Prometheus stays out of the product's go.mod.
package main

import (
	"bytes"
	"fmt"
	"math"
	"time"

	"github.com/doghouse-otel/doghouse/chunkfile"
	"github.com/doghouse-otel/doghouse/chunkfile/workload"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
)

// samplesPerChunk is Prometheus' target chunk size.
const samplesPerChunk = 120

// event is one input point in arrival order: second by second, every series.
type event struct {
	t     int64
	v     uint64
	ref   int32
	isInt bool
}

func arrivalOrder(ss []workload.Series) []event {
	evs := make([]event, 0, workload.Events(ss))
	for j := range ss[0].T {
		for i := range ss {
			if ss[i].Ints != nil {
				evs = append(evs, event{ss[i].T[j], uint64(ss[i].Ints[j]), int32(i), true})
			} else {
				evs = append(evs, event{ss[i].T[j], math.Float64bits(ss[i].Floats[j]), int32(i), false})
			}
		}
	}
	return evs
}

// encodeChunkfile writes the events into a chunk file with the given block duration.
func encodeChunkfile(ss []workload.Series, evs []event, dur time.Duration, buf *bytes.Buffer) error {
	buf.Reset()
	w, err := chunkfile.NewWriter(buf, chunkfile.Options{BlockDuration: dur})
	if err != nil {
		return err
	}
	refs := make([]chunkfile.SeriesRef, len(ss))
	for i := range ss {
		s := chunkfile.Series{Name: ss[i].Name, Kind: chunkfile.KindGauge,
			Attrs: []chunkfile.Attr{{Key: "host", Value: chunkfile.StringValue(ss[i].Host)}}}
		if ss[i].Kind == workload.Counter {
			s.Kind, s.Monotonic, s.Temporality = chunkfile.KindSum, true, chunkfile.TemporalityCumulative
		}
		if refs[i], err = w.AddSeries(s); err != nil {
			return err
		}
	}
	for _, e := range evs {
		if e.isInt {
			err = w.AppendInt(refs[e.ref], e.t, int64(e.v))
		} else {
			err = w.AppendFloat(refs[e.ref], e.t, math.Float64frombits(e.v))
		}
		if err != nil {
			return err
		}
	}
	return w.Close()
}

// decodeChunkfile reads every point and returns the count and a checksum of values.
func decodeChunkfile(data []byte) (int, float64, error) {
	r, err := chunkfile.NewReader(bytes.NewReader(data), chunkfile.ReaderOptions{})
	if err != nil {
		return 0, 0, err
	}
	n, sum := 0, 0.0
	for r.Next() {
		b := r.Batch()
		n += b.Len()
		sum += b.Num[len(b.Num)-1].Float64()
	}
	return n, sum, r.Err()
}

// encodeXOR encodes every series into XOR chunks of 120 samples, in arrival order like a TSDB
// head would, and returns the chunks per series.
func encodeXOR(ss []workload.Series, evs []event) ([][]*chunkenc.XORChunk, error) {
	chunks := make([][]*chunkenc.XORChunk, len(ss))
	apps := make([]chunkenc.Appender, len(ss))
	counts := make([]int, len(ss))
	for _, e := range evs {
		i := e.ref
		if counts[i]%samplesPerChunk == 0 {
			c := chunkenc.NewXORChunk()
			app, err := c.Appender()
			if err != nil {
				return nil, err
			}
			chunks[i] = append(chunks[i], c)
			apps[i] = app
		}
		v := math.Float64frombits(e.v)
		if e.isInt {
			v = float64(int64(e.v))
		}
		apps[i].Append(0, e.t, v)
		counts[i]++
	}
	return chunks, nil
}

func xorBytes(chunks [][]*chunkenc.XORChunk) int {
	n := 0
	for _, cs := range chunks {
		for _, c := range cs {
			n += len(c.Bytes())
		}
	}
	return n
}

// decodeXOR iterates every chunk and returns the count and a checksum of values.
func decodeXOR(chunks [][]*chunkenc.XORChunk) (int, float64, error) {
	var it chunkenc.Iterator
	n, sum := 0, 0.0
	for _, cs := range chunks {
		for _, c := range cs {
			it = c.Iterator(it)
			for it.Next() == chunkenc.ValFloat {
				_, v := it.At()
				sum += v
				n++
			}
			if err := it.Err(); err != nil {
				return 0, 0, err
			}
		}
	}
	return n, sum, nil
}

func checkCount(got, want int) error {
	if got != want {
		return fmt.Errorf("decoded %d events, want %d", got, want)
	}
	return nil
}
