// Package loadgen pre-builds DogStatsD traffic and sends it at a fixed rate over UDP, Unix
// datagram and Unix stream sockets. Building formats every line once, up front, so sending costs
// only the socket writes (formatting each line as it is sent costs about a third of a core per
// 50k lines/s on the testbed's machine, which would cap the rate the generator can reach).
package loadgen

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
)

// Packing says how lines are put into datagrams.
type Packing int

const (
	// Packed fills each datagram with whole lines, joined by '\n', up to Config.PacketSize bytes,
	// as DogStatsD clients with a buffer do.
	Packed Packing = iota
	// Single sends one line per datagram, as naive StatsD clients do.
	Single
)

func (p Packing) String() string {
	if p == Single {
		return "1 line/datagram"
	}
	return "packed"
}

// Config describes the traffic to build. The zero value of a field means its default.
type Config struct {
	// Seed makes the build reproducible: the same Config builds the same bytes.
	Seed uint64
	// Contexts is the number of distinct metric contexts (name, type and tag set); default 1000.
	Contexts int
	// MinTags and MaxTags bound the tags of a context; default 2 and 20.
	MinTags, MaxTags int
	// PackedFraction is the share of metric lines that carry several values (`name:1:2:3|d`);
	// only gauges, distributions, histograms and timers are packed. Default 0.08; negative: none.
	PackedFraction float64
	// EventEvery and ServiceCheckEvery put one event or service check after that many metric
	// lines; default 5000 each, negative for none.
	EventEvery, ServiceCheckEvery int
	// CountersOnly builds nothing but counters of value 1, so a line count and a counter total
	// are the same number (the graceful-stop scenario checks one against the other).
	CountersOnly bool
	// Packing and PacketSize choose how lines are put into datagrams; PacketSize defaults to
	// 8192, the DogStatsD clients' buffer for Unix sockets and the receivers' default buffer.
	Packing    Packing
	PacketSize int
	// Prefix starts every metric name, so traffic of different phases of a run can be told
	// apart in the output; default "tb".
	Prefix string
	// Lines is how many metric lines to build before the traffic repeats; at least two passes
	// over the contexts are built. Default 200000.
	Lines int
}

func (c Config) withDefaults() Config {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.Contexts, 1000)
	def(&c.MinTags, 2)
	def(&c.MaxTags, 20)
	def(&c.EventEvery, 5000)
	def(&c.ServiceCheckEvery, 5000)
	def(&c.PacketSize, 8192)
	def(&c.Lines, 200000)
	if c.PackedFraction == 0 {
		c.PackedFraction = 0.08
	}
	if c.Prefix == "" {
		c.Prefix = "tb"
	}
	return c
}

func (c Config) validate() error {
	switch {
	case c.Contexts < 1:
		return fmt.Errorf("loadgen: contexts (%d) must be positive", c.Contexts)
	case c.MinTags < 0 || c.MaxTags < c.MinTags || c.MaxTags > len(tagKeys):
		return fmt.Errorf("loadgen: tags [%d, %d] must be within [0, %d]", c.MinTags, c.MaxTags, len(tagKeys))
	case c.PacketSize < 512 || c.PacketSize > 65507:
		return fmt.Errorf("loadgen: packet size (%d) must be within [512, 65507]", c.PacketSize)
	case c.PackedFraction > 1:
		return fmt.Errorf("loadgen: packed fraction (%g) must be at most 1", c.PackedFraction)
	}
	return nil
}

// Totals counts what a stretch of traffic holds.
type Totals struct {
	Datagrams int64
	Bytes     int64 // payload bytes, without stream framing
	Lines     int64 // every line: metrics, events, service checks
	Metrics   int64 // metric lines
	Samples   int64 // values: a packed line holds several
	// Plain counts the metric lines the contrib StatsD receiver parses: one value of type c, g,
	// d, h or ms (it refuses sets, packed values, events and service checks).
	Plain         int64
	Counters      int64   // counter lines
	CounterSum    float64 // Σ value / sample rate over counter lines: what the outputs must add up to
	Events        int64
	ServiceChecks int64
}

// Add adds o to t.
func (t *Totals) Add(o Totals) {
	t.Datagrams += o.Datagrams
	t.Bytes += o.Bytes
	t.Lines += o.Lines
	t.Metrics += o.Metrics
	t.Samples += o.Samples
	t.Plain += o.Plain
	t.Counters += o.Counters
	t.CounterSum += o.CounterSum
	t.Events += o.Events
	t.ServiceChecks += o.ServiceChecks
}

// Workload is pre-built traffic: datagrams back to back in one buffer, and the same datagrams
// framed for Unix streams (a 4-byte little-endian length before each) in another, so a run of
// consecutive datagrams is one contiguous slice. A Workload is read-only once built and safe
// to share between senders.
type Workload struct {
	cfg    Config
	buf    []byte
	framed []byte
	dgrams []datagram
	total  Totals
	kinds  map[string]int // metric type -> contexts of it
	// maxLines is the most lines in one datagram.
	maxLines int64
}

type datagram struct {
	off, framedOff int
	n              int
	totals         Totals
}

// Len is the number of datagrams before the traffic repeats.
func (w *Workload) Len() int { return len(w.dgrams) }

// Datagram returns datagram i's payload; the caller must not modify it.
func (w *Workload) Datagram(i int) []byte {
	d := &w.dgrams[i]
	return w.buf[d.off : d.off+d.n]
}

// Framed returns datagrams [i, j) as Unix stream frames, contiguous; the caller must not modify it.
func (w *Workload) Framed(i, j int) []byte {
	end := len(w.framed)
	if j < len(w.dgrams) {
		end = w.dgrams[j].framedOff
	}
	return w.framed[w.dgrams[i].framedOff:end]
}

// Totals returns what datagram i holds.
func (w *Workload) Totals(i int) Totals { return w.dgrams[i].totals }

// Total returns what one pass over every datagram holds.
func (w *Workload) Total() Totals { return w.total }

// Config returns the configuration the workload was built from, defaults filled in.
func (w *Workload) Config() Config { return w.cfg }

// Traffic is what Run sends: a pre-built *Workload, or a *Flood that formats its datagrams
// while they are sent.
type Traffic interface {
	// Prefix starts every metric name of the traffic, so a phase's lines can be told apart in
	// a collector's output.
	Prefix() string
	// start returns sender k's (of n) first block of datagrams, the datagram to start at in it,
	// and the function that returns each block after the one sent (nil: send the same block
	// again). A block returned by next is valid until next is called again.
	start(k, n int) (first *Workload, pos int, next func() *Workload)
}

// Prefix is Config().Prefix.
func (w *Workload) Prefix() string { return w.cfg.Prefix }

// start spreads the senders over the pre-built datagrams, each repeating them all.
func (w *Workload) start(k, n int) (*Workload, int, func() *Workload) { return w, k * w.Len() / n, nil }

// Contexts returns how many contexts of each metric type ("c", "g", "d", "h", "ms", "s") exist.
func (w *Workload) Contexts() map[string]int { return w.kinds }

// Build formats the traffic cfg describes.
func Build(cfg Config) (*Workload, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x646f67686f757365))
	ctxs, err := makeContexts(rng, cfg)
	if err != nil {
		return nil, err
	}
	w := &Workload{cfg: cfg, kinds: map[string]int{}}
	for _, c := range ctxs {
		w.kinds[c.kind]++
	}
	lines := max(cfg.Lines, 2*cfg.Contexts)
	b := builder{w: w, cfg: cfg}
	var line []byte
	var metrics int
	for metrics < lines {
		// Each pass visits every context once, in a new order, so every context is live in
		// every stretch of traffic as long as one pass.
		for _, ci := range rng.Perm(len(ctxs)) {
			var t Totals
			line, t = ctxs[ci].appendLine(line[:0], rng, cfg)
			b.add(line, t)
			metrics++
			if cfg.EventEvery > 0 && metrics%cfg.EventEvery == 0 {
				line, t = appendEvent(line[:0], rng, metrics)
				b.add(line, t)
			}
			if cfg.ServiceCheckEvery > 0 && metrics%cfg.ServiceCheckEvery == 0 {
				line, t = appendServiceCheck(line[:0], rng, metrics)
				b.add(line, t)
			}
			if metrics >= lines {
				break
			}
		}
	}
	b.flush()
	if len(w.dgrams) == 0 {
		return nil, errors.New("loadgen: built no datagrams")
	}
	return w, nil
}

// builder packs lines into datagrams.
type builder struct {
	w   *Workload
	cfg Config
	// maxLines, when positive, cuts a datagram at that many lines.
	maxLines int64
	cur      []byte
	curTot   Totals
	started  bool
}

func (b *builder) add(line []byte, t Totals) {
	full := b.cfg.Packing == Single || len(b.cur)+1+len(line) > b.cfg.PacketSize || (b.maxLines > 0 && b.curTot.Lines >= b.maxLines)
	if b.started && full {
		b.flush()
	}
	if b.started {
		b.cur = append(b.cur, '\n')
	}
	b.cur = append(b.cur, line...)
	b.curTot.Add(t)
	b.started = true
}

func (b *builder) flush() {
	if !b.started {
		return
	}
	w := b.w
	b.curTot.Datagrams = 1
	b.curTot.Bytes = int64(len(b.cur))
	d := datagram{off: len(w.buf), framedOff: len(w.framed), n: len(b.cur), totals: b.curTot}
	w.buf = append(w.buf, b.cur...)
	w.framed = binary.LittleEndian.AppendUint32(w.framed, uint32(len(b.cur)))
	w.framed = append(w.framed, b.cur...)
	w.dgrams = append(w.dgrams, d)
	w.total.Add(b.curTot)
	w.maxLines = max(w.maxLines, b.curTot.Lines)
	b.cur, b.curTot, b.started = b.cur[:0], Totals{}, false
}

// Metric types and their share of contexts: counters and gauges dominate real traffic,
// distributions are what Datadog's clients recommend for latencies, sets are rare.
var kindShares = []struct {
	kind  string
	share float64
}{{"c", 0.35}, {"g", 0.20}, {"d", 0.20}, {"h", 0.10}, {"ms", 0.07}, {"s", 0.08}}

// Tag keys and how many values each has; a context draws distinct keys.
var tagKeys = []struct {
	key    string
	values int
}{
	{"env", 3}, {"service", 40}, {"version", 12}, {"region", 6}, {"availability-zone", 18},
	{"host", 200}, {"pod_name", 400}, {"kube_namespace", 15}, {"kube_deployment", 60},
	{"container_name", 80}, {"endpoint", 120}, {"http.method", 5}, {"status_code", 12},
	{"team", 10}, {"db.system", 4}, {"queue", 25}, {"customer_tier", 4}, {"shard", 64},
	{"build_id", 30}, {"feature_flag", 20}, {"instance-type", 9}, {"cluster", 5},
}

var nameParts = [][]string{
	{"api", "db", "cache", "queue", "http", "rpc", "worker", "auth", "billing", "search"},
	{"request", "query", "job", "message", "session", "connection", "payload", "lookup"},
	{"count", "latency", "size", "errors", "duration", "bytes", "inflight", "retries"},
}

type metricContext struct {
	kind, name, tags string
}

func makeContexts(rng *rand.Rand, cfg Config) ([]metricContext, error) {
	seen := make(map[string]bool, cfg.Contexts)
	out := make([]metricContext, 0, cfg.Contexts)
	keys := make([]int, len(tagKeys))
	for i := range keys {
		keys[i] = i
	}
	var sb strings.Builder
	for attempts := 0; len(out) < cfg.Contexts; attempts++ {
		if attempts > 20*cfg.Contexts+1000 {
			return nil, fmt.Errorf("loadgen: could not draw %d distinct contexts with %d-%d tags", cfg.Contexts, cfg.MinTags, cfg.MaxTags)
		}
		kind := "c"
		if !cfg.CountersOnly {
			kind = drawKind(rng)
		}
		name := fmt.Sprintf("%s.%s.%s.%s.m%d", cfg.Prefix, nameParts[0][rng.IntN(len(nameParts[0]))],
			nameParts[1][rng.IntN(len(nameParts[1]))], nameParts[2][rng.IntN(len(nameParts[2]))], rng.IntN(100))
		n := cfg.MinTags + rng.IntN(cfg.MaxTags-cfg.MinTags+1)
		rng.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
		sb.Reset()
		for i, k := range keys[:n] {
			if i > 0 {
				sb.WriteByte(',')
			}
			tk := tagKeys[k]
			sb.WriteString(tk.key)
			sb.WriteByte(':')
			sb.WriteString(tk.key[:min(3, len(tk.key))])
			sb.WriteString(strconv.Itoa(rng.IntN(tk.values)))
		}
		tags := sb.String()
		// Identity does not depend on tag order, in either receiver.
		id := kind + "|" + name + "|" + canonicalTags(tags)
		if seen[id] {
			continue
		}
		seen[id] = true
		out = append(out, metricContext{kind: kind, name: name, tags: tags})
	}
	return out, nil
}

func canonicalTags(tags string) string {
	parts := strings.Split(tags, ",")
	slices.Sort(parts)
	return strings.Join(parts, ",")
}

func drawKind(rng *rand.Rand) string {
	x := rng.Float64()
	for _, ks := range kindShares {
		if x < ks.share {
			return ks.kind
		}
		x -= ks.share
	}
	return kindShares[0].kind
}

// appendLine formats one line of context c and counts it.
func (c *metricContext) appendLine(dst []byte, rng *rand.Rand, cfg Config) ([]byte, Totals) {
	t := Totals{Lines: 1, Metrics: 1}
	dst = append(dst, c.name...)
	values := 1
	packable := c.kind == "g" || c.kind == "d" || c.kind == "h" || c.kind == "ms"
	// Packed lines are drawn among packable types so that PackedFraction of all lines are packed.
	if packable && cfg.PackedFraction > 0 && rng.Float64() < cfg.PackedFraction/packableShare {
		values = 2 + rng.IntN(4)
	}
	rate := ""
	switch c.kind {
	case "c":
		t.Counters = 1
		if cfg.CountersOnly {
			dst = append(dst, ":1"...)
			t.CounterSum = 1
		} else if rng.IntN(20) == 0 {
			// Sampled at 1/2 with an even value, so value/rate is exact for every receiver
			// (the contrib receiver turns counters into integers).
			dst = append(dst, ":2"...)
			rate = "|@0.5"
			t.CounterSum = 4
		} else {
			v := 1 + rng.IntN(5)
			dst = append(dst, ':')
			dst = strconv.AppendInt(dst, int64(v), 10)
			t.CounterSum = float64(v)
		}
	case "s":
		dst = append(dst, ":user"...)
		dst = strconv.AppendInt(dst, int64(rng.IntN(500)), 10)
	case "g":
		for range values {
			dst = append(dst, ':')
			dst = strconv.AppendFloat(dst, float64(rng.IntN(100000))/100, 'f', -1, 64)
		}
	default: // d, h, ms: latency-like, log-normal around 20 ms, microsecond precision
		for range values {
			dst = append(dst, ':')
			v := 20 * math.Exp(0.6*rng.NormFloat64())
			dst = strconv.AppendFloat(dst, float64(int64(v*1000))/1000, 'f', -1, 64)
		}
	}
	dst = append(dst, '|')
	dst = append(dst, c.kind...)
	dst = append(dst, rate...)
	dst = append(dst, "|#"...)
	dst = append(dst, c.tags...)
	t.Samples = int64(values)
	if values == 1 && c.kind != "s" {
		t.Plain = 1
	}
	return dst, t
}

// packableShare is the share of contexts of packable types (g, d, h, ms).
const packableShare = 0.20 + 0.20 + 0.10 + 0.07

func appendEvent(dst []byte, rng *rand.Rand, n int) ([]byte, Totals) {
	title := "deploy " + strconv.Itoa(n)
	text := "version " + strconv.Itoa(rng.IntN(1000)) + " rolled out\\nno errors"
	dst = fmt.Appendf(dst, "_e{%d,%d}:%s|%s|p:low|t:info|#env:env%d,service:ser%d", len(title), len(text), title, text, rng.IntN(3), rng.IntN(40))
	return dst, Totals{Lines: 1, Events: 1}
}

func appendServiceCheck(dst []byte, rng *rand.Rand, n int) ([]byte, Totals) {
	dst = fmt.Appendf(dst, "_sc|tb.check.db%d|%d|#env:env%d|m:probe %d", rng.IntN(20), rng.IntN(4), rng.IntN(3), n)
	return dst, Totals{Lines: 1, ServiceChecks: 1}
}
