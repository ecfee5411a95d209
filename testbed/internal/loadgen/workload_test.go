package loadgen

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// parsed is what checkLine found in one line, counted the way Totals counts.
type parsed struct {
	Totals
	context string // kind|name|sorted tags; empty for events and service checks
	packed  bool
	tags    int
}

// checkLine parses one DogStatsD line independently of the builder and fails on anything the
// protocol (datagram shell v1.x) does not allow.
func checkLine(t *testing.T, line string) parsed {
	t.Helper()
	switch {
	case strings.HasPrefix(line, "_e{"):
		head, rest, ok := strings.Cut(line[3:], "}:")
		lens := strings.Split(head, ",")
		if !ok || len(lens) != 2 {
			t.Fatalf("event header in %q", line)
		}
		tl, err1 := strconv.Atoi(lens[0])
		xl, err2 := strconv.Atoi(lens[1])
		if err1 != nil || err2 != nil || len(rest) < tl+1+xl || rest[tl] != '|' {
			t.Fatalf("event lengths in %q", line)
		}
		if r := rest[tl+1+xl:]; r != "" && r[0] != '|' {
			t.Fatalf("event text length is wrong in %q", line)
		}
		return parsed{Totals: Totals{Lines: 1, Events: 1}}
	case strings.HasPrefix(line, "_sc|"):
		f := strings.Split(line, "|")
		if len(f) < 3 || f[1] == "" {
			t.Fatalf("service check %q", line)
		}
		if st, err := strconv.Atoi(f[2]); err != nil || st < 0 || st > 3 {
			t.Fatalf("service check status in %q", line)
		}
		return parsed{Totals: Totals{Lines: 1, ServiceChecks: 1}}
	}
	f := strings.Split(line, "|")
	if len(f) < 2 {
		t.Fatalf("metric line without a type: %q", line)
	}
	name, vals, ok := strings.Cut(f[0], ":")
	if !ok || name == "" || strings.ContainsAny(name, " #,") {
		t.Fatalf("bad name in %q", line)
	}
	kind := f[1]
	values := strings.Split(vals, ":")
	rate := 1.0
	var tags []string
	for _, field := range f[2:] {
		switch {
		case strings.HasPrefix(field, "@"):
			r, err := strconv.ParseFloat(field[1:], 64)
			if err != nil || r <= 0 || r > 1 {
				t.Fatalf("bad rate in %q", line)
			}
			rate = r
		case strings.HasPrefix(field, "#"):
			tags = strings.Split(field[1:], ",")
		default:
			t.Fatalf("unknown field %q in %q", field, line)
		}
	}
	keys := map[string]bool{}
	for _, tag := range tags {
		k, v, ok := strings.Cut(tag, ":")
		if !ok || k == "" || v == "" || keys[k] {
			t.Fatalf("bad or repeated tag %q in %q", tag, line)
		}
		keys[k] = true
	}
	p := parsed{Totals: Totals{Lines: 1, Metrics: 1, Samples: int64(len(values))}, packed: len(values) > 1, tags: len(tags)}
	switch kind {
	case "c":
		if len(values) != 1 {
			t.Fatalf("packed counter %q", line)
		}
		v, err := strconv.ParseInt(values[0], 10, 64)
		if err != nil || v <= 0 {
			t.Fatalf("counter value in %q", line)
		}
		p.Counters, p.CounterSum = 1, float64(v)/rate
	case "s":
		if len(values) != 1 || values[0] == "" {
			t.Fatalf("set %q", line)
		}
	case "g", "d", "h", "ms":
		for _, v := range values {
			x, err := strconv.ParseFloat(v, 64)
			if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
				t.Fatalf("value %q in %q", v, line)
			}
		}
	default:
		t.Fatalf("type %q in %q", kind, line)
	}
	if len(values) == 1 && kind != "s" {
		p.Plain = 1
	}
	sorted := slices.Clone(tags)
	slices.Sort(sorted)
	p.context = kind + "|" + name + "|" + strings.Join(sorted, ",")
	return p
}

func TestBuildProducesValidDogStatsD(t *testing.T) {
	for _, packing := range []Packing{Packed, Single} {
		t.Run(packing.String(), func(t *testing.T) {
			cfg := Config{Seed: 7, Contexts: 3000, Lines: 60000, Packing: packing, PacketSize: 4096}
			w, err := Build(cfg)
			if err != nil {
				t.Fatal(err)
			}
			var got Totals
			contexts := map[string]bool{}
			kinds := map[string]int{}
			var packed, minTags, maxTags int64 = 0, 1 << 30, 0
			for i := range w.Len() {
				d := w.Datagram(i)
				if len(d) == 0 || len(d) > cfg.PacketSize {
					t.Fatalf("datagram %d is %d bytes, limit %d", i, len(d), cfg.PacketSize)
				}
				if d[len(d)-1] == '\n' || bytes.Contains(d, []byte("\n\n")) {
					t.Fatalf("datagram %d has an empty line", i)
				}
				var dt Totals
				lines := strings.Split(string(d), "\n")
				if packing == Single && len(lines) != 1 {
					t.Fatalf("datagram %d holds %d lines in single-line mode", i, len(lines))
				}
				for _, line := range lines {
					p := checkLine(t, line)
					dt.Add(p.Totals)
					if p.context != "" {
						if !contexts[p.context] {
							kinds[strings.SplitN(p.context, "|", 2)[0]]++
						}
						contexts[p.context] = true
						minTags, maxTags = min(minTags, int64(p.tags)), max(maxTags, int64(p.tags))
					}
					if p.packed {
						packed++
					}
				}
				dt.Datagrams, dt.Bytes = 1, int64(len(d))
				if dt != w.Totals(i) {
					t.Fatalf("datagram %d: parsed %+v, builder counted %+v", i, dt, w.Totals(i))
				}
				got.Add(dt)
			}
			if got != w.Total() {
				t.Fatalf("parsed %+v, builder total %+v", got, w.Total())
			}
			if len(contexts) != cfg.Contexts {
				t.Fatalf("%d distinct contexts, want %d", len(contexts), cfg.Contexts)
			}
			if fmt.Sprint(kinds) != fmt.Sprint(w.Contexts()) {
				t.Fatalf("contexts by type %v, builder says %v", kinds, w.Contexts())
			}
			if got.Metrics < 60000 || got.Events != got.Metrics/5000 || got.ServiceChecks != got.Metrics/5000 {
				t.Fatalf("%d metric lines, %d events, %d service checks", got.Metrics, got.Events, got.ServiceChecks)
			}
			if share := float64(packed) / float64(got.Metrics); share < 0.07 || share > 0.09 {
				t.Fatalf("%.3f of lines packed, want about 0.08", share)
			}
			if minTags != 2 || maxTags != 20 {
				t.Fatalf("tags per line within [%d, %d], want [2, 20]", minTags, maxTags)
			}
			for _, k := range []string{"c", "g", "d", "h", "ms", "s"} {
				if kinds[k] == 0 {
					t.Fatalf("no %s contexts: %v", k, kinds)
				}
			}
			if packing == Packed {
				if avg := float64(got.Bytes) / float64(got.Datagrams); avg < 0.9*float64(cfg.PacketSize) {
					t.Fatalf("packed datagrams average %.0f bytes, want close to %d", avg, cfg.PacketSize)
				}
			}
		})
	}
}

func TestBuildIsReproducible(t *testing.T) {
	cfg := Config{Seed: 42, Contexts: 500, Lines: 5000}
	a, err := Build(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Build(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.buf, b.buf) || a.Total() != b.Total() {
		t.Fatal("the same config built different traffic")
	}
	cfg.Seed = 43
	c, err := Build(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a.buf, c.buf) {
		t.Fatal("another seed built the same traffic")
	}
}

func TestCountersOnly(t *testing.T) {
	w, err := Build(Config{Seed: 1, Contexts: 200, Lines: 2000, CountersOnly: true, EventEvery: -1, ServiceCheckEvery: -1, Prefix: "gs"})
	if err != nil {
		t.Fatal(err)
	}
	tot := w.Total()
	if tot.Lines != tot.Counters || tot.CounterSum != float64(tot.Lines) || tot.Samples != tot.Lines {
		t.Fatalf("counters-only traffic: %+v", tot)
	}
	if !bytes.HasPrefix(w.Datagram(0), []byte("gs.")) {
		t.Fatalf("prefix missing: %q", w.Datagram(0)[:20])
	}
}

func TestFramedMatchesDatagrams(t *testing.T) {
	w, err := Build(Config{Seed: 3, Contexts: 100, Lines: 3000, PacketSize: 1024})
	if err != nil {
		t.Fatal(err)
	}
	b := w.Framed(0, w.Len())
	for i := range w.Len() {
		if len(b) < 4 {
			t.Fatalf("frames end before datagram %d", i)
		}
		n := int(binary.LittleEndian.Uint32(b))
		if !bytes.Equal(b[4:4+n], w.Datagram(i)) {
			t.Fatalf("frame %d differs from its datagram", i)
		}
		b = b[4+n:]
	}
	if len(b) != 0 {
		t.Fatalf("%d bytes after the last frame", len(b))
	}
	if got, want := len(w.Framed(2, 5)), 12+len(w.Datagram(2))+len(w.Datagram(3))+len(w.Datagram(4)); got != want {
		t.Fatalf("Framed(2, 5) is %d bytes, want %d", got, want)
	}
}

func TestBuildRejectsBadConfigs(t *testing.T) {
	for _, cfg := range []Config{
		{Contexts: -1},
		{MinTags: 5, MaxTags: 3},
		{MaxTags: 99},
		{PacketSize: 100},
		{PackedFraction: 2},
	} {
		if _, err := Build(cfg); err == nil {
			t.Errorf("Build(%+v) accepted a bad config", cfg)
		}
	}
}
