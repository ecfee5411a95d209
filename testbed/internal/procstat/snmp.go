package procstat

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// UDPCounters are the kernel's system-wide UDP counters (IPv4 and IPv6 summed) that say what
// became of datagrams sent to a local port: NoPorts were refused (no socket took them: the
// port was closed, or its socket connected elsewhere), InErrors were dropped on arrival (mostly
// a full receive buffer).
type UDPCounters struct {
	NoPorts  uint64
	InErrors uint64
}

// Sub returns c - o, counter by counter.
func (c UDPCounters) Sub(o UDPCounters) UDPCounters {
	return UDPCounters{NoPorts: c.NoPorts - o.NoPorts, InErrors: c.InErrors - o.InErrors}
}

// ReadUDPCounters reads /proc/net/snmp (Udp) and /proc/net/snmp6 (Udp6, when IPv6 is on).
func ReadUDPCounters() (UDPCounters, error) {
	b, err := os.ReadFile("/proc/net/snmp")
	if err != nil {
		return UDPCounters{}, err
	}
	c, err := ParseSNMP(string(b))
	if err != nil {
		return c, err
	}
	if b6, err := os.ReadFile("/proc/net/snmp6"); err == nil {
		c6, err := ParseSNMP6(string(b6))
		if err != nil {
			return c, err
		}
		c.NoPorts += c6.NoPorts
		c.InErrors += c6.InErrors
	}
	return c, nil
}

// ParseSNMP reads the Udp counters of /proc/net/snmp: a header line of names and a line of
// values, both starting "Udp:".
func ParseSNMP(text string) (UDPCounters, error) {
	var names []string
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || f[0] != "Udp:" {
			continue
		}
		if names == nil {
			names = f[1:]
			continue
		}
		vals := map[string]string{}
		for i, v := range f[1:] {
			if i < len(names) {
				vals[names[i]] = v
			}
		}
		return udpCounters(vals["NoPorts"], vals["InErrors"], "/proc/net/snmp Udp")
	}
	return UDPCounters{}, fmt.Errorf("procstat: no Udp counters in /proc/net/snmp")
}

// ParseSNMP6 reads Udp6NoPorts and Udp6InErrors of /proc/net/snmp6 ("name value" lines).
func ParseSNMP6(text string) (UDPCounters, error) {
	vals := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 {
			vals[f[0]] = f[1]
		}
	}
	return udpCounters(vals["Udp6NoPorts"], vals["Udp6InErrors"], "/proc/net/snmp6")
}

func udpCounters(noPorts, inErrors, where string) (UDPCounters, error) {
	np, err := strconv.ParseUint(noPorts, 10, 64)
	if err != nil {
		return UDPCounters{}, fmt.Errorf("procstat: %s NoPorts %q: %w", where, noPorts, err)
	}
	ie, err := strconv.ParseUint(inErrors, 10, 64)
	if err != nil {
		return UDPCounters{}, fmt.Errorf("procstat: %s InErrors %q: %w", where, inErrors, err)
	}
	return UDPCounters{NoPorts: np, InErrors: ie}, nil
}
