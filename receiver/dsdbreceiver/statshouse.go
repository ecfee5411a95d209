package dsdbreceiver

import (
	"errors"
	"io"
	"net"
	"time"

	"go.uber.org/zap"

	"github.com/doghouse-otel/doghouse/receiver/dsdbreceiver/internal/statshouse"
)

// shouse handles StatsHouse JSON batches for one connection or for the UDP socket.
type shouse struct {
	r     *dsdbReceiver
	proto protocol
	ps    statshouse.Parser
	b     *batch
}

func (r *dsdbReceiver) newShouse(p protocol) *shouse {
	return &shouse{r: r, proto: p, ps: statshouse.Parser{MaxTags: r.cfg.StatsHouse.MaxTags}, b: newBatch(r.set.BuildInfo.Version)}
}

// message adds one batch's metrics. A batch that is not valid JSON of StatsHouse's shape is
// rejected whole (checked by a first pass, so none of its metrics is half-added); within a
// valid one each metric is accepted or rejected on its own, as the agent does.
func (h *shouse) message(msg []byte, now time.Time) {
	if err := h.ps.Parse(msg, func(*statshouse.Metric, *statshouse.Error) {}); err != nil {
		h.reject(err)
		return
	}
	_ = h.ps.Parse(msg, func(m *statshouse.Metric, rej *statshouse.Error) {
		if rej != nil {
			h.reject(rej)
			return
		}
		h.b.addStatsHouse(m, now)
		if h.b.points >= h.r.cfg.MaxBatchPoints {
			h.flush()
		}
	})
}

func (h *shouse) reject(err error) {
	var e *statshouse.Error
	if errors.As(err, &e) {
		h.r.stats.rejectStatsHouse(h.proto, e.Reason)
	}
	h.r.set.Logger.Debug("dsdb: StatsHouse data rejected", zap.Stringer("protocol", h.proto), zap.Error(err))
}

func (h *shouse) flush() {
	md, n := h.b.take()
	_ = h.r.consume(h.proto, md, n)
}

// due reports whether the batch must be handed on now.
func (h *shouse) due(now time.Time) bool {
	return h.b.points >= h.r.cfg.MaxBatchPoints || h.b.points > 0 && now.Sub(h.b.started) >= h.r.cfg.FlushTimeout
}

// deadline is when the next read must return: the batch's flush time, or idle.
func (h *shouse) deadline(now time.Time, idle time.Duration) time.Time {
	if h.b.points > 0 {
		return h.b.started.Add(h.r.cfg.FlushTimeout)
	}
	if idle == 0 {
		return time.Time{}
	}
	return now.Add(idle)
}

// serveStatsHouse serves a connection of StatsHouse JSON batches (its first byte was '{');
// buf[:n] holds the bytes already read. The read buffer grows up to max_message_size for a
// large batch.
func (r *dsdbReceiver) serveStatsHouse(c net.Conn, buf []byte, n int) {
	h := r.newShouse(protoStatsHouseTCP)
	var sp statshouse.Splitter
	maxMsg := r.cfg.StatsHouse.MaxMessageSize
	start, end := 0, n
	r.stats.bytes[protoStatsHouseTCP].Add(uint64(n))
	for {
		now := time.Now()
		for {
			for start < end && isSpace(buf[start]) {
				start++
			}
			if start == end {
				break
			}
			if buf[start] != '{' {
				// Not a JSON object where the next batch should start: the stream cannot be
				// resynchronised, so the connection ends.
				h.reject(&statshouse.Error{Reason: statshouse.ReasonInvalidJSON, Msg: "a StatsHouse JSON batch must start with '{'"})
				h.flush()
				return
			}
			k := sp.Next(buf[start:end])
			if k == 0 {
				break
			}
			if k > maxMsg { // whole, so the stream goes on after it
				h.reject(&statshouse.Error{Reason: statshouse.ReasonMessageTooLong, Msg: "a StatsHouse JSON batch longer than max_message_size"})
			} else {
				h.message(buf[start:start+k], now)
			}
			start += k
			sp.Reset()
		}
		if end-start >= maxMsg {
			h.reject(&statshouse.Error{Reason: statshouse.ReasonMessageTooLong, Msg: "a StatsHouse JSON batch longer than max_message_size"})
			h.flush()
			return
		}
		end = copy(buf, buf[start:end])
		start = 0
		if end == len(buf) { // a batch larger than the buffer, under max_message_size: grow
			nb := make([]byte, min(2*len(buf), maxMsg+1))
			copy(nb, buf[:end])
			buf = nb
		}
		if h.due(now) {
			h.flush()
		}
		_ = c.SetReadDeadline(h.deadline(now, r.cfg.IdleTimeout))
		if r.stopping.Load() {
			h.flush()
			return
		}
		m, err := c.Read(buf[end:])
		end += m
		r.stats.bytes[protoStatsHouseTCP].Add(uint64(m))
		if err == nil {
			continue
		}
		if isTimeout(err) && !r.stopping.Load() {
			if h.b.points > 0 {
				h.flush()
				continue
			}
			r.stats.connsTimedOut.Add(1)
		}
		if errors.Is(err, io.EOF) && end > 0 { // a last batch cut short by the close
			if k := sp.Next(buf[:end]); k == 0 && !allSpace(buf[:end]) {
				h.reject(&statshouse.Error{Reason: statshouse.ReasonInvalidJSON, Msg: "the connection closed inside a batch"})
			}
		}
		h.flush()
		return
	}
}

// readUDP reads StatsHouse JSON datagrams. Other StatsHouse formats (TL, msgpack, protobuf)
// are counted as unsupported_format.
func (r *dsdbReceiver) readUDP() {
	h := r.newShouse(protoStatsHouseUDP)
	buf := make([]byte, 64<<10)
	for {
		now := time.Now()
		if h.due(now) {
			h.flush()
		}
		_ = r.udp.SetReadDeadline(h.deadline(now, 0))
		if r.stopping.Load() {
			h.flush()
			return
		}
		n, _, err := r.udp.ReadFrom(buf)
		if n > 0 {
			r.stats.datagrams.Add(1)
			r.stats.bytes[protoStatsHouseUDP].Add(uint64(n))
			if buf[0] == '{' {
				h.message(buf[:n], time.Now())
			} else {
				h.reject(&statshouse.Error{Reason: statshouse.ReasonUnsupportedFormat, Msg: "only StatsHouse's JSON format is read (first byte '{')"})
			}
		}
		if err == nil || isTimeout(err) && !r.stopping.Load() {
			continue
		}
		h.flush()
		if !errors.Is(err, net.ErrClosed) && !isTimeout(err) {
			r.set.Logger.Error("dsdb: UDP read failed; StatsHouse datagrams are no longer read", zap.Error(err))
		}
		return
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func allSpace(b []byte) bool {
	for _, c := range b {
		if !isSpace(c) {
			return false
		}
	}
	return true
}
