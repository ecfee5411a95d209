package dsdbreceiver

import (
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTelnet: puts become gauge points at their timestamps with their tags as attributes; bad
// lines get OpenTSDB's reply and are counted while the connection goes on.
func TestTelnet(t *testing.T) {
	r, sink := start(t, testConfig(), nil)
	c := dial(t, r)
	_, err := io.WriteString(c, "put sys.cpu.user 1356998400 42.5 host=webserver01 cpu=0\n"+
		"put sys.cpu.user 1356998400500 7 host=webserver02 cpu=0\r\n"+
		"put sys.cpu.user 1356998400 42.5\n"+
		"\n"+
		"bogus\n"+
		"put sys.cpu.nice 1346846400 -3 hostname=web01\n"+
		"version\n")
	require.NoError(t, err)
	replies := readReplies(t, c, 4)
	assert.Equal(t, "put: illegal argument: not enough arguments (need least 4, got 3)\n", replies[0])
	assert.Equal(t, "unknown command: bogus.  Try `help'.\n", replies[1])
	assert.True(t, strings.HasPrefix(replies[2], "doghouse dsdb receiver "), replies[2])
	waitPoints(t, sink, 3)
	assert.Equal(t, []point{
		{"sys.cpu.user", "gauge", "double:42.5", "host=webserver01,cpu=0", 1356998400000},
		{"sys.cpu.user", "gauge", "int:7", "host=webserver02,cpu=0", 1356998400500},
		{"sys.cpu.nice", "gauge", "int:-3", "hostname=web01", 1346846400000},
	}, points(sink))
	assert.EqualValues(t, 6, r.stats.lines.Load())              // the empty line is not counted
	assert.EqualValues(t, 1, r.stats.tsdbRejected[0][0].Load()) // not_enough_arguments
	assert.EqualValues(t, 3, r.stats.points[protoTelnet].Load())

	// exit closes the connection.
	_, err = io.WriteString(c, "exit\n")
	require.NoError(t, err)
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = c.Read(make([]byte, 1))
	assert.ErrorIs(t, err, io.EOF)
}

// TestTelnetBatches: a stream of puts is handed on in batches of max_batch_points, not one
// ConsumeMetrics per line, and a last line without '\n' counts when the client closes.
func TestTelnetBatches(t *testing.T) {
	cfg := testConfig()
	cfg.MaxBatchPoints = 1000
	cfg.FlushTimeout = time.Minute // only the size and the close flush
	r, sink := start(t, cfg, nil)
	c := dial(t, r)
	var b strings.Builder
	const n = 20_000
	for i := range n {
		fmt.Fprintf(&b, "put m.%d %d %d host=h%d\n", i%10, 1356998400+i, i, i%100)
	}
	_, err := io.WriteString(c, b.String()+"put last 1356998400 1 a=b")
	require.NoError(t, err)
	require.NoError(t, c.Close())
	waitPoints(t, sink, n+1)
	assert.LessOrEqual(t, len(sink.AllMetrics()), n/1000+1)
	last := points(sink)[n]
	assert.Equal(t, point{"last", "gauge", "int:1", "a=b", 1356998400000}, last)
}

// TestTelnetFlushTimeout: a lone point is handed on after flush_timeout while the connection
// stays open and silent.
func TestTelnetFlushTimeout(t *testing.T) {
	cfg := testConfig()
	cfg.FlushTimeout = 50 * time.Millisecond
	r, sink := start(t, cfg, nil)
	c := dial(t, r)
	_, err := io.WriteString(c, "put m 1356998400 1 a=b\n")
	require.NoError(t, err)
	waitPoints(t, sink, 1)
}

// TestStopKeepsWhatWasRead: Shutdown hands on the points a connection has read but not yet
// flushed (flush_timeout is a minute here), so nothing accepted is lost.
func TestStopKeepsWhatWasRead(t *testing.T) {
	cfg := testConfig()
	cfg.FlushTimeout = time.Minute
	r, sink := start(t, cfg, nil)
	c := dial(t, r)
	var b strings.Builder
	for i := range 5000 {
		fmt.Fprintf(&b, "put m %d %d a=b\n", 1356998400+i, i)
	}
	b.WriteString("version\n") // its reply proves every line before it was read
	_, err := io.WriteString(c, b.String())
	require.NoError(t, err)
	readReplies(t, c, 2)
	assert.Equal(t, 0, sink.DataPointCount())
	require.NoError(t, r.Shutdown(t.Context()))
	assert.Equal(t, 5000, sink.DataPointCount())
}
