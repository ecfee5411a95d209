package chunkfileexporter

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.uber.org/zap"

	"github.com/doghouse-otel/doghouse/chunkfile"
	"github.com/doghouse-otel/doghouse/exporter/chunkfileexporter/internal/metadata"
)

// chunkExporter writes each push into the open segment before acknowledging it: the points
// join the current block and are written at once as a checkpoint frame. A push is written or,
// on error, rolled back and retried by exporterhelper, so a segment never holds half a batch
// and nothing acknowledged lives only in memory.
type chunkExporter struct {
	cfg *Config
	set exporter.Settings

	mu        sync.Mutex
	store     *store
	conv      converter
	telemetry *metadata.TelemetryBuilder
	stop      chan struct{}
	done      chan struct{}
}

func newExporter(cfg *Config, set exporter.Settings) *chunkExporter {
	return &chunkExporter{cfg: cfg, set: set}
}

func (e *chunkExporter) start(ctx context.Context, _ component.Host) error {
	tb, err := metadata.NewTelemetryBuilder(e.set.TelemetrySettings)
	if err != nil {
		return err
	}
	e.telemetry = tb
	compression := chunkfile.CompressionAuto
	if e.cfg.Compression == "none" {
		compression = chunkfile.CompressionNone
	}
	bg := context.WithoutCancel(ctx)
	e.store = &store{
		dir: e.cfg.Directory, cfg: e.cfg, log: e.set.Logger, now: time.Now,
		opts:     chunkfile.Options{BlockDuration: e.cfg.BlockDuration, Compression: compression, Checkpoints: true},
		onSeal:   func() { tb.ExporterChunkfileSegmentsSealed.Add(bg, 1) },
		onBytes:  func(n int64) { tb.ExporterChunkfileBytesWritten.Add(bg, n) },
		onDelete: func() { tb.ExporterChunkfileRetentionDeleted.Add(bg, 1) },
	}
	dropped, err := e.store.recoverOpen()
	if dropped > 0 {
		tb.ExporterChunkfileRecoveredBytesDropped.Add(bg, dropped)
	}
	if err != nil {
		return err
	}
	if err := e.store.retain(); err != nil {
		e.set.Logger.Warn("retention at start failed", zap.Error(err))
	}
	e.stop, e.done = make(chan struct{}), make(chan struct{})
	go e.ticker()
	return nil
}

// ticker syncs and rotates when no push comes to do it.
func (e *chunkExporter) ticker() {
	defer close(e.done)
	period := min(e.cfg.FsyncInterval, time.Second)
	if period <= 0 {
		period = time.Second
	}
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-e.stop:
			return
		case <-t.C:
			e.mu.Lock()
			if err := e.store.tick(); err != nil {
				e.set.Logger.Error("periodic fsync or rotation failed", zap.Error(err))
			}
			e.mu.Unlock()
		}
	}
}

func (e *chunkExporter) push(ctx context.Context, md pmetric.Metrics) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.store.ensureOpen(); err != nil {
		e.telemetry.ExporterChunkfileWriteErrors.Add(ctx, 1)
		return err
	}
	points, rejected, err := e.conv.write(e.store.seg.Writer, md)
	if err == nil {
		// The push's points go to the file as a checkpoint frame, which recovery turns into
		// a block after a crash; blocks themselves still span block_duration, so the sealed
		// file (rewritten without checkpoints) stays as dense as one written in one go.
		err = e.store.seg.Checkpoint()
	}
	if err != nil {
		// An I/O error (disk full, directory gone): the segment keeps its complete frames,
		// every earlier push among them, and is sealed; exporterhelper retries this batch
		// into a new segment.
		e.telemetry.ExporterChunkfileWriteErrors.Add(ctx, 1)
		e.store.abandon()
		return err
	}
	if rejected > 0 {
		e.telemetry.ExporterChunkfilePointsRejected.Add(ctx, int64(rejected))
		e.set.Logger.Warn("data points skipped: they cannot be stored", zap.Int("points", rejected), zap.String("first_reason", e.conv.lastReject))
	}
	e.telemetry.ExporterChunkfilePointsWritten.Add(ctx, int64(points))
	return e.store.afterWrite()
}

// shutdown is called by exporterhelper after its queue is drained: it seals the open segment.
func (e *chunkExporter) shutdown(context.Context) error {
	if e.stop == nil {
		return nil
	}
	close(e.stop)
	<-e.done
	e.mu.Lock()
	defer e.mu.Unlock()
	err := e.store.seal()
	e.telemetry.Shutdown()
	return err
}
