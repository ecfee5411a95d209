package loadgen

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// OpenTSDB traffic (scenario 9): put lines and /api/put bodies over a fixed set of series,
// formatted before sending so that sending costs only the writes.

// tsdbSeries is series i of n: 10 metric names × n/10 hosts, three tags each.
func tsdbSeries(b []byte, i int) []byte {
	return fmt.Appendf(b, "sys.cpu.m%d host=web%04d dc=dc%d cpu=%d", i%10, i/10, i%3, i%8)
}

// PutLines formats lines `put` lines over series series, each series once per pass in turn,
// a pass one second later than the one before (starting at start), with integer and decimal
// values.
func PutLines(series, lines int, start time.Time) []byte {
	var b bytes.Buffer
	b.Grow(lines * 64)
	var name []byte
	for k := range lines {
		i, pass := k%series, k/series
		name = tsdbSeries(name[:0], i)
		metric, tags, _ := bytes.Cut(name, []byte(" "))
		ts := start.Unix() + int64(pass)
		if k%2 == 0 {
			fmt.Fprintf(&b, "put %s %d %d %s\n", metric, ts, k%1000, tags)
		} else {
			fmt.Fprintf(&b, "put %s %d %d.%d %s\n", metric, ts, k%1000, k%10, tags)
		}
	}
	return b.Bytes()
}

// PutBodies formats bodies /api/put bodies of perBody data points each (JSON arrays), over
// series series as PutLines orders them.
func PutBodies(series, perBody, bodies int, start time.Time) [][]byte {
	out := make([][]byte, bodies)
	var name []byte
	k := 0
	for n := range out {
		var b bytes.Buffer
		b.WriteByte('[')
		for j := range perBody {
			i, pass := k%series, k/series
			name = tsdbSeries(name[:0], i)
			f := bytes.Fields(name)
			if j > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"metric":"%s","timestamp":%d,"value":%d,"tags":{`, f[0], start.Unix()+int64(pass), k%1000)
			for t, tag := range f[1:] {
				key, val, _ := bytes.Cut(tag, []byte("="))
				if t > 0 {
					b.WriteByte(',')
				}
				fmt.Fprintf(&b, `"%s":"%s"`, key, val)
			}
			b.WriteString("}}")
			k++
		}
		b.WriteByte(']')
		out[n] = b.Bytes()
	}
	return out
}

// SendTelnet writes block repeat times over one TCP connection to addr, as fast as the
// connection takes it, then closes it. It returns when the last byte was written.
func SendTelnet(ctx context.Context, addr string, block []byte, repeat int) error {
	c, err := (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	for range repeat {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		_ = c.SetWriteDeadline(time.Now().Add(time.Minute))
		if _, err := c.Write(block); err != nil {
			return err
		}
	}
	return nil
}

// HTTPResult is what SendPuts got back.
type HTTPResult struct {
	OK, Failed int64 // requests answered 2xx, or otherwise (or not at all)
	FirstError string
}

// SendPuts POSTs requests bodies (taken in turn) to url over conns keep-alive connections at
// once, each request as soon as the previous one on its connection was answered.
func SendPuts(ctx context.Context, url string, bodies [][]byte, requests, conns int) HTTPResult {
	tr := &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: time.Minute}
	var next, ok, failed atomic.Int64
	var mu sync.Mutex
	var first string
	var wg sync.WaitGroup
	for range conns {
		wg.Go(func() {
			for {
				n := next.Add(1) - 1
				if n >= int64(requests) || ctx.Err() != nil {
					return
				}
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(bodies[n%int64(len(bodies))]))
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode/100 == 2 {
						ok.Add(1)
						continue
					}
					err = fmt.Errorf("status %s", resp.Status)
				}
				failed.Add(1)
				mu.Lock()
				if first == "" {
					first = err.Error()
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return HTTPResult{OK: ok.Load(), Failed: failed.Load(), FirstError: first}
}

// CounterPass formats pass p of the query comparison's data (scenario 10): one `put` line per
// series of `req`, series i tagged host=h<i%hosts> and path=/p<i>, stamped start+p seconds,
// with the cumulative value p·(1 + i%5), so each series' rate is 1 to 5 per second.
func CounterPass(b []byte, series, hosts, p int, start time.Time) []byte {
	ts := start.Unix() + int64(p)
	for i := range series {
		b = fmt.Appendf(b, "put req %d %d host=h%02d path=/p%04d\n", ts, p*(1+i%5), i%hosts, i)
	}
	return b
}

// SendCounterPasses writes passes passes of CounterPass lines over one TCP connection to
// addr, formatting each pass just before writing it (5,000 passes of 1,000 series would be
// 250 MB formatted at once).
func SendCounterPasses(ctx context.Context, addr string, series, hosts, passes int, start time.Time) error {
	c, err := (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	var b []byte
	for p := range passes {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		b = CounterPass(b[:0], series, hosts, p, start)
		_ = c.SetWriteDeadline(time.Now().Add(time.Minute))
		if _, err := c.Write(b); err != nil {
			return err
		}
	}
	return nil
}
