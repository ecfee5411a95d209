package chunkfile

// filterBuf holds the time-filtered copy of a batch.
type filterBuf struct {
	t, start []int64
	num      []Number
	hist     []Histogram
	exp      []ExpHistogram
	sum      []Summary
}

// fill points r.batch at span sp of the current block, applying the time filter. It reports
// whether any point is left.
func (r *Reader) fill(sp *span) bool {
	blk := r.blk
	b := &r.batch
	*b = Batch{Ref: SeriesRef(sp.id), Series: r.series[sp.id], T: blk.t[sp.off : sp.off+sp.n]}
	if sp.hasStart {
		b.Start = blk.start[sp.off : sp.off+sp.n]
	}
	// Number points are laid out like timestamps; other kinds have one entry per point in
	// their own slices, in span order.
	switch sp.kind {
	case KindGauge, KindSum:
		b.Num = blk.num[sp.kidx : sp.kidx+sp.n]
	case KindHistogram:
		b.Hist = blk.hist[sp.kidx : sp.kidx+sp.n]
	case KindExpHistogram:
		b.Exp = blk.exp[sp.kidx : sp.kidx+sp.n]
	case KindSummary:
		b.Summary = blk.sum[sp.kidx : sp.kidx+sp.n]
	}
	tr := r.opts.Time
	if tr == nil || blk.head.minT >= tr.Min && blk.head.maxT <= tr.Max {
		return true // the decoder checked that every point lies in the block's range
	}
	all := true
	for _, t := range b.T {
		if t < tr.Min || t > tr.Max {
			all = false
			break
		}
	}
	if all {
		return true
	}
	fb := &r.fb
	fb.t, fb.start, fb.num = fb.t[:0], fb.start[:0], fb.num[:0]
	fb.hist, fb.exp, fb.sum = fb.hist[:0], fb.exp[:0], fb.sum[:0]
	for i, t := range b.T {
		if t < tr.Min || t > tr.Max {
			continue
		}
		fb.t = append(fb.t, t)
		if b.Start != nil {
			fb.start = append(fb.start, b.Start[i])
		}
		switch {
		case b.Num != nil:
			fb.num = append(fb.num, b.Num[i])
		case b.Hist != nil:
			fb.hist = append(fb.hist, b.Hist[i])
		case b.Exp != nil:
			fb.exp = append(fb.exp, b.Exp[i])
		case b.Summary != nil:
			fb.sum = append(fb.sum, b.Summary[i])
		}
	}
	if len(fb.t) == 0 {
		return false
	}
	nb := Batch{Ref: b.Ref, Series: b.Series, T: fb.t}
	if b.Start != nil {
		nb.Start = fb.start
	}
	switch {
	case b.Num != nil:
		nb.Num = fb.num
	case b.Hist != nil:
		nb.Hist = fb.hist
	case b.Exp != nil:
		nb.Exp = fb.exp
	case b.Summary != nil:
		nb.Summary = fb.sum
	}
	*b = nb
	return true
}
