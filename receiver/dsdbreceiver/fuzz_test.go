package dsdbreceiver

import (
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// FuzzConnection sends arbitrary bytes as a whole connection to a running receiver (sniffer,
// then the protocol it picked): every connection must end once the client has closed its side,
// and the receiver must go on answering others.
func FuzzConnection(f *testing.F) {
	for _, s := range []string{
		"put sys.cpu.user 1356998400 42.5 host=webserver01 cpu=0\nversion\n",
		"POST /api/put?details HTTP/1.1\r\nHost: x\r\nContent-Length: 94\r\n\r\n" + goodPoint,
		"GET /api/v1/labels HTTP/1.1\r\nHost: x\r\n\r\n",
		"POST /api/put HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n[{\"me\r\n0\r\n\r\n",
		shTwo + shSampled, `{"metrics":[{"name":"a","counter":1}`, "{{{{[[[[\"", "\x00\xff\r\n\r\nput",
	} {
		f.Add([]byte(s))
	}
	cfg := testConfig()
	cfg.IdleTimeout = 2 * time.Second
	r, _ := start(f, cfg, nil)
	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := net.Dial("tcp", r.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		go func() {
			_, _ = c.Write(in)
			_ = c.(*net.TCPConn).CloseWrite()
		}()
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.Copy(io.Discard, c); err != nil && !strings.Contains(err.Error(), "reset") {
			t.Fatalf("the connection did not end: %v", err)
		}
		v, err := net.Dial("tcp", r.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer v.Close()
		_, _ = io.WriteString(v, "version\n")
		_ = v.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.ReadFull(v, make([]byte, len("doghouse dsdb receiver"))); err != nil {
			t.Fatalf("the receiver stopped answering: %v", err)
		}
	})
}
