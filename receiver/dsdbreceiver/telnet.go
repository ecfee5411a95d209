package dsdbreceiver

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"math"
	"net"
	"strconv"
	"time"

	"go.uber.org/zap"

	"github.com/doghouse-otel/doghouse/receiver/dsdbreceiver/internal/opentsdb"
)

// writeTimeout bounds a reply write: a client that sends bad lines and never reads the
// replies gets its connection closed instead of holding the goroutine.
const writeTimeout = 10 * time.Second

// serveTelnet serves OpenTSDB's line protocol on c; buf[:n] holds the bytes already read.
// Complete lines are parsed in place; accepted points gather in the connection's batch, which
// is handed on when it holds max_batch_points, when its first point is flush_timeout old (a
// read deadline wakes the loop), and when the connection ends.
//
// Two goroutines share the work of a connection: this one reads, parses and checks lines and
// answers them, and a builder turns the accepted points into pdata and hands the batches on.
// Chunks of parsed points go from one to the other over a channel; three chunks per
// connection bound what is in flight, and a full builder makes the reader wait. The
// connection ends when the builder has handed on all it was given.
func (r *dsdbReceiver) serveTelnet(c net.Conn, buf []byte, n int) {
	t := telnetConn{
		r: r, c: c, w: bufio.NewWriterSize(c, 4096),
		lp:      opentsdb.LineParser{Rules: r.tsdbRules()},
		toBuild: make(chan buildMsg, telnetChunks),
		free:    make(chan []telnetPoint, telnetChunks),
		built:   make(chan struct{}),
	}
	t.lp.Lookup = t.series.lookup
	for range telnetChunks {
		t.free <- make([]telnetPoint, 0, telnetChunk)
	}
	t.pts = <-t.free
	go t.build(newBatch(r.set.BuildInfo.Version))
	t.serve(buf, n)
	close(t.toBuild)
	<-t.built
}

const (
	telnetChunk  = 1024 // points per chunk handed to the builder
	telnetChunks = 3    // chunks per connection
)

// telnetPoint is an accepted put line on its way to the builder.
type telnetPoint struct {
	s     *knownSeries
	t     int64 // milliseconds
	v     uint64
	isInt bool
}

func newTelnetPoint(s *knownSeries, p *opentsdb.Point) telnetPoint {
	tp := telnetPoint{s: s, t: p.Timestamp, isInt: p.IsInt, v: uint64(p.Int)}
	if !p.IsInt {
		tp.v = math.Float64bits(p.Float)
	}
	return tp
}

// buildMsg is a chunk of points for the builder; flush asks it to hand its batch on after
// them.
type buildMsg struct {
	pts   []telnetPoint
	flush bool
}

// build is the builder: it adds the points it is sent to b and hands b on when asked to.
func (t *telnetConn) build(b *batch) {
	defer close(t.built)
	for m := range t.toBuild {
		for i := range m.pts {
			b.addTelnet(&m.pts[i])
		}
		t.free <- m.pts[:0]
		if m.flush {
			md, n := b.take()
			_ = t.r.consume(protoTelnet, md, n)
		}
	}
}

func (r *dsdbReceiver) tsdbRules() opentsdb.Rules {
	return opentsdb.Rules{MaxTags: r.cfg.OpenTSDB.MaxTags, AllowSpecialChars: r.cfg.OpenTSDB.AllowSpecialChars}
}

type telnetConn struct {
	r      *dsdbReceiver
	c      net.Conn
	w      *bufio.Writer
	lp     opentsdb.LineParser
	series seriesTable
	reply  []byte
	exit   bool

	pts     []telnetPoint // the chunk being filled
	points  int           // points accepted since the last flush
	started time.Time     // when the first of them came
	toBuild chan buildMsg
	free    chan []telnetPoint
	built   chan struct{}
}

func (t *telnetConn) serve(buf []byte, n int) {
	r := t.r
	maxLine := r.cfg.OpenTSDB.MaxLineLength
	start, end := 0, n
	skipping := false // inside a line longer than max_line_length, until its '\n'
	r.stats.bytes[protoTelnet].Add(uint64(n))
	for {
		now := time.Now()
		_ = t.c.SetWriteDeadline(now.Add(writeTimeout)) // replies beyond the writer's buffer are written at once
		for !t.exit {
			i := bytes.IndexByte(buf[start:end], '\n')
			if i < 0 {
				break
			}
			line := buf[start : start+i]
			start += i + 1
			if skipping {
				skipping = false
				continue
			}
			if len(line) > maxLine {
				t.tooLong(maxLine)
				continue
			}
			t.line(line, now)
		}
		if !t.exit && !skipping && end-start > maxLine {
			t.tooLong(maxLine)
			skipping = true
		}
		if skipping {
			start = end
		}
		end = copy(buf, buf[start:end])
		start = 0
		if !t.flushReplies() || t.exit {
			t.flush()
			return
		}
		if t.points >= r.cfg.MaxBatchPoints || t.points > 0 && now.Sub(t.started) >= r.cfg.FlushTimeout {
			t.flush()
		}
		deadline := now.Add(r.cfg.IdleTimeout)
		if t.points > 0 {
			deadline = t.started.Add(r.cfg.FlushTimeout)
		}
		_ = t.c.SetReadDeadline(deadline)
		if r.stopping.Load() { // after the deadline: Shutdown's own deadline is not overwritten
			t.flushReplies()
			t.flush()
			return
		}
		m, err := t.c.Read(buf[end:])
		end += m
		r.stats.bytes[protoTelnet].Add(uint64(m))
		if err == nil {
			continue
		}
		if isTimeout(err) && !r.stopping.Load() {
			if t.points > 0 {
				t.flush() // flush_timeout: hand the batch on and keep reading
				continue
			}
			r.stats.connsTimedOut.Add(1) // idle_timeout
		}
		// The end of the connection. A last line without '\n' is taken when the client closed
		// its side cleanly; on a reset, an idle timeout or the receiver's stop it may be cut
		// short, and is dropped as OpenTSDB drops it.
		if errors.Is(err, io.EOF) && end > 0 && !skipping && !t.exit {
			t.line(buf[:end], time.Now())
		}
		t.flushReplies()
		t.flush()
		return
	}
}

// line handles one line without its '\n'.
func (t *telnetConn) line(line []byte, now time.Time) {
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	cmd, p, rej := t.lp.Parse(line)
	if cmd == opentsdb.CmdNone {
		return
	}
	t.r.stats.lines.Add(1)
	switch cmd {
	case opentsdb.CmdPut, opentsdb.CmdUnknown:
		if rej != nil {
			t.r.stats.rejectTSDB(protoTelnet, rej.Reason)
			t.reply = opentsdb.AppendReply(t.reply[:0], rej)
			_, _ = t.w.Write(t.reply)
			t.r.set.Logger.Debug("dsdb: telnet line rejected", zap.String("reason", rej.Reason.String()), zap.String("error", rej.Msg))
			return
		}
		t.add(t.series.of(p), p, now)
	case opentsdb.CmdVersion:
		_, _ = t.w.WriteString("doghouse dsdb receiver " + t.r.set.BuildInfo.Version + "\n")
		_, _ = t.w.WriteString("Built as " + t.r.set.BuildInfo.Command + ", OpenTSDB telnet put protocol\n")
	case opentsdb.CmdHelp:
		_, _ = t.w.WriteString("available commands: put version help exit\n")
	case opentsdb.CmdExit:
		t.exit = true
	}
}

// tooLong rejects a line longer than max_line_length; OpenTSDB would close the connection
// (its frame decoder fails), the receiver skips the line and keeps it.
func (t *telnetConn) tooLong(maxLine int) {
	t.r.stats.lines.Add(1)
	t.r.stats.rejectTSDB(protoTelnet, opentsdb.ReasonLineTooLong)
	_, _ = t.w.WriteString("put: illegal argument: line too long: more than " + strconv.Itoa(maxLine) + " bytes (max_line_length), skipped\n")
}

// flushReplies writes pending replies; false when the client does not take them.
func (t *telnetConn) flushReplies() bool {
	if t.w.Buffered() == 0 {
		return true
	}
	if err := t.w.Flush(); err != nil {
		t.r.set.Logger.Debug("dsdb: closing a telnet connection whose client does not read replies", zap.Error(err))
		return false
	}
	return true
}

// add queues an accepted point for the builder.
func (t *telnetConn) add(s *knownSeries, p *opentsdb.Point, now time.Time) {
	t.pts = append(t.pts, newTelnetPoint(s, p))
	if t.points == 0 {
		t.started = now
	}
	t.points++
	switch {
	case t.points >= t.r.cfg.MaxBatchPoints:
		t.flush()
	case len(t.pts) == cap(t.pts):
		t.send(false)
	}
}

// send hands the chunk being filled to the builder and takes a free one.
func (t *telnetConn) send(flush bool) {
	t.toBuild <- buildMsg{pts: t.pts, flush: flush}
	t.pts = <-t.free
}

// flush has the builder hand on every point accepted so far.
func (t *telnetConn) flush() {
	if t.points == 0 {
		return
	}
	t.send(true)
	t.points = 0
}
