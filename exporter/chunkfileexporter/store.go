package chunkfileexporter

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.uber.org/zap"

	"github.com/doghouse-otel/doghouse/chunkfile"
)

// Segment files: "<prefix><creation unix ms, 20 digits>-<sequence, 6 digits>" with suffix
// openSuffix while written and sealedSuffix once sealed, so names sort by age.
const (
	segmentPrefix = "segment-"
	openSuffix    = ".chunk.open"
	sealedSuffix  = ".chunk"
	// compactSuffix is added by chunkfile.Segment.Close to the copy it writes without
	// checkpoints before renaming it over the open file.
	compactSuffix = ".compact"
	// lockName is the file locked while an exporter owns the directory.
	lockName = "LOCK"
	// sealQueue is the number of detached segments waiting for the sealer; a push that
	// rotates while it is full waits.
	sealQueue = 4
)

// store owns the directory: at most one open segment, the sealed ones, and retention. Its
// methods are not safe for concurrent use (the exporter serialises them), except that sealing
// runs on the store's own sealer goroutine: a full segment is detached at once, so pushes go on
// into a new one while the old one is sealed (flushed, compacted, renamed) and retention runs.
type store struct {
	dir      string
	opts     chunkfile.Options
	cfg      *Config
	log      *zap.Logger
	now      func() time.Time
	onSeal   func()
	onBytes  func(int64)
	onDelete func()
	// onSealed is told of every segment the sealer published, by its sealed path.
	onSealed func(path string)
	// onError counts an error of work done after the data it concerns was written: sealing,
	// publishing, retention. It is logged, never returned from a push, since a retry would
	// store data that is already safe a second time.
	onError func(op string, err error)

	// Fault-injection points for tests; nil means the real operation.
	syncFile   func(*chunkfile.Segment) error
	beforeSeal func(path string)

	seals      chan sealJob
	sealerDone chan struct{}

	seg      *chunkfile.Segment
	created  time.Time
	written  int64 // bytes of seg already reported through onBytes
	dirty    bool  // frames written since the last fsync
	seq      int
	lastSync time.Time
}

func openName(created time.Time, seq int) string {
	return fmt.Sprintf("%s%020d-%06d%s", segmentPrefix, created.UnixMilli(), seq, openSuffix)
}

func sealedName(open string) string { return strings.TrimSuffix(open, openSuffix) + sealedSuffix }

// recoverOpen seals every segment a crash left open: torn or corrupt tails are cut and every
// frame before the cut stays readable. It returns the bytes cut.
func (s *store) recoverOpen() (int64, error) {
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return 0, fmt.Errorf("chunkfile: creating directory: %w", err)
	}
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return 0, fmt.Errorf("chunkfile: reading directory: %w", err)
	}
	var dropped int64
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), segmentPrefix) && strings.HasSuffix(e.Name(), openSuffix+compactSuffix) {
			// A crash while sealing rewrote the segment only partly; its open file is intact.
			if err := os.Remove(filepath.Join(s.dir, e.Name())); err != nil {
				return dropped, fmt.Errorf("chunkfile: removing a half-written compaction: %w", err)
			}
			continue
		}
		if !strings.HasPrefix(e.Name(), segmentPrefix) || !strings.HasSuffix(e.Name(), openSuffix) {
			continue
		}
		path := filepath.Join(s.dir, e.Name())
		res, err := chunkfile.Recover(path)
		if errors.Is(err, chunkfile.ErrUnsupportedVersion) {
			// Left open by a newer version before a downgrade: keep it as it is for that
			// version to recover.
			s.onError("recover", err)
			continue
		}
		if err != nil {
			return dropped, fmt.Errorf("chunkfile: recovering %s: %w", path, err)
		}
		dropped += res.BytesDropped
		s.log.Warn("recovered a segment left open by a crash",
			zap.String("segment", path), zap.Int64("bytes_dropped", res.BytesDropped),
			zap.String("cut_reason", res.CutReason), zap.Int("blocks_kept", res.Blocks), zap.Int64("points_kept", res.Points))
		if err := s.publish(path); err != nil {
			return dropped, err
		}
	}
	return dropped, nil
}

// ensureOpen creates the open segment if there is none.
func (s *store) ensureOpen() error {
	if s.seg != nil {
		return nil
	}
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return fmt.Errorf("chunkfile: creating directory: %w", err)
	}
	now := s.now()
	for range 1000 {
		s.seq++
		seg, err := chunkfile.Create(filepath.Join(s.dir, openName(now, s.seq)), s.opts)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("chunkfile: creating segment: %w", err)
		}
		s.seg, s.created, s.written, s.dirty = seg, now, 0, false
		s.lastSync = now
		s.reportBytes(seg)
		return nil
	}
	return errors.New("chunkfile: could not find a free segment name")
}

// reportBytes reports the bytes seg gained since the last report.
func (s *store) reportBytes(seg *chunkfile.Segment) {
	if size := seg.Size(); size > s.written {
		s.onBytes(size - s.written)
		s.written = size
	}
}

// afterWrite reports that frames were appended: they are synced now or later per policy, and
// the segment is detached for sealing when it is full. Its only errors are fsync errors.
func (s *store) afterWrite() error {
	s.reportBytes(s.seg)
	s.dirty = true
	if s.cfg.Fsync == "always" {
		if err := s.sync(); err != nil {
			return err
		}
	}
	return s.tick()
}

// tick runs the time-driven duties: the interval fsync and rotation by size, age or series
// count. Its only errors are fsync errors.
func (s *store) tick() error {
	if s.seg == nil {
		return nil
	}
	now := s.now()
	if s.dirty && s.cfg.Fsync == "interval" && now.Sub(s.lastSync) >= s.cfg.FsyncInterval {
		if err := s.sync(); err != nil {
			return err
		}
	}
	if s.seg.Size() >= s.cfg.MaxSegmentBytes || now.Sub(s.created) >= s.cfg.MaxSegmentAge ||
		s.seg.NumSeries() >= s.cfg.MaxSegmentSeries {
		s.rotate()
	}
	return nil
}

// sync fsyncs the open segment. When fsync fails nothing tells which of its pages reached the
// disk, so the segment is not written again: it is abandoned (recovery seals it as it is) and
// the error is permanent, since a retry of the push could store it twice.
func (s *store) sync() error {
	syncFile := s.syncFile
	if syncFile == nil {
		syncFile = (*chunkfile.Segment).Sync
	}
	if err := syncFile(s.seg); err != nil {
		path := s.seg.Path()
		s.abandon()
		return consumererror.NewPermanent(fmt.Errorf("chunkfile: fsync %s failed; the segment is closed as it is and this data is not retried, since it may already be stored: %w", path, err))
	}
	s.dirty = false
	s.lastSync = s.now()
	return nil
}

type sealJob struct {
	seg       *chunkfile.Segment
	abandoned bool // closed after a failed write: recover it instead of closing it
}

// startSealer starts the goroutine that seals detached segments.
func (s *store) startSealer() {
	s.seals, s.sealerDone = make(chan sealJob, sealQueue), make(chan struct{})
	go func() {
		defer close(s.sealerDone)
		for job := range s.seals {
			s.finish(job)
		}
	}()
}

// stopSealer seals the open segment and waits until every detached segment is sealed.
func (s *store) stopSealer() {
	if s.seals == nil {
		return
	}
	s.rotate()
	close(s.seals)
	<-s.sealerDone
	s.seals = nil
}

// rotate detaches the open segment and hands it to the sealer; the next push opens a new one.
func (s *store) rotate() {
	if s.seg == nil {
		return
	}
	seg := s.seg
	s.seg, s.written = nil, 0
	s.seals <- sealJob{seg: seg}
}

// abandon drops the open segment after a failed write or fsync: the file keeps every complete
// frame, the sealer recovers and publishes it, and the failed batch goes to a new segment.
func (s *store) abandon() {
	if s.seg == nil {
		return
	}
	seg := s.seg
	s.seg, s.written = nil, 0
	_ = seg.Abandon()
	s.seals <- sealJob{seg: seg, abandoned: true}
}

// finish seals a detached segment (or recovers an abandoned one), renames it to its sealed
// name and applies retention. It runs on the sealer goroutine; its errors are counted and
// logged, and a segment it could not seal is recovered at the next start.
func (s *store) finish(job sealJob) {
	path := job.seg.Path()
	if s.beforeSeal != nil {
		s.beforeSeal(path)
	}
	if job.abandoned {
		if _, err := chunkfile.Recover(path); err != nil {
			s.onError("seal", fmt.Errorf("chunkfile: sealing %s after a write error (it will be recovered at the next start): %w", path, err))
			return
		}
	} else {
		before := job.seg.Size()
		err := job.seg.Close()
		if d := job.seg.Size() - before; d > 0 {
			s.onBytes(d) // the last block and the footer
		}
		if err != nil {
			s.onError("seal", fmt.Errorf("chunkfile: sealing %s (it will be recovered at the next start): %w", path, err))
			return
		}
	}
	if err := s.publish(path); err != nil {
		s.onError("seal", err)
		return
	}
	if s.onSealed != nil {
		s.onSealed(sealedName(path))
	}
	if err := s.retain(); err != nil {
		s.onError("retention", err)
	}
}

// publish renames a sealed open file to its final name and fsyncs the directory, so the
// rename survives a crash.
func (s *store) publish(openPath string) error {
	if err := os.Rename(openPath, sealedName(openPath)); err != nil {
		return fmt.Errorf("chunkfile: renaming sealed segment: %w", err)
	}
	s.onSeal()
	return syncDir(s.dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}

type sealedFile struct {
	path string
	size int64
	mod  time.Time
}

// listSegments lists the sealed segments (or tier files) in dir, oldest first.
func listSegments(dir string) ([]sealedFile, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []sealedFile
	for _, e := range entries {
		if e.IsDir() || !strings.HasPrefix(e.Name(), segmentPrefix) || !strings.HasSuffix(e.Name(), sealedSuffix) {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue // deleted meanwhile
		}
		out = append(out, sealedFile{filepath.Join(dir, e.Name()), info.Size(), info.ModTime()})
	}
	slices.SortFunc(out, func(a, b sealedFile) int { return strings.Compare(a.path, b.path) })
	return out, nil
}

// retain deletes the oldest sealed segments beyond retention.max_age or max_total_bytes and
// reports each through onDelete.
func (s *store) retain() error {
	return retainDir(s.dir, s.cfg.Retention, s.now(), func(path string) {
		s.onDelete()
		s.log.Debug("retention deleted a segment", zap.String("segment", path))
	})
}

// retainDir deletes the oldest files of dir (sealed segments or tier files) while they are
// older than r.MaxAge or all together larger than r.MaxTotalBytes.
func retainDir(dir string, r RetentionConfig, now time.Time, onDelete func(path string)) error {
	if r.MaxAge == 0 && r.MaxTotalBytes == 0 {
		return nil
	}
	files, err := listSegments(dir)
	if err != nil {
		return fmt.Errorf("chunkfile: listing %s for retention: %w", dir, err)
	}
	var total int64
	for _, f := range files {
		total += f.size
	}
	for _, f := range files {
		tooOld := r.MaxAge > 0 && now.Sub(f.mod) > r.MaxAge
		tooBig := r.MaxTotalBytes > 0 && total > r.MaxTotalBytes
		if !tooOld && !tooBig {
			break
		}
		if err := os.Remove(f.path); err != nil {
			return fmt.Errorf("chunkfile: retention: %w", err)
		}
		total -= f.size
		onDelete(f.path)
	}
	return nil
}
