package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestPutLines(t *testing.T) {
	start := time.Unix(1700000000, 0)
	b := PutLines(1000, 2500, start)
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != 2500 {
		t.Fatalf("%d lines", len(lines))
	}
	series := map[string]bool{}
	for i, l := range lines {
		f := strings.Fields(l)
		if len(f) != 7 || f[0] != "put" {
			t.Fatalf("line %d: %q", i, l)
		}
		series[f[1]+" "+strings.Join(f[4:], " ")] = true
	}
	if len(series) != 1000 {
		t.Fatalf("%d series, want 1000", len(series))
	}
	// The third pass is two seconds after the first.
	if f := strings.Fields(lines[2000]); f[2] != "1700000002" {
		t.Fatalf("line 2000: %q", lines[2000])
	}
}

func TestPutBodies(t *testing.T) {
	bodies := PutBodies(1000, 100, 20, time.Unix(1700000000, 0))
	series := map[string]bool{}
	for _, b := range bodies {
		var dps []struct {
			Metric    string            `json:"metric"`
			Timestamp int64             `json:"timestamp"`
			Value     json.Number       `json:"value"`
			Tags      map[string]string `json:"tags"`
		}
		if err := json.Unmarshal(b, &dps); err != nil {
			t.Fatal(err)
		}
		if len(dps) != 100 {
			t.Fatalf("%d points", len(dps))
		}
		for _, dp := range dps {
			if len(dp.Tags) != 3 || dp.Timestamp < 1700000000 {
				t.Fatalf("%+v", dp)
			}
			series[dp.Metric+dp.Tags["host"]+dp.Tags["dc"]+dp.Tags["cpu"]] = true
		}
	}
	if len(series) != 1000 {
		t.Fatalf("%d series", len(series))
	}
}

func TestSendTelnetAndPuts(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan int, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- -1
			return
		}
		defer c.Close()
		n, _ := io.Copy(io.Discard, c)
		got <- int(n)
	}()
	block := PutLines(10, 100, time.Now())
	if err := SendTelnet(context.Background(), ln.Addr().String(), block, 3); err != nil {
		t.Fatal(err)
	}
	if n := <-got; n != 3*len(block) {
		t.Fatalf("received %d bytes, sent %d", n, 3*len(block))
	}

	var (
		mu     sync.Mutex // SendPuts sends on several connections at once
		bodies bytes.Buffer
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		_, _ = io.Copy(&bodies, r.Body)
		mu.Unlock()
		if strings.Contains(r.URL.RawQuery, "fail") {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	res := SendPuts(context.Background(), srv.URL+"/api/put", PutBodies(10, 5, 3, time.Now()), 7, 2)
	if res.OK != 7 || res.Failed != 0 {
		t.Fatalf("%+v", res)
	}
	res = SendPuts(context.Background(), srv.URL+"/api/put?fail", PutBodies(10, 5, 3, time.Now()), 2, 1)
	if res.OK != 0 || res.Failed != 2 || !strings.Contains(res.FirstError, "400") {
		t.Fatalf("%+v", res)
	}
}
