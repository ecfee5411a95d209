package dsdbreceiver

import (
	"context"
	"errors"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/doghouse-otel/doghouse/receiver/dsdbreceiver/internal/metadata"
	"github.com/doghouse-otel/doghouse/receiver/dsdbreceiver/internal/opentsdb"
	"github.com/doghouse-otel/doghouse/receiver/dsdbreceiver/internal/statshouse"
)

// protocol is what a point or connection came by: the `protocol` attribute.
type protocol uint8

const (
	protoTelnet protocol = iota
	protoHTTP
	protoStatsHouseTCP
	protoStatsHouseUDP
	numProtocols
)

var protocolNames = [numProtocols]string{"telnet", "http", "statshouse_tcp", "statshouse_udp"}

func (p protocol) String() string { return protocolNames[p] }

// transport is the obsreport's transport attribute.
func (p protocol) transport() string {
	switch p {
	case protoHTTP:
		return "http"
	case protoStatsHouseUDP:
		return "udp"
	}
	return "tcp"
}

// route is where an HTTP request went: the `route` attribute.
type route uint8

const (
	routePut route = iota
	routeHandler
	routeNotFound
	numRoutes
)

var routeNames = [numRoutes]string{"put", "handler", "not_found"}

// stats are the receiver's counters, written on the hot paths with atomic adds and read by
// the observable instruments.
type stats struct {
	bytes         [numProtocols]atomic.Uint64
	conns         [numProtocols]atomic.Uint64
	connsRefused  atomic.Uint64
	connsTimedOut atomic.Uint64
	datagrams     atomic.Uint64
	requests      [numRoutes]atomic.Uint64
	lines         atomic.Uint64
	points        [numProtocols]atomic.Uint64
	// OpenTSDB rejections by protocol (telnet, http) and reason; StatsHouse by protocol
	// (statshouse_tcp, statshouse_udp) and reason.
	tsdbRejected   [2][opentsdb.NumReasons]atomic.Uint64
	shouseRejected [2][statshouse.NumReasons]atomic.Uint64
}

func (s *stats) rejectTSDB(p protocol, r opentsdb.Reason) { s.tsdbRejected[p-protoTelnet][r].Add(1) }

func (s *stats) rejectStatsHouse(p protocol, r statshouse.Reason) {
	s.shouseRejected[p-protoStatsHouseTCP][r].Add(1)
}

// newTelemetry registers the observable instruments over r.stats.
func newTelemetry(r *dsdbReceiver) (*metadata.TelemetryBuilder, error) {
	tb, err := metadata.NewTelemetryBuilder(r.set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	s := &r.stats
	perProtocol := func(c *[numProtocols]atomic.Uint64) metric.Int64Callback {
		return func(_ context.Context, o metric.Int64Observer) error {
			for p := range numProtocols {
				o.Observe(int64(c[p].Load()), metric.WithAttributes(attribute.String("protocol", protocol(p).String())))
			}
			return nil
		}
	}
	total := func(get func() int64) metric.Int64Callback {
		return func(_ context.Context, o metric.Int64Observer) error {
			o.Observe(get())
			return nil
		}
	}
	counter := func(c *atomic.Uint64) metric.Int64Callback { return total(func() int64 { return int64(c.Load()) }) }
	err = errors.Join(
		tb.RegisterReceiverDsdbBytesCallback(perProtocol(&s.bytes)),
		tb.RegisterReceiverDsdbConnectionsCallback(perProtocol(&s.conns)),
		tb.RegisterReceiverDsdbConnectionsOpenCallback(total(func() int64 {
			r.mu.Lock()
			defer r.mu.Unlock()
			return int64(len(r.conns))
		})),
		tb.RegisterReceiverDsdbConnectionsRefusedCallback(counter(&s.connsRefused)),
		tb.RegisterReceiverDsdbConnectionsTimedOutCallback(counter(&s.connsTimedOut)),
		tb.RegisterReceiverDsdbDatagramsCallback(counter(&s.datagrams)),
		tb.RegisterReceiverDsdbHTTPRequestsCallback(func(_ context.Context, o metric.Int64Observer) error {
			for i := range numRoutes {
				o.Observe(int64(s.requests[i].Load()), metric.WithAttributes(attribute.String("route", routeNames[i])))
			}
			return nil
		}),
		tb.RegisterReceiverDsdbLinesCallback(counter(&s.lines)),
		tb.RegisterReceiverDsdbPointsCallback(perProtocol(&s.points)),
		tb.RegisterReceiverDsdbRejectedCallback(func(_ context.Context, o metric.Int64Observer) error {
			for i, p := range []protocol{protoTelnet, protoHTTP} {
				for _, reason := range opentsdb.Reasons() {
					o.Observe(int64(s.tsdbRejected[i][reason].Load()), metric.WithAttributes(
						attribute.String("protocol", p.String()), attribute.String("reason", reason.String())))
				}
			}
			for i, p := range []protocol{protoStatsHouseTCP, protoStatsHouseUDP} {
				for _, reason := range statshouse.Reasons() {
					o.Observe(int64(s.shouseRejected[i][reason].Load()), metric.WithAttributes(
						attribute.String("protocol", p.String()), attribute.String("reason", reason.String())))
				}
			}
			return nil
		}),
	)
	if err != nil {
		tb.Shutdown()
		return nil, err
	}
	return tb, nil
}
