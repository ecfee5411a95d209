package main

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/doghouse-otel/doghouse/chunkfile"
)

// The JSON lines dump is the serialized form of a whole file: one line per series definition
// (in id order, before the first point that uses it) and one line per point. import reads it
// back; dump -> import -> dump reproduces the same lines.

// jfloat is a float64 that survives JSON exactly: finite values as numbers (shortest form that
// round-trips, -0 included), NaN and infinities as a string of their bits ("0x7ff8000000000001").
type jfloat float64

func (f jfloat) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return []byte(fmt.Sprintf(`"%#016x"`, math.Float64bits(v))), nil
	}
	return strconv.AppendFloat(nil, v, 'g', -1, 64), nil
}

func (f *jfloat) UnmarshalJSON(b []byte) error {
	s := string(b)
	if strings.HasPrefix(s, `"`) {
		var str string
		if err := json.Unmarshal(b, &str); err != nil {
			return err
		}
		switch str {
		case "NaN":
			*f = jfloat(math.NaN())
			return nil
		case "+Inf", "Inf":
			*f = jfloat(math.Inf(1))
			return nil
		case "-Inf":
			*f = jfloat(math.Inf(-1))
			return nil
		}
		u, err := strconv.ParseUint(strings.TrimPrefix(str, "0x"), 16, 64)
		if err != nil {
			return fmt.Errorf("float %q: %w", str, err)
		}
		*f = jfloat(math.Float64frombits(u))
		return nil
	}
	v, err := strconv.ParseFloat(s, 64)
	*f = jfloat(v)
	return err
}

func jfloats(fs []float64) []jfloat {
	out := make([]jfloat, len(fs))
	for i, f := range fs {
		out[i] = jfloat(f)
	}
	return out
}

func floats(fs []jfloat) []float64 {
	if len(fs) == 0 {
		return nil
	}
	out := make([]float64, len(fs))
	for i, f := range fs {
		out[i] = float64(f)
	}
	return out
}

type jattr struct {
	Key    string  `json:"key"`
	String *string `json:"string,omitempty"`
	Int    *int64  `json:"int,omitempty"`
	Double *jfloat `json:"double,omitempty"`
	Bool   *bool   `json:"bool,omitempty"`
	Bytes  []byte  `json:"bytes,omitempty"`
}

type jseries struct {
	ID           uint64  `json:"id"`
	Name         string  `json:"name"`
	Kind         string  `json:"kind"`
	Monotonic    bool    `json:"monotonic,omitempty"`
	Temporality  string  `json:"temporality,omitempty"`
	Unit         string  `json:"unit,omitempty"`
	Description  string  `json:"description,omitempty"`
	ScopeName    string  `json:"scope_name,omitempty"`
	ScopeVersion string  `json:"scope_version,omitempty"`
	Attributes   []jattr `json:"attributes,omitempty"`
	Resource     []jattr `json:"resource,omitempty"`
}

type jhist struct {
	Count  uint64   `json:"count"`
	Sum    *jfloat  `json:"sum,omitempty"`
	Min    *jfloat  `json:"min,omitempty"`
	Max    *jfloat  `json:"max,omitempty"`
	Bounds []jfloat `json:"bounds,omitempty"`
	Counts []uint64 `json:"counts,omitempty"`
}

type jbuckets struct {
	Offset int32    `json:"offset,omitempty"`
	Counts []uint64 `json:"counts,omitempty"`
}

type jexp struct {
	Count         uint64   `json:"count"`
	Sum           *jfloat  `json:"sum,omitempty"`
	Min           *jfloat  `json:"min,omitempty"`
	Max           *jfloat  `json:"max,omitempty"`
	Scale         int32    `json:"scale"`
	ZeroCount     uint64   `json:"zero_count,omitempty"`
	ZeroThreshold jfloat   `json:"zero_threshold"`
	Positive      jbuckets `json:"positive"`
	Negative      jbuckets `json:"negative"`
}

type jsummary struct {
	Count     uint64      `json:"count"`
	Sum       jfloat      `json:"sum"`
	Quantiles [][2]jfloat `json:"quantiles,omitempty"`
}

type PointLine struct {
	ID      uint64    `json:"id"`
	T       int64     `json:"t"`
	Start   int64     `json:"start,omitempty"`
	Int     *int64    `json:"int,omitempty"`
	Float   *jfloat   `json:"float,omitempty"`
	Hist    *jhist    `json:"histogram,omitempty"`
	Exp     *jexp     `json:"exponential_histogram,omitempty"`
	Summary *jsummary `json:"summary,omitempty"`
}

// jline is one line: a series definition or a point.
type jline struct {
	Series *jseries `json:"series,omitempty"`
	*PointLine
}

func optFloat(has bool, v float64) *jfloat {
	if !has {
		return nil
	}
	f := jfloat(v)
	return &f
}

func toJAttrs(as []chunkfile.Attr) []jattr {
	var out []jattr
	for _, a := range as {
		j := jattr{Key: a.Key}
		switch v := a.Value; v.Type {
		case chunkfile.ValueBool:
			j.Bool = &v.Bool
		case chunkfile.ValueInt:
			j.Int = &v.Int
		case chunkfile.ValueDouble:
			d := jfloat(v.Double)
			j.Double = &d
		case chunkfile.ValueBytes:
			j.Bytes = v.Bytes
			if j.Bytes == nil {
				j.Bytes = []byte{}
			}
		default:
			j.String = &v.Str
		}
		out = append(out, j)
	}
	return out
}

func fromJAttrs(js []jattr) ([]chunkfile.Attr, error) {
	var out []chunkfile.Attr
	for _, j := range js {
		a := chunkfile.Attr{Key: j.Key}
		switch {
		case j.String != nil:
			a.Value = chunkfile.StringValue(*j.String)
		case j.Int != nil:
			a.Value = chunkfile.Value{Type: chunkfile.ValueInt, Int: *j.Int}
		case j.Double != nil:
			a.Value = chunkfile.Value{Type: chunkfile.ValueDouble, Double: float64(*j.Double)}
		case j.Bool != nil:
			a.Value = chunkfile.Value{Type: chunkfile.ValueBool, Bool: *j.Bool}
		case j.Bytes != nil:
			a.Value = chunkfile.Value{Type: chunkfile.ValueBytes, Bytes: j.Bytes}
		default:
			return nil, fmt.Errorf("attribute %q has no value", j.Key)
		}
		out = append(out, a)
	}
	return out, nil
}

func toJSeries(id uint64, s *chunkfile.Series) *jseries {
	j := &jseries{ID: id, Name: s.Name, Kind: s.Kind.String(), Monotonic: s.Monotonic, Unit: s.Unit,
		Description: s.Description, ScopeName: s.ScopeName, ScopeVersion: s.ScopeVersion,
		Attributes: toJAttrs(s.Attrs), Resource: toJAttrs(s.Resource)}
	if s.Temporality != chunkfile.TemporalityUnspecified {
		j.Temporality = s.Temporality.String()
	}
	return j
}

func fromJSeries(j *jseries) (chunkfile.Series, error) {
	s := chunkfile.Series{Name: j.Name, Monotonic: j.Monotonic, Unit: j.Unit, Description: j.Description,
		ScopeName: j.ScopeName, ScopeVersion: j.ScopeVersion}
	var err error
	if s.Kind, err = chunkfile.ParseKind(j.Kind); err != nil {
		return s, err
	}
	if j.Temporality != "" {
		if s.Temporality, err = chunkfile.ParseTemporality(j.Temporality); err != nil {
			return s, err
		}
	}
	if s.Attrs, err = fromJAttrs(j.Attributes); err != nil {
		return s, err
	}
	s.Resource, err = fromJAttrs(j.Resource)
	return s, err
}

func toJPoint(id uint64, p chunkfile.Point) *PointLine {
	j := &PointLine{ID: id, T: p.T, Start: p.Start}
	switch {
	case p.Hist != nil:
		h := p.Hist
		j.Hist = &jhist{Count: h.Count, Sum: optFloat(h.HasSum, h.Sum), Min: optFloat(h.HasMin, h.Min),
			Max: optFloat(h.HasMax, h.Max), Bounds: jfloats(h.Bounds), Counts: h.Counts}
	case p.Exp != nil:
		e := p.Exp
		j.Exp = &jexp{Count: e.Count, Sum: optFloat(e.HasSum, e.Sum), Min: optFloat(e.HasMin, e.Min),
			Max: optFloat(e.HasMax, e.Max), Scale: e.Scale, ZeroCount: e.ZeroCount, ZeroThreshold: jfloat(e.ZeroThreshold),
			Positive: jbuckets{e.Positive.Offset, e.Positive.Counts}, Negative: jbuckets{e.Negative.Offset, e.Negative.Counts}}
	case p.Summary != nil:
		s := &jsummary{Count: p.Summary.Count, Sum: jfloat(p.Summary.Sum)}
		for _, q := range p.Summary.Quantiles {
			s.Quantiles = append(s.Quantiles, [2]jfloat{jfloat(q.Q), jfloat(q.V)})
		}
		j.Summary = s
	case p.Num.IsInt:
		v := p.Num.Int
		j.Int = &v
	default:
		f := jfloat(p.Num.Float)
		j.Float = &f
	}
	return j
}

func unopt(f *jfloat) (float64, bool) {
	if f == nil {
		return 0, false
	}
	return float64(*f), true
}

func fromJPoint(j *PointLine) (chunkfile.Point, error) {
	p := chunkfile.Point{T: j.T, Start: j.Start}
	switch {
	case j.Int != nil:
		p.Num = chunkfile.IntNumber(*j.Int)
	case j.Float != nil:
		p.Num = chunkfile.FloatNumber(float64(*j.Float))
	case j.Hist != nil:
		h := &chunkfile.Histogram{Count: j.Hist.Count, Bounds: floats(j.Hist.Bounds), Counts: j.Hist.Counts}
		h.Sum, h.HasSum = unopt(j.Hist.Sum)
		h.Min, h.HasMin = unopt(j.Hist.Min)
		h.Max, h.HasMax = unopt(j.Hist.Max)
		p.Hist = h
	case j.Exp != nil:
		e := &chunkfile.ExpHistogram{Count: j.Exp.Count, Scale: j.Exp.Scale, ZeroCount: j.Exp.ZeroCount,
			ZeroThreshold: float64(j.Exp.ZeroThreshold),
			Positive:      chunkfile.Buckets{Offset: j.Exp.Positive.Offset, Counts: j.Exp.Positive.Counts},
			Negative:      chunkfile.Buckets{Offset: j.Exp.Negative.Offset, Counts: j.Exp.Negative.Counts}}
		e.Sum, e.HasSum = unopt(j.Exp.Sum)
		e.Min, e.HasMin = unopt(j.Exp.Min)
		e.Max, e.HasMax = unopt(j.Exp.Max)
		p.Exp = e
	case j.Summary != nil:
		s := &chunkfile.Summary{Count: j.Summary.Count, Sum: float64(j.Summary.Sum)}
		for _, q := range j.Summary.Quantiles {
			s.Quantiles = append(s.Quantiles, chunkfile.Quantile{Q: float64(q[0]), V: float64(q[1])})
		}
		p.Summary = s
	default:
		return p, fmt.Errorf("point of series %d at %d has no value", j.ID, j.T)
	}
	return p, nil
}
