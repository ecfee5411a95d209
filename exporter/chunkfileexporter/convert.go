package chunkfileexporter

import (
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"math"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/doghouse-otel/doghouse/chunkfile"
)

// converter maps pmetric data to chunkfile series and points. Its scratch slices are reused
// between pushes; the Writer copies what it keeps.
type converter struct {
	series     chunkfile.Series
	attrs      []chunkfile.Attr
	resource   []chunkfile.Attr
	lastReject string

	// refs caches the series refs of the current writer by a 128-bit hash of an exact byte key
	// of the series (metric identity, scope, resource and point attributes in map order), so a
	// known series costs one map lookup instead of AddSeries' normalisation, and 20 bytes of
	// memory whatever its length. A key with the same attributes in another order only misses
	// the cache; AddSeries still returns the same ref.
	refs     map[refKey]chunkfile.SeriesRef
	refsOf   *chunkfile.Writer
	key      []byte
	metricAt int // len(key) after the metric identity
}

// write appends every data point of md to w and returns the points written and rejected. The
// error is an I/O error of w (a block cut while appending); bad points are skipped, not errors.
func (c *converter) write(w *chunkfile.Writer, md pmetric.Metrics) (written, rejected int, err error) {
	if c.refsOf != w {
		c.refs, c.refsOf = make(map[refKey]chunkfile.SeriesRef), w
	}
	rms := md.ResourceMetrics()
	for i := range rms.Len() {
		rm := rms.At(i)
		c.resource = appendAttrs(c.resource[:0], rm.Resource().Attributes())
		c.key = appendAttrKey(c.key[:0], c.resource)
		sms := rm.ScopeMetrics()
		for j := range sms.Len() {
			sm := sms.At(j)
			ms := sm.Metrics()
			for k := range ms.Len() {
				n, bad, err := c.writeMetric(w, ms.At(k), sm.Scope())
				written += n
				rejected += bad
				if err != nil {
					return written, rejected, err
				}
			}
		}
	}
	return written, rejected, nil
}

// refKey is a series' cache key: two independent 64-bit hashes of its byte key. Two series
// would have to collide in 128 bits to share a ref (below 2^-63 for 2^32 series).
type refKey [2]uint64

var refSeeds = [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}

func refKeyOf(key []byte) refKey {
	return refKey{maphash.Bytes(refSeeds[0], key), maphash.Bytes(refSeeds[1], key)}
}

func (c *converter) reject(format string, args ...any) { c.lastReject = fmt.Sprintf(format, args...) }

func (c *converter) writeMetric(w *chunkfile.Writer, m pmetric.Metric, scope pcommon.InstrumentationScope) (written, rejected int, err error) {
	c.series = chunkfile.Series{
		Name: m.Name(), Unit: m.Unit(), Description: m.Description(),
		ScopeName: scope.Name(), ScopeVersion: scope.Version(), Resource: c.resource,
	}
	resourceAt := len(c.key)
	defer func() { c.key = c.key[:resourceAt] }()
	// The metric's kind fields are set by the switch below before the first add.
	identity := func() {
		c.key = append(c.key[:resourceAt], 0xff)
		for _, f := range []string{m.Name(), m.Unit(), m.Description(), scope.Name(), scope.Version()} {
			c.key = appendString(c.key, f)
		}
		c.key = append(c.key, byte(c.series.Kind), byte(c.series.Temporality), boolByte(c.series.Monotonic))
		c.metricAt = len(c.key)
	}
	// add registers the series of one data point and appends p to it.
	add := func(attrs pcommon.Map, p chunkfile.Point) error {
		if len(c.key) == resourceAt {
			identity()
		}
		c.key = appendMapKey(c.key[:c.metricAt], attrs)
		rk := refKeyOf(c.key)
		ref, ok := c.refs[rk]
		if !ok {
			c.attrs = appendAttrs(c.attrs[:0], attrs)
			c.series.Attrs = c.attrs
			var err error
			if ref, err = w.AddSeries(c.series); err != nil {
				rejected++
				c.reject("metric %q: %v", m.Name(), err)
				return nil
			}
			c.refs[rk] = ref
		}
		if err := w.Append(ref, p); err != nil {
			return err
		}
		written++
		return nil
	}
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		c.series.Kind = chunkfile.KindGauge
		err = numbers(m.Gauge().DataPoints(), add)
	case pmetric.MetricTypeSum:
		s := m.Sum()
		c.series.Kind, c.series.Monotonic = chunkfile.KindSum, s.IsMonotonic()
		c.series.Temporality = temporality(s.AggregationTemporality())
		err = numbers(s.DataPoints(), add)
	case pmetric.MetricTypeHistogram:
		h := m.Histogram()
		c.series.Kind, c.series.Temporality = chunkfile.KindHistogram, temporality(h.AggregationTemporality())
		dps := h.DataPoints()
		for i := 0; i < dps.Len() && err == nil; i++ {
			dp := dps.At(i)
			if nb, nc := dp.ExplicitBounds().Len(), dp.BucketCounts().Len(); nc != 0 && nc != nb+1 {
				rejected++
				c.reject("histogram %q: %d bucket counts for %d bounds", m.Name(), nc, nb)
				continue
			}
			err = add(dp.Attributes(), chunkfile.Point{T: millis(dp.Timestamp()), Start: millis(dp.StartTimestamp()), Hist: &chunkfile.Histogram{
				Count: dp.Count(), Sum: dp.Sum(), HasSum: dp.HasSum(), Min: dp.Min(), HasMin: dp.HasMin(), Max: dp.Max(), HasMax: dp.HasMax(),
				Bounds: dp.ExplicitBounds().AsRaw(), Counts: dp.BucketCounts().AsRaw(),
			}})
		}
	case pmetric.MetricTypeExponentialHistogram:
		h := m.ExponentialHistogram()
		c.series.Kind, c.series.Temporality = chunkfile.KindExpHistogram, temporality(h.AggregationTemporality())
		dps := h.DataPoints()
		for i := 0; i < dps.Len() && err == nil; i++ {
			dp := dps.At(i)
			err = add(dp.Attributes(), chunkfile.Point{T: millis(dp.Timestamp()), Start: millis(dp.StartTimestamp()), Exp: &chunkfile.ExpHistogram{
				Count: dp.Count(), Sum: dp.Sum(), HasSum: dp.HasSum(), Min: dp.Min(), HasMin: dp.HasMin(), Max: dp.Max(), HasMax: dp.HasMax(),
				Scale: dp.Scale(), ZeroCount: dp.ZeroCount(), ZeroThreshold: dp.ZeroThreshold(),
				Positive: chunkfile.Buckets{Offset: dp.Positive().Offset(), Counts: dp.Positive().BucketCounts().AsRaw()},
				Negative: chunkfile.Buckets{Offset: dp.Negative().Offset(), Counts: dp.Negative().BucketCounts().AsRaw()},
			}})
		}
	case pmetric.MetricTypeSummary:
		c.series.Kind = chunkfile.KindSummary
		dps := m.Summary().DataPoints()
		for i := 0; i < dps.Len() && err == nil; i++ {
			dp := dps.At(i)
			qs := make([]chunkfile.Quantile, dp.QuantileValues().Len())
			for q := range qs {
				qv := dp.QuantileValues().At(q)
				qs[q] = chunkfile.Quantile{Q: qv.Quantile(), V: qv.Value()}
			}
			err = add(dp.Attributes(), chunkfile.Point{T: millis(dp.Timestamp()), Start: millis(dp.StartTimestamp()), Summary: &chunkfile.Summary{
				Count: dp.Count(), Sum: dp.Sum(), Quantiles: qs,
			}})
		}
	default:
		rejected++
		c.reject("metric %q has no type", m.Name())
	}
	return written, rejected, err
}

func numbers(dps pmetric.NumberDataPointSlice, add func(pcommon.Map, chunkfile.Point) error) error {
	for i := range dps.Len() {
		dp := dps.At(i)
		p := chunkfile.Point{T: millis(dp.Timestamp()), Start: millis(dp.StartTimestamp())}
		if dp.ValueType() == pmetric.NumberDataPointValueTypeInt {
			p.Num = chunkfile.IntNumber(dp.IntValue())
		} else {
			p.Num = chunkfile.FloatNumber(dp.DoubleValue())
		}
		if err := add(dp.Attributes(), p); err != nil {
			return err
		}
	}
	return nil
}

// millis keeps the millisecond precision the format stores (OTLP carries nanoseconds).
func millis(ts pcommon.Timestamp) int64 { return int64(ts) / int64(time.Millisecond) }

func temporality(t pmetric.AggregationTemporality) chunkfile.Temporality {
	switch t {
	case pmetric.AggregationTemporalityDelta:
		return chunkfile.TemporalityDelta
	case pmetric.AggregationTemporalityCumulative:
		return chunkfile.TemporalityCumulative
	}
	return chunkfile.TemporalityUnspecified
}

// appendAttrs converts attributes; slices and maps are stored as their JSON text, since the
// format's values are scalars.
func appendAttrs(dst []chunkfile.Attr, m pcommon.Map) []chunkfile.Attr {
	for k, v := range m.All() {
		var cv chunkfile.Value
		switch v.Type() {
		case pcommon.ValueTypeStr:
			cv = chunkfile.StringValue(v.Str())
		case pcommon.ValueTypeInt:
			cv = chunkfile.Value{Type: chunkfile.ValueInt, Int: v.Int()}
		case pcommon.ValueTypeDouble:
			cv = chunkfile.Value{Type: chunkfile.ValueDouble, Double: v.Double()}
		case pcommon.ValueTypeBool:
			cv = chunkfile.Value{Type: chunkfile.ValueBool, Bool: v.Bool()}
		case pcommon.ValueTypeBytes:
			cv = chunkfile.Value{Type: chunkfile.ValueBytes, Bytes: v.Bytes().AsRaw()}
		default:
			cv = chunkfile.StringValue(v.AsString())
		}
		dst = append(dst, chunkfile.Attr{Key: k, Value: cv})
	}
	return dst
}

// appendMapKey appends an unambiguous encoding of m's attributes (in map order) to dst,
// straight from pdata, so that a known series costs no conversion of its attributes.
func appendMapKey(dst []byte, m pcommon.Map) []byte {
	dst = binary.AppendUvarint(dst, uint64(m.Len()))
	for k, v := range m.All() {
		dst = appendString(dst, k)
		switch v.Type() {
		case pcommon.ValueTypeStr:
			dst = append(dst, byte(chunkfile.ValueString))
			dst = appendString(dst, v.Str())
		case pcommon.ValueTypeInt:
			dst = append(dst, byte(chunkfile.ValueInt))
			dst = binary.AppendVarint(dst, v.Int())
		case pcommon.ValueTypeDouble:
			dst = append(dst, byte(chunkfile.ValueDouble))
			dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(v.Double()))
		case pcommon.ValueTypeBool:
			dst = append(dst, byte(chunkfile.ValueBool), boolByte(v.Bool()))
		case pcommon.ValueTypeBytes:
			dst = append(dst, byte(chunkfile.ValueBytes))
			dst = appendString(dst, string(v.Bytes().AsRaw()))
		default: // slices and maps: their JSON text, as appendAttrs stores them
			dst = append(dst, byte(chunkfile.ValueString))
			dst = appendString(dst, v.AsString())
		}
	}
	return dst
}

// appendAttrKey appends an unambiguous encoding of attrs (in the given order) to dst.
func appendAttrKey(dst []byte, attrs []chunkfile.Attr) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(attrs)))
	for _, a := range attrs {
		dst = appendString(dst, a.Key)
		dst = append(dst, byte(a.Value.Type))
		switch a.Value.Type {
		case chunkfile.ValueInt:
			dst = binary.AppendVarint(dst, a.Value.Int)
		case chunkfile.ValueDouble:
			dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(a.Value.Double))
		case chunkfile.ValueBool:
			dst = append(dst, boolByte(a.Value.Bool))
		case chunkfile.ValueBytes:
			dst = appendString(dst, string(a.Value.Bytes))
		default:
			dst = appendString(dst, a.Value.Str)
		}
	}
	return dst
}

func appendString(dst []byte, s string) []byte {
	return append(binary.AppendUvarint(dst, uint64(len(s))), s...)
}

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}
