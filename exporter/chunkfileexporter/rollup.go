package chunkfileexporter

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/doghouse-otel/doghouse/chunkfile"
)

// tmpSuffix marks a tier file being written. Readers (the chunkquery store) take only names
// ending in .chunk, and a crash leaves at most such a file, removed at the next start.
const tmpSuffix = ".tmp"

// What made a tier file be written (the trigger attribute of rollup_files_written).
const (
	triggerSeal  = "seal"
	triggerStart = "start"
)

// tiers writes the rollup tier files of sealed segments on a goroutine of its own, so neither
// pushes nor the sealer wait for them: the sealer hands over each segment it publishes, and
// start queues the sealed segments whose tier files are missing (a crash between seal and
// rollup, a rollup abandoned at shutdown, tiers added to the config). A tier file is written
// to a temporary name, fsynced and renamed, so a final name always holds a whole file.
// Shutdown abandons the rollup in progress (its temporary file is removed) and the queue: the
// next start builds them.
type tiers struct {
	dir         string
	cfg         []RollupConfig
	compression chunkfile.Compression
	log         *zap.Logger
	now         func() time.Time

	onWritten func(trigger string, bytes int64)
	onSkipped func(points int64)
	onSparse  func()
	minPoints float64 // RollupMinPointsPerSeries
	onDeleted func()
	onError   func(op string, err error)
	mu        sync.Mutex // guards the fields below
	// beforeRollup, when set (by tests), runs before each segment's tier files are written.
	beforeRollup func(ctx context.Context, path string)
	queue        []tierJob
	busy         bool
	wake         chan struct{}
	ctx          context.Context
	cancel       context.CancelFunc
	done         chan struct{}
	started      bool
}

type tierJob struct {
	path    string // the sealed raw segment
	trigger string
}

// start launches the goroutine; it first cleans up after a crash and queues the sealed
// segments whose tier files are missing.
func (t *tiers) start() {
	t.wake = make(chan struct{}, 1)
	t.ctx, t.cancel = context.WithCancel(context.Background())
	t.done = make(chan struct{})
	t.started = true
	t.mu.Lock()
	t.busy = true // until run has looked for missing tier files
	t.mu.Unlock()
	go t.run()
}

// stop abandons the rollup in progress and the queue, and waits for the goroutine.
func (t *tiers) stop() {
	if !t.started {
		return
	}
	t.cancel()
	<-t.done
	t.started = false
}

// enqueue asks for the tier files of the sealed segment at path.
func (t *tiers) enqueue(path, trigger string) {
	t.mu.Lock()
	t.queue = append(t.queue, tierJob{path: path, trigger: trigger})
	t.mu.Unlock()
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

// idle reports whether nothing is queued or being written (for tests).
func (t *tiers) idle() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.queue) == 0 && !t.busy
}

func (t *tiers) run() {
	defer close(t.done)
	t.removeTemps()
	for _, p := range t.missing() {
		t.enqueue(p, triggerStart)
	}
	t.retain()
	for {
		t.mu.Lock()
		if len(t.queue) == 0 {
			t.busy = false
			t.mu.Unlock()
			select {
			case <-t.ctx.Done():
				return
			case <-t.wake:
				continue
			}
		}
		job := t.queue[0]
		t.queue = slices.Delete(t.queue, 0, 1)
		t.busy = true
		t.mu.Unlock()
		if t.ctx.Err() != nil {
			return
		}
		t.build(job)
	}
}

// build writes the missing tier files of one sealed segment, then applies the tiers' retention.
func (t *tiers) build(job tierJob) {
	t.mu.Lock()
	hook := t.beforeRollup
	t.mu.Unlock()
	if hook != nil {
		hook(t.ctx, job.path)
	}
	info, err := os.Stat(job.path)
	if errors.Is(err, fs.ErrNotExist) {
		return // deleted by retention meanwhile
	}
	if err != nil {
		t.onError("rollup", err)
		return
	}
	wrote := false
	for _, rc := range t.cfg {
		if t.ctx.Err() != nil {
			return
		}
		final := t.tierPath(rc, job.path)
		if _, err := os.Stat(final); err == nil {
			continue
		}
		n, st, err := t.write(rc, job.path, final, info.ModTime())
		switch {
		case t.ctx.Err() != nil:
			t.log.Info("rollup abandoned at shutdown; it is written at the next start", zap.String("segment", job.path))
			return
		case errors.Is(err, fs.ErrNotExist) && !exists(job.path):
			return // deleted by retention while it was read
		case errors.Is(err, chunkfile.ErrRollupSparse):
			t.onSparse()
			t.log.Debug("segment not rolled up: too few points per series", zap.String("segment", job.path),
				zap.Duration("resolution", rc.Resolution), zap.Error(err))
			continue
		case err != nil:
			t.onError("rollup", fmt.Errorf("chunkfile: writing the %s tier of %s (it is tried again at the next start): %w", rc.Resolution, job.path, err))
			continue
		}
		wrote = true
		t.onWritten(job.trigger, n)
		if skipped := st.SkippedPoints; skipped > 0 {
			t.onSkipped(skipped)
			t.log.Warn("points left out of a rollup tier", zap.String("segment", job.path), zap.Duration("resolution", rc.Resolution),
				zap.Int64("points", skipped), zap.Int("series_with_own_rollup_attribute", st.SkippedSeries))
		}
	}
	if wrote {
		t.retain()
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// tierPath returns the tier file of raw segment path: <dir>/rollup-<res>/<name of the segment>.
func (t *tiers) tierPath(rc RollupConfig, path string) string {
	return filepath.Join(t.dir, chunkfile.RollupDirName(rc.Resolution), filepath.Base(path))
}

// write writes one tier file: to final + tmpSuffix, fsynced, its modification time set to the
// raw segment's (so the tier's max_age counts from its data), renamed to final, directory
// fsynced. It returns the file's size.
func (t *tiers) write(rc RollupConfig, path, final string, mod time.Time) (n int64, st chunkfile.RollupStats, err error) {
	dir := filepath.Dir(final)
	if !exists(dir) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return 0, st, err
		}
		if err := syncDir(t.dir); err != nil {
			return 0, st, err
		}
	}
	tmp := final + tmpSuffix
	_ = os.Remove(tmp)
	seg, err := chunkfile.Create(tmp, chunkfile.Options{Compression: t.compression})
	if err != nil {
		return 0, st, err
	}
	defer func() {
		if err != nil {
			_ = os.Remove(tmp)
		}
	}()
	st, err = chunkfile.RollupFile(t.ctx, seg.Writer, path, chunkfile.RollupOptions{Resolution: rc.Resolution, MinPointsPerSeries: t.minPoints})
	if err != nil {
		return 0, st, errors.Join(err, seg.Abandon())
	}
	if err := seg.Close(); err != nil { // footer, trailer, fsync
		return 0, st, err
	}
	if err := os.Chtimes(tmp, mod, mod); err != nil {
		return 0, st, err
	}
	if err := syncFile(tmp); err != nil {
		return 0, st, err
	}
	if err := os.Rename(tmp, final); err != nil {
		return 0, st, err
	}
	return seg.Size(), st, syncDir(dir)
}

func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	return errors.Join(f.Sync(), f.Close())
}

// removeTemps removes the temporary tier files a crash left.
func (t *tiers) removeTemps() {
	for _, rc := range t.cfg {
		dir := filepath.Join(t.dir, chunkfile.RollupDirName(rc.Resolution))
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), tmpSuffix) {
				if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
					t.onError("rollup", err)
				}
			}
		}
	}
}

// missing lists the sealed segments that lack a tier file, oldest first. A tier's files older
// than its oldest one were deleted by its retention, not lost, and are not built again; nor are
// those of segments older than the tier's max_age.
func (t *tiers) missing() []string {
	sealed, err := listSegments(t.dir)
	if err != nil {
		t.onError("rollup", fmt.Errorf("chunkfile: listing segments for rollups: %w", err))
		return nil
	}
	now := t.now()
	oldest := make([]string, len(t.cfg)) // per tier, its oldest file's name ("": none)
	for i, rc := range t.cfg {
		if files, _ := listSegments(filepath.Join(t.dir, chunkfile.RollupDirName(rc.Resolution))); len(files) > 0 {
			oldest[i] = filepath.Base(files[0].path)
		}
	}
	var out []string
	for _, f := range sealed {
		for i, rc := range t.cfg {
			if exists(t.tierPath(rc, f.path)) ||
				filepath.Base(f.path) < oldest[i] ||
				rc.Retention.MaxAge > 0 && now.Sub(f.mod) > rc.Retention.MaxAge {
				continue
			}
			out = append(out, f.path)
			break
		}
	}
	return out
}

// retain applies each tier's retention.
func (t *tiers) retain() {
	for _, rc := range t.cfg {
		dir := filepath.Join(t.dir, chunkfile.RollupDirName(rc.Resolution))
		if err := retainDir(dir, rc.Retention, t.now(), func(string) { t.onDeleted() }); err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.onError("retention", err)
		}
	}
}
