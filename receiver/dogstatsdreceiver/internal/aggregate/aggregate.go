// Package aggregate is the receiver's time aggregator: it folds parsed DogStatsD samples into one
// data point per context (name, type, tags, host, container) per interval and builds pmetric.
//
// Concurrency: the aggregator is split into shards, one per worker. A worker adds batches to its
// own shard (the shard's mutex is then uncontended); Flush visits every shard in turn, folds its
// contexts into the aggregator's merged view and resets them. Samples handed to Add may be reused
// by the caller as soon as Add returns: a new context copies its tag slice, and every string in a
// Sample is immutable (interned or freshly allocated by the parser).
package aggregate

import (
	"slices"
	"sync"
	"sync/atomic"

	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/parse"
)

// Mapping says how timers (`ms`) and histograms (`h`) become OpenTelemetry metrics.
type Mapping int

// The timer/histogram mappings.
const (
	MappingExponentialHistogram Mapping = iota
	MappingHistogram
	MappingSummary
)

// Config holds the aggregator's knobs; the receiver's Config documents them for users.
type Config struct {
	// MaxContexts bounds the contexts each shard tracks at once; samples of new contexts beyond
	// it are dropped and counted. A context seen by several workers is in several shards, so
	// the bound is per shard: counting it over all shards would let a busy context use up the
	// room of others (with 2 workers 100k distinct contexts would need 200k).
	MaxContexts int
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
	// MonotonicCounters marks counter sums as monotonic.
	MonotonicCounters bool
	// ScopeName and ScopeVersion name the instrumentation scope of every emitted metric.
	ScopeName, ScopeVersion string
}

// Stats are the aggregator's counters, safe to read from any goroutine.
type Stats struct {
	Contexts           atomic.Int64  // contexts tracked, summed over the shards
	ContextsDropped    atomic.Uint64 // samples dropped because MaxContexts was reached
	TimestampedDropped atomic.Uint64 // timestamped samples dropped because a shard held MaxTimestamped
}

// Aggregator owns the shards and the merged view used at flush time.
type Aggregator struct {
	cfg    Config
	shards []*Shard
	Stats  Stats

	flushMu sync.Mutex
	merged  map[uint64]*entry
}

// entry is one context of a shard (or of the merged view); next chains hash collisions.
type entry struct {
	key  contextKey
	st   *state
	next *entry
}

// New returns an aggregator with n shards.
func New(cfg Config, n int) *Aggregator {
	a := &Aggregator{cfg: cfg, merged: make(map[uint64]*entry)}
	for range n {
		a.shards = append(a.shards, &Shard{agg: a, contexts: make(map[uint64]*entry)})
	}
	return a
}

// Shard returns shard i; each worker uses its own.
func (a *Aggregator) Shard(i int) *Shard { return a.shards[i] }

// Shard is the part of the aggregator one worker writes to.
type Shard struct {
	agg         *Aggregator
	mu          sync.Mutex
	contexts    map[uint64]*entry
	n           int // entries in contexts
	timestamped []timestampedPoint
	wire        []string // scratch: a sample's tags in wire order while they are sorted
}

// timestampedPoint is a `|T` sample kept as is, outside aggregation.
type timestampedPoint struct {
	key   contextKey
	value float64 // value/rate for counters
	ts    int64   // unix seconds
}

// Add folds samples into the shard. stamp is a monotonic arrival time (for example nanoseconds
// since start) used to order gauge writes between shards; Tags of each sample are reordered in
// place.
func (s *Shard) Add(samples []parse.Sample, stamp int64) {
	cfg := &s.agg.cfg
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range samples {
		smp := &samples[i]
		if smp.Timestamp != 0 && (smp.Type == parse.Counter || smp.Type == parse.Gauge) {
			smp.Tags = canonicalTags(smp.Tags)
			s.addTimestamped(smp)
			continue
		}
		// Fast path: the context in the tag order it was first seen in, no sorting.
		h := hashSample(smp)
		e := s.contexts[h]
		for e != nil && !e.key.matchesWire(smp) {
			e = e.next
		}
		if e == nil {
			e = s.lookupCanonical(smp)
			if e == nil {
				continue // over max_contexts: dropped and counted
			}
		}
		e.st.add(smp, stamp, cfg)
	}
}

// lookupCanonical finds or creates the context of smp after sorting its tags (another order,
// repeated tags, or a new context).
func (s *Shard) lookupCanonical(smp *parse.Sample) *entry {
	cfg := &s.agg.cfg
	s.wire = append(s.wire[:0], smp.Tags...)
	smp.Tags = canonicalTags(smp.Tags)
	h := hashSample(smp)
	e := s.contexts[h]
	for e != nil && !e.key.matches(smp) {
		e = e.next
	}
	if e != nil {
		return e
	}
	if s.n >= cfg.MaxContexts {
		s.agg.Stats.ContextsDropped.Add(1)
		return nil
	}
	s.n++
	s.agg.Stats.Contexts.Add(1)
	key := keyOf(smp)
	if !slices.Equal(s.wire, key.tags) {
		key.wire = slices.Clone(s.wire)
	}
	e = &entry{key: key, st: newState(smp.Type, cfg), next: s.contexts[h]}
	s.contexts[h] = e
	return e
}

func (s *Shard) addTimestamped(smp *parse.Sample) {
	if len(s.timestamped) >= s.agg.cfg.MaxTimestamped {
		s.agg.Stats.TimestampedDropped.Add(1)
		return
	}
	v := smp.Value
	if smp.Type == parse.Counter {
		v /= smp.SampleRate
	}
	s.timestamped = append(s.timestamped, timestampedPoint{key: keyOf(smp), value: v, ts: smp.Timestamp})
}

func keyOf(smp *parse.Sample) contextKey {
	return contextKey{
		name: smp.Name, typ: smp.Type, res: resourceOf(smp),
		tags: append([]string(nil), smp.Tags...),
	}
}
