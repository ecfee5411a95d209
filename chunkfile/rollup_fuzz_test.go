package chunkfile

import (
	"bytes"
	"encoding/binary"
	"math"
	"testing"
	"time"
)

// fuzzSegment decodes fuzz input into a sealed segment: the first byte picks the resolution,
// then every 12 bytes are one point: series (8 series: int and float gauges, a cumulative and
// a delta sum, a histogram, an exponential histogram, a summary, and a gauge with a __rollup__
// attribute of its own), a signed time step (so late points happen), and 10 bytes of value.
func fuzzSegment(t *testing.T, in []byte) ([]byte, time.Duration) {
	res := []time.Duration{time.Millisecond, time.Second, 10 * time.Second, time.Minute}[int(in[0])%4]
	series := []Series{
		{Name: "g.int", Kind: KindGauge},
		{Name: "g.float", Kind: KindGauge},
		{Name: "cum", Kind: KindSum, Temporality: TemporalityCumulative, Monotonic: true},
		{Name: "delta", Kind: KindSum, Temporality: TemporalityDelta},
		{Name: "hist", Kind: KindHistogram, Temporality: TemporalityDelta},
		{Name: "exp", Kind: KindExpHistogram, Temporality: TemporalityDelta},
		{Name: "summary", Kind: KindSummary},
		{Name: "own", Kind: KindGauge, Attrs: []Attr{{Key: RollupAttr, Value: StringValue("x")}}},
	}
	var buf bytes.Buffer
	w, err := NewWriter(&buf, Options{BlockDuration: 10 * time.Second, MaxBlockPoints: 64})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range series {
		if _, err := w.AddSeries(s); err != nil {
			t.Fatal(err)
		}
	}
	ts := int64(1_700_000_000_000)
	for in = in[1:]; len(in) >= 12; in = in[12:] {
		ref := SeriesRef(in[0] % 8)
		ts += int64(int8(in[1])) * 997
		v := binary.LittleEndian.Uint64(in[2:])
		x, y := in[10], in[11]
		p := Point{T: ts}
		switch ref {
		case 0, 2, 3:
			p.Num = IntNumber(int64(v) >> (x % 64))
		case 1, 7:
			p.Num = FloatNumber(math.Float64frombits(v))
		case 4:
			bounds := [][]float64{{1, 10}, {1, 5, 10}}[x%2]
			counts := make([]uint64, len(bounds)+1)
			var n uint64
			for i := range counts {
				counts[i] = uint64(in[2+i])
				n += counts[i]
			}
			p.Hist = &Histogram{Count: n, Sum: float64(v % 1000), HasSum: y%2 == 0, Bounds: bounds, Counts: counts}
		case 5:
			e := &ExpHistogram{Scale: int32(int8(x)) % 21, ZeroThreshold: float64(y % 3), ZeroCount: uint64(in[2])}
			e.Positive = Buckets{Offset: int32(int8(in[3])), Counts: []uint64{uint64(in[4]), uint64(in[5])}}
			e.Negative = Buckets{Offset: int32(int8(in[6])), Counts: []uint64{uint64(in[7])}}
			e.Count = e.ZeroCount + uint64(in[4]) + uint64(in[5]) + uint64(in[7])
			p.Exp = e
		case 6:
			p.Summary = &Summary{Count: v % 1000, Sum: math.Float64frombits(v), Quantiles: []Quantile{{Q: 0.5, V: 1}}}
		}
		if err := w.Append(ref, p); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), res
}

// FuzzRollup rolls up segments built from fuzz input, in one pass and in passes of a few
// windows: both must agree with each other and with the statistics of the raw points read back
// (checkRollup). The decoder is fuzzed on its own (FuzzReader); this fuzzes the rollup.
func FuzzRollup(f *testing.F) {
	f.Add([]byte{1, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{2,
		0, 10, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 10, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		2, 200, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, // late
		4, 1, 1, 2, 3, 0, 0, 0, 0, 0, 1, 0,
		4, 1, 1, 2, 3, 4, 0, 0, 0, 0, 1, 0,
		5, 1, 2, 250, 1, 2, 3, 4, 0, 0, 3, 1,
		5, 1, 2, 4, 1, 2, 3, 4, 0, 0, 255, 2,
		6, 1, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0,
		7, 1, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0,
		1, 1, 0, 0, 0, 0, 0, 0, 0xf8, 0x7f, 0, 0, // NaN
	})
	f.Add([]byte{3,
		1, 100, 0, 0, 0, 0, 0, 0, 0xf0, 0x7f, 0, 0, // +Inf
		1, 100, 0, 0, 0, 0, 0, 0, 0x00, 0x80, 0, 0, // -0
		0, 100, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0, 0, // MaxInt64
		0, 1, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	})
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) == 0 || len(in) > 12*2000 {
			return
		}
		raw, res := fuzzSegment(t, in)
		checkRollup(t, raw, res, 16)
	})
}
