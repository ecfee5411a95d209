package exphist

import (
	"encoding/binary"
	"math"
	"testing"

	"go.opentelemetry.io/collector/pdata/pmetric"
)

// opReader decodes fuzz input into operations; reads past the end return zeros.
type opReader struct{ b []byte }

func (r *opReader) byte() byte {
	if len(r.b) == 0 {
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *opReader) uint64() uint64 {
	var buf [8]byte
	n := copy(buf[:], r.b)
	r.b = r.b[n:]
	return binary.LittleEndian.Uint64(buf[:])
}

// point decodes a data point with whole, consistent counts at any scale (valid or not) and any
// offset, so that MergeDataPoint meets wide, far and impossible runs.
func (r *opReader) point() pmetric.ExponentialHistogramDataPoint {
	dp := newPoint(int32(r.byte()%34) - 12)
	total := uint64(r.byte() % 3)
	dp.SetZeroCount(total)
	for _, b := range []pmetric.ExponentialHistogramDataPointBuckets{dp.Positive(), dp.Negative()} {
		b.SetOffset(int32(r.uint64()))
		for range r.byte() % 40 {
			c := uint64(r.byte() % 5)
			b.BucketCounts().Append(c)
			total += c
		}
	}
	dp.SetCount(total)
	flags := r.byte()
	if flags&1 != 0 {
		dp.SetSum(float64(total))
	}
	if flags&2 != 0 {
		dp.SetMin(-1)
	}
	if flags&4 != 0 {
		dp.SetMax(1)
	}
	if flags&8 != 0 {
		dp.SetZeroThreshold(math.Float64frombits(r.uint64()))
	}
	return dp
}

// FuzzHistogram runs Add, Merge, MergeDataPoint, Reset and FillDataPoint in the order the input
// says on one histogram: nothing may panic, and the invariants hold after every step, the total
// count included (weights and counts are whole, so it is exact).
func FuzzHistogram(f *testing.F) {
	f.Add([]byte{0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 1, 4, 20, 9, 9, 9, 9, 0, 0, 0, 0, 3, 1, 2, 3, 4})
	f.Add([]byte{2, 1, 0x7f, 0xef, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, 0, 2})
	f.Add([]byte{200, 1, 32, 0, 0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0, 39, 1, 1, 1, 1, 4, 3, 1, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := &opReader{b: data}
		maxSize := int(r.byte())
		h := Histogram{MaxSize: maxSize}
		limit := maxSize
		if limit == 0 {
			limit = DefaultMaxSize
		}
		var total float64
		for len(r.b) > 0 {
			switch r.byte() % 5 {
			case 0:
				v, w := math.Float64frombits(r.uint64()), float64(1+r.byte()%4)
				h.Add(v, w)
				if !math.IsNaN(v) && !math.IsInf(v, 0) {
					total += w
				}
			case 1:
				dp := r.point()
				if h.MergeDataPoint(dp) {
					total += float64(dp.Count())
					limit = max(limit, dp.Positive().BucketCounts().Len(), dp.Negative().BucketCounts().Len())
				}
			case 2:
				var o Histogram
				for range r.byte() % 8 {
					o.Add(math.Float64frombits(r.uint64()), 1)
				}
				h.Merge(&o)
				total += o.Count()
				limit = max(limit, o.pos.Len(), o.neg.Len())
			case 3:
				h.Reset()
				total = 0
			case 4:
				dp := pmetric.NewExponentialHistogramDataPoint()
				h.FillDataPoint(dp, 1, nil)
				if float64(dp.Count()) != total {
					t.Fatalf("written count %d, want %v", dp.Count(), total)
				}
			}
			checkInvariants(t, &h, limit)
			if h.Count() != total {
				t.Fatalf("count %v, want %v", h.Count(), total)
			}
		}
	})
}
