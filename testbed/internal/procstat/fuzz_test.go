package procstat

import (
	"os"
	"testing"
)

// FuzzParseNetUDP: any text either parses or returns an error, never panics, and a parsed
// socket's port fits the address it came from.
func FuzzParseNetUDP(f *testing.F) {
	for _, name := range []string{"net_udp.txt", "net_udp6.txt"} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Add("sl\n1: 0100007F:1F9D 0:0 07 0:0 0 0 0 0 1 2 0 3\n")
	f.Fuzz(func(t *testing.T, text string) {
		socks, err := ParseNetUDP(text)
		if err != nil {
			return
		}
		for _, s := range socks {
			if !s.Local.IsValid() {
				t.Fatalf("invalid address parsed from %q", text)
			}
		}
	})
}

// FuzzParseStat: never panics; parsed CPU times are not negative.
func FuzzParseStat(f *testing.F) {
	b, err := os.ReadFile("testdata/stat.txt")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(b))
	f.Add("1 (a) b")
	f.Fuzz(func(t *testing.T, text string) {
		cpu, err := ParseStat(text)
		if err == nil && (cpu.User < 0 || cpu.System < 0) {
			t.Fatalf("negative CPU %+v from %q", cpu, text)
		}
	})
}
