package dsdbreceiver

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doghouse-otel/doghouse/receiver/dsdbreceiver/internal/opentsdb"
)

// replyReader collects everything a connection sends back, so that a client flooding bad
// lines never stops the receiver's writes.
type replyReader struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	done chan struct{}
}

func readAll(c net.Conn) *replyReader {
	rr := &replyReader{done: make(chan struct{})}
	go func() {
		defer close(rr.done)
		b := make([]byte, 4096)
		_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
		for {
			n, err := c.Read(b)
			rr.mu.Lock()
			rr.buf.Write(b[:n])
			rr.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return rr
}

func (rr *replyReader) waitFor(t *testing.T, s string) string {
	t.Helper()
	var got string
	require.Eventually(t, func() bool {
		rr.mu.Lock()
		defer rr.mu.Unlock()
		got = rr.buf.String()
		return strings.Contains(got, s)
	}, 10*time.Second, 5*time.Millisecond, "waiting for %q", s)
	return got
}

// TestBadInput: binary garbage, a half-sent HTTP request, a 10 MB line, a million tags and
// non-UTF-8 each get a clear error or a counted rejection, while another connection's puts
// all arrive.
func TestBadInput(t *testing.T) {
	// The inputs are built before any connection opens: under -race building 10 MB takes
	// long enough for idle_timeout to close a connection waiting for it.
	garbage := make([]byte, 100_000)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range garbage {
		garbage[i] = byte(rng.Uint32())
	}
	garbage[0] = 0x01 // not an upper-case letter or '{': the line protocol
	tenMB := append(bytes.Repeat([]byte("put x 1 1 a=b "), 10<<20/14), "\nput ok 1356998400 1 a=b\nversion\n"...)
	var body strings.Builder
	body.WriteString(`{"metric":"m","timestamp":1,"value":1,"tags":{`)
	for i := range 1_000_000 {
		if i > 0 {
			body.WriteByte(',')
		}
		fmt.Fprintf(&body, `"k%d":"v"`, i)
	}
	body.WriteString("}}")

	cfg := testConfig()
	cfg.IdleTimeout = time.Second
	r, sink := start(t, cfg, nil)

	// A good client sends throughout.
	const good = 3000
	goodDone := make(chan struct{})
	go func() {
		defer close(goodDone)
		c, err := net.Dial("tcp", r.Addr().String())
		if !assert.NoError(t, err) {
			return
		}
		defer c.Close()
		for i := range good {
			if _, err := fmt.Fprintf(c, "put good %d %d host=a\n", 1356998400+i, i); !assert.NoError(t, err) {
				return
			}
			if i%500 == 0 {
				time.Sleep(10 * time.Millisecond)
			}
		}
	}()

	// Binary garbage: replies, counted, and the connection still answers.
	g := dial(t, r)
	greplies := readAll(g)
	_, err := g.Write(append(garbage, "\nversion\n"...))
	require.NoError(t, err)
	greplies.waitFor(t, "doghouse dsdb receiver")

	// Non-UTF-8 in a name: OpenTSDB's illegal character reply.
	_, err = io.WriteString(g, "put m\xff 1356998400 1 a=b\n")
	require.NoError(t, err)
	greplies.waitFor(t, "put: illegal argument: Invalid metric name (\"m\\xff\"): illegal character: \ufffd\n")

	// A 10 MB line: skipped with a reply, the connection goes on.
	l := dial(t, r)
	lreplies := readAll(l)
	_, err = l.Write(tenMB)
	require.NoError(t, err)
	got := lreplies.waitFor(t, "doghouse dsdb receiver")
	assert.True(t, strings.HasPrefix(got, "put: illegal argument: line too long: more than 4096 bytes"), got)

	// A half-sent HTTP request is closed after the header timeout (here idle_timeout, 1 s).
	h := dial(t, r)
	_, err = io.WriteString(h, "POST /api/put HTTP/1.1\r\nHost: x\r\nContent-Le")
	require.NoError(t, err)
	hreplies := readAll(h)
	select {
	case <-hreplies.done:
	case <-time.After(5 * time.Second):
		t.Fatal("a half-sent request kept its connection")
	}

	// A million tags in one /api/put point: refused with OpenTSDB's message.
	code, resp := post(t, r, "/api/put?details", body.String())
	assert.Equal(t, http.StatusBadRequest, code)
	assert.Contains(t, resp, "Too many tags: 1000000 maximum allowed: 8")

	<-goodDone
	waitPoints(t, sink, good+1)
	assert.EqualValues(t, 1, r.stats.tsdbRejected[0][opentsdb.ReasonLineTooLong].Load())
	assert.EqualValues(t, 1, r.stats.tsdbRejected[0][opentsdb.ReasonIllegalCharacter].Load())
	assert.Positive(t, r.stats.tsdbRejected[0][opentsdb.ReasonUnknownCommand].Load())
	assert.EqualValues(t, 1, r.stats.tsdbRejected[1][opentsdb.ReasonTooManyTags].Load())
}

// TestIdleTimeout: a client that connects and sends nothing, or stops in the middle of a
// line, loses its connection after idle_timeout.
func TestIdleTimeout(t *testing.T) {
	cfg := testConfig()
	cfg.IdleTimeout = 200 * time.Millisecond
	r, sink := start(t, cfg, nil)
	silent := dial(t, r)
	partial := dial(t, r)
	_, err := io.WriteString(partial, "put m 1356998400 1 a=b\nput m 13569")
	require.NoError(t, err)
	for _, c := range []net.Conn{silent, partial} {
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err := c.Read(make([]byte, 1))
		assert.ErrorIs(t, err, io.EOF)
	}
	waitPoints(t, sink, 1)
	assert.EqualValues(t, 2, r.stats.connsTimedOut.Load())
}

// TestMaxConnections: beyond max_connections a connection is closed at once and counted.
func TestMaxConnections(t *testing.T) {
	cfg := testConfig()
	cfg.MaxConnections = 2
	r, _ := start(t, cfg, nil)
	for range 2 {
		c := dial(t, r)
		_, err := io.WriteString(c, "version\n")
		require.NoError(t, err)
		readReplies(t, c, 2)
	}
	c := dial(t, r)
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := c.Read(make([]byte, 1))
	assert.Error(t, err)
	assert.EqualValues(t, 1, r.stats.connsRefused.Load())
}
