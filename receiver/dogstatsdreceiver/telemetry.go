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
		tb.RegisterReceiverDogstatsdPacketsCallback(perTransport(func(s *listener.Stats) uint64 { return s.Packets.Load() })),
		tb.RegisterReceiverDogstatsdBytesCallback(perTransport(func(s *listener.Stats) uint64 { return s.Bytes.Load() })),
		tb.RegisterReceiverDogstatsdKernelDropsCallback(perTransport(func(s *listener.Stats) uint64 { return s.KernelDrops.Load() })),
		tb.RegisterReceiverDogstatsdOversizedCallback(perTransport(func(s *listener.Stats) uint64 { return s.Oversized.Load() })),
		tb.RegisterReceiverDogstatsdQueueDropsCallback(total(sumListeners(func(s *listener.Stats) uint64 { return s.Buffer.PacketsDropped.Load() }))),
		tb.RegisterReceiverDogstatsdQueueDepthCallback(total(func() uint64 { return uint64(len(r.queue)) })),
		tb.RegisterReceiverDogstatsdPoolAllocationsCallback(counter(&r.pool.Stats().Allocations)),
		tb.RegisterReceiverDogstatsdLinesCallback(counter(&ws.Lines)),
		tb.RegisterReceiverDogstatsdSamplesCallback(counter(&ws.Samples)),
		tb.RegisterReceiverDogstatsdSamplesBlockedCallback(counter(&ws.Blocked)),
		tb.RegisterReceiverDogstatsdEventsCallback(total(func() uint64 { return ws.Events.Load() + ws.ServiceChecks.Load() })),
		tb.RegisterReceiverDogstatsdLinesRejectedCallback(func(_ context.Context, o metric.Int64Observer) error {
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
		tb.RegisterReceiverDogstatsdInternerHitsCallback(counter(&ws.InternHits)),
		tb.RegisterReceiverDogstatsdInternerMissesCallback(counter(&ws.InternMisses)),
		tb.RegisterReceiverDogstatsdInternerResetsCallback(counter(&ws.InternResets)),
		tb.RegisterReceiverDogstatsdContextsCallback(total(func() uint64 { return uint64(max(0, as.Contexts.Load())) })),
		tb.RegisterReceiverDogstatsdContextsCreatedCallback(counter(&as.Created)),
		tb.RegisterReceiverDogstatsdContextsOverflowCallback(counter(&as.Overflowed)),
		tb.RegisterReceiverDogstatsdContextsEvictedCallback(counter(&as.Evicted)),
		tb.RegisterReceiverDogstatsdTimestampedDroppedCallback(counter(&as.TimestampedDropped)),
		tb.RegisterReceiverDogstatsdSamplesDisabledCallback(counter(&as.Disabled)),
		tb.RegisterReceiverDogstatsdLogsDroppedCallback(counter(&r.logBuf.dropped)),
	)
	if err != nil {
		tb.Shutdown()
		return nil, err
	}
	return tb, nil
}
