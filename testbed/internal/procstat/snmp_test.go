package procstat

import (
	"runtime"
	"testing"
)

func TestParseSNMP(t *testing.T) {
	text := `Ip: Forwarding DefaultTTL
Ip: 1 64
Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors
Udp: 7130 12 5 7200 5 0 0 0 0
UdpLite: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors
UdpLite: 0 99 99 0 0 0 0 0 0
`
	c, err := ParseSNMP(text)
	if err != nil {
		t.Fatal(err)
	}
	if c != (UDPCounters{NoPorts: 12, InErrors: 5}) {
		t.Fatalf("got %+v", c)
	}
	if _, err := ParseSNMP("Ip: a\nIp: 1\n"); err == nil {
		t.Fatal("no Udp lines must be an error")
	}
	c6, err := ParseSNMP6("Udp6InDatagrams 10\nUdp6NoPorts 3\nUdp6InErrors 1\nUdpLite6NoPorts 9\n")
	if err != nil || c6 != (UDPCounters{NoPorts: 3, InErrors: 1}) {
		t.Fatalf("got %+v, %v", c6, err)
	}
	if got := (UDPCounters{NoPorts: 5, InErrors: 9}).Sub(UDPCounters{NoPorts: 2, InErrors: 4}); got != (UDPCounters{3, 5}) {
		t.Fatalf("Sub: %+v", got)
	}
}

func TestReadUDPCountersHere(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("Linux only")
	}
	if _, err := ReadUDPCounters(); err != nil {
		t.Fatal(err)
	}
}
