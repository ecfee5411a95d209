package chunkfile

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// ErrNoCheckpoints is returned by Checkpoint on a writer created without Options.Checkpoints.
var ErrNoCheckpoints = errors.New("chunk writer: checkpoints not enabled (Options.Checkpoints)")

// ckPoint is a copy of a non-number point kept for the next checkpoint.
type ckPoint struct {
	ref SeriesRef
	p   Point
}

func clonePoint(p Point) Point {
	if p.Hist != nil {
		h := *p.Hist
		h.Bounds, h.Counts = slices.Clone(h.Bounds), slices.Clone(h.Counts)
		p.Hist = &h
	}
	if p.Exp != nil {
		e := *p.Exp
		e.Positive.Counts, e.Negative.Counts = slices.Clone(e.Positive.Counts), slices.Clone(e.Negative.Counts)
		p.Exp = &e
	}
	if p.Summary != nil {
		s := *p.Summary
		s.Quantiles = slices.Clone(s.Quantiles)
		p.Summary = &s
	}
	return p
}

// Checkpoint makes the points appended since the last checkpoint (or block) durable without
// cutting the block: it writes them as a CHECKPOINT frame, which readers skip because the
// same points are written again in the block when it is cut. Recover turns the checkpoints
// after the last block of a crashed segment into blocks, and Segment.Close drops all
// checkpoints from the sealed file. So a writer can sync every second and still cut 60 s
// blocks: the file costs more only while it is open. Call Sync afterwards for durability.
//
// The blocks cut since the last checkpoint go out in the same write, so the points appended
// since then land whole or, if the write fails, not at all (a Segment rolls the file back;
// the frames stay held and the next Checkpoint, Flush or Close writes them again).
func (w *Writer) Checkpoint() error {
	if w.closed {
		return ErrClosed
	}
	if !w.opts.Checkpoints {
		return ErrNoCheckpoints
	}
	n := w.log.len() - w.ckLog + len(w.ckPoints)
	if n == 0 && w.nDefs == 0 {
		return w.commitHeld()
	}
	start := len(w.held)
	defOff := w.appendDefs()
	if n > 0 {
		payload, err := w.encodeCheckpoint()
		if err != nil {
			w.held = w.held[:start]
			return err
		}
		// Not compressed: a checkpoint lives until its block is written (and the file is
		// rewritten without it when sealed), and zstd on every push cost more CPU than the
		// bytes it saved for that time are worth.
		w.held = appendFrame(w.held, frameCheckpoint|frameOptional, payload)
	}
	w.defsWritten(defOff)
	if n > 0 {
		w.nCkpt++
		w.ckLog, w.ckStarts = w.log.len(), len(w.starts)
		clear(w.ckPoints)
		w.ckPoints = w.ckPoints[:0]
	}
	return w.commitHeld()
}

// encodeCheckpoint encodes the points since the last checkpoint as a block payload, by
// replaying them into a second writer that never cuts blocks.
func (w *Writer) encodeCheckpoint() ([]byte, error) {
	if w.ck == nil {
		w.ck = newWriter(nil, Options{BlockDuration: -1, MaxBlockPoints: math.MaxInt, Compression: w.opts.Compression})
		w.ck.noCut = true
	}
	ck := w.ck
	for i := len(ck.series); i < len(w.series); i++ {
		ck.series = append(ck.series, nil)
		ck.kinds = append(ck.kinds, w.kinds[i])
		ck.stamp = append(ck.stamp, 0)
		ck.cnt = append(ck.cnt, 0)
	}
	k := w.ckStarts
	for _, page := range w.log.from(w.ckLog) {
		for _, e := range page {
			start := int64(0)
			if e.flags&logStart != 0 {
				start = w.starts[k]
				k++
			}
			// The refs and kinds were checked when the points were appended.
			if err := ck.logNumber(SeriesRef(e.ref), e.t, start, e.v, e.flags&logInt != 0); err != nil {
				ck.resetBlock()
				return nil, fmt.Errorf("checkpoint: %w", err)
			}
		}
	}
	for _, p := range w.ckPoints {
		if err := ck.Append(p.ref, p.p); err != nil {
			ck.resetBlock()
			return nil, fmt.Errorf("checkpoint: %w", err)
		}
	}
	ck.encodeBlock()
	ck.resetBlock()
	return ck.body, nil
}
