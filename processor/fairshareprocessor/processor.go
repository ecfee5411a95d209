package fairshareprocessor

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/processor"
	"go.uber.org/zap"

	"github.com/doghouse-otel/doghouse/processor/fairshareprocessor/internal/metadata"
)

// tickOffset puts the flush tick just after each whole second, so that the window ending on
// that second plus its grace is due when the tick looks.
const tickOffset = 5 * time.Millisecond

// finalFlushTimeout bounds the shutdown flush when the shutdown context is already done.
const finalFlushTimeout = 5 * time.Second

// fairshareProcessor aggregates points into windows and, once a second from its own goroutine,
// sends the rows that are due, sampled to the budget. ConsumeMetrics forwards at once only what
// cannot be aggregated (cumulative data, shapes that do not merge).
type fairshareProcessor struct {
	logger *zap.Logger
	next   consumer.Metrics
	tel    *metadata.TelemetryBuilder
	now    func() time.Time

	engine *engine

	stateMu sync.Mutex // guards the lifecycle fields below
	stop    chan struct{}
	done    chan struct{}
	closed  bool
}

func newProcessor(set processor.Settings, cfg *Config, next consumer.Metrics) (*fairshareProcessor, error) {
	tel, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	seed := uint64(time.Now().UnixNano())
	return &fairshareProcessor{
		logger: set.Logger,
		next:   next,
		tel:    tel,
		now:    time.Now,
		engine: newEngine(cfg, rand.New(rand.NewPCG(seed, seed>>32|1))),
	}, nil
}

// Start begins the flush ticker.
func (p *fairshareProcessor) Start(context.Context, component.Host) error {
	p.stateMu.Lock()
	defer p.stateMu.Unlock()
	if p.stop != nil || p.closed {
		return nil
	}
	p.stop, p.done = make(chan struct{}), make(chan struct{})
	go p.run(p.stop, p.done)
	return nil
}

func (p *fairshareProcessor) run(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	timer := time.NewTimer(untilTick(p.now(), p.engine.cfg.Grace))
	defer timer.Stop()
	for {
		select {
		case <-stop:
			return
		case <-timer.C:
			if err := p.flush(context.Background(), false); err != nil {
				p.logger.Warn("Sending aggregated metrics failed", zap.Error(err))
			}
			timer.Reset(untilTick(p.now(), p.engine.cfg.Grace))
		}
	}
}

// untilTick returns the time from now to the next tick: whole seconds shifted by the part of
// grace below a second, plus tickOffset. Windows end on whole seconds and are due grace after
// their end, so a tick comes just as one is due instead of up to a second later.
func untilTick(now time.Time, grace time.Duration) time.Duration {
	phase := grace%time.Second + tickOffset
	next := now.Add(-phase).Truncate(time.Second).Add(time.Second + phase)
	return next.Sub(now)
}

// Shutdown stops the ticker and flushes every open window, whether or not Start ran.
func (p *fairshareProcessor) Shutdown(ctx context.Context) error {
	p.stateMu.Lock()
	stop, done, closed := p.stop, p.done, p.closed
	p.closed = true
	p.stateMu.Unlock()
	if closed {
		return nil
	}
	var waitErr error
	if stop != nil {
		close(stop)
		select {
		case <-done:
		default:
			select {
			case <-done:
			case <-ctx.Done():
				// A tick's flush is still sending; the final flush below waits for the engine's
				// flush lock only, not for that send, so what is still held goes out all the same.
				waitErr = ctx.Err()
			}
		}
	}
	// The final flush is attempted whatever is left of ctx: the windows hold data that exists
	// nowhere else. When ctx is already done, the next consumer gets its values with a short
	// deadline of its own rather than a context that refuses everything.
	fctx := ctx
	if ctx.Err() != nil {
		var cancel context.CancelFunc
		fctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), finalFlushTimeout)
		defer cancel()
	}
	err := p.flush(fctx, true)
	p.tel.Shutdown()
	return errors.Join(err, waitErr)
}

// Capabilities says the processor changes its input: it removes what it aggregates.
func (*fairshareProcessor) Capabilities() consumer.Capabilities {
	return consumer.Capabilities{MutatesData: true}
}

// ConsumeMetrics aggregates md and forwards what is left of it. Calls whose metrics hash to
// different shards run in parallel.
func (p *fairshareProcessor) ConsumeMetrics(ctx context.Context, md pmetric.Metrics) error {
	st, rows := p.engine.add(md, p.now().UnixNano())
	p.recordPoints(ctx, st, rows)
	if md.ResourceMetrics().Len() == 0 {
		return nil
	}
	err := p.next.ConsumeMetrics(ctx, md)
	if err != nil && st.Points+st.TooLate+st.Invalid > 0 {
		// Part of the request is already aggregated: a retry of the whole request would count it
		// twice. Only the forwarded part is lost, and the caller is told not to retry.
		p.logger.Warn("Next consumer refused the points forwarded unchanged; the aggregated points of the same request are kept",
			zap.Int("data_points", md.DataPointCount()), zap.Error(err))
		return consumererror.NewPermanent(err)
	}
	return err
}

// flush sends the rows due now (every row when all is set).
func (p *fairshareProcessor) flush(ctx context.Context, all bool) error {
	var errs error
	fs, released := p.engine.flush(p.now(), all, func(md pmetric.Metrics) {
		errs = errors.Join(errs, p.next.ConsumeMetrics(ctx, md))
	})
	p.recordFlush(ctx, fs, -released)
	return errs
}
