package collector

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// FuzzParseProm: never panics; every sample parsed has a name.
func FuzzParseProm(f *testing.F) {
	for _, name := range []string{"doghouse.prom", "contrib.prom"} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Add(`x{a="\"",b="\\"} 1 2`)
	f.Fuzz(func(t *testing.T, text string) {
		sc, err := ParseProm(strings.NewReader(text))
		if err != nil {
			return
		}
		for _, s := range sc {
			if s.Name == "" {
				t.Fatalf("sample without a name from %q", text)
			}
		}
	})
}

// FuzzReadOutput: a corrupt or torn file exporter output never panics the reader.
func FuzzReadOutput(f *testing.F) {
	b, err := os.ReadFile("testdata/contrib-file-exporter.pb")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b[:min(len(b), 400)])
	f.Add([]byte{0, 0, 0, 2, 0x0a, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := readOutput(bytes.NewReader(data))
		if err == nil && out.Points < 0 {
			t.Fatal("negative point count")
		}
	})
}
