package suite

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestTSDBLoadScales(t *testing.T) {
	full := (&env{}).tsdbLoad()
	if full.lines != 5_000_000 || full.requests != 10_000 || full.lines%full.block != 0 {
		t.Fatalf("%+v", full)
	}
	for _, s := range []float64{0.01, 0.05, 0.2, 0.33, 2} {
		l := (&env{o: Options{DurationScale: s}}).tsdbLoad()
		if l.lines < 100_000 || l.lines%l.block != 0 || l.block == 0 || l.requests < 1000 {
			t.Errorf("scale %v: %+v", s, l)
		}
	}
}

func TestDSDBConfig(t *testing.T) {
	var doc map[string]any
	if err := yaml.Unmarshal([]byte(dsdbConfig("127.0.0.1:4242", "/tmp/chunks", 8888, 0)), &doc); err != nil {
		t.Fatal(err)
	}
	y := dsdbConfig("127.0.0.1:4242", "/tmp/chunks", 8888, 0)
	for _, want := range []string{"endpoint: 127.0.0.1:4242", "directory: /tmp/chunks", "port: 8888", "receivers: [dsdb]"} {
		if !strings.Contains(y, want) {
			t.Errorf("config lacks %q:\n%s", want, y)
		}
	}
	// Scenario 10 adds the chunkquery extension over the same directory.
	q := dsdbConfig("127.0.0.1:4242", "/tmp/chunks", 8888, 9999)
	if err := yaml.Unmarshal([]byte(q), &doc); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"chunkquery:\n    directory: /tmp/chunks\n    endpoint: 127.0.0.1:9999", "extensions: [chunkquery]", "receivers: [dsdb]"} {
		if !strings.Contains(q, want) {
			t.Errorf("config lacks %q:\n%s", want, q)
		}
	}
}
