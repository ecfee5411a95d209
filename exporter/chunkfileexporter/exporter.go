package chunkfileexporter

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/doghouse-otel/doghouse/chunkfile"
	"github.com/doghouse-otel/doghouse/exporter/chunkfileexporter/internal/metadata"
)

// chunkExporter writes each push into the open segment before acknowledging it: the points
// join the current block and are written at once, with any block they cut, as one write ending
// in a checkpoint frame. A push is written whole or, on error, rolled back and retried by
// exporterhelper into a new segment, so a segment never holds part of a batch and nothing
// acknowledged lives only in memory.
type chunkExporter struct {
	cfg    *Config
	set    exporter.Settings
	unlock func() error

	mu        sync.Mutex
	store     *store
	tiers     *tiers
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
	if err := os.MkdirAll(e.cfg.Directory, 0o755); err != nil {
		return fmt.Errorf("chunkfile: creating directory: %w", err)
	}
	if e.unlock, err = lockDir(e.cfg.Directory); err != nil {
		return err
	}
	onError := func(op string, err error) {
		tb.ExporterChunkfileBackgroundErrors.Add(bg, 1, metric.WithAttributeSet(attribute.NewSet(attribute.String("operation", op))))
		e.set.Logger.Error("chunk store maintenance failed; no data is retried for it", zap.String("operation", op), zap.Error(err))
	}
	e.tiers = &tiers{
		dir: e.cfg.Directory, cfg: e.cfg.Rollups, compression: compression, log: e.set.Logger, now: time.Now,
		onWritten: func(trigger string, n int64) {
			tb.ExporterChunkfileRollupFilesWritten.Add(bg, 1, metric.WithAttributeSet(attribute.NewSet(attribute.String("trigger", trigger))))
			tb.ExporterChunkfileRollupBytesWritten.Add(bg, n)
		},
		onSkipped: func(n int64) { tb.ExporterChunkfileRollupPointsSkipped.Add(bg, n) },
		onSparse:  func() { tb.ExporterChunkfileRollupSegmentsSparse.Add(bg, 1) },
		minPoints: e.cfg.RollupMinPointsPerSeries,
		onDeleted: func() { tb.ExporterChunkfileRollupFilesDeleted.Add(bg, 1) },
		onError:   onError,
	}
	e.store = &store{
		dir: e.cfg.Directory, cfg: e.cfg, log: e.set.Logger, now: time.Now,
		opts: chunkfile.Options{
			BlockDuration: e.cfg.BlockDuration, Compression: compression, Checkpoints: true,
			MaxBlockSeries: blockSeries(e.cfg.MaxSegmentSeries),
		},
		onSeal:   func() { tb.ExporterChunkfileSegmentsSealed.Add(bg, 1) },
		onBytes:  func(n int64) { tb.ExporterChunkfileBytesWritten.Add(bg, n) },
		onDelete: func() { tb.ExporterChunkfileRetentionDeleted.Add(bg, 1) },
		onError:  onError,
	}
	if len(e.cfg.Rollups) > 0 {
		e.store.onSealed = func(path string) { e.tiers.enqueue(path, triggerSeal) }
	}
	dropped, err := e.store.recoverOpen()
	if dropped > 0 {
		tb.ExporterChunkfileRecoveredBytesDropped.Add(bg, dropped)
	}
	if err != nil {
		return err
	}
	if err := e.store.retain(); err != nil {
		e.store.onError("retention", err)
	}
	if len(e.cfg.Rollups) > 0 {
		e.tiers.start() // also builds the tier files that are missing, in the background
	}
	e.store.startSealer()
	e.stop, e.done = make(chan struct{}), make(chan struct{})
	go e.ticker()
	return nil
}

// maxBlockSeries bounds the series of one block whatever max_segment_series says: encoding a
// block takes a column buffer per series for a moment.
const maxBlockSeries = 1 << 16

// blockSeries is the writer's MaxBlockSeries: the series a segment may hold, so the series
// of a steady load stay in one block per block_duration (a smaller limit cuts a block at every
// push once a push carries more series, and blocks of one point per series are several times
// larger), capped at maxBlockSeries.
func blockSeries(segmentSeries int) int { return max(1, min(segmentSeries, maxBlockSeries)) }

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
				e.telemetry.ExporterChunkfileWriteErrors.Add(context.Background(), 1)
				e.set.Logger.Error("periodic fsync failed; the segment is closed as it is", zap.Error(err))
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
		// An I/O error (disk full, directory gone): the segment was rolled back to the end of
		// the previous push and is sealed as it is; exporterhelper retries this batch into a
		// new segment. If the file could not be rolled back, part of the batch may be in it:
		// the error is permanent so that it is never stored twice.
		e.telemetry.ExporterChunkfileWriteErrors.Add(ctx, 1)
		e.store.abandon()
		if errors.Is(err, chunkfile.ErrClosed) {
			return consumererror.NewPermanent(err)
		}
		return err
	}
	if rejected > 0 {
		e.telemetry.ExporterChunkfilePointsRejected.Add(ctx, int64(rejected))
		e.set.Logger.Warn("data points skipped: they cannot be stored", zap.Int("points", rejected), zap.String("first_reason", e.conv.lastReject))
	}
	e.telemetry.ExporterChunkfilePointsWritten.Add(ctx, int64(points))
	if err := e.store.afterWrite(); err != nil {
		e.telemetry.ExporterChunkfileWriteErrors.Add(ctx, 1)
		return err
	}
	return nil
}

// shutdown is called by exporterhelper after its queue is drained: it seals the open segment,
// waits for the sealer, abandons the rollups not written yet (the next start writes them) and
// releases the directory.
func (e *chunkExporter) shutdown(context.Context) error {
	if e.stop != nil {
		close(e.stop)
		<-e.done
		e.mu.Lock()
		e.store.stopSealer()
		e.mu.Unlock()
		e.tiers.stop()
		e.telemetry.Shutdown()
	}
	if e.unlock != nil {
		err := e.unlock()
		e.unlock = nil
		return err
	}
	return nil
}
