package dsdbreceiver

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// countingConsumer counts data points and calls, and drops them: the benchmarks measure the
// receiver, not a pipeline.
type countingConsumer struct {
	points, calls atomic.Int64
}

func (c *countingConsumer) ConsumeMetrics(_ context.Context, md pmetric.Metrics) error {
	c.points.Add(int64(md.DataPointCount()))
	c.calls.Add(1)
	return nil
}

func (*countingConsumer) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

// putStream is n put lines over 1000 series (10 metrics x 100 hosts, 3 tags each), formatted
// before the benchmark starts.
func putStream(n int) []byte {
	rng := rand.New(rand.NewPCG(7, 11))
	var b bytes.Buffer
	for i := range n {
		s := rng.IntN(1000)
		fmt.Fprintf(&b, "put sys.cpu.m%d %d %d.%d host=web%03d dc=dc%d cpu=%d\n",
			s%10, 1356998400+i, rng.IntN(1000), rng.IntN(100), s/10, s%3, s%8)
	}
	return b.Bytes()
}

func startBench(b *testing.B) (*dsdbReceiver, *countingConsumer) {
	cfg := testConfig()
	cc := &countingConsumer{}
	r := newReceiver(cfg, nopSettings(), cc)
	if err := r.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = r.Shutdown(context.Background()) })
	return r, cc
}

func waitCount(b *testing.B, c *atomic.Int64, want int64) {
	deadline := time.Now().Add(30 * time.Second)
	for c.Load() < want {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d points arrived", c.Load(), want)
		}
		time.Sleep(time.Millisecond)
	}
}

// BenchmarkTelnet: put lines over one loopback connection into pdata batches. One iteration is
// 4 batches of max_batch_points lines (so no iteration waits for flush_timeout); lines/s is the
// throughput on this machine's cores, which the sender shares.
func BenchmarkTelnet(b *testing.B) {
	const lines = 4 * defaultMaxBatchPoints
	stream := putStream(lines)
	r, cc := startBench(b)
	c, err := net.Dial("tcp", r.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	n := int64(0)
	for b.Loop() {
		if _, err := c.Write(stream); err != nil {
			b.Fatal(err)
		}
		n += lines
		waitCount(b, &cc.points, n)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "lines/s")
	b.ReportMetric(float64(n)/float64(cc.calls.Load()), "lines/consume")
}

// BenchmarkPutHTTP: POST /api/put with 100-point arrays over one keep-alive connection.
func BenchmarkPutHTTP(b *testing.B) {
	var body bytes.Buffer
	body.WriteByte('[')
	for i, l := range bytes.Split(bytes.TrimSpace(putStream(100)), []byte("\n")) {
		if i > 0 {
			body.WriteByte(',')
		}
		f := bytes.Fields(l)
		fmt.Fprintf(&body, `{"metric":%q,"timestamp":%s,"value":%s,"tags":{`, f[1], f[2], f[3])
		for j, t := range f[4:] {
			k, v, _ := bytes.Cut(t, []byte("="))
			if j > 0 {
				body.WriteByte(',')
			}
			fmt.Fprintf(&body, "%q:%q", k, v)
		}
		body.WriteString("}}")
	}
	body.WriteByte(']')
	r, cc := startBench(b)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	url := "http://" + r.Addr().String() + "/api/put"
	b.SetBytes(int64(body.Len()))
	b.ReportAllocs()
	n := int64(0)
	for b.Loop() {
		resp, err := client.Post(url, "application/json", bytes.NewReader(body.Bytes()))
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			b.Fatalf("status %d", resp.StatusCode)
		}
		n += 100
	}
	waitCount(b, &cc.points, n)
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "points/s")
}
