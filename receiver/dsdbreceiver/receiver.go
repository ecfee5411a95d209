package dsdbreceiver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receiverhelper"
	"go.uber.org/zap"

	"github.com/doghouse-otel/doghouse/receiver/dsdbreceiver/internal/metadata"
	"github.com/doghouse-otel/doghouse/receiver/dsdbreceiver/internal/sniff"
)

// httpHandlerProvider is what the http_handler_extension must implement (docs/read-side.md):
// the chunkquery extension does.
type httpHandlerProvider interface{ Handler() http.Handler }

// dsdbReceiver owns the TCP port and the UDP socket. Each TCP connection is served by its own
// goroutine, which sniffs the first bytes and then speaks one protocol until the connection
// ends; HTTP connections are handed to one http.Server through a listener of sniffed
// connections.
type dsdbReceiver struct {
	cfg  *Config
	set  receiver.Settings
	next consumer.Metrics

	obs       [numProtocols]*receiverhelper.ObsReport
	telemetry *metadata.TelemetryBuilder
	stats     stats
	handler   http.Handler // the extension's, or nil

	ln      net.Listener
	udp     net.PacketConn
	httpLn  *connListener
	httpSrv *http.Server
	puts    *putBatch

	mu       sync.Mutex
	conns    map[net.Conn]bool // true once handed to the HTTP server, which closes it
	stopping atomic.Bool
	serving  sync.WaitGroup // accept loop, UDP reader, HTTP server, non-HTTP connections
	started  bool
}

func newReceiver(cfg *Config, set receiver.Settings, next consumer.Metrics) *dsdbReceiver {
	return &dsdbReceiver{cfg: cfg, set: set, next: next, conns: map[net.Conn]bool{}}
}

// Start finds the HTTP handler extension, binds TCP and (unless turned off) UDP on the same
// port number, and starts serving; a bind error fails the collector's start.
func (r *dsdbReceiver) Start(_ context.Context, host component.Host) error {
	if id := r.cfg.HTTPHandlerExtension; id != nil {
		ext, ok := host.GetExtensions()[*id]
		if !ok {
			return fmt.Errorf("dsdb: `http_handler_extension` (%q): no such extension in the service's extensions", id.String())
		}
		p, ok := ext.(httpHandlerProvider)
		if !ok {
			return fmt.Errorf("dsdb: `http_handler_extension` (%q): the extension has no `Handler() http.Handler` method (use chunkquery)", id.String())
		}
		r.handler = p.Handler()
	}
	for p := range numProtocols {
		obs, err := receiverhelper.NewObsReport(receiverhelper.ObsReportSettings{
			ReceiverID: r.set.ID, Transport: protocol(p).transport(), ReceiverCreateSettings: r.set,
		})
		if err != nil {
			return err
		}
		r.obs[p] = obs
	}
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", r.cfg.Endpoint)
	if err != nil {
		return fmt.Errorf("dsdb: listen on `endpoint` (%q): %w", r.cfg.Endpoint, err)
	}
	if r.cfg.StatsHouse.UDP {
		// The same host and the port number TCP got (the OS's choice when the endpoint says 0).
		host, _, _ := net.SplitHostPort(r.cfg.Endpoint)
		port := ln.Addr().(*net.TCPAddr).Port
		udp, err := (&net.ListenConfig{}).ListenPacket(context.Background(), "udp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			ln.Close()
			return fmt.Errorf("dsdb: listen on UDP port %d of `endpoint` (%q): %w", port, r.cfg.Endpoint, err)
		}
		r.udp = udp
	}
	if r.telemetry, err = newTelemetry(r); err != nil {
		ln.Close()
		if r.udp != nil {
			r.udp.Close()
		}
		return err
	}
	r.ln = ln
	r.httpLn = newConnListener(ln.Addr())
	r.httpSrv = &http.Server{
		Handler:           http.HandlerFunc(r.serveHTTP),
		ReadHeaderTimeout: min(httpHeaderTimeout, r.cfg.IdleTimeout),
		IdleTimeout:       r.cfg.IdleTimeout,
		MaxHeaderBytes:    httpMaxHeaderBytes,
		ErrorLog:          zap.NewStdLog(r.set.Logger.Named("http")),
	}
	r.puts = newPutBatch(r)
	r.serving.Go(r.puts.run)
	r.serving.Go(func() {
		if err := r.httpSrv.Serve(r.httpLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			r.set.Logger.Error("dsdb: HTTP server stopped", zap.Error(err))
		}
	})
	r.serving.Go(r.acceptLoop)
	if r.udp != nil {
		r.serving.Go(r.readUDP)
	}
	r.started = true
	fields := []zap.Field{zap.Stringer("tcp", ln.Addr())}
	if r.udp != nil {
		fields = append(fields, zap.Stringer("udp", r.udp.LocalAddr()))
	}
	r.set.Logger.Info("dsdb receiver listening", fields...)
	return nil
}

// httpHeaderTimeout (or idle_timeout, if shorter) bounds how long a client may take to send a
// request's headers: a half-sent request cannot hold its connection longer.
// httpMaxHeaderBytes: 64 KiB of headers.
const (
	httpHeaderTimeout  = 10 * time.Second
	httpMaxHeaderBytes = 64 << 10
)

// Addr returns the bound TCP address (UDP has the same port number), nil before Start.
func (r *dsdbReceiver) Addr() net.Addr {
	if r.ln == nil {
		return nil
	}
	return r.ln.Addr()
}

func (r *dsdbReceiver) acceptLoop() {
	var delay time.Duration
	for {
		c, err := r.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors and the like: wait instead of spinning.
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			r.set.Logger.Warn("dsdb: accept failed", zap.Error(err), zap.Duration("retry_in", delay))
			time.Sleep(delay)
			continue
		}
		delay = 0
		if !r.track(c) {
			r.stats.connsRefused.Add(1)
			_ = c.Close()
			continue
		}
		r.serving.Go(func() { r.serveConn(c) })
	}
}

// track adds c to the open connections unless max_connections are open or the receiver is
// stopping.
func (r *dsdbReceiver) track(c net.Conn) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.conns) >= r.cfg.MaxConnections || r.stopping.Load() {
		return false
	}
	r.conns[c] = false
	return true
}

func (r *dsdbReceiver) untrack(c net.Conn) {
	r.mu.Lock()
	delete(r.conns, c)
	r.mu.Unlock()
}

// serveConn reads the first bytes of a connection, picks its protocol and serves it. An HTTP
// connection is handed to the HTTP server, which closes it; the others end here.
func (r *dsdbReceiver) serveConn(c net.Conn) {
	buf := make([]byte, r.readBufferSize())
	_ = c.SetReadDeadline(time.Now().Add(r.cfg.IdleTimeout))
	n, err := 0, error(nil)
	if !r.stopping.Load() {
		n, err = c.Read(buf)
	}
	if n == 0 {
		if isTimeout(err) && !r.stopping.Load() {
			r.stats.connsTimedOut.Add(1)
		}
		r.untrack(c)
		_ = c.Close()
		return
	}
	switch sniff.Detect(buf[:n]) {
	case sniff.HTTP:
		r.stats.conns[protoHTTP].Add(1)
		r.mu.Lock()
		r.conns[c] = true
		r.mu.Unlock()
		pc := &prefixConn{Conn: c, pending: buf[:n], done: func() { r.untrack(c) }}
		if !r.httpLn.offer(pc) { // the server is shutting down
			_ = pc.Close()
		}
		return
	case sniff.StatsHouseJSON:
		r.stats.conns[protoStatsHouseTCP].Add(1)
		r.serveStatsHouse(c, buf, n)
	default:
		r.stats.conns[protoTelnet].Add(1)
		r.serveTelnet(c, buf, n)
	}
	r.untrack(c)
	_ = c.Close()
}

// readBufferSize is a connection's read buffer: room for the longest line and then some.
func (r *dsdbReceiver) readBufferSize() int { return max(64<<10, r.cfg.OpenTSDB.MaxLineLength+1) }

// consume hands a batch on. Points the next consumer refuses are counted by the obsreport as
// refused and logged: a push protocol cannot ask the client again.
func (r *dsdbReceiver) consume(p protocol, md pmetric.Metrics, n int) error {
	if n == 0 {
		return nil
	}
	ctx := r.obs[p].StartMetricsOp(context.Background())
	err := r.next.ConsumeMetrics(ctx, md)
	r.obs[p].EndMetricsOp(ctx, metadata.Type.String(), n, err)
	if err != nil {
		r.set.Logger.Error("dsdb: next consumer refused data points", zap.Stringer("protocol", p), zap.Int("data_points", n), zap.Error(err))
		return err
	}
	r.stats.points[p].Add(uint64(n))
	return nil
}

// Shutdown stops accepting, lets every connection hand on what it read (a connection blocked
// in a read is woken by a deadline in the past) and waits for them; HTTP requests in progress
// finish within ctx. It is safe without Start.
func (r *dsdbReceiver) Shutdown(ctx context.Context) error {
	if !r.started {
		return nil
	}
	r.started = false
	r.stopping.Store(true)
	_ = r.ln.Close()
	if r.udp != nil {
		_ = r.udp.SetReadDeadline(time.Now())
	}
	r.mu.Lock()
	for c, http := range r.conns {
		if !http { // the HTTP server lets requests in progress finish
			_ = c.SetReadDeadline(time.Now())
		}
	}
	r.mu.Unlock()
	err := r.httpSrv.Shutdown(ctx)
	r.httpLn.Close()
	close(r.puts.stop) // after the last request: hand on what they queued
	done := make(chan struct{})
	go func() { r.serving.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		err = errors.Join(err, fmt.Errorf("dsdb: connections still open at the shutdown deadline: %w", ctx.Err()))
		r.mu.Lock()
		for c := range r.conns {
			_ = c.Close()
		}
		r.mu.Unlock()
		<-done
	}
	if r.udp != nil {
		_ = r.udp.Close()
	}
	r.telemetry.Shutdown()
	return err
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
