// Package aggregate merges metric points into rows keyed by metric identity and attribute set,
// one set of rows per wall-clock window of the metric's resolution, and hands closed windows out
// for sampling and export (StatsHouse's aggregation between time and between hosts).
//
// A Store is not safe for concurrent use: the processor serialises the calls on one store with
// its lock. Several stores can share one Limits and run concurrently (a sharded processor).
package aggregate

import (
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cespare/xxhash/v2"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/doghouse-otel/doghouse/processor/fairshareprocessor/internal/cardinality"
)

// OverflowAttribute marks the row that collects a metric's points beyond max_rows.
const OverflowAttribute = "otel.metric.overflow"

// MaxHostOutput is the attribute that names a merged row's top contributor.
const MaxHostOutput = "fairshare.max_host"

// Class is what configuration says about one metric name.
type Class struct {
	Resolution time.Duration
	Weight     float64
	Round      bool
}

// Options configures a Store.
type Options struct {
	// Classify returns the resolution, weight and rounding for a metric name.
	Classify func(name string) Class
	// MergeAttributes are removed from every key, so rows of many sources merge.
	MergeAttributes []string
	// MaxHostAttribute (one of MergeAttributes) names a row's top contributor; "" disables it.
	MaxHostAttribute string
	// KeyResourceAttributes are the resource attributes kept in the key; "*" keeps all.
	KeyResourceAttributes []string
	// MaxDelay is how old a point may be and still count (in the open window when its own has closed).
	MaxDelay time.Duration
	// Grace is how long after its end a window still takes points before it is flushed.
	Grace time.Duration
	// SpreadFlush sends a window of R seconds as R shards over R seconds.
	SpreadFlush bool
	// MaxMetrics bounds the metric identities tracked at once. A new metric beyond it takes the
	// place of the least recently used metric that holds no rows; when every tracked metric still
	// holds rows, its points fold into the overflow metric of its kind. 0 means no bound.
	MaxMetrics int
	// MaxRows bounds the rows held in all windows; MaxRowsPerMetric the rows of one metric in one window.
	MaxRows          int
	MaxRowsPerMetric int
	// Limits counts what MaxMetrics and MaxRows bound. Stores that share one Limits share the
	// bounds: together they track at most MaxMetrics metrics and hold at most MaxRows rows (plus
	// overflow rows). Nil gives the store a Limits of its own.
	Limits *Limits
	// SpillOverflow makes Add move the metrics beyond MaxMetrics aside (TakeSpill) instead of
	// merging them into an overflow metric here, so that the store holding the overflow metrics
	// of a sharded processor takes them with AddOverflow.
	SpillOverflow bool
	// GaugeStats emits <name>.min, <name>.max and <name>.count next to each gauge.
	GaugeStats bool
	// Rand drives the random rounding of scaled counts (Emit only).
	Rand *rand.Rand
}

// Limits counts the tracked metrics and the held rows of one or more stores, against
// Options.MaxMetrics and Options.MaxRows. It is safe for concurrent use.
type Limits struct {
	metrics, rows atomic.Int64
}

// Metrics returns the metric identities tracked against MaxMetrics.
func (l *Limits) Metrics() int { return int(l.metrics.Load()) }

// reserve takes one unit of c if that keeps it within limit (0: no limit). Units given back
// after a failed attempt may make a concurrent attempt fail too, never succeed beyond limit.
func reserve(c *atomic.Int64, limit int) bool {
	if n := c.Add(1); limit > 0 && n > int64(limit) {
		c.Add(-1)
		return false
	}
	return true
}

// Stats counts what happened to incoming points. Fields only grow.
type Stats struct {
	Points        uint64 // merged into a row
	PassThrough   uint64 // forwarded unchanged: cumulative or unspecified temporality
	Unmergeable   uint64 // forwarded unchanged: histogram bounds differ from the row's
	Late          uint64 // their window had closed: merged into the open window
	TooLate       uint64 // older than max_delay: dropped
	FutureClamped uint64 // timestamp after now: clamped to now
	Invalid       uint64 // NaN or no recorded value: dropped
	Overflow      uint64 // merged into an overflow row
	// MetricOverflow counts points of metrics beyond MaxMetrics, merged into an overflow metric
	// (they are also counted in Points).
	MetricOverflow uint64
	MetricsCreated uint64 // metric identities created
	MetricsEvicted uint64 // least recently used idle metrics forgotten to make room
}

// Add adds the counters of o to st.
func (st *Stats) Add(o Stats) {
	st.Points += o.Points
	st.PassThrough += o.PassThrough
	st.Unmergeable += o.Unmergeable
	st.Late += o.Late
	st.TooLate += o.TooLate
	st.FutureClamped += o.FutureClamped
	st.Invalid += o.Invalid
	st.Overflow += o.Overflow
	st.MetricOverflow += o.MetricOverflow
	st.MetricsCreated += o.MetricsCreated
	st.MetricsEvicted += o.MetricsEvicted
}

// since returns the growth of the counters from before to st.
func (st Stats) since(before Stats) Stats {
	return Stats{
		Points:         st.Points - before.Points,
		PassThrough:    st.PassThrough - before.PassThrough,
		Unmergeable:    st.Unmergeable - before.Unmergeable,
		Late:           st.Late - before.Late,
		TooLate:        st.TooLate - before.TooLate,
		FutureClamped:  st.FutureClamped - before.FutureClamped,
		Invalid:        st.Invalid - before.Invalid,
		Overflow:       st.Overflow - before.Overflow,
		MetricOverflow: st.MetricOverflow - before.MetricOverflow,
		MetricsCreated: st.MetricsCreated - before.MetricsCreated,
		MetricsEvicted: st.MetricsEvicted - before.MetricsEvicted,
	}
}

// Metric is the state of one metric identity (name, type, unit, temporality, monotonicity).
type Metric struct {
	ID          uint32
	Name        string
	Unit        string
	Description string
	Type        pmetric.MetricType
	Temporality pmetric.AggregationTemporality
	Monotonic   bool
	Class       Class
	Cardinality cardinality.Hourly

	kind     kind
	resNs    int64
	scope    uint32
	lastWin  *Window
	lastSeen int64
	rows     int  // rows held in open and closing windows
	overflow bool // the metric that takes the points of metrics beyond MaxMetrics

	newer, older *Metric // the recency list, most recently used first
}

type metricKey struct {
	name, unit string
	typ        pmetric.MetricType
	temp       pmetric.AggregationTemporality
	mono       bool
}

type resource struct {
	attrs    pcommon.Map // the kept attributes, for output
	key      string
	lastSeen int64
}

// source is what a ResourceMetrics gives its points: the kept resource id and the max-host
// value the resource carries (a point's own attribute wins over it).
type source struct {
	res     uint32
	host    string
	hasHost bool
}

// Store holds the open and flushing windows and the metric and resource tables.
type Store struct {
	opt Options
	enc keyEncoder
	lim *Limits

	metrics    []*Metric
	metricIdx  map[metricKey]uint32
	freeMetric []uint32
	recent     *Metric // most recently used metric; recent.older ... is the recency list
	oldest     *Metric
	tracked    int // metrics counted against MaxMetrics (overflow metrics are not)
	newMetrics NewMetrics
	resources  []*resource
	resIdx     map[string]uint32
	freeRes    []uint32
	scopes     [][2]string
	scopeIdx   map[[2]string]uint32
	hosts      map[string]string

	windows []*Window // every window ever made, by id; recycled through pool
	open    []*Window // taking points
	closing []*Window // closed, shards still to flush
	pool    []*Window
	rows    int // rows held in open and closing windows

	win         *Window // the window of the point being placed
	keyBuf      []byte
	overflowKey []byte
	lastPurge   int64
	emit        emitter
	stats       Stats

	// The metrics moved aside by Add (SpillOverflow), and where the next one goes.
	spill        pmetric.Metrics
	spilled      bool
	cur          spillCursor
	intoOverflow bool // AddOverflow is running: every metric is an overflow metric
}

// spillCursor is the input ResourceMetrics and ScopeMetrics that Add is in, and their copies in
// the spill once a metric of them was moved there.
type spillCursor struct {
	rm, spillRM            pmetric.ResourceMetrics
	sm, spillSM            pmetric.ScopeMetrics
	hasSpillRM, hasSpillSM bool
}

// New returns an empty Store.
func New(opt Options) *Store {
	if opt.Classify == nil {
		opt.Classify = func(string) Class { return Class{Resolution: time.Second, Weight: 1} }
	}
	if opt.Rand == nil {
		opt.Rand = rand.New(rand.NewPCG(1, 2))
	}
	if opt.Limits == nil {
		opt.Limits = &Limits{}
	}
	s := &Store{
		opt:       opt,
		enc:       keyEncoder{drop: opt.MergeAttributes, maxHost: opt.MaxHostAttribute},
		lim:       opt.Limits,
		metricIdx: map[metricKey]uint32{},
		resIdx:    map[string]uint32{},
		scopeIdx:  map[[2]string]uint32{},
		hosts:     map[string]string{},
	}
	s.overflowKey = appendKV(nil, OverflowAttribute, pcommon.NewValueBool(true))
	return s
}

// Stats returns the point counters so far.
func (s *Store) Stats() Stats { return s.stats }

// Rows returns the number of rows held in all windows.
func (s *Store) Rows() int { return s.rows }

// Metric returns the metric with the given id.
func (s *Store) Metric(id uint32) *Metric { return s.metrics[id] }

// ResourceAttrs returns the kept attributes of resource id.
func (s *Store) ResourceAttrs(id uint32) pcommon.Map { return s.resources[id].attrs }

// Add merges the points of md into windows, as of now (unix ns), and returns how much the
// counters grew and the rows it created. Merged and dropped points are removed from md; what is
// left (cumulative data, kinds that cannot merge) is to be forwarded unchanged. With
// SpillOverflow, the metrics beyond MaxMetrics are moved from md to the spill (TakeSpill).
func (s *Store) Add(md pmetric.Metrics, now int64) (Stats, int) { return s.AddIf(md, now, nil) }

// AddIf is Add for the metrics whose name keep accepts (every metric when keep is nil); it
// leaves the others in md untouched, for the store they belong to, and takes in only the
// resources that hold metrics it accepts.
func (s *Store) AddIf(md pmetric.Metrics, now int64, keep func(name string) bool) (Stats, int) {
	before, rows := s.stats, s.rows
	md.ResourceMetrics().RemoveIf(func(rm pmetric.ResourceMetrics) bool {
		var src source
		resolved := keep == nil
		if resolved {
			src = s.resource(rm.Resource(), now)
		}
		s.cur.rm, s.cur.hasSpillRM = rm, false
		rm.ScopeMetrics().RemoveIf(func(sm pmetric.ScopeMetrics) bool {
			s.cur.sm, s.cur.hasSpillSM = sm, false
			sm.Metrics().RemoveIf(func(m pmetric.Metric) bool {
				if keep != nil && !keep(m.Name()) {
					return false
				}
				if !resolved {
					src, resolved = s.resource(rm.Resource(), now), true
				}
				return s.addMetric(m, sm.Scope(), src, now)
			})
			return sm.Metrics().Len() == 0
		})
		return rm.ScopeMetrics().Len() == 0
	})
	s.cur = spillCursor{}
	if now-s.lastPurge >= int64(time.Minute) {
		s.purge(now)
	}
	return s.stats.since(before), s.rows - rows
}

// AddOverflow merges the points of md, metrics that other stores sharing this one's Limits
// moved aside (TakeSpill), into the overflow metrics of their kinds, as Add would have merged
// them in a store of their own. It returns what Add returns.
func (s *Store) AddOverflow(md pmetric.Metrics, now int64) (Stats, int) {
	s.intoOverflow = true
	defer func() { s.intoOverflow = false }()
	return s.Add(md, now)
}

// TakeSpill returns the metrics Add moved aside since the last take and whether there are any.
func (s *Store) TakeSpill() (pmetric.Metrics, bool) {
	md, ok := s.spill, s.spilled
	s.spill, s.spilled = pmetric.Metrics{}, false
	return md, ok
}

// spillMetric moves m, with copies of its resource and scope, to the spill.
func (s *Store) spillMetric(m pmetric.Metric) bool {
	c := &s.cur
	if !s.spilled {
		s.spill, s.spilled = pmetric.NewMetrics(), true
	}
	if !c.hasSpillRM {
		c.spillRM, c.hasSpillRM = s.spill.ResourceMetrics().AppendEmpty(), true
		c.rm.Resource().CopyTo(c.spillRM.Resource())
		c.spillRM.SetSchemaUrl(c.rm.SchemaUrl())
		c.hasSpillSM = false
	}
	if !c.hasSpillSM {
		c.spillSM, c.hasSpillSM = c.spillRM.ScopeMetrics().AppendEmpty(), true
		c.sm.Scope().CopyTo(c.spillSM.Scope())
		c.spillSM.SetSchemaUrl(c.sm.SchemaUrl())
	}
	m.MoveTo(c.spillSM.Metrics().AppendEmpty())
	return true
}

// resource returns the id of the resource's kept attributes and its max-host value.
func (s *Store) resource(r pcommon.Resource, now int64) source {
	attrs := r.Attributes()
	buf := s.keyBuf[:0]
	var host string
	var hasHost bool
	if all := len(s.opt.KeyResourceAttributes) == 1 && s.opt.KeyResourceAttributes[0] == "*"; all {
		buf, host, hasHost = s.enc.encode(buf, attrs)
	} else {
		s.enc.kvs = s.enc.kvs[:0]
		for _, k := range s.opt.KeyResourceAttributes {
			if v, ok := attrs.Get(k); ok && !s.enc.dropped(k) {
				s.enc.kvs = append(s.enc.kvs, kv{k, v})
			}
		}
		if s.opt.MaxHostAttribute != "" {
			if v, ok := attrs.Get(s.opt.MaxHostAttribute); ok {
				host, hasHost = v.AsString(), true
			}
		}
		sortKVs(s.enc.kvs)
		for _, p := range s.enc.kvs {
			buf = appendKV(buf, p.k, p.v)
		}
	}
	s.keyBuf = buf
	src := source{hasHost: hasHost}
	if hasHost {
		src.host = s.intern(host)
	}
	if id, ok := s.resIdx[string(buf)]; ok {
		s.resources[id].lastSeen = now
		src.res = id
		return src
	}
	rs := &resource{attrs: pcommon.NewMap(), key: string(buf), lastSeen: now}
	decodeKey(rs.attrs, buf, func(b []byte) string { return string(b) })
	var id uint32
	if n := len(s.freeRes); n > 0 {
		id, s.freeRes = s.freeRes[n-1], s.freeRes[:n-1]
		s.resources[id] = rs
	} else {
		id = uint32(len(s.resources))
		s.resources = append(s.resources, rs)
	}
	s.resIdx[rs.key] = id
	src.res = id
	return src
}

// intern returns a stored copy of a host name, so rows do not keep input buffers alive.
func (s *Store) intern(h string) string {
	if v, ok := s.hosts[h]; ok {
		return v
	}
	if len(s.hosts) >= 4096 {
		clear(s.hosts)
	}
	v := string(append([]byte(nil), h...))
	s.hosts[v] = v
	return v
}

// metric returns the state of m's identity, creating it on first sight. Beyond MaxMetrics it
// evicts the least recently used idle metric, or returns the overflow metric of the kind (nil
// with SpillOverflow: m is to be moved to the spill).
func (s *Store) metric(m pmetric.Metric, scope pcommon.InstrumentationScope, k kind, temp pmetric.AggregationTemporality, mono bool, now int64) *Metric {
	if s.intoOverflow {
		return s.overflowMetric(m.Type(), k, temp, scope, now)
	}
	key := metricKey{name: m.Name(), unit: m.Unit(), typ: m.Type(), temp: temp, mono: mono}
	if id, ok := s.metricIdx[key]; ok {
		ms := s.metrics[id]
		ms.lastSeen = now
		s.touch(ms)
		return ms
	}
	s.countNew(key.name)
	// An evicted metric hands its place under MaxMetrics to the new one.
	if !reserve(&s.lim.metrics, s.opt.MaxMetrics) && !s.evictIdle() {
		if s.opt.SpillOverflow {
			return nil
		}
		return s.overflowMetric(m.Type(), k, temp, scope, now)
	}
	s.tracked++
	s.stats.MetricsCreated++
	return s.newMetric(key, m.Description(), k, scope, now)
}

func (s *Store) newMetric(key metricKey, desc string, k kind, scope pcommon.InstrumentationScope, now int64) *Metric {
	cls := s.opt.Classify(key.name)
	if cls.Weight <= 0 {
		cls.Weight = 1
	}
	if cls.Resolution <= 0 {
		cls.Resolution = time.Second
	}
	sk := [2]string{scope.Name(), scope.Version()}
	sid, ok := s.scopeIdx[sk]
	if !ok {
		sid = uint32(len(s.scopes))
		s.scopes = append(s.scopes, sk)
		s.scopeIdx[sk] = sid
	}
	ms := &Metric{
		Name: key.name, Unit: key.unit, Description: desc, Type: key.typ,
		Temporality: key.temp, Monotonic: key.mono, Class: cls,
		kind: k, resNs: int64(cls.Resolution), scope: sid, lastSeen: now,
	}
	if n := len(s.freeMetric); n > 0 {
		ms.ID, s.freeMetric = s.freeMetric[n-1], s.freeMetric[:n-1]
		s.metrics[ms.ID] = ms
	} else {
		ms.ID = uint32(len(s.metrics))
		s.metrics = append(s.metrics, ms)
	}
	s.metricIdx[key] = ms.ID
	s.touch(ms)
	return ms
}

// maxNewPrefixes bounds the name prefixes NewMetrics tells apart between two takes.
const maxNewPrefixes = 1024

// NewMetrics counts the metric names that were not tracked when their points arrived, by
// prefix: the name up to its last '.'.
type NewMetrics struct {
	ByPrefix map[string]uint64
	Others   uint64 // names whose prefix came after maxNewPrefixes others
}

func (s *Store) countNew(name string) {
	prefix := name
	if i := strings.LastIndexByte(name, '.'); i > 0 {
		prefix = name[:i]
	}
	if s.newMetrics.ByPrefix == nil {
		s.newMetrics.ByPrefix = map[string]uint64{}
	}
	if _, ok := s.newMetrics.ByPrefix[prefix]; ok || len(s.newMetrics.ByPrefix) < maxNewPrefixes {
		s.newMetrics.ByPrefix[prefix]++
	} else {
		s.newMetrics.Others++
	}
}

// TakeNewMetrics returns the new metric names counted since the last take and starts over.
func (s *Store) TakeNewMetrics() NewMetrics {
	n := s.newMetrics
	s.newMetrics = NewMetrics{}
	return n
}

// OverflowMetricPrefix starts the names of the metrics that take the points of metrics beyond
// max_metrics, one per kind: fairshare.overflow.sum, .gauge, .histogram,
// .exponential_histogram, .summary. Their single row per resource carries otel.metric.overflow.
const OverflowMetricPrefix = "fairshare.overflow."

var overflowMetricNames = [...]string{
	kindSum:          OverflowMetricPrefix + "sum",
	kindGauge:        OverflowMetricPrefix + "gauge",
	kindHistogram:    OverflowMetricPrefix + "histogram",
	kindExpHistogram: OverflowMetricPrefix + "exponential_histogram",
	kindSummary:      OverflowMetricPrefix + "summary",
}

// overflowMetric returns the overflow metric of kind k, creating it outside MaxMetrics.
func (s *Store) overflowMetric(typ pmetric.MetricType, k kind, temp pmetric.AggregationTemporality, scope pcommon.InstrumentationScope, now int64) *Metric {
	key := metricKey{name: overflowMetricNames[k], typ: typ, temp: temp}
	if id, ok := s.metricIdx[key]; ok {
		ms := s.metrics[id]
		ms.lastSeen = now
		s.touch(ms)
		return ms
	}
	ms := s.newMetric(key, "Points of metrics beyond the processor's max_metrics.", k, scope, now)
	ms.overflow = true
	return ms
}

// touch moves ms to the front of the recency list.
func (s *Store) touch(ms *Metric) {
	if s.recent == ms {
		return
	}
	s.unlink(ms)
	ms.older = s.recent
	if s.recent != nil {
		s.recent.newer = ms
	}
	s.recent = ms
	if s.oldest == nil {
		s.oldest = ms
	}
}

func (s *Store) unlink(ms *Metric) {
	if ms.newer != nil {
		ms.newer.older = ms.older
	} else if s.recent == ms {
		s.recent = ms.older
	}
	if ms.older != nil {
		ms.older.newer = ms.newer
	} else if s.oldest == ms {
		s.oldest = ms.newer
	}
	ms.newer, ms.older = nil, nil
}

// evictScan is how many of the least recently used metrics evictIdle looks at for one that
// holds no rows.
const evictScan = 16

// evictIdle forgets one of the least recently used metrics that holds no rows in any window
// (so no row refers to its id) and reports whether it found one.
func (s *Store) evictIdle() bool {
	ms := s.oldest
	for range evictScan {
		if ms == nil {
			return false
		}
		if ms.rows == 0 && !ms.overflow {
			s.dropMetric(ms, false)
			s.stats.MetricsEvicted++
			return true
		}
		ms = ms.newer
	}
	return false
}

// dropMetric forgets ms, which holds no rows. Unless release is false (the place goes to the
// metric that evicts ms), its place under MaxMetrics is given back.
func (s *Store) dropMetric(ms *Metric, release bool) {
	delete(s.metricIdx, metricKey{name: ms.Name, unit: ms.Unit, typ: ms.Type, temp: ms.Temporality, mono: ms.Monotonic})
	s.unlink(ms)
	s.metrics[ms.ID] = nil
	s.freeMetric = append(s.freeMetric, ms.ID)
	if !ms.overflow {
		s.tracked--
		if release {
			s.lim.metrics.Add(-1)
		}
	}
}

// Metrics returns the number of this store's metric identities tracked against MaxMetrics.
func (s *Store) Metrics() int { return s.tracked }

// purge forgets metrics and resources unseen for two hours: no window can still hold their
// rows (resolutions are at most 60 s), and their hourly cardinality has rolled over.
func (s *Store) purge(now int64) {
	s.lastPurge = now
	const idle = int64(2 * time.Hour)
	for ms := s.oldest; ms != nil && ms.rows == 0 && now-ms.lastSeen > idle; ms = s.oldest {
		s.dropMetric(ms, true)
	}
	for key, id := range s.resIdx {
		if now-s.resources[id].lastSeen > idle {
			delete(s.resIdx, key)
			s.resources[id] = nil
			s.freeRes = append(s.freeRes, id)
		}
	}
}

// rowHash mixes the metric and resource ids into the attribute key's hash.
func rowHash(key []byte, metric, res uint32) uint64 {
	h := xxhash.Sum64(key) ^ (uint64(metric)<<32 | uint64(res))
	h *= 0x9e3779b97f4a7c15
	return h ^ h>>31
}

// Windows returns the number of windows the store has made: those holding rows and those kept
// for reuse. Each keeps the capacity of the largest window it held.
func (s *Store) Windows() int { return len(s.windows) }
