package fairshareprocessor

import (
	"math/bits"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
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

// maxDefaultShards caps the shards of the default configuration: each shard keeps its own
// resource and scope tables and every flush visits all of them.
const maxDefaultShards = 8

// engine is the processor's state: the window stores, one per shard with its own lock, and the
// sampler and scratch space of a flush behind the flush lock. Flushing allocates only the
// output it hands on.
//
// A metric identity lives in the shard its name hashes to, so all its points and rows are in one
// store; the sampler sees the metric ids of all shards as global ids local*len(shards)+shard.
// max_metrics and max_rows hold for all shards together (aggregate.Limits). The overflow metrics
// live in shard 0: the other shards move the metrics beyond max_metrics aside, and ConsumeMetrics
// merges them into shard 0 after releasing their lock, so one lock is held at a time.
type engine struct {
	cfg    *Config
	shards []*shard
	limits *aggregate.Limits
	levels []level

	flushMu  sync.Mutex // serialises flushes; guards the fields below and every shard's batch
	sampler  *sampling.Sampler
	out      *aggregate.Output
	items    []sampling.Item
	factors  []float64
	seconds  []int64           // the send seconds the shards' batches cover
	resCache map[uint64]uint64 // (resource id*len(shards)+shard, level) -> group key, per flush
	meta     metaState
	last     int64 // previous flush, unix ns
}

// shard is one store and its lock.
type shard struct {
	mu    sync.Mutex
	store *aggregate.Store
	batch aggregate.Batch // the rows of the running flush
	first int             // index in engine.items of the batch's first row
}

// shardCount returns the number of shards cfg asks for: cfg.Shards, or with 0 one per core up to
// maxDefaultShards.
func shardCount(cfg *Config) int {
	if cfg.Shards > 0 {
		return cfg.Shards
	}
	return min(runtime.GOMAXPROCS(0), maxDefaultShards)
}

func newEngine(cfg *Config, rng *rand.Rand) *engine {
	e := &engine{cfg: cfg, resCache: map[uint64]uint64{}, limits: &aggregate.Limits{}}
	e.out = aggregate.NewOutput(pmetric.NewMetrics())
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
	n := shardCount(cfg)
	for i := range n {
		// rng is used by the sampler and by Emit only, both under flushMu.
		e.shards = append(e.shards, &shard{store: aggregate.New(aggregate.Options{
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
			Limits:                e.limits,
			SpillOverflow:         i > 0,
			GaugeStats:            cfg.GaugeStats,
			Rand:                  rng,
		})})
	}
	return e
}

// shardOf returns the shard of a metric name.
func (e *engine) shardOf(name string) int {
	return int(xxhash.Sum64String(name) % uint64(len(e.shards)))
}

// global returns the global id of metric id of shard k.
func (e *engine) global(k int, id uint32) uint32 { return id*uint32(len(e.shards)) + uint32(k) }

// metric returns the metric of global id id. The caller holds its shard's lock.
func (e *engine) metric(id uint32) *aggregate.Metric {
	n := uint32(len(e.shards))
	return e.shards[id%n].store.Metric(id / n)
}

// add merges md into the shards' windows as of now (unix ns) and returns how much the counters
// grew and the rows created. What cannot be aggregated is left in md. A request whose metrics
// all hash to one shard is added there as it is; otherwise each shard in turn takes its
// metrics, under its own lock.
func (e *engine) add(md pmetric.Metrics, now int64) (aggregate.Stats, int) {
	var st aggregate.Stats
	var rows int
	var spills []pmetric.Metrics
	addTo := func(k int, keep func(string) bool) {
		sh := e.shards[k]
		sh.mu.Lock()
		s, r := sh.store.AddIf(md, now, keep)
		spill, ok := sh.store.TakeSpill()
		sh.mu.Unlock()
		st.Add(s)
		rows += r
		if ok {
			spills = append(spills, spill)
		}
	}
	switch mask := e.shardMask(md); {
	case mask == 0: // no metrics: shard 0 removes the empty resources
		addTo(0, nil)
	case mask&(mask-1) == 0:
		addTo(bits.TrailingZeros64(mask), nil)
	default:
		for ; mask != 0; mask &= mask - 1 {
			k := bits.TrailingZeros64(mask)
			addTo(k, func(name string) bool { return e.shardOf(name) == k })
		}
	}
	if len(spills) > 0 {
		sh := e.shards[0]
		sh.mu.Lock()
		for _, spill := range spills {
			s, r := sh.store.AddOverflow(spill, now)
			st.Add(s)
			rows += r
			// What is left of a spilled metric (points that cannot merge) is forwarded.
			spill.ResourceMetrics().MoveAndAppendTo(md.ResourceMetrics())
		}
		sh.mu.Unlock()
	}
	return st, rows
}

// shardMask returns the set of shards md's metrics hash to, bit k for shard k.
func (e *engine) shardMask(md pmetric.Metrics) uint64 {
	if len(e.shards) == 1 {
		return 1
	}
	var mask uint64
	rms := md.ResourceMetrics()
	for i := range rms.Len() {
		sms := rms.At(i).ScopeMetrics()
		for j := range sms.Len() {
			ms := sms.At(j).Metrics()
			for m := range ms.Len() {
				mask |= 1 << e.shardOf(ms.At(m).Name())
			}
		}
	}
	return mask
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

// flushPartPoints bounds the data points of one ConsumeMetrics call of a flush: a flush of a
// flood's rows is built and handed on a part at a time, not as one pdata of every kept row.
const flushPartPoints = 8192

// flush collects the rows due at now (all of them when all is set), samples them against the
// budget of the seconds they cover and hands them to send in parts of about flushPartPoints
// points, the last with the metametrics. It returns what it did and the number of rows it
// released. Each shard is locked to collect its rows and again to emit each part; the sampler,
// which shares the budget between the rows of all shards, and send run with no shard locked.
// The windows are released only after the last part is sent, so the rows stay valid.
func (e *engine) flush(now time.Time, all bool, send func(pmetric.Metrics)) (flushStats, int) {
	e.flushMu.Lock()
	defer e.flushMu.Unlock()
	nowNs := now.UnixNano()
	e.items = e.items[:0]
	e.seconds = e.seconds[:0]
	e.meta.rowMetric, e.meta.rowSize, e.meta.rowName = e.meta.rowMetric[:0], e.meta.rowSize[:0], e.meta.rowName[:0]
	clear(e.resCache)
	closed := false
	for k, sh := range e.shards {
		sh.mu.Lock()
		b := &sh.batch
		sh.store.Flush(nowNs, all, b)
		sh.first = len(e.items)
		for _, ref := range b.Rows {
			e.addItem(k, sh.store, ref)
		}
		sh.mu.Unlock()
		e.seconds = append(e.seconds, b.Seconds...)
		closed = closed || len(b.Closed) > 0
	}
	var fs flushStats
	if len(e.items) == 0 && !closed {
		return fs, e.release()
	}

	slices.Sort(e.seconds)
	budget := float64(e.cfg.Budget.BytesPerSecond) * float64(max(len(slices.Compact(e.seconds)), 1))
	res := e.sampler.Run(e.items, budget)

	e.factors = append(e.factors[:0], make([]float64, len(e.items))...)
	for _, it := range e.items {
		e.factors[it.Ref] = it.Factor
	}
	part := pmetric.NewMetrics()
	e.out.Reset(part)
	kept := 0
	for _, sh := range e.shards {
		rows := sh.batch.Rows
		factors := e.factors[sh.first : sh.first+len(rows)]
		for i := 0; i < len(rows); {
			j := i
			for ; j < len(rows) && kept < flushPartPoints; j++ {
				if factors[j] > 0 {
					kept++
				}
			}
			sh.mu.Lock()
			sh.store.Emit(e.out, rows[i:j], factors[i:j])
			sh.mu.Unlock()
			i = j
			if kept >= flushPartPoints {
				send(part)
				part, kept = pmetric.NewMetrics(), 0
				e.out.Reset(part)
			}
		}
	}
	fs = flushStats{
		keptRows: res.KeptRows, droppedRows: res.InRows - res.KeptRows,
		keptBytes: res.KeptBytes, droppedBytes: res.InBytes - res.KeptBytes, budget: budget,
	}
	if e.cfg.Metametrics {
		e.metametrics(part, nowNs, budget)
	}
	if part.ResourceMetrics().Len() > 0 {
		send(part)
	}
	e.last = nowNs
	return fs, e.release()
}

// addItem offers row ref of shard k to the sampler. The caller holds the shard's lock.
func (e *engine) addItem(k int, store *aggregate.Store, ref aggregate.RowRef) {
	info := store.RowInfo(ref)
	id := e.global(k, info.Metric.ID)
	e.meta.rowMetric = append(e.meta.rowMetric, id)
	e.meta.rowSize = append(e.meta.rowSize, info.Size)
	if e.cfg.Metametrics {
		e.meta.rowName = append(e.meta.rowName, info.Metric.Name)
	}
	cls := info.Metric.Class
	cost := info.Size
	if !e.cfg.SpreadFlush && cls.Resolution > time.Second {
		// The whole window goes out at once but stands for Resolution seconds of the rate.
		cost /= cls.Resolution.Seconds()
	}
	it := sampling.Item{Size: cost, Weight: cls.Weight, Whale: info.Whale, Round: cls.Round, Ref: int32(len(e.items))}
	for l, lv := range e.levels {
		it.Keys[l] = e.groupKey(lv, l, k, store, id, info)
	}
	e.items = append(e.items, it)
}

// release recycles the windows the shards' batches finished and returns the rows they held.
func (e *engine) release() int {
	n := 0
	for _, sh := range e.shards {
		sh.mu.Lock()
		n += sh.store.Release(&sh.batch)
		sh.mu.Unlock()
	}
	return n
}

// groupKey returns the key at fair-share level l of a row of shard k, whose metric has global id
// metric.
func (e *engine) groupKey(lv level, l, shard int, store *aggregate.Store, metric uint32, info aggregate.Info) uint64 {
	switch lv.kind {
	case 'm':
		return uint64(metric)
	case 'r':
		res := uint64(info.Res)*uint64(len(e.shards)) + uint64(shard)
		ck := res<<8 | uint64(l)
		if k, ok := e.resCache[ck]; ok {
			return k
		}
		var k uint64
		if v, ok := store.ResourceAttrs(info.Res).Get(lv.name); ok {
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
