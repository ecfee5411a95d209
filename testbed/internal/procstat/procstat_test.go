package procstat

import (
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func fixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestParseStatCountsFieldsAfterTheLastParenthesis(t *testing.T) {
	cpu, err := ParseStat(fixture(t, "stat.txt"))
	if err != nil {
		t.Fatal(err)
	}
	// utime 1234 and stime 567 ticks of 1/100 s.
	if cpu.User != 12340*time.Millisecond || cpu.System != 5670*time.Millisecond {
		t.Fatalf("got user %v system %v, want 12.34s and 5.67s", cpu.User, cpu.System)
	}
	if cpu.Total() != 18010*time.Millisecond {
		t.Fatalf("total %v, want 18.01s", cpu.Total())
	}
}

func TestParseStatRejectsTruncatedLines(t *testing.T) {
	for _, text := range []string{"", "12 (x) S 1 2 3", "12 (x) S 1 2 3 4 5 6 7 8 9 10 abc 5"} {
		if _, err := ParseStat(text); err == nil {
			t.Errorf("ParseStat(%q) accepted a bad line", text)
		}
	}
}

func TestParseStatus(t *testing.T) {
	m, err := ParseStatus(fixture(t, "status.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if m.PeakRSS != 131072<<10 || m.RSS != 86028<<10 {
		t.Fatalf("got %+v, want peak 128 MiB and rss 86028 kB", m)
	}
	if _, err := ParseStatus("Name:\tx\nVmRSS:\t1 kB\n"); err == nil {
		t.Fatal("a status without VmHWM was accepted")
	}
	if _, err := ParseStatus("VmRSS:\t1 MB\nVmHWM:\t1 kB\n"); err == nil {
		t.Fatal("a value in an unknown unit was accepted")
	}
}

func TestParseNetUDP(t *testing.T) {
	socks, err := ParseNetUDP(fixture(t, "net_udp.txt"))
	if err != nil {
		t.Fatal(err)
	}
	want := []UDPSocket{
		{Local: netip.MustParseAddrPort("127.0.0.1:56811"), RxQueue: 0, Drops: 0, Inode: 92242},
		{Local: netip.MustParseAddrPort("127.0.0.1:44528"), RxQueue: 0x33F00, Drops: 9918, Inode: 92241},
		{Local: netip.MustParseAddrPort("0.0.0.0:8093"), RxQueue: 0, Drops: 7, Inode: 10001},
	}
	if len(socks) != len(want) {
		t.Fatalf("got %d sockets, want %d: %+v", len(socks), len(want), socks)
	}
	for i := range want {
		if socks[i] != want[i] {
			t.Errorf("row %d: got %+v, want %+v", i, socks[i], want[i])
		}
	}
}

func TestParseNetUDP6(t *testing.T) {
	socks, err := ParseNetUDP(fixture(t, "net_udp6.txt"))
	if err != nil {
		t.Fatal(err)
	}
	want := UDPSocket{Local: netip.MustParseAddrPort("[::1]:8093"), RxQueue: 256, Drops: 42, Inode: 40404}
	if len(socks) != 1 || socks[0] != want {
		t.Fatalf("got %+v, want [%+v]", socks, want)
	}
}

func TestParseNetUDPRejectsBadRows(t *testing.T) {
	header := strings.SplitN(fixture(t, "net_udp.txt"), "\n", 2)[0] + "\n"
	for _, row := range []string{
		"1: 0100007F 00000000:0000 07 00000000:00000000 00:00000000 00000000 0 0 1 2 0 0",
		"1: 0100007F:ZZZZ 00000000:0000 07 00000000:00000000 00:00000000 00000000 0 0 1 2 0 0",
		"1: 0100007F:1F9D 00000000:0000 07 00000000:00000000 00:00000000 00000000 0 0 1 2 0 x",
		"1: 0100007F:1F9D 00000000:0000 07",
	} {
		if _, err := ParseNetUDP(header + row + "\n"); err == nil {
			t.Errorf("accepted %q", row)
		}
	}
}

func TestMachineParsers(t *testing.T) {
	if got := ParseCPUInfoModel("processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\n"); got != "AMD EPYC 7B13" {
		t.Fatalf("model %q", got)
	}
	if got := ParseCPUInfoModel("processor\t: 0\n"); got != "unknown" {
		t.Fatalf("model without a model name: %q", got)
	}
	got, err := ParseLoadAvg("3.19 3.58 3.52 9/147 22771\n")
	if err != nil || got != "3.19 3.58 3.52" {
		t.Fatalf("loadavg %q, %v", got, err)
	}
}

// TestLiveFiles reads this test process's own entries, which must exist on Linux.
func TestLiveFiles(t *testing.T) {
	pid := os.Getpid()
	if _, err := ReadCPU(pid); err != nil {
		t.Fatal(err)
	}
	m, err := ReadMemory(pid)
	if err != nil {
		t.Fatal(err)
	}
	if m.RSS <= 0 || m.PeakRSS < m.RSS {
		t.Fatalf("implausible memory %+v", m)
	}
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	local := conn.LocalAddr().(*net.UDPAddr).AddrPort()
	sock, err := UDPDrops(netip.AddrPortFrom(local.Addr().Unmap(), local.Port()))
	if err != nil {
		t.Fatalf("own socket %s not found: %v", local, err)
	}
	if sock.Inode == 0 {
		t.Fatalf("socket %+v has no inode", sock)
	}
	if _, err := UDPDrops(netip.MustParseAddrPort("127.0.0.1:1")); err == nil {
		t.Fatal("found a socket nobody bound")
	}
	if mc := ReadMachine(); mc.CPUs < 1 || mc.LoadAvg == "unknown" {
		t.Fatalf("machine %+v", mc)
	}
}
