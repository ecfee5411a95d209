package worker

import (
	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/aggregate"
	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/parse"
)

// DefaultBatchSize is the Datadog agent's batch of 32 samples: large enough that each shard's
// lock is taken once per batch, small enough to stay in L1 cache.
const DefaultBatchSize = 32

// Batcher accumulates a worker's samples and hands them to the aggregator in batches, through
// the worker's Feeder, which routes each sample to the shard of its context. The samples' tag
// slices live in one arena (tags) that is reused once the aggregator has consumed the batch, so
// steady-state parsing allocates nothing for tags.
type Batcher struct {
	size    int
	feeder  *aggregate.Feeder
	samples []parse.Sample
	tags    []string
	stamp   int64
}

// NewBatcher returns a batcher of size samples (DefaultBatchSize when <= 0) feeding feeder.
func NewBatcher(size int, feeder *aggregate.Feeder) *Batcher {
	if size <= 0 {
		size = DefaultBatchSize
	}
	return &Batcher{size: size, feeder: feeder, samples: make([]parse.Sample, 0, size+8), tags: make([]string, 0, size*8)}
}

// SetStamp sets the arrival stamp of the samples that follow (it orders gauge writes).
func (b *Batcher) SetStamp(stamp int64) { b.stamp = stamp }

// full reports whether the batch reached its size; lines are never split across batches, so a
// packed line may overshoot it.
func (b *Batcher) full() bool { return len(b.samples) >= b.size }

// Flush hands the pending samples to the feeder and empties the batch.
func (b *Batcher) Flush() {
	if len(b.samples) == 0 {
		return
	}
	b.feeder.Add(b.samples, b.stamp)
	clear(b.samples) // drop string references so interner resets can free them
	b.samples = b.samples[:0]
	clear(b.tags)
	b.tags = b.tags[:0]
}

// Drain flushes the batch and makes the feeder hand every sample to the aggregator.
func (b *Batcher) Drain() {
	b.Flush()
	b.feeder.Drain(b.stamp)
}
