package listener

import (
	"net"
	"testing"
)

// BenchmarkUDPReadPath compares the two ways to read small datagrams, the reader's cost
// alone: the socket is filled with 2000 datagrams while the timer is stopped, then drained;
// one op is one fill.
// "batch" is the listener's datagramReader (recvmmsg on Linux), "single" is one
// ReadMsgUDPAddrPort call per datagram.
func BenchmarkUDPReadPath(b *testing.B) {
	for _, mode := range []string{"batch", "single"} {
		b.Run(mode, func(b *testing.B) {
			srv, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				b.Fatal(err)
			}
			defer srv.Close()
			rc, err := srv.SyscallConn()
			if err != nil {
				b.Fatal(err)
			}
			if _, err := tuneRcvbuf(rc, 8<<20); err != nil {
				b.Fatal(err)
			}
			if err := enableDropCounter(rc); err != nil {
				b.Fatal(err)
			}
			c, err := net.Dial("udp", srv.LocalAddr().String())
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			msg := payloads(1, 1)[0]
			r, err := newDatagramReader(srv, udpOOBSize)
			if err != nil {
				b.Fatal(err)
			}
			for i := range r.Slots() {
				r.SetSlot(i, make([]byte, 8193))
			}
			buf, oob := make([]byte, 8193), make([]byte, max(udpOOBSize, 1))
			const fill = 2000
			read, bytesRead := 0, 0
			b.SetBytes(int64(fill * len(msg)))
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				for range fill {
					if _, err := c.Write(msg); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
				for got := 0; got < fill; {
					if mode == "single" {
						n, _, _, _, err := srv.ReadMsgUDPAddrPort(buf, oob)
						if err != nil {
							b.Fatal(err)
						}
						bytesRead += n
						got++
						continue
					}
					n, err := r.Read()
					if err != nil {
						b.Fatal(err)
					}
					for i := range n {
						d, _, _ := r.Datagram(i)
						bytesRead += len(d)
					}
					got += n
				}
				read += fill
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(read), "ns/datagram")
			if bytesRead != read*len(msg) {
				b.Fatalf("read %d bytes in %d datagrams of %d", bytesRead, read, len(msg))
			}
		})
	}
}
