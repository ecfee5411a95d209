package dogstatsdreceiver

import (
	"context"
	"errors"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/listener"
	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/metadata"
	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/parse"
)

// newTelemetry registers the receiver's observable instruments: each reads the atomic counters
// the pipeline stages keep, so the hot paths never call into the metrics SDK.
func newTelemetry(r *dogstatsdReceiver) (*metadata.TelemetryBuilder, error) {
	tb, err := metadata.NewTelemetryBuilder(r.set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	perTransport := func(get func(*listener.Stats) uint64) metric.Int64Callback {
		return func(_ context.Context, o metric.Int64Observer) error {
			for _, l := range r.listeners {
				st := l.Stats()
				o.Observe(int64(get(st)), metric.WithAttributes(attribute.String("transport", st.Transport.String())))
			}
			return nil
		}
	}
	total := func(get func() uint64) metric.Int64Callback {
		return func(_ context.Context, o metric.Int64Observer) error {
			o.Observe(int64(get()))
			return nil
		}
	}
	counter := func(c *atomic.Uint64) metric.Int64Callback { return total(c.Load) }
	sumListeners := func(get func(*listener.Stats) uint64) func() uint64 {
		return func() uint64 {
			var n uint64
			for _, l := range r.listeners {
				n += get(l.Stats())
			}
			return n
		}
	}
	ws, as := &r.workerStats, &r.agg.Stats
	err = errors.Join(
		tb.RegisterDogstatsdPacketsCallback(perTransport(func(s *listener.Stats) uint64 { return s.Packets.Load() })),
		tb.RegisterDogstatsdBytesCallback(perTransport(func(s *listener.Stats) uint64 { return s.Bytes.Load() })),
		tb.RegisterDogstatsdKernelDropsCallback(perTransport(func(s *listener.Stats) uint64 { return s.KernelDrops.Load() })),
		tb.RegisterDogstatsdOversizedCallback(perTransport(func(s *listener.Stats) uint64 { return s.Oversized.Load() })),
		tb.RegisterDogstatsdQueueDropsCallback(total(sumListeners(func(s *listener.Stats) uint64 { return s.Buffer.PacketsDropped.Load() }))),
		tb.RegisterDogstatsdQueueDepthCallback(total(func() uint64 { return uint64(len(r.queue)) })),
		tb.RegisterDogstatsdPoolAllocationsCallback(counter(&r.pool.Stats().Allocations)),
		tb.RegisterDogstatsdLinesCallback(counter(&ws.Lines)),
		tb.RegisterDogstatsdSamplesCallback(counter(&ws.Samples)),
		tb.RegisterDogstatsdSamplesBlockedCallback(counter(&ws.Blocked)),
		tb.RegisterDogstatsdEventsCallback(total(func() uint64 { return ws.Events.Load() + ws.ServiceChecks.Load() })),
		tb.RegisterDogstatsdLinesRejectedCallback(func(_ context.Context, o metric.Int64Observer) error {
			unterminated := sumListeners(func(s *listener.Stats) uint64 { return s.Unterminated.Load() })()
			for _, reason := range parse.Reasons() {
				n := ws.Rejected[reason].Load()
				if reason == parse.ReasonNoEOL {
					n += unterminated // dropped by the listeners (eol_required), never parsed
				}
				o.Observe(int64(n), metric.WithAttributes(attribute.String("reason", reason.String())))
			}
			return nil
		}),
		tb.RegisterDogstatsdInternerHitsCallback(counter(&ws.InternHits)),
		tb.RegisterDogstatsdInternerMissesCallback(counter(&ws.InternMisses)),
		tb.RegisterDogstatsdInternerResetsCallback(counter(&ws.InternResets)),
		tb.RegisterDogstatsdContextsCallback(total(func() uint64 { return uint64(max(0, as.Contexts.Load())) })),
		tb.RegisterDogstatsdContextsCreatedCallback(counter(&as.Created)),
		tb.RegisterDogstatsdContextsOverflowCallback(counter(&as.Overflowed)),
		tb.RegisterDogstatsdContextsEvictedCallback(counter(&as.Evicted)),
		tb.RegisterDogstatsdTimestampedDroppedCallback(counter(&as.TimestampedDropped)),
		tb.RegisterDogstatsdSamplesDisabledCallback(counter(&as.Disabled)),
		tb.RegisterDogstatsdLogsDroppedCallback(counter(&r.logBuf.dropped)),
	)
	if err != nil {
		tb.Shutdown()
		return nil, err
	}
	return tb, nil
}
