package loadgen

import (
	"fmt"
	"strconv"
)

// FloodConfig describes a cardinality flood: counters with three tags, where ids in metric
// names (many Names) or in tag values (many TagSets) make almost every line a new context. The
// zero value of a field means its default.
type FloodConfig struct {
	// Names is the number of distinct metric names; required. The larger of Names and TagSets
	// must be a multiple of the smaller.
	Names int
	// TagSets is the number of distinct tag sets; required. A tag set is
	// `env:e<t mod 3>,service:svc<t mod 40>,user_id:u<t>`.
	TagSets int
	// LinesPerDatagram is how many lines a datagram holds; default 30, as a buffered DogStatsD
	// client packs short lines.
	LinesPerDatagram int
	// PacketSize bounds a datagram in bytes (it is cut early when the next line does not fit);
	// default 8192, the receivers' buffer.
	PacketSize int
	// Prefix starts every metric name; default "fl".
	Prefix string
}

func (c FloodConfig) withDefaults() FloodConfig {
	c.LinesPerDatagram = cmpOr(c.LinesPerDatagram, 30)
	c.PacketSize = cmpOr(c.PacketSize, 8192)
	c.Prefix = cmpOr(c.Prefix, "fl")
	return c
}

func (c FloodConfig) validate() error {
	switch {
	case c.Names < 1 || c.TagSets < 1:
		return fmt.Errorf("loadgen: flood names (%d) and tag sets (%d) must be positive", c.Names, c.TagSets)
	case max(c.Names, c.TagSets)%min(c.Names, c.TagSets) != 0:
		return fmt.Errorf("loadgen: flood names (%d) and tag sets (%d): the larger must be a multiple of the smaller", c.Names, c.TagSets)
	case c.LinesPerDatagram < 1:
		return fmt.Errorf("loadgen: flood lines per datagram (%d) must be positive", c.LinesPerDatagram)
	case c.PacketSize < 512 || c.PacketSize > 65507:
		return fmt.Errorf("loadgen: packet size (%d) must be within [512, 65507]", c.PacketSize)
	case len(c.Prefix) > 64:
		return fmt.Errorf("loadgen: flood prefix %q is longer than 64 bytes", c.Prefix)
	}
	return nil
}

// Flood is flood traffic formatted while it is sent, so that millions of distinct lines cost
// no memory: each sender formats a block of datagrams when it has sent the previous one.
//
// Line k (k = 0, 1, …) of a sender, with L = max(Names, TagSets) lines a pass, p = k / L and
// i = k mod L, has the name n = (i + p) mod Names, the tag set t = i mod TagSets and the value
// 1 + k mod 5. Within a pass each line has a new name (Names ≥ TagSets) or a new tag set
// (TagSets ≥ Names); each pass shifts names against tag sets by one, so no context repeats
// within min(Names, TagSets) passes. A Flood is read-only and safe to share between senders.
type Flood struct {
	cfg  FloodConfig
	pass int64
}

// NewFlood checks cfg and returns its traffic.
func NewFlood(cfg FloodConfig) (*Flood, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Flood{cfg: cfg, pass: int64(max(cfg.Names, cfg.TagSets))}, nil
}

// Config returns the configuration, defaults filled in.
func (f *Flood) Config() FloodConfig { return f.cfg }

// Prefix is Config().Prefix.
func (f *Flood) Prefix() string { return f.cfg.Prefix }

// PassLines is the number of lines of a pass (every name or every tag set once).
func (f *Flood) PassLines() int64 { return f.pass }

// AppendLine appends line k (without a newline) to dst and returns what it holds.
func (f *Flood) AppendLine(dst []byte, k int64) ([]byte, Totals) {
	p, i := k/f.pass, k%f.pass
	n := (i + p) % int64(f.cfg.Names)
	t := i % int64(f.cfg.TagSets)
	v := 1 + k%5
	dst = append(dst, f.cfg.Prefix...)
	dst = append(dst, ".u"...)
	dst = strconv.AppendInt(dst, n, 10)
	dst = append(dst, ".requests:"...)
	dst = strconv.AppendInt(dst, v, 10)
	dst = append(dst, "|c|#env:e"...)
	dst = strconv.AppendInt(dst, t%3, 10)
	dst = append(dst, ",service:svc"...)
	dst = strconv.AppendInt(dst, t%40, 10)
	dst = append(dst, ",user_id:u"...)
	dst = strconv.AppendInt(dst, t, 10)
	return dst, Totals{Lines: 1, Metrics: 1, Samples: 1, Plain: 1, Counters: 1, CounterSum: float64(v)}
}

// floodBlockDatagrams is how many datagrams a sender formats at once: 64 datagrams of 30
// lines are about 20 ms of traffic at 100k lines/s and take 0.35-0.7 ms to format here (180-355
// ns a line, BenchmarkFloodBlock on the shared 2-core machine), well within the pacer's 5 ms
// catch-up, so a refill does not make the sender skip traffic.
const floodBlockDatagrams = 64

// start gives sender k of n its own formatter, starting k/n of a pass into the traffic.
func (f *Flood) start(k, n int) (*Workload, int, func() *Workload) {
	g := &floodGen{f: f, k: int64(k) * f.pass / int64(n)}
	g.blk.cfg = Config{Prefix: f.cfg.Prefix, Packing: Packed, PacketSize: f.cfg.PacketSize}
	g.b = builder{w: &g.blk, cfg: g.blk.cfg, maxLines: int64(f.cfg.LinesPerDatagram)}
	return g.fill(), 0, g.fill
}

// floodGen formats one sender's blocks into the same buffers, block after block.
type floodGen struct {
	f    *Flood
	k    int64 // the next line
	blk  Workload
	b    builder
	line []byte
}

func (g *floodGen) fill() *Workload {
	w := &g.blk
	w.buf, w.framed, w.dgrams = w.buf[:0], w.framed[:0], w.dgrams[:0]
	w.total, w.maxLines = Totals{}, 0
	for range floodBlockDatagrams * g.f.cfg.LinesPerDatagram {
		var t Totals
		g.line, t = g.f.AppendLine(g.line[:0], g.k)
		g.k++
		g.b.add(g.line, t)
	}
	g.b.flush()
	return w
}
