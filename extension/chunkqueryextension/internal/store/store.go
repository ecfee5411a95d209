// Package store reads the directory a chunkfile exporter writes, for queries: it keeps an index
// of every segment (sealed ones from their footers, the open one followed as it grows, its
// checkpoints included) and of the series they hold under Prometheus-style labels, and selects
// the points of the series that match a query's label matchers in a time range. It never
// writes.
package store

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/doghouse-otel/doghouse/chunkfile"
)

// Segment file names, as the chunkfile exporter writes them.
const (
	sealedSuffix = ".chunk"
	openSuffix   = ".chunk.open"
	// tierPrefix names the directories of rollup tiers: rollup-1m, rollup-1h.
	tierPrefix = "rollup-"
	// RollupAttr is the attribute naming the statistic of a rollup series.
	RollupAttr = "__rollup__"
)

// Options configure a Store.
type Options struct {
	// Dir is the chunk directory.
	Dir string
	// RescanInterval is how often the directory listing is refreshed at most (a new or sealed
	// segment is seen after at most this long); the open segment's new frames are read at
	// every query regardless.
	RescanInterval time.Duration
	// MaxFrameSize and MaxBlockValues are the chunkfile reader limits (0: its defaults).
	MaxFrameSize, MaxBlockValues int
}

// Series is one series as queries see it: its labels (`__name__`, the resource attributes,
// then the point attributes, which win on a clash) and what kind of values it has. A series
// with the same labels in several segments is one Series.
type Series struct {
	ID          uint32
	Labels      labels.Labels
	Kind        chunkfile.Kind
	Temporality chunkfile.Temporality
	Monotonic   bool
	// Unit and Description are those of the first segment that defined the series.
	Unit, Description string
}

// Delta reports whether the series' values are deltas (a delta sum): each value counts what
// happened in its own interval.
func (s *Series) Delta() bool {
	return s.Kind == chunkfile.KindSum && s.Temporality == chunkfile.TemporalityDelta
}

// Store is the index of one chunk directory. It is safe for concurrent use.
type Store struct {
	opts Options

	mu       sync.Mutex
	files    map[string]*segment // by file name
	series   []*Series
	byLabels map[string]uint32 // labels.Labels.String() -> id
	byDesc   map[string]uint32 // descriptorKey -> id
	key      []byte            // descriptorKey's buffer
	byName   map[string][]uint32
	scanned  time.Time
}

// segment is one indexed file: a raw segment or a tier file.
type segment struct {
	name   string        // relative to Dir: segment-….chunk or rollup-1m/segment-….chunk
	base   string        // the segment's name without directory and suffix: a tier file's raw segment
	tier   time.Duration // 0 for raw data
	f      *os.File
	ino    uint64
	ix     *chunkfile.Index
	global []uint32 // local series ref -> Series.ID (of the raw series, for a tier file)
	stat   []Stat   // tier files: local series ref -> statistic
}

// New returns a store over opts.Dir. The directory need not exist yet.
func New(opts Options) *Store {
	return &Store{opts: opts, files: map[string]*segment{}, byLabels: map[string]uint32{}, byDesc: map[string]uint32{}, byName: map[string][]uint32{}}
}

// Close releases the open files.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs error
	for name, seg := range s.files {
		errs = errors.Join(errs, seg.f.Close())
		delete(s.files, name)
	}
	return errs
}

// Refresh brings the index up to date: the open segment's new frames always, the directory
// listing when RescanInterval has passed (or force is set).
func (s *Store) Refresh(force bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refreshLocked(force)
}

func (s *Store) refreshLocked(force bool) error {
	now := time.Now()
	if force || now.Sub(s.scanned) >= s.opts.RescanInterval {
		if err := s.rescan(); err != nil {
			return err
		}
		s.scanned = now
	}
	var errs error
	for name, seg := range s.files {
		if seg.ix.Sealed() {
			continue
		}
		if err := s.update(seg); err != nil {
			// The file changed under us (rolled back, or replaced by its sealed version):
			// index it again at the next rescan.
			seg.f.Close()
			delete(s.files, name)
			s.scanned = time.Time{}
			if !errors.Is(err, chunkfile.ErrFileShrank) && !errors.Is(err, fs.ErrNotExist) {
				errs = errors.Join(errs, fmt.Errorf("%s: %w", name, err))
			}
		}
	}
	return errs
}

// rescan lists the directory: new segments are indexed, vanished ones (retention) dropped, and
// a segment whose file was replaced (the open segment rewritten and sealed) indexed again.
func (s *Store) rescan() error {
	seen := map[string]bool{}
	var errs error
	dirs := []string{""}
	if entries, err := os.ReadDir(s.opts.Dir); err == nil {
		for _, e := range entries {
			if _, ok := tierOf(e.Name()); ok && e.IsDir() {
				dirs = append(dirs, e.Name())
			}
		}
	}
	for _, sub := range dirs {
		entries, err := os.ReadDir(filepath.Join(s.opts.Dir, sub))
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				errs = errors.Join(errs, err)
			}
			continue
		}
		for _, e := range entries {
			name := e.Name()
			if e.IsDir() || !(strings.HasSuffix(name, sealedSuffix) || strings.HasSuffix(name, openSuffix)) {
				continue
			}
			if sub != "" {
				name = sub + "/" + name
			}
			path := filepath.Join(s.opts.Dir, filepath.FromSlash(name))
			st, err := os.Stat(path)
			if err != nil {
				continue // renamed or removed since the listing: the next rescan sees where it went
			}
			seen[name] = true
			if seg, ok := s.files[name]; ok {
				if seg.ino == inode(st) {
					continue
				}
				seg.f.Close()
				delete(s.files, name)
			}
			seg, err := s.open(name, path)
			if err != nil {
				if !errors.Is(err, fs.ErrNotExist) {
					errs = errors.Join(errs, fmt.Errorf("%s: %w", name, err))
				}
				continue
			}
			s.files[name] = seg
		}
	}
	for name, seg := range s.files {
		if !seen[name] {
			seg.f.Close()
			delete(s.files, name)
		}
	}
	return errs
}

// tierOf returns the resolution of a tier directory name (rollup-1m, rollup-1h).
func tierOf(dir string) (time.Duration, bool) {
	rest, ok := strings.CutPrefix(dir, tierPrefix)
	if !ok {
		return 0, false
	}
	d, err := time.ParseDuration(rest)
	if err != nil || d <= 0 || d%time.Second != 0 {
		return 0, false
	}
	return d, true
}

func (s *Store) open(name, path string) (*segment, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	ix, err := chunkfile.NewIndex(f, st.Size(), s.readerOptions())
	if err != nil {
		f.Close()
		return nil, err
	}
	seg := &segment{name: name, f: f, ino: inode(st), ix: ix}
	dir, file := filepath.Split(filepath.FromSlash(name))
	seg.base = strings.TrimSuffix(strings.TrimSuffix(file, openSuffix), sealedSuffix)
	if dir != "" {
		seg.tier, _ = tierOf(filepath.Clean(dir))
	}
	s.link(seg)
	return seg, nil
}

func (s *Store) readerOptions() chunkfile.ReaderOptions {
	return chunkfile.ReaderOptions{MaxFrameSize: s.opts.MaxFrameSize, MaxBlockValues: s.opts.MaxBlockValues}
}

func (s *Store) update(seg *segment) error {
	st, err := seg.f.Stat()
	if err != nil {
		return err
	}
	if err := seg.ix.Update(seg.f, st.Size()); err != nil {
		return err
	}
	s.link(seg)
	return nil
}

// link maps the segment's series defined since the last call to global series. Every file
// defines its series again (and a tier file each one once per statistic), so a series is
// first looked up by its descriptor's bytes, which costs far less than making its labels.
func (s *Store) link(seg *segment) {
	for ref := len(seg.global); ref < seg.ix.NumSeries(); ref++ {
		cs, _ := seg.ix.Series(chunkfile.SeriesRef(ref))
		s.key = descriptorKey(s.key[:0], cs, seg.tier > 0)
		id, ok := s.byDesc[string(s.key)]
		if !ok {
			ls := Labels(cs)
			if seg.tier > 0 {
				ls = labels.NewBuilder(ls).Del(RollupAttr).Labels()
			}
			id = s.seriesID(ls, cs)
			if len(s.key) <= maxDescKey {
				s.byDesc[string(s.key)] = id
			}
		}
		if seg.tier > 0 {
			seg.stat = append(seg.stat, rollupStat(cs))
		}
		seg.global = append(seg.global, id)
	}
}

// seriesID returns the id of the series with labels ls, adding it (described by cs) if new.
func (s *Store) seriesID(ls labels.Labels, cs *chunkfile.Series) uint32 {
	key := ls.String()
	if id, ok := s.byLabels[key]; ok {
		return id
	}
	id := uint32(len(s.series))
	s.series = append(s.series, &Series{ID: id, Labels: ls, Kind: cs.Kind, Temporality: cs.Temporality, Monotonic: cs.Monotonic,
		Unit: cs.Unit, Description: cs.Description})
	s.byLabels[key] = id
	name := ls.Get(labels.MetricName)
	s.byName[name] = append(s.byName[name], id)
	return id
}

// maxDescKey bounds the descriptor keys kept: a longer one is looked up by its labels.
const maxDescKey = 4096

// descriptorKey appends to dst the bytes that identify a series descriptor for the labels it
// gets: its name, kind, temporality and monotonicity, and its point and resource attributes
// (without the rollup statistic in a tier file), each string length-prefixed. Equal keys give
// equal labels; different keys may too (an attribute moved between resource and point), which
// the labels lookup resolves.
func descriptorKey(dst []byte, cs *chunkfile.Series, tier bool) []byte {
	str := func(s string) {
		dst = binary.AppendUvarint(dst, uint64(len(s)))
		dst = append(dst, s...)
	}
	str(cs.Name)
	dst = append(dst, byte(cs.Kind), byte(cs.Temporality))
	if cs.Monotonic {
		dst = append(dst, 1)
	} else {
		dst = append(dst, 0)
	}
	for i, list := range [][]chunkfile.Attr{cs.Attrs, cs.Resource} {
		skip := tier && i == 0 // the statistic of a tier file's series is not part of its identity
		n := len(list)
		if _, ok := cs.Attr(RollupAttr); skip && ok {
			n--
		}
		dst = binary.AppendUvarint(dst, uint64(n))
		for _, a := range list {
			if skip && a.Key == RollupAttr {
				continue
			}
			str(a.Key)
			v := a.Value
			dst = append(dst, byte(v.Type))
			switch v.Type {
			case chunkfile.ValueString:
				str(v.Str)
			case chunkfile.ValueInt:
				dst = binary.LittleEndian.AppendUint64(dst, uint64(v.Int))
			case chunkfile.ValueDouble:
				dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(v.Double))
			case chunkfile.ValueBool:
				if v.Bool {
					dst = append(dst, 1)
				} else {
					dst = append(dst, 0)
				}
			default:
				str(string(v.Bytes))
			}
		}
	}
	return dst
}

// rollupStat returns the statistic a tier file's series holds (its `__rollup__` attribute).
func rollupStat(cs *chunkfile.Series) Stat {
	if v, ok := cs.Attr(RollupAttr); ok {
		return statOf(ValueText(v))
	}
	return StatNone
}

// bySegment returns, per segment (its base name), its raw file, or its tier file of
// resolution tier (> 0) where it has one. A segment listed under both its open and its sealed
// name (a listing made while it was renamed) is read once, from its sealed file.
func (s *Store) bySegment(tier time.Duration) map[string]*segment {
	out := map[string]*segment{}
	for _, seg := range s.files {
		prev, ok := out[seg.base]
		switch {
		case tier > 0 && seg.tier == tier:
			out[seg.base] = seg
		case seg.tier != 0 || (ok && (prev.tier != 0 || !strings.HasSuffix(seg.name, sealedSuffix))):
		default:
			out[seg.base] = seg
		}
	}
	return out
}

func inode(st os.FileInfo) uint64 {
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		return sys.Ino
	}
	return 0
}

// Labels returns the labels of a chunkfile series: `__name__`, its resource attributes and its
// point attributes (a point attribute wins over a resource attribute with the same key).
// Values are rendered as text: ints in decimal, doubles in the shortest form that reads back
// exactly, booleans as true/false, bytes in base64; empty values are dropped, as Prometheus
// treats an empty label as absent.
func Labels(cs *chunkfile.Series) labels.Labels {
	b := labels.NewScratchBuilder(1 + len(cs.Resource) + len(cs.Attrs))
	b.Add(labels.MetricName, cs.Name)
	seen := make(map[string]bool, len(cs.Attrs))
	for _, a := range cs.Attrs {
		seen[a.Key] = true
	}
	for _, list := range [][]chunkfile.Attr{cs.Attrs, cs.Resource} {
		for _, a := range list {
			if a.Key == labels.MetricName || (sameSlice(list, cs.Resource) && seen[a.Key]) {
				continue
			}
			if v := ValueText(a.Value); v != "" {
				b.Add(a.Key, v)
			}
		}
	}
	b.Sort()
	return b.Labels()
}

func sameSlice(a, b []chunkfile.Attr) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// ValueText renders an attribute value as label text: as chunkfile renders it, but bytes in
// base64 (a label value must be UTF-8).
func ValueText(v chunkfile.Value) string {
	if v.Type == chunkfile.ValueBytes {
		return base64.StdEncoding.EncodeToString(v.Bytes)
	}
	return v.String()
}

// Limits bound what one selection may read.
type Limits struct {
	MaxSeries  int // series matched
	MaxSamples int // points decoded
	MaxWindows int // windows of a SelectWindows answer (series × windows of the range)
}

// LimitError reports a query that would pass a limit.
type LimitError struct {
	What string
	err  error
}

func (e *LimitError) Error() string { return e.What }
func (e *LimitError) Unwrap() error { return e.err }

// ErrTooManyWindows is the cause of a SelectWindows LimitError on MaxWindows: the caller may
// read raw points instead, under their own limit.
var ErrTooManyWindows = errors.New("too many windows")

// Points is one matched series and its number points in a time range, in time order.
// Start holds each point's start time where the series has one (delta sums), else 0.
type Points struct {
	Series *Series
	T      []int64 // ms
	Start  []int64 // ms; nil when no point has one
	V      []float64
}

// Select returns the series matching every matcher, and their number points with
// mint <= t <= maxt (milliseconds), sorted by labels. Histogram, exponential histogram and
// summary series are not selected (see the package README).
func (s *Store) Select(ctx context.Context, ms []*labels.Matcher, mint, maxt int64, lim Limits) ([]*Points, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.refreshLocked(false); err != nil {
		return nil, err
	}
	ids := s.match(ms)
	if lim.MaxSeries > 0 && len(ids) > lim.MaxSeries {
		return nil, &LimitError{What: fmt.Sprintf("the query selects %d series, more than the limit of %d", len(ids), lim.MaxSeries)}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	out := make(map[uint32]*Points, len(ids))
	want := make(map[uint32]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	samples := 0
	raw := s.bySegment(0)
	names := make([]string, 0, len(raw))
	for base := range raw {
		names = append(names, base)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		seg := raw[name]
		if tr, ok := seg.ix.TimeRange(); !ok || tr.Max < mint || tr.Min > maxt {
			continue
		}
		keep := map[*chunkfile.Series]uint32{}
		for ref, id := range seg.global {
			if want[id] {
				cs, _ := seg.ix.Series(chunkfile.SeriesRef(ref))
				keep[cs] = id
			}
		}
		if len(keep) == 0 {
			continue
		}
		rd := seg.ix.NewReader(seg.f, chunkfile.ReaderOptions{
			Time:  &chunkfile.TimeRange{Min: mint, Max: maxt},
			Match: func(cs *chunkfile.Series) bool { _, ok := keep[cs]; return ok },
		})
		for rd.Next() {
			b := rd.Batch()
			if b.Num == nil {
				continue
			}
			samples += b.Len()
			if lim.MaxSamples > 0 && samples > lim.MaxSamples {
				rd.Close()
				return nil, &LimitError{What: fmt.Sprintf("the query reads more than %d points, the limit", lim.MaxSamples)}
			}
			id := keep[b.Series]
			p := out[id]
			if p == nil {
				p = &Points{Series: s.series[id]}
				out[id] = p
			}
			for i := range b.Len() {
				if b.Start != nil && p.Start == nil {
					p.Start = make([]int64, len(p.T), cap(p.T))
				}
				p.T = append(p.T, b.T[i])
				p.V = append(p.V, b.Num[i].Float64())
				if p.Start != nil {
					st := int64(0)
					if b.Start != nil {
						st = b.Start[i]
					}
					p.Start = append(p.Start, st)
				}
			}
		}
		err := rd.Err()
		rd.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	res := make([]*Points, 0, len(out))
	for _, p := range out {
		p.sort()
		res = append(res, p)
	}
	slices.SortFunc(res, func(a, b *Points) int { return labels.Compare(a.Series.Labels, b.Series.Labels) })
	return res, nil
}

// sort orders the points by time; segments are read in name (creation) order, so they
// usually are already.
func (p *Points) sort() {
	if slices.IsSorted(p.T) {
		return
	}
	idx := make([]int, len(p.T))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return p.T[idx[a]] < p.T[idx[b]] })
	t, v := make([]int64, len(idx)), make([]float64, len(idx))
	var st []int64
	if p.Start != nil {
		st = make([]int64, len(idx))
	}
	for i, j := range idx {
		t[i], v[i] = p.T[j], p.V[j]
		if st != nil {
			st[i] = p.Start[j]
		}
	}
	p.T, p.V, p.Start = t, v, st
}

// match returns the ids of the series that satisfy every matcher, in id order.
func (s *Store) match(ms []*labels.Matcher) []uint32 {
	candidates := []uint32(nil)
	all := true
	for _, m := range ms {
		if m.Name == labels.MetricName && m.Type == labels.MatchEqual {
			candidates, all = s.byName[m.Value], false
			break
		}
	}
	var out []uint32
	check := func(id uint32) {
		ls := s.series[id].Labels
		for _, m := range ms {
			if !m.Matches(ls.Get(m.Name)) {
				return
			}
		}
		out = append(out, id)
	}
	if all {
		for id := range s.series {
			check(uint32(id))
		}
	} else {
		for _, id := range candidates {
			check(id)
		}
	}
	slices.Sort(out)
	return out
}

// SeriesIn returns the series that match every matcher set of sets (a union, as `match[]`)
// and have points in [mint, maxt]; an empty sets selects every series.
func (s *Store) SeriesIn(sets [][]*labels.Matcher, mint, maxt int64, limit int) ([]*Series, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.refreshLocked(false); err != nil {
		return nil, err
	}
	picked := map[uint32]bool{}
	if len(sets) == 0 {
		for id := range s.series {
			picked[uint32(id)] = true
		}
	}
	for _, ms := range sets {
		for _, id := range s.match(ms) {
			picked[id] = true
		}
	}
	live := map[uint32]bool{}
	for _, seg := range s.files {
		if tr, ok := seg.ix.TimeRange(); !ok || tr.Max < mint || tr.Min > maxt {
			continue
		}
		for _, id := range seg.global {
			if picked[id] {
				live[id] = true
			}
		}
	}
	if limit > 0 && len(live) > limit {
		return nil, &LimitError{What: fmt.Sprintf("%d series match, more than the limit of %d", len(live), limit)}
	}
	out := make([]*Series, 0, len(live))
	for id := range live {
		out = append(out, s.series[id])
	}
	slices.SortFunc(out, func(a, b *Series) int { return labels.Compare(a.Labels, b.Labels) })
	return out, nil
}
