package dogstatsdreceiver

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receiverhelper"
	"go.uber.org/zap"

	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/aggregate"
	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/intern"
	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/listener"
	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/mapper"
	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/metadata"
	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/origin"
	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/packets"
	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/parse"
	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/worker"
)

// dogstatsdReceiver runs the pipeline: listeners -> packet buffers -> bounded queue -> workers
// (parser, interner, batcher) -> aggregator shards, flushed every interval to the metrics
// consumer; events and service checks are held in a log buffer flushed at the same time.
type dogstatsdReceiver struct {
	cfg     *Config
	set     receiver.Settings
	metrics consumer.Metrics
	logs    consumer.Logs
	release func() // forgets the shared instance

	startOnce, stopOnce sync.Once
	started             bool

	obs         *receiverhelper.ObsReport
	telemetry   *metadata.TelemetryBuilder
	pool        *packets.Pool
	queue       chan packets.Packets
	agg         *aggregate.Aggregator
	logBuf      *logBuffer
	workerStats worker.Stats
	listeners   []listener.Listener
	workersDone sync.WaitGroup
	flushStop   chan struct{}
	flushDone   chan struct{}
	lastFlush   time.Time
}

// cgroupRoot is where the cgroup v2 hierarchy is read to resolve the inodes clients send; tests
// point it at a fake hierarchy.
var cgroupRoot = origin.DefaultCgroupRoot

func newReceiver(cfg *Config, set receiver.Settings, release func()) *dogstatsdReceiver {
	return &dogstatsdReceiver{cfg: cfg, set: set, release: release}
}

func workerCount(configured int) int {
	if configured > 0 {
		return configured
	}
	return max(2, runtime.NumCPU()-2)
}

// Start binds every enabled transport before it returns, so a bad address fails the collector's
// start. The metrics and logs pipelines share one instance; only the first Start runs.
func (r *dogstatsdReceiver) Start(_ context.Context, _ component.Host) error {
	var err error
	r.startOnce.Do(func() { err = r.start() })
	return err
}

func (r *dogstatsdReceiver) start() error {
	cfg := r.cfg
	var err error
	transports := strings.Join(enabledTransports(cfg), ",")
	// One ObsReport serves both signals: it has a Start/End pair per signal.
	if r.obs, err = receiverhelper.NewObsReport(receiverhelper.ObsReportSettings{
		ReceiverID: r.set.ID, Transport: transports, ReceiverCreateSettings: r.set,
	}); err != nil {
		return err
	}
	workers := workerCount(cfg.Workers)
	r.pool = packets.NewPool(cfg.BufferSize)
	r.queue = make(chan packets.Packets, cfg.QueueSize)
	r.agg = aggregate.New(aggregateConfig(cfg, r.set.BuildInfo.Version), workers)
	r.logBuf = newLogBuffer(cfg.MaxPendingLogs, metadata.ScopeName, r.set.BuildInfo.Version, cfg.ExtraTags)
	var sink worker.LogSink = r.logBuf
	if r.logs == nil {
		sink = discardLogs{}
		r.set.Logger.Info("events and service checks are counted and discarded: the receiver is in no logs pipeline")
	}
	rules, err := mapper.Compile(cfg.mapperProfiles())
	if err != nil {
		return err
	}
	wcfg := worker.Config{
		BatchSize: cfg.BatchSize, InternerSize: cfg.StringInternerSize, InternerMaxLen: intern.DefaultMaxLen,
		ClientOrigin:  cfg.OriginDetection.ClientOrigin,
		MaxNameLength: cfg.MaxNameLength, MaxTagsLength: cfg.MaxTagsLength,
		Mapper: rules, MapperCacheSize: cfg.MapperCacheSize,
		Namespace: cfg.MetricNamespace, NamespaceExclusions: cfg.MetricNamespaceExclusions,
		Blocklist: cfg.MetricBlocklist, BlocklistMatchPrefix: cfg.MetricBlocklistMatchPrefix,
		HistogramToDistribution: cfg.HistogramCopyToDistribution,
		DistributionPrefix:      cfg.HistogramCopyToDistributionPrefix,
	}
	if cfg.OriginDetection.ClientOrigin {
		// One inode -> container cache for all workers; it walks the cgroup hierarchy only when
		// a client sends an inode it does not know, at most once a second.
		wcfg.Inodes = origin.NewInodeResolver(origin.InodeConfig{Root: cgroupRoot})
	}
	epoch := time.Now()
	for range workers {
		w := worker.New(wcfg, r.pool, r.agg, sink, &r.workerStats, epoch)
		r.workersDone.Go(func() { w.Run(r.queue) })
	}

	r.listeners = newListeners(cfg, listener.Settings{
		Pool: r.pool, Out: r.queue, Logger: r.set.Logger,
		Buffer: packets.BufferConfig{
			Size: cfg.PacketBufferSize, FlushTimeout: cfg.PacketBufferFlushTimeout, BlockWhenFull: cfg.BlockWhenQueueFull,
		},
	})
	for i, l := range r.listeners {
		if err := l.Start(); err != nil {
			r.listeners = r.listeners[:i]
			r.started = true
			r.stop(context.Background())
			return err
		}
		fields := []zap.Field{zap.String("transport", l.Stats().Transport.String()), zap.Stringer("address", l.Addr())}
		if rb := l.Stats().ReceiveBuffer.Load(); rb > 0 {
			fields = append(fields, zap.Int64("receive_buffer_bytes", rb)) // what the kernel granted
		}
		r.set.Logger.Info("DogStatsD listener started", fields...)
	}
	if r.telemetry, err = newTelemetry(r); err != nil {
		r.started = true
		r.stop(context.Background())
		return err
	}

	r.lastFlush = time.Now()
	r.flushStop = make(chan struct{})
	r.flushDone = make(chan struct{})
	go r.flushLoop()
	r.started = true
	return nil
}

// mappings are the aggregator's mappings by their configuration names (timerMappings).
var mappings = map[string]aggregate.Mapping{
	"exponential_histogram": aggregate.MappingExponentialHistogram,
	"histogram":             aggregate.MappingHistogram,
	"summary":               aggregate.MappingSummary,
	"agent_aggregates":      aggregate.MappingAgentAggregates,
	"gauge":                 aggregate.MappingGauge,
	"disabled":              aggregate.MappingDisabled,
}

func aggregateConfig(cfg *Config, version string) aggregate.Config {
	ac := aggregate.Config{
		MaxContexts: cfg.MaxContexts, ExpiryIntervals: expiryIntervals(cfg.Expiry, cfg.AggregationInterval),
		MaxTimestamped: cfg.MaxTimestamped, TimerMapping: mappings[cfg.TimerHistogramMapping],
		ExplicitBounds: cfg.ExplicitBuckets, SummaryQuantiles: cfg.SummaryQuantiles,
		MaxBuckets: cfg.MaxHistogramBuckets, MonotonicCounters: cfg.MonotonicCounters,
		MetricTypeAttribute: cfg.EnableMetricType,
		HistogramAggregates: cfg.HistogramAggregates, HistogramPercentiles: cfg.percents(), MaxHistogramValues: cfg.MaxHistogramValues,
		ExtraTags: cfg.ExtraTags, ScopeName: metadata.ScopeName, ScopeVersion: version,
	}
	if p := cfg.perType; p != nil {
		ac.Types[parse.Timer] = p.Timer.aggregate()
		ac.Types[parse.Histogram] = p.Histogram.aggregate()
		ac.Types[parse.Distribution] = p.Distribution.aggregate()
	}
	return ac
}

// expiryIntervals is the number of whole intervals that cover expiry.
func expiryIntervals(expiry, interval time.Duration) int {
	return int((expiry + interval - 1) / interval)
}

// emitPoints bounds the data points of one ConsumeMetrics call: an interval with more contexts
// is handed on in parts, so a flood of contexts never holds all of an interval's pdata at once.
const emitPoints = 8192

// flushLoop emits at every wall-clock multiple of the aggregation interval. An interval is
// stamped with its nominal end, the multiple itself, not with the moment the timer fired a
// little after it: its points then fall in the window of a downstream aggregator (fairshare's
// windows end on whole seconds) that ends with the interval, instead of in the next one, which
// would hold them a window longer.
func (r *dogstatsdReceiver) flushLoop() {
	defer close(r.flushDone)
	iv := r.cfg.AggregationInterval
	timer := time.NewTimer(time.Until(time.Now().Truncate(iv).Add(iv)))
	defer timer.Stop()
	for {
		select {
		case <-r.flushStop:
			return
		case now := <-timer.C:
			end := now.Truncate(iv)
			r.flush(context.Background(), end)
			timer.Reset(time.Until(end.Add(iv)))
		}
	}
}

// flush emits what the aggregator and the log buffer hold. Data the next consumer refuses is
// counted by the obsreport as refused and logged: a push receiver cannot ask for it again.
func (r *dogstatsdReceiver) flush(ctx context.Context, now time.Time) {
	r.agg.FlushTo(r.lastFlush, now, emitPoints, func(md pmetric.Metrics) {
		if r.metrics == nil {
			return
		}
		n := md.DataPointCount()
		octx := r.obs.StartMetricsOp(ctx)
		err := r.metrics.ConsumeMetrics(octx, md)
		r.obs.EndMetricsOp(octx, metadata.Type.String(), n, err)
		if err != nil {
			r.set.Logger.Error("next consumer refused metrics", zap.Int("data_points", n), zap.Error(err))
		}
	})
	r.lastFlush = now
	if ld, n := r.logBuf.take(); n > 0 && r.logs != nil {
		octx := r.obs.StartLogsOp(ctx)
		err := r.logs.ConsumeLogs(octx, ld)
		r.obs.EndLogsOp(octx, metadata.Type.String(), n, err)
		if err != nil {
			r.set.Logger.Error("next consumer refused logs", zap.Int("log_records", n), zap.Error(err))
		}
	}
}

// Shutdown stops the listeners (they flush what they read into the queue), lets the workers
// drain the queue, and emits everything aggregated before it returns. It is safe without Start.
func (r *dogstatsdReceiver) Shutdown(ctx context.Context) error {
	var err error
	r.stopOnce.Do(func() {
		err = r.stop(ctx)
		r.release()
	})
	return err
}

func (r *dogstatsdReceiver) stop(ctx context.Context) error {
	if !r.started {
		return nil
	}
	r.started = false
	for _, l := range r.listeners {
		l.Stop()
	}
	if r.flushStop != nil {
		close(r.flushStop)
		<-r.flushDone
	}
	close(r.queue)
	drained := make(chan struct{})
	go func() { r.workersDone.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-ctx.Done():
		// Out of time: emit what the workers aggregated so far rather than nothing; the
		// batches still queued are lost, and said so.
		left := len(r.queue)
		r.set.Logger.Error("dogstatsd: shutdown deadline passed before the workers emptied the queue; emitting what they aggregated",
			zap.Int("batches_not_processed", left), zap.Error(ctx.Err()))
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), lastFlushTimeout)
		r.flush(fctx, time.Now())
		cancel()
		return errors.Join(errors.New("dogstatsd: shutdown timed out before the workers drained the queue"), ctx.Err())
	}
	r.flush(ctx, time.Now())
	if r.telemetry != nil {
		r.telemetry.Shutdown()
	}
	return nil
}

// lastFlushTimeout bounds the emission of what was aggregated when Shutdown's own deadline
// has already passed.
const lastFlushTimeout = 5 * time.Second

// discardLogs is the log sink when no logs pipeline uses the receiver.
type discardLogs struct{}

func (discardLogs) AddEvent(*parse.Event, aggregate.Resource)               {}
func (discardLogs) AddServiceCheck(*parse.ServiceCheck, aggregate.Resource) {}
