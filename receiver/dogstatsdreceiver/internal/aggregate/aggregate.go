// Package aggregate is the receiver's time aggregator: it folds parsed DogStatsD samples into one
// data point per context (name, type, tags, host, container) per interval and builds pmetric.
//
// Concurrency: the aggregator is split into shards and every context lives in exactly one of
// them, chosen by the hash of its key (the Datadog Agent routes samples to its time samplers the
// same way). Each worker owns a Feeder that routes its samples to per-shard batches and hands a
// full batch to its shard when the shard's mutex is free. Flush swaps the shards' interval state out under their locks and
// builds pmetric without holding them. Samples handed to Feeder.Add may be reused by the caller
// as soon as Add returns: the feeder copies them with their tag slices, and every string in a
// Sample is immutable (interned or freshly allocated by the parser).
package aggregate

import (
	"regexp"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/parse"
)

// Mapping says how timers (`ms`), histograms (`h`) and distributions (`d`) become
// OpenTelemetry metrics.
type Mapping int

// The timer/histogram mappings.
const (
	MappingExponentialHistogram Mapping = iota
	MappingHistogram
	MappingSummary
	// MappingAgentAggregates emits the Datadog Agent's gauges per context: the aggregates of
	// Config.HistogramAggregates and the percentiles of Config.HistogramPercentiles.
	MappingAgentAggregates
	// MappingGauge emits every value as a gauge data point of its own, stamped with the time it
	// reached the aggregator and not aggregated (the contrib statsd receiver's observer_type
	// "gauge"). Such values count against MaxTimestamped with the timestamped samples; beyond
	// it they are dropped and counted in Stats.TimestampedDropped.
	MappingGauge
	// MappingDisabled drops the samples before they are routed, counted in Stats.Disabled.
	MappingDisabled
)

// TypeConfig is the output of one of `ms`, `h` and `d`, when it differs from what
// Config.TimerMapping and the fields after it say.
type TypeConfig struct {
	Mapping Mapping
	// MaxBuckets bounds each sign's buckets of the type's exponential histograms (and of the
	// estimates of MappingAgentAggregates); 0 takes Config.MaxBuckets.
	MaxBuckets int
	// MaxScale caps the scale of the type's exponential histograms when HasMaxScale.
	MaxScale    int32
	HasMaxScale bool
	// ExplicitBounds are the bounds of MappingHistogram; nil takes Config.ExplicitBounds.
	ExplicitBounds []float64
	// Quantiles are those of MappingSummary; nil takes Config.SummaryQuantiles.
	Quantiles []float64
	// Named gives, under MappingExponentialHistogram, the contexts whose name one of its
	// patterns matches an explicit-bounds histogram instead (the first match wins).
	Named []NamedBounds
}

// NamedBounds are the histogram bounds of the metric names Match matches (anywhere in the name,
// as regexp.MatchString does).
type NamedBounds struct {
	Match  *regexp.Regexp
	Bounds []float64
}

// boundsFor returns the explicit bounds of a context of this type named name: the Named bounds
// that match it, the bounds of MappingHistogram, or nil for no explicit-bounds histogram.
func (tc *TypeConfig) boundsFor(name string) []float64 {
	switch tc.Mapping {
	case MappingHistogram:
		return tc.ExplicitBounds
	case MappingExponentialHistogram:
		for i := range tc.Named {
			if tc.Named[i].Match.MatchString(name) {
				return tc.Named[i].Bounds
			}
		}
	}
	return nil
}

// metricTypeNames are the values of the metric type attribute, as the contrib statsd receiver
// names the types (it has no sets).
var metricTypeNames = [numTypes]string{
	parse.Counter:      "counter",
	parse.Gauge:        "gauge",
	parse.Timer:        "timing",
	parse.Histogram:    "histogram",
	parse.Set:          "set",
	parse.Distribution: "distribution",
}

// MetricTypeAttribute is the attribute Config.MetricTypeAttribute adds, as the contrib statsd
// receiver's enable_metric_type does.
const MetricTypeAttribute = "metric_type"

// Config holds the aggregator's knobs; the receiver's Config documents them for users.
type Config struct {
	// MaxContexts bounds the distinct contexts of the whole aggregator. Samples of new contexts
	// beyond it are folded into the overflow context of their type.
	MaxContexts int
	// ExpiryIntervals is how many intervals an idle counter context keeps emitting zeros before
	// it is forgotten; 0 forgets every context at the first flush it was idle for.
	ExpiryIntervals int
	// MaxTimestamped bounds the timestamped (`|T`) samples held per shard between flushes.
	MaxTimestamped int
	// TimerMapping selects the output of `ms` and `h` samples.
	TimerMapping Mapping
	// ExplicitBounds are the bucket bounds of MappingHistogram.
	ExplicitBounds []float64
	// SummaryQuantiles are the quantiles of MappingSummary, in [0, 1].
	SummaryQuantiles []float64
	// MaxBuckets bounds each sign's bucket count of an exponential histogram.
	MaxBuckets int
	// HistogramAggregates are the aggregates of MappingAgentAggregates, each one of
	// AgentAggregates, emitted as `<name>.<aggregate>`.
	HistogramAggregates []string
	// HistogramPercentiles are the percentiles of MappingAgentAggregates in whole percents
	// (0..100), emitted as `<name>.<p>percentile`.
	HistogramPercentiles []int
	// MaxHistogramValues bounds the values a context keeps per interval under
	// MappingAgentAggregates for an exact median and exact percentiles; beyond it they come
	// from an exponential histogram. 0 estimates them from the start.
	MaxHistogramValues int
	// Types overrides, per type (indexed by parse.MetricType: Timer, Histogram, Distribution),
	// what TimerMapping and the fields above give `ms` and `h` and the exponential histogram of
	// MaxBuckets `d` gets; a nil entry keeps those. The contrib statsd receiver's
	// timer_histogram_mapping list fills it.
	Types [parse.Distribution + 1]*TypeConfig
	// MetricTypeAttribute adds the attribute metric_type (counter, gauge, timing, histogram,
	// set, distribution) to every data point, as the contrib statsd receiver's
	// enable_metric_type does.
	MetricTypeAttribute bool
	// MonotonicCounters marks counter sums as monotonic.
	MonotonicCounters bool
	// ExtraTags are appended to the tags of every sample (the same for all, so they do not take
	// part in the context hash).
	ExtraTags []string
	// ScopeName and ScopeVersion name the instrumentation scope of every emitted metric.
	ScopeName, ScopeVersion string

	types    [numTypes]TypeConfig // what each type becomes, Types resolved by New
	disabled uint8                // bit t: the samples of type t are dropped
	raw      bool                 // some type is mapped to MappingGauge
}

// resolve fills the per-type table from Types and the shared fields.
func (c *Config) resolve() {
	for t := range c.types {
		tc := TypeConfig{Mapping: c.TimerMapping}
		switch parse.MetricType(t) {
		case parse.Timer, parse.Histogram:
		case parse.Distribution:
			tc.Mapping = MappingExponentialHistogram
		default:
			continue
		}
		if o := c.Types[t]; o != nil {
			tc = *o
		}
		if tc.MaxBuckets <= 0 {
			tc.MaxBuckets = c.MaxBuckets
		}
		if tc.ExplicitBounds == nil {
			tc.ExplicitBounds = c.ExplicitBounds
		}
		if tc.Quantiles == nil {
			tc.Quantiles = c.SummaryQuantiles
		}
		c.types[t] = tc
		switch tc.Mapping {
		case MappingDisabled:
			c.disabled |= 1 << t
		case MappingGauge:
			c.raw = true
		}
	}
}

// typ returns what a context of type t becomes.
func (c *Config) typ(t parse.MetricType) *TypeConfig { return &c.types[t] }

// anyMapping reports whether some type is mapped to m.
func (c *Config) anyMapping(m Mapping) bool {
	for t := range c.types {
		if (t == int(parse.Timer) || t == int(parse.Histogram) || t == int(parse.Distribution)) && c.types[t].Mapping == m {
			return true
		}
	}
	return false
}

// Stats are the aggregator's counters, safe to read from any goroutine.
type Stats struct {
	Contexts           atomic.Int64  // contexts tracked, summed over the shards
	Created            atomic.Uint64 // contexts created
	Overflowed         atomic.Uint64 // samples folded into an overflow context at max_contexts
	Evicted            atomic.Uint64 // idle contexts forgotten early to make room at max_contexts
	TimestampedDropped atomic.Uint64 // timestamped samples and MappingGauge values dropped because a shard held MaxTimestamped
	Disabled           atomic.Uint64 // samples dropped because their type's mapping is MappingDisabled
}

// Aggregator owns the shards.
type Aggregator struct {
	cfg    Config
	shards []*Shard
	Stats  Stats

	flushMu sync.Mutex
	snap    []snapshot // scratch of Flush
}

// entry is one context; next chains hash collisions. st is nil while the context has had no
// sample in the current interval, so an idle context costs only its key.
type entry struct {
	key  contextKey
	st   *state
	hash uint64
	idle int32 // flushes in a row without a sample
	// probation marks a context first seen in this interval that was not released after a
	// single interval at the last flush: it is released right after its first flush.
	probation bool
	next      *entry
}

// New returns an aggregator with n shards (at least one).
func New(cfg Config, n int) *Aggregator {
	a := &Aggregator{cfg: cfg}
	a.cfg.resolve()
	for range max(n, 1) {
		a.shards = append(a.shards, &Shard{agg: a, contexts: make(map[uint64]*entry)})
	}
	return a
}

// Shard holds the contexts whose hash routes to it.
type Shard struct {
	agg         *Aggregator
	mu          sync.Mutex
	contexts    map[uint64]*entry
	n           int              // entries in contexts
	overflow    [numTypes]*state // the overflow context of each type, nil until used
	timestamped []timestampedPoint
	held        int                    // MappingGauge values held in the states, counted with timestamped
	spare       [numTypes][]*state     // reset states handed back by Flush, reused by new intervals
	idle        []*entry               // the contexts at the last flush: evictable while still without a sample
	wire        []string               // scratch: a sample's tags in wire order while they are sorted
	resources   map[Resource]*Resource // origins of the contexts, shared by their keys

	// The doorkeeper. A context is kept between intervals only once it has come back: a new
	// context is on probation and released at its first flush, leaving one bit (of its hash)
	// in seen. A context that comes back in the next interval finds its bit and stays. So a
	// flood of one-off contexts holds memory for one interval, not two, and a context that
	// recurs pays for one more creation in its life. A false hit (another context's bits) only
	// keeps a one-off context for one more interval.
	seen      []uint64
	spareSeen []uint64
	probation int // contexts on probation now
}

// timestampedPoint is a `|T` sample kept as is, outside aggregation.
type timestampedPoint struct {
	key   contextKey
	value float64 // value/rate for counters
	ts    int64   // unix seconds
}

// Feeder routes one worker's samples to the shards. Each shard has a pending batch in the
// feeder; a batch that reaches the batch size is handed over if the shard's lock is free, and
// waits for a later try otherwise, so workers rarely block on each other: a worker blocks only
// when a batch has grown to maxPendingBatches times the batch size, or in Drain. Samples are
// copied into the pending batches with their tags, so the caller may reuse what it passed to
// Add. A Feeder is not safe for concurrent use: every worker has its own.
type Feeder struct {
	agg       *Aggregator
	size      int
	pending   []pendingBatch // by shard
	withExtra []string       // scratch: a sample's tags and the extra tags
}

// pendingBatch holds a shard's samples, their context hashes and their tags.
type pendingBatch struct {
	samples []parse.Sample
	hashes  []uint64
	tags    []string
}

// maxPendingBatches bounds a shard's pending samples in a Feeder, in batches: beyond it the
// feeder waits for the shard's lock.
const maxPendingBatches = 4

// NewFeeder returns a feeder for one worker that hands samples to a shard in batches of size.
func (a *Aggregator) NewFeeder(size int) *Feeder {
	return &Feeder{agg: a, size: max(size, 1), pending: make([]pendingBatch, len(a.shards))}
}

// Add routes samples to their shards' pending batches and hands over the batches that are full.
// stamp is a monotonic arrival time (for example nanoseconds since start) used to pick the last
// gauge value of the overflow contexts.
func (f *Feeder) Add(samples []parse.Sample, stamp int64) {
	n := len(f.agg.shards)
	extra := f.agg.cfg.ExtraTags
	disabled, dropped := f.agg.cfg.disabled, 0
	for i := range samples {
		smp := &samples[i]
		if disabled != 0 && disabled&(1<<smp.Type) != 0 {
			dropped++
			continue
		}
		tags := smp.Tags
		if len(extra) > 0 || len(tags) > maxPairwiseTags {
			// The extra tags take part in the hash: a sample that already carries one of them
			// is the same context as one that does not (tags are a set). A long tag list is
			// sorted in place by the hash, so it is hashed from this copy: the samples of a
			// packed line share one tag slice, which must stay as it is for the next one.
			f.withExtra = append(append(f.withExtra[:0], smp.Tags...), extra...)
			smp.Tags = f.withExtra
		}
		h := hashSample(smp)
		pb := &f.pending[shardOf(h, n)]
		t := len(pb.tags)
		pb.tags = append(pb.tags, smp.Tags...)
		smp.Tags = tags
		pb.samples = append(pb.samples, *smp)
		pb.samples[len(pb.samples)-1].Tags = pb.tags[t:len(pb.tags):len(pb.tags)]
		pb.hashes = append(pb.hashes, h)
	}
	if dropped > 0 {
		f.agg.Stats.Disabled.Add(uint64(dropped))
	}
	for s := range f.pending {
		pb := &f.pending[s]
		switch sh := f.agg.shards[s]; {
		case len(pb.samples) < f.size:
		case sh.mu.TryLock():
			f.handOver(s, stamp)
		case len(pb.samples) >= maxPendingBatches*f.size:
			sh.mu.Lock()
			f.handOver(s, stamp)
		}
	}
}

// Drain hands every pending sample to its shard, waiting for the locks; a worker calls it
// before it waits for more packets, so nothing it parsed is held back from a flush.
func (f *Feeder) Drain(stamp int64) {
	for s := range f.pending {
		if len(f.pending[s].samples) > 0 {
			f.agg.shards[s].mu.Lock()
			f.handOver(s, stamp)
		}
	}
}

// handOver adds shard s's pending batch to the shard, whose lock the caller holds, and
// releases the lock.
func (f *Feeder) handOver(s int, stamp int64) {
	pb := &f.pending[s]
	sh := f.agg.shards[s]
	sh.addLocked(pb.samples, pb.hashes, stamp)
	sh.mu.Unlock()
	clear(pb.samples) // drop string references so interner resets can free them
	clear(pb.tags)
	pb.samples, pb.hashes, pb.tags = pb.samples[:0], pb.hashes[:0], pb.tags[:0]
}

// shardOf maps a context hash to one of n shards (the high bits: the low ones index the map).
func shardOf(h uint64, n int) int { return int((h >> 32) * uint64(n) >> 32) }

// addLocked folds samples, whose context hashes are hashes, into the shard, whose lock the
// caller holds.
func (s *Shard) addLocked(samples []parse.Sample, hashes []uint64, stamp int64) {
	cfg := &s.agg.cfg
	var now int64 // wall clock of the MappingGauge values, read once per call
	for i := range samples {
		smp := &samples[i]
		if smp.Timestamp != 0 && (smp.Type == parse.Counter || smp.Type == parse.Gauge) {
			smp.Tags = canonicalTags(smp.Tags)
			s.addTimestamped(smp)
			continue
		}
		h := hashes[i]
		// Fast path: the context in the tag order it was first seen in, no sorting.
		e := s.contexts[h]
		for e != nil && !e.key.matchesWire(smp) {
			e = e.next
		}
		if e == nil {
			e = s.lookupCanonical(smp, h)
		}
		var st *state
		if e == nil {
			st = s.overflowState(smp.Type)
		} else {
			if e.st == nil {
				e.st = s.newState(smp.Type, smp.Name)
			}
			st = e.st
		}
		if cfg.raw && st.acc != nil {
			if r, ok := st.acc.(*rawValues); ok {
				if now == 0 {
					now = time.Now().UnixNano()
				}
				s.addRaw(st, r, smp.Value, now)
				continue
			}
		}
		st.add(smp, stamp, cfg)
	}
}

// addRaw keeps one value of a MappingGauge context, unless the shard already holds
// MaxTimestamped values and timestamped samples.
func (s *Shard) addRaw(st *state, r *rawValues, v float64, now int64) {
	if s.held+len(s.timestamped) >= s.agg.cfg.MaxTimestamped {
		s.agg.Stats.TimestampedDropped.Add(1)
		return
	}
	s.held++
	st.samples++
	r.values = append(r.values, v)
	r.times = append(r.times, now)
}

// lookupCanonical finds or creates the context of smp after sorting its tags (another order,
// repeated tags, or a new context). It returns nil when the context is new and the aggregator
// already holds MaxContexts.
func (s *Shard) lookupCanonical(smp *parse.Sample, h uint64) *entry {
	s.wire = append(s.wire[:0], smp.Tags...)
	smp.Tags = canonicalTags(smp.Tags)
	e := s.contexts[h]
	for e != nil && !e.key.matches(smp) {
		e = e.next
	}
	if e != nil {
		return e
	}
	stats := &s.agg.Stats
	if stats.Contexts.Add(1) > int64(s.agg.cfg.MaxContexts) {
		stats.Contexts.Add(-1)
		if !s.evictIdle() && !s.evictElsewhere() {
			stats.Overflowed.Add(1)
			return nil
		}
	}
	s.n++
	stats.Created.Add(1)
	key := s.keyOf(smp, s.wire)
	e = &entry{key: key, hash: h, next: s.contexts[h]}
	// Counters with an expiry must emit zeros after their last sample: they are kept.
	if !s.seenHas(h) && (key.typ != parse.Counter || s.agg.cfg.ExpiryIntervals == 0) {
		e.probation = true
		s.probation++
	}
	s.contexts[h] = e
	return e
}

// seenBits returns the two doorkeeper bits of hash h in a filter of words 64-bit words.
func seenBits(h uint64, words int) (uint64, uint64) {
	mask := uint64(words)*64 - 1
	return h & mask, (h * 0x9e3779b97f4a7c15 >> 32) & mask
}

// seenHas reports whether both of h's doorkeeper bits are set.
func (s *Shard) seenHas(h uint64) bool {
	if len(s.seen) == 0 {
		return false
	}
	i, j := seenBits(h, len(s.seen))
	return s.seen[i/64]&(1<<(i%64)) != 0 && s.seen[j/64]&(1<<(j%64)) != 0
}

// nextSeen returns a cleared doorkeeper for the contexts on probation now: 16 bits and two
// hashes per context (about one false hit in seventy), a power of two of at least 64 bits.
func (s *Shard) nextSeen() []uint64 {
	words := 1
	for words*64 < 16*s.probation {
		words *= 2
	}
	f := s.spareSeen
	if cap(f) < words || cap(f) > 4*words {
		f = make([]uint64, words)
	}
	f = f[:words]
	clear(f)
	return f
}

// evictIdle forgets one context of the last flush that has had no sample since, to make room
// for a new one: in a flood of one-off contexts the previous interval's contexts give way to
// the current one's instead of pushing them into the overflow contexts. It reports whether it
// found one; the aggregator's context count is unchanged (one leaves, one comes).
func (s *Shard) evictIdle() bool {
	for len(s.idle) > 0 {
		e := s.idle[len(s.idle)-1]
		s.idle[len(s.idle)-1] = nil
		s.idle = s.idle[:len(s.idle)-1]
		if e.st != nil {
			continue // it has a sample in this interval
		}
		s.unlinkEntry(e)
		s.n--
		s.agg.Stats.Evicted.Add(1)
		return true
	}
	return false
}

// evictElsewhere evicts an idle context of another shard whose lock is free at once (the
// caller holds its own shard's lock: waiting for another could deadlock). Shards fill unevenly,
// so the room max_contexts leaves may sit in another shard.
func (s *Shard) evictElsewhere() bool {
	for _, o := range s.agg.shards {
		if o == s || !o.mu.TryLock() {
			continue
		}
		ok := o.evictIdle()
		o.mu.Unlock()
		if ok {
			return true
		}
	}
	return false
}

// unlinkEntry removes e from the contexts map.
func (s *Shard) unlinkEntry(e *entry) {
	prev := (*entry)(nil)
	for c := s.contexts[e.hash]; c != nil; prev, c = c, c.next {
		if c != e {
			continue
		}
		switch {
		case prev != nil:
			prev.next = c.next
		case c.next != nil:
			s.contexts[e.hash] = c.next
		default:
			delete(s.contexts, e.hash)
		}
		return
	}
}

// newState returns an empty state for a context of type t named name, reusing one Flush handed
// back. With per-name bounds a spare may hold another accumulator than name needs: it is then
// left to the garbage collector.
func (s *Shard) newState(t parse.MetricType, name string) *state {
	cfg := &s.agg.cfg
	sp := &s.spare[t]
	if n := len(*sp); n > 0 {
		st := (*sp)[n-1]
		(*sp)[n-1] = nil
		*sp = (*sp)[:n-1]
		if tc := cfg.typ(t); len(tc.Named) == 0 || st.fits(tc.boundsFor(name)) {
			return st
		}
	}
	return newState(t, name, cfg)
}

func (s *Shard) overflowState(t parse.MetricType) *state {
	if s.overflow[t] == nil {
		s.overflow[t] = s.newState(t, overflowNames[t])
	}
	return s.overflow[t]
}

func (s *Shard) addTimestamped(smp *parse.Sample) {
	if s.held+len(s.timestamped) >= s.agg.cfg.MaxTimestamped {
		s.agg.Stats.TimestampedDropped.Add(1)
		return
	}
	v := smp.Value
	if smp.Type == parse.Counter {
		v /= smp.SampleRate
	}
	s.timestamped = append(s.timestamped, timestampedPoint{key: s.keyOf(smp, nil), value: v, ts: smp.Timestamp})
}

// keyOf returns the key of smp, whose tags are canonical; wire is the order the tags arrived
// in, kept when it differs.
func (s *Shard) keyOf(smp *parse.Sample, wire []string) contextKey {
	n := len(smp.Tags)
	if slices.Equal(wire, smp.Tags) {
		wire = nil
	}
	all := make([]string, n+len(wire))
	copy(all, smp.Tags)
	copy(all[n:], wire)
	return contextKey{name: smp.Name, typ: smp.Type, res: s.resource(smp), all: all, ntags: uint32(n)}
}

// resource returns the shard's shared copy of smp's origin.
func (s *Shard) resource(smp *parse.Sample) *Resource {
	r := resourceOf(smp)
	if r == (Resource{}) {
		return noResource
	}
	if p, ok := s.resources[r]; ok {
		return p
	}
	if s.resources == nil {
		s.resources = map[Resource]*Resource{}
	}
	p := &r
	s.resources[r] = p
	return p
}
