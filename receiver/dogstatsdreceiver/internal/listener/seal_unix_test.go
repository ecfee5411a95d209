//go:build unix

package listener

import (
	"net"
	"testing"
	"time"
)

// TestSealUDPKeepsQueuedAndRefusesNew checks the kernel behaviour the drain at Stop relies on:
// connecting a socket to its own address keeps the datagrams already queued readable and makes
// the kernel refuse new ones (a connected sender gets "connection refused").
func TestSealUDPKeepsQueuedAndRefusesNew(t *testing.T) {
	for _, network := range []string{"udp4", "udp6"} {
		t.Run(network, func(t *testing.T) {
			addr := map[string]string{"udp4": "127.0.0.1:0", "udp6": "[::1]:0"}[network]
			srv, err := net.ListenPacket(network, addr)
			if err != nil {
				t.Skipf("no %s loopback: %v", network, err)
			}
			defer srv.Close()
			cli, err := net.Dial(network, srv.LocalAddr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer cli.Close()
			for _, m := range []string{"a", "b", "c"} {
				if _, err := cli.Write([]byte(m)); err != nil {
					t.Fatal(err)
				}
			}
			time.Sleep(20 * time.Millisecond) // let them reach the queue
			if err := sealUDP(srv.(*net.UDPConn)); err != nil {
				t.Fatal(err)
			}
			refused := false
			for range 50 {
				if _, err := cli.Write([]byte("late")); err != nil {
					refused = true
					break
				}
				time.Sleep(2 * time.Millisecond)
			}
			if !refused {
				t.Error("new datagrams were not refused after sealing")
			}
			buf := make([]byte, 16)
			var got []string
			for {
				_ = srv.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
				n, _, err := srv.ReadFrom(buf)
				if err != nil {
					break
				}
				got = append(got, string(buf[:n]))
			}
			if len(got) != 3 || got[0] != "a" || got[2] != "c" {
				t.Fatalf("read %q after sealing, want the three queued datagrams and nothing later", got)
			}
		})
	}
}

// TestSealUDPDualStack: a socket bound to "::" also takes IPv4; sealing must refuse both.
func TestSealUDPDualStack(t *testing.T) {
	srv, err := net.ListenPacket("udp", "[::]:0")
	if err != nil {
		t.Skipf("no dual-stack socket: %v", err)
	}
	defer srv.Close()
	port := srv.LocalAddr().(*net.UDPAddr).Port
	if err := sealUDP(srv.(*net.UDPConn)); err != nil {
		t.Fatal(err)
	}
	cli, err := net.DialUDP("udp4", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	refused := false
	for range 50 {
		if _, err := cli.Write([]byte("late")); err != nil {
			refused = true
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	if !refused {
		t.Error("IPv4 datagrams to a sealed dual-stack socket were not refused")
	}
}
