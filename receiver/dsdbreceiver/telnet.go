package dsdbreceiver

import (
	"bufio"
	"bytes"
	"errors"
	"io"
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
func (r *dsdbReceiver) serveTelnet(c net.Conn, buf []byte, n int) {
	t := telnetConn{
		r: r, c: c, w: bufio.NewWriterSize(c, 4096), b: newBatch(r.set.BuildInfo.Version),
		lp: opentsdb.LineParser{Rules: r.tsdbRules()},
	}
	t.lp.Lookup = t.series.lookup
	t.serve(buf, n)
}

func (r *dsdbReceiver) tsdbRules() opentsdb.Rules {
	return opentsdb.Rules{MaxTags: r.cfg.OpenTSDB.MaxTags, AllowSpecialChars: r.cfg.OpenTSDB.AllowSpecialChars}
}

type telnetConn struct {
	r      *dsdbReceiver
	c      net.Conn
	w      *bufio.Writer
	b      *batch
	lp     opentsdb.LineParser
	series seriesTable
	reply  []byte
	exit   bool
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
		if t.b.points >= r.cfg.MaxBatchPoints || t.b.points > 0 && now.Sub(t.b.started) >= r.cfg.FlushTimeout {
			t.flush()
		}
		deadline := now.Add(r.cfg.IdleTimeout)
		if t.b.points > 0 {
			deadline = t.b.started.Add(r.cfg.FlushTimeout)
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
			if t.b.points > 0 {
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
		t.b.addSeries(t.series.of(p), p, now)
		if t.b.points >= t.r.cfg.MaxBatchPoints {
			t.flush()
		}
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

func (t *telnetConn) flush() {
	md, n := t.b.take()
	_ = t.r.consume(protoTelnet, md, n)
}
