package procstat

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
)

// UDPSocket is one row of /proc/net/udp or /proc/net/udp6.
type UDPSocket struct {
	Local   netip.AddrPort
	RxQueue uint64 // bytes waiting to be read
	Drops   uint64 // datagrams the kernel dropped, mostly because the receive buffer was full
	Inode   uint64
}

// ParseNetUDP parses the text of /proc/net/udp or /proc/net/udp6. Addresses are printed as the
// kernel's in-memory words in hex: each 32-bit word of the address is in host (little-endian on
// every platform this runs on) order, the port in network order.
func ParseNetUDP(text string) ([]UDPSocket, error) {
	var out []UDPSocket
	sc := bufio.NewScanner(strings.NewReader(text))
	first := true
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if first {
			first = false
			if strings.HasPrefix(line, "sl") {
				continue
			}
		}
		if line == "" {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 13 {
			return nil, fmt.Errorf("procstat: /proc/net/udp row has %d fields, want 13: %q", len(f), line)
		}
		local, err := parseHexAddrPort(f[1])
		if err != nil {
			return nil, err
		}
		_, rx, ok := strings.Cut(f[4], ":")
		if !ok {
			return nil, fmt.Errorf("procstat: queue field %q is not tx:rx", f[4])
		}
		rxq, err := strconv.ParseUint(rx, 16, 64)
		if err != nil {
			return nil, fmt.Errorf("procstat: rx_queue %q: %w", rx, err)
		}
		inode, err := strconv.ParseUint(f[9], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("procstat: inode %q: %w", f[9], err)
		}
		drops, err := strconv.ParseUint(f[12], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("procstat: drops %q: %w", f[12], err)
		}
		out = append(out, UDPSocket{Local: local, RxQueue: rxq, Drops: drops, Inode: inode})
	}
	return out, sc.Err()
}

func parseHexAddrPort(s string) (netip.AddrPort, error) {
	a, p, ok := strings.Cut(s, ":")
	if !ok {
		return netip.AddrPort{}, fmt.Errorf("procstat: address %q is not addr:port", s)
	}
	port, err := strconv.ParseUint(p, 16, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("procstat: port %q: %w", p, err)
	}
	raw, err := hex.DecodeString(a)
	if err != nil || (len(raw) != 4 && len(raw) != 16) {
		return netip.AddrPort{}, fmt.Errorf("procstat: address %q is not 8 or 32 hex digits", a)
	}
	for w := 0; w < len(raw); w += 4 { // each 32-bit word is little-endian
		raw[w], raw[w+1], raw[w+2], raw[w+3] = raw[w+3], raw[w+2], raw[w+1], raw[w]
	}
	addr, _ := netip.AddrFromSlice(raw)
	return netip.AddrPortFrom(addr, uint16(port)), nil
}

// UDPDrops returns the drop counter and receive queue of the socket bound to local, looking in
// /proc/net/udp and /proc/net/udp6.
func UDPDrops(local netip.AddrPort) (UDPSocket, error) {
	for _, file := range []string{"/proc/net/udp", "/proc/net/udp6"} {
		b, err := os.ReadFile(file)
		if err != nil {
			continue
		}
		socks, err := ParseNetUDP(string(b))
		if err != nil {
			return UDPSocket{}, err
		}
		for _, s := range socks {
			if s.Local == local {
				return s, nil
			}
		}
	}
	return UDPSocket{}, fmt.Errorf("procstat: UDP socket %s: %w", local, ErrNotFound)
}
