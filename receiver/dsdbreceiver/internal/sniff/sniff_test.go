package sniff

import "testing"

func TestDetect(t *testing.T) {
	for in, want := range map[string]Protocol{
		"POST /api/put HTTP/1.1\r\n": HTTP, "GET / HTTP/1.0\r\n": HTTP, "OPTIONS *": HTTP,
		"put m 1 1 a=b\n": Telnet, "version\n": Telnet, "\x00\x01": Telnet, "": Telnet,
		`{"metrics":[]}`: StatsHouseJSON,
		// StatsHouse's TL batch prefix and protobuf: not taken for JSON, so telnet's replies
		// tell the client it is not understood.
		"\x39\x02\x58\x56": Telnet, "\x99\x68": Telnet,
	} {
		if got := Detect([]byte(in)); got != want {
			t.Errorf("%q: %v, want %v", in, got, want)
		}
	}
}

// FuzzDetect: the first byte alone decides, so a client's first read may be one byte.
func FuzzDetect(f *testing.F) {
	f.Add([]byte("POST /api/put"))
	f.Add([]byte("{\"metrics\""))
	f.Add([]byte("put m 1 1 a=b"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p := Detect(b)
		if len(b) > 0 && Detect(b[:1]) != p {
			t.Fatalf("%q: %v, its first byte %v", b, p, Detect(b[:1]))
		}
		if p == HTTP && !(b[0] >= 'A' && b[0] <= 'Z') || p == StatsHouseJSON && b[0] != '{' {
			t.Fatalf("%q: %v", b, p)
		}
	})
}
