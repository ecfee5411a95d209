package fairshareprocessor

import (
	"math/rand/v2"
	"strings"
	"time"

	"github.com/cespare/xxhash/v2"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/doghouse-otel/doghouse/processor/fairshareprocessor/internal/aggregate"
	"github.com/doghouse-otel/doghouse/processor/fairshareprocessor/internal/sampling"
)

// level is one parsed fair_share level.
type level struct {
	kind byte // 'm' metric, 'r' resource attribute, 'a' data point attribute
	name string
}

// engine is the processor's state behind its lock: the window store, the sampler, and the
// scratch space of a flush. Flushing allocates only the output it hands on.
type engine struct {
	cfg     *Config
	store   *aggregate.Store
	sampler *sampling.Sampler
	levels  []level

	batch    aggregate.Batch
	items    []sampling.Item
	factors  []float64
	resCache map[uint64]uint64 // (resource id, level) -> group key, per flush
	meta     metaState
	last     int64 // previous flush, unix ns
}

func newEngine(cfg *Config, rng *rand.Rand) *engine {
	e := &engine{cfg: cfg, resCache: map[uint64]uint64{}}
	e.meta.winRows, e.meta.winOver = map[uint32]int{}, map[uint32]uint64{}
	weightLevel := 0
	for i, l := range cfg.FairShare.Levels {
		switch {
		case l == levelMetric:
			e.levels = append(e.levels, level{kind: 'm'})
			weightLevel = i
		case strings.HasPrefix(l, levelResourcePrefix):
			e.levels = append(e.levels, level{kind: 'r', name: strings.TrimPrefix(l, levelResourcePrefix)})
		default:
			e.levels = append(e.levels, level{kind: 'a', name: strings.TrimPrefix(l, levelAttributePrefix)})
		}
	}
	mode := sampling.Strict
	if cfg.Mode == ModeStatsHouse {
		mode = sampling.StatsHouse
	}
	e.sampler = sampling.New(sampling.Config{
		Levels: len(e.levels), WeightLevel: weightLevel, Mode: mode, Mainstays: cfg.Mainstays,
	}, rng)
	e.store = aggregate.New(aggregate.Options{
		Classify:              cfg.classify,
		MergeAttributes:       cfg.MergeAttributes,
		MaxHostAttribute:      cfg.MaxHostAttribute,
		KeyResourceAttributes: cfg.KeyResourceAttributes,
		MaxDelay:              cfg.MaxDelay,
		Grace:                 cfg.Grace,
		SpreadFlush:           cfg.SpreadFlush,
		MaxMetrics:            cfg.MaxMetrics,
		MaxRows:               cfg.MaxRows,
		MaxRowsPerMetric:      cfg.MaxRowsPerMetric,
		GaugeStats:            cfg.GaugeStats,
		Rand:                  rng,
	})
	return e
}

// classify applies the per-metric settings (first matching glob wins).
func (c *Config) classify(name string) aggregate.Class {
	cls := aggregate.Class{Resolution: c.Resolution, Weight: 1}
	for _, o := range c.ResolutionOverrides {
		if matchGlob(o.Metrics, name) {
			cls.Resolution = o.Resolution
			break
		}
	}
	for _, w := range c.FairShare.Weights {
		if matchGlob(w.Metrics, name) {
			cls.Weight = w.Weight
			break
		}
	}
	for _, g := range c.RandomRounding {
		if matchGlob(g, name) {
			cls.Round = true
			break
		}
	}
	return cls
}

// flush collects the rows due at now (all of them when all is set), samples them against the
// budget of the seconds they cover and returns them with the metametrics.
func (e *engine) flush(now time.Time, all bool) (pmetric.Metrics, flushStats) {
	nowNs := now.UnixNano()
	b := &e.batch
	e.store.Flush(nowNs, all, b)
	out := pmetric.NewMetrics()
	var fs flushStats
	if len(b.Rows) == 0 && len(b.Closed) == 0 {
		e.store.Release(b)
		return out, fs
	}

	e.items = e.items[:0]
	e.meta.rowMetric, e.meta.rowSize = e.meta.rowMetric[:0], e.meta.rowSize[:0]
	clear(e.resCache)
	for i, ref := range b.Rows {
		info := e.store.RowInfo(ref)
		e.meta.rowMetric = append(e.meta.rowMetric, info.Metric.ID)
		e.meta.rowSize = append(e.meta.rowSize, info.Size)
		cls := info.Metric.Class
		cost := info.Size
		if !e.cfg.SpreadFlush && cls.Resolution > time.Second {
			// The whole window goes out at once but stands for Resolution seconds of the rate.
			cost /= cls.Resolution.Seconds()
		}
		it := sampling.Item{Size: cost, Weight: cls.Weight, Whale: info.Whale, Round: cls.Round, Ref: int32(i)}
		for l, lv := range e.levels {
			it.Keys[l] = e.groupKey(lv, l, info)
		}
		e.items = append(e.items, it)
	}
	budget := float64(e.cfg.Budget.BytesPerSecond) * float64(b.Slots)
	res := e.sampler.Run(e.items, budget)

	e.factors = append(e.factors[:0], make([]float64, len(b.Rows))...)
	for _, it := range e.items {
		e.factors[it.Ref] = it.Factor
	}
	e.store.Emit(out, b.Rows, e.factors)
	fs = flushStats{
		keptRows: res.KeptRows, droppedRows: res.InRows - res.KeptRows,
		keptBytes: res.KeptBytes, droppedBytes: res.InBytes - res.KeptBytes, budget: budget,
	}
	if e.cfg.Metametrics {
		e.metametrics(out, nowNs, budget)
	}
	e.store.Release(b)
	e.last = nowNs
	return out, fs
}

// groupKey returns the item's key at fair-share level l.
func (e *engine) groupKey(lv level, l int, info aggregate.Info) uint64 {
	switch lv.kind {
	case 'm':
		return uint64(info.Metric.ID)
	case 'r':
		ck := uint64(info.Res)<<8 | uint64(l)
		if k, ok := e.resCache[ck]; ok {
			return k
		}
		var k uint64
		if v, ok := e.store.ResourceAttrs(info.Res).Get(lv.name); ok {
			k = xxhash.Sum64String(v.AsString()) | 1 // 0 is "attribute missing"
		}
		e.resCache[ck] = k
		return k
	default:
		if raw, ok := aggregate.LookupAttr(info.Key, lv.name); ok {
			return xxhash.Sum64(raw) | 1
		}
		return 0
	}
}

// flushStats is what a flush reports to self-telemetry.
type flushStats struct {
	keptRows, droppedRows   int
	keptBytes, droppedBytes float64 // in the sampler's cost units (bytes per second of rate)
	budget                  float64
}
