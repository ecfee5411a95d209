// Package worker is the receiver's parsing stage: a worker takes batches of packets off the
// queue, splits them into lines, parses each with its own parser and interner, and feeds
// metric samples through its Batcher to the aggregator and events and service checks to
// the log sink.
//
// Concurrency: one goroutine runs a Worker. Packets received from the queue belong to the
// worker, which gives each back to the pool once every line of it is parsed; nothing parsed
// aliases a packet (the parser interns or copies every string).
package worker

import (
	"sync/atomic"
	"time"

	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/aggregate"
	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/intern"
	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/mapper"
	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/packets"
	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/parse"
)

// LogSink takes the events and service checks the workers parse, with the resource they come
// from (their hostname and origin). It must be safe for concurrent use.
type LogSink interface {
	AddEvent(ev *parse.Event, res aggregate.Resource)
	AddServiceCheck(sc *parse.ServiceCheck, res aggregate.Resource)
}

// Config configures every worker of a receiver.
type Config struct {
	// BatchSize is the Batcher's size in samples.
	BatchSize int
	// InternerSize and InternerMaxLen bound each worker's interner.
	InternerSize, InternerMaxLen int
	// MaxNameLength and MaxTagsLength bound a line's metric name and tags field (0: the parser's
	// defaults).
	MaxNameLength, MaxTagsLength int
	// ClientOrigin honours the origin clients send: the `|c:` container id or cgroup inode, the
	// `|e:` external data and the `|card:` cardinality; when false all three are ignored.
	ClientOrigin bool

	// Metric names go through the mapper, then the namespace, then the blocklist, in the
	// Agent's order; each is off when unset.
	//
	// Mapper renames metrics by the mapper profiles; each worker caches MapperCacheSize results.
	Mapper          *mapper.Rules
	MapperCacheSize int
	// Namespace is prefixed to every metric name ('.' is appended when missing) except those
	// starting with one of NamespaceExclusions.
	Namespace           string
	NamespaceExclusions []string
	// Blocklist drops the samples whose name (after the mapper and the namespace) is one of its
	// entries or, with BlocklistMatchPrefix, starts with one; they are counted in Stats.Blocked.
	Blocklist            []string
	BlocklistMatchPrefix bool
	// HistogramToDistribution also feeds every histogram (`h`) and timer (`ms`) sample as a
	// distribution (`d`) named DistributionPrefix + its name, with the same tags, rate and
	// origin, as the Agent's histogram_copy_to_distribution does (the Agent parses `ms` as a
	// histogram).
	HistogramToDistribution bool
	DistributionPrefix      string
	// Inodes maps the cgroup inode of `|c:in-<inode>` to a container id (with ClientOrigin); nil
	// leaves inodes unresolved.
	Inodes InodeResolver
}

// InodeResolver maps a cgroup v2 inode to the id of its container, "" when unknown. It must be
// safe for concurrent use; origin.InodeResolver is one.
type InodeResolver interface {
	ContainerID(inode uint64) string
}

// Stats are counters shared by all workers; each worker publishes its local counts once per
// queue batch so the hot loop touches no shared cache line.
type Stats struct {
	Lines         atomic.Uint64 // non-empty lines read
	Samples       atomic.Uint64 // metric samples handed to the aggregator
	Blocked       atomic.Uint64 // metric samples dropped by the blocklist
	Events        atomic.Uint64
	ServiceChecks atomic.Uint64
	Rejected      [32]atomic.Uint64 // indexed by parse.Reason
	InternHits    atomic.Uint64
	InternMisses  atomic.Uint64
	InternResets  atomic.Uint64
}

// Worker parses packets and feeds the aggregator.
type Worker struct {
	cfg      Config
	pool     *packets.Pool
	interner *intern.Interner
	parser   *parse.Parser
	batcher  *Batcher
	logs     LogSink
	stats    *Stats
	epoch    time.Time
	// mapper and names rename metrics (nil when their options are off).
	mapper *mapper.Mapper
	names  *names

	prefixed []byte // scratch: the prefixed name of a distribution copy

	// Counts not yet published to stats.
	lines, samples, events, checks uint64
	blocked                        uint64 // samples dropped by the blocklist
	rejected                       [32]uint64
	published                      struct{ hits, misses, resets uint64 }
}

// New returns a worker feeding agg and logs, giving packets back to pool.
func New(cfg Config, pool *packets.Pool, agg *aggregate.Aggregator, logs LogSink, stats *Stats, epoch time.Time) *Worker {
	size := cfg.BatchSize
	if size <= 0 {
		size = DefaultBatchSize
	}
	in := intern.New(cfg.InternerSize, cfg.InternerMaxLen)
	p := parse.New(in)
	if cfg.MaxNameLength > 0 || cfg.MaxTagsLength > 0 {
		p.SetMaxKeyLengths(cfg.MaxNameLength, cfg.MaxTagsLength)
	}
	w := &Worker{
		cfg: cfg, pool: pool, interner: in, parser: p,
		batcher: NewBatcher(size, agg.NewFeeder(size)), logs: logs, stats: stats, epoch: epoch,
		names: newNames(cfg.Namespace, cfg.NamespaceExclusions, cfg.Blocklist, cfg.BlocklistMatchPrefix, cfg.InternerSize),
	}
	if cfg.Mapper != nil {
		w.mapper = cfg.Mapper.NewMapper(cfg.MapperCacheSize)
	}
	return w
}

// Run processes batches until queue is closed and drained.
func (w *Worker) Run(queue <-chan packets.Packets) {
	for batch := range queue {
		w.Process(batch)
	}
}

// Process parses every packet of batch, gives the packets back to the pool and hands every
// sample to the aggregator before returning.
func (w *Worker) Process(batch packets.Packets) {
	w.batcher.SetStamp(int64(time.Since(w.epoch)))
	for _, p := range batch {
		w.processPacket(p)
		w.pool.Put(p)
	}
	w.batcher.Drain()
	w.publish()
}

func (w *Worker) processPacket(p *packets.Packet) {
	rest := p.Contents
	for len(rest) > 0 {
		var line []byte
		line, rest = parse.NextLine(rest)
		if len(line) == 0 {
			continue
		}
		w.lines++
		switch parse.LineKind(line) {
		case parse.KindMetric:
			w.parseMetric(line, p.Origin)
		case parse.KindEvent:
			ev, err := w.parser.ParseEvent(line)
			if err != nil {
				w.reject(err)
				continue
			}
			w.events++
			w.logs.AddEvent(&ev, w.resource(ev.Hostname, w.originOf(originFields{
				local: ev.ContainerID, external: ev.ExternalData, podUID: ev.PodUID,
				card: ev.Cardinality, cardTag: ev.CardinalityTag,
			}, p.Origin)))
		case parse.KindServiceCheck:
			sc, err := w.parser.ParseServiceCheck(line)
			if err != nil {
				w.reject(err)
				continue
			}
			w.checks++
			w.logs.AddServiceCheck(&sc, w.resource(sc.Hostname, w.originOf(originFields{
				local: sc.ContainerID, external: sc.ExternalData, podUID: sc.PodUID,
				card: sc.Cardinality, cardTag: sc.CardinalityTag,
			}, p.Origin)))
		}
	}
}

func (w *Worker) parseMetric(line []byte, packetOrigin string) {
	b := w.batcher
	n := len(b.samples)
	samples, tags, err := w.parser.AppendSamples(b.samples, b.tags, line)
	if err != nil {
		w.reject(err)
		return
	}
	b.samples, b.tags = samples, tags
	if (w.mapper != nil || w.names != nil) && !w.rename(n) {
		return
	}
	// The samples of a packed line share their origin fields: decide the origin once.
	first := &samples[n]
	o := w.originOf(originFields{
		local: first.ContainerID, external: first.ExternalData, podUID: first.PodUID,
		card: first.Cardinality, cardTag: first.CardinalityTag,
	}, packetOrigin)
	for i := n; i < len(samples); i++ {
		s := &samples[i]
		s.ContainerID, s.ExternalData, s.PodUID = o.containerID, o.external, o.podUID
	}
	w.samples += uint64(len(samples) - n)
	if w.cfg.HistogramToDistribution {
		w.copyToDistribution(n)
	}
	if b.full() {
		b.Flush()
	}
}

// rename applies the mapper, the namespace and the blocklist, in the Agent's order, to the
// samples of the line just parsed (b.samples[n:], which share one name, tags slice and host).
// Mapper tags are appended to the batch's tag buffer right after the line's own tags, which are
// the last in it, so the samples' Tags stay one slice of the buffer. It reports false when the
// line is blocked: its samples and tags are taken off the batch and counted.
func (w *Worker) rename(n int) bool {
	b := w.batcher
	first := &b.samples[n]
	name, tags, host := first.Name, first.Tags, first.Host
	tagStart := len(b.tags) - len(tags)
	if w.mapper != nil {
		if r := w.mapper.Map(name); r != nil {
			name = r.Name
			if len(r.Tags) > 0 {
				b.tags = append(b.tags, r.Tags...)
				tags = b.tags[tagStart:len(b.tags):len(b.tags)]
			}
			if r.HasHost {
				host = r.Host // a `host:` tag read after mapping, as the Agent does
			}
		}
	}
	if w.names != nil {
		var blocked bool
		if name, blocked = w.names.apply(name); blocked {
			w.blocked += uint64(len(b.samples) - n)
			clear(b.samples[n:])
			b.samples = b.samples[:n]
			clear(b.tags[tagStart:])
			b.tags = b.tags[:tagStart]
			return false
		}
	}
	for i := n; i < len(b.samples); i++ {
		s := &b.samples[i]
		s.Name, s.Tags, s.Host = name, tags, host
	}
	return true
}

// copyToDistribution appends a distribution copy of each sample from index n of the batch when
// they are histogram or timer samples (one line: one type, one name for all of them).
func (w *Worker) copyToDistribution(n int) {
	b := w.batcher
	end := len(b.samples)
	if n == end || (b.samples[n].Type != parse.Histogram && b.samples[n].Type != parse.Timer) {
		return
	}
	name := b.samples[n].Name
	if p := w.cfg.DistributionPrefix; p != "" {
		w.prefixed = append(append(w.prefixed[:0], p...), name...)
		name = w.interner.Get(w.prefixed)
	}
	for i := n; i < end; i++ {
		c := b.samples[i]
		c.Name, c.Type = name, parse.Distribution
		b.samples = append(b.samples, c)
	}
	w.samples += uint64(end - n)
}

// originFields are the origin fields of one line as parsed: the `|c:` local data, the `|e:`
// external data, the `dd.internal.entity_id` tag, the `|card:` field and the
// `dd.internal.card` tag.
type originFields struct {
	local, external, podUID, card, cardTag string
}

// lineOrigin is the origin a line is given: its resource without the host.
type lineOrigin struct {
	containerID, external, podUID string
}

// originOf applies the Datadog Agent's origin rules (its DogStatsD origin detection, in the
// default, non-unified mode) to one line that came with packetOrigin (the socket's container):
//   - A cardinality of "none" drops every origin, the socket's included: that is the `|card:`
//     field when client origin is honoured (the Agent reads it only then), else the first
//     `dd.internal.card` tag. Other values change nothing here: they choose which of the
//     Agent's orchestrator tags it adds, and this receiver adds none.
//   - A `dd.internal.entity_id` pod uid becomes k8s.pod.uid, always (the Agent honours it
//     without any option). With one, or with the value "none" (no pod), the client's `|c:`
//     container is not used, as in the Agent; the socket's container is kept.
//   - Otherwise, when client origin is honoured, the client's `|c:` container id, or the
//     container of the cgroup inode it sent instead, wins over the socket's.
//   - The `|e:` external data is kept when client origin is honoured.
func (w *Worker) originOf(f originFields, packetOrigin string) lineOrigin {
	card := f.cardTag
	if w.cfg.ClientOrigin && f.card != "" {
		card = f.card
	}
	if card == "none" {
		return lineOrigin{}
	}
	o := lineOrigin{containerID: packetOrigin}
	if !w.cfg.ClientOrigin {
		if f.podUID != "none" {
			o.podUID = f.podUID
		}
		return o
	}
	o.external = f.external
	switch f.podUID {
	case "":
		if f.local != "" {
			if id := w.clientContainer(f.local); id != "" {
				o.containerID = id
			}
		}
	case "none":
	default:
		o.podUID = f.podUID
	}
	return o
}

// clientContainer returns the container a client names in its `|c:` local data: the container
// id when it sends one, else the container of its cgroup inode.
func (w *Worker) clientContainer(local string) string {
	ld := parse.ParseLocalData(local)
	if ld.ContainerID != "" || ld.Inode == 0 || w.cfg.Inodes == nil {
		return ld.ContainerID
	}
	return w.cfg.Inodes.ContainerID(ld.Inode)
}

func (w *Worker) resource(host string, o lineOrigin) aggregate.Resource {
	return aggregate.Resource{Host: host, ContainerID: o.containerID, ExternalData: o.external, PodUID: o.podUID}
}

func (w *Worker) reject(err error) {
	w.rejected[parse.ReasonOf(err)%32]++
}

func (w *Worker) publish() {
	s := w.stats
	s.Lines.Add(w.lines)
	s.Samples.Add(w.samples)
	if w.blocked != 0 {
		s.Blocked.Add(w.blocked)
		w.blocked = 0
	}
	s.Events.Add(w.events)
	s.ServiceChecks.Add(w.checks)
	w.lines, w.samples, w.events, w.checks = 0, 0, 0, 0
	for r, n := range w.rejected {
		if n != 0 {
			s.Rejected[r].Add(n)
			w.rejected[r] = 0
		}
	}
	h, m, r := w.interner.Hits(), w.interner.Misses(), w.interner.Resets()
	s.InternHits.Add(h - w.published.hits)
	s.InternMisses.Add(m - w.published.misses)
	s.InternResets.Add(r - w.published.resets)
	w.published.hits, w.published.misses, w.published.resets = h, m, r
}
