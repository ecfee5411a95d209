package loadgen

import (
	"context"
	"errors"
	"math"
	"os"
	"sync"
	"time"
)

// RunOptions says how fast and how long to send.
type RunOptions struct {
	// Rate is lines per second over all senders; 0 sends as fast as the sockets take it.
	Rate float64
	// Duration bounds the run; required.
	Duration time.Duration
	// Tick is how often each sender wakes to send the batch that is due; default 1ms.
	Tick time.Duration
	// MaxCatchUp bounds the backlog a sender makes up after it was held up (descheduled, or a
	// Unix socket made it wait): beyond that many seconds of traffic the schedule is skipped and
	// counted in Result.Behind instead of being sent in one burst (the backlog kept is never
	// less than the largest datagram). Default 5ms: a longer catch-up burst alone can overflow
	// a receiver's default socket buffer (about 200 KiB) before it gets to read.
	MaxCatchUp time.Duration
	// Senders is the number of sockets, each with its own goroutine and Rate/Senders; default 1.
	Senders int
	// MaxBatch bounds the datagrams written in one go; default 256.
	MaxBatch int
	// clock replaces the wall clock in tests.
	clock func() clock
}

// Result is what a run sent.
type Result struct {
	Sent    Totals
	Elapsed time.Duration
	// Behind is the lines the schedule asked for that were skipped because a sender fell more
	// than MaxCatchUp behind.
	Behind int64
	// Errors counts failed writes (a UDP port nobody listens on, a closed Unix socket); the
	// datagrams of a failed write are not counted as sent.
	Errors  int64
	LastErr error
}

// Rate is the achieved rate in lines per second.
func (r Result) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Sent.Lines) / r.Elapsed.Seconds()
}

// Run sends tr to target at opts.Rate for opts.Duration, or until ctx is done. Each sender dials
// its own socket and starts at a different point of the traffic.
func Run(ctx context.Context, tr Traffic, target Target, opts RunOptions) (Result, error) {
	if opts.Duration <= 0 {
		return Result{}, errors.New("loadgen: duration must be positive")
	}
	if opts.Rate < 0 {
		return Result{}, errors.New("loadgen: rate must not be negative")
	}
	opts.Tick = cmpOr(opts.Tick, time.Millisecond)
	opts.MaxCatchUp = cmpOr(opts.MaxCatchUp, 5*time.Millisecond)
	opts.Senders = cmpOr(opts.Senders, 1)
	opts.MaxBatch = cmpOr(opts.MaxBatch, 256)
	senders := make([]sender, 0, opts.Senders)
	defer func() {
		for _, s := range senders {
			_ = s.close()
		}
	}()
	for range opts.Senders {
		s, err := dial(target)
		if err != nil {
			return Result{}, err
		}
		senders = append(senders, s)
	}
	results := make([]Result, len(senders))
	var wg sync.WaitGroup
	for k, s := range senders {
		clk := newWallClock()
		if opts.clock != nil {
			clk = opts.clock()
		}
		w, pos, next := tr.start(k, len(senders))
		p := pacer{w: w, next: next, s: s, clk: clk, opts: opts, rate: opts.Rate / float64(len(senders)), pos: pos}
		wg.Go(func() { results[k] = p.run(ctx) })
	}
	wg.Wait()
	var total Result
	for _, r := range results {
		total.Sent.Add(r.Sent)
		total.Elapsed = max(total.Elapsed, r.Elapsed)
		total.Behind += r.Behind
		total.Errors += r.Errors
		if r.LastErr != nil {
			total.LastErr = r.LastErr
		}
	}
	return total, nil
}

func cmpOr[T comparable](v, d T) T {
	var zero T
	if v == zero {
		return d
	}
	return v
}

// clock is the time a pacer runs on, relative to its start.
type clock interface {
	now() time.Duration
	sleepUntil(ctx context.Context, t time.Duration) error
	deadline(t time.Duration) time.Time // wall time of t, for socket write deadlines
}

type wallClock struct{ start time.Time }

func newWallClock() clock { return &wallClock{start: time.Now()} }

func (c *wallClock) now() time.Duration { return time.Since(c.start) }

func (c *wallClock) deadline(t time.Duration) time.Time { return c.start.Add(t) }

func (c *wallClock) sleepUntil(ctx context.Context, t time.Duration) error {
	d := t - c.now()
	if d <= 0 {
		return ctx.Err()
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// pacer sends one sender's share of the schedule: at every tick it sends the whole datagrams
// whose lines are due (rate × elapsed, minus what was sent or skipped), in batches of
// consecutive datagrams of one block.
type pacer struct {
	w *Workload // the block being sent
	// next returns the block after w once w is sent; nil sends w again (a pre-built workload).
	next func() *Workload
	s    sender
	clk  clock
	opts RunOptions
	rate float64
	pos  int

	credited float64 // lines sent or skipped so far
	res      Result
}

// allowance returns the lines that may be sent at elapsed, skipping (and counting) any
// backlog beyond MaxCatchUp.
func (p *pacer) allowance(elapsed time.Duration) float64 {
	if p.rate == 0 {
		return math.Inf(1)
	}
	backlog := p.rate*elapsed.Seconds() - p.credited
	// At least one datagram's lines may wait, or a slow rate of large datagrams never sends.
	if limit := max(p.rate*p.opts.MaxCatchUp.Seconds(), float64(p.w.maxLines)); backlog > limit {
		skip := math.Floor(backlog - limit)
		p.res.Behind += int64(skip)
		p.credited += skip
		backlog -= skip
	}
	return backlog
}

// advance moves past n datagrams of the block, to the next block at its end.
func (p *pacer) advance(n int) {
	p.pos += n
	if p.pos < p.w.Len() {
		return
	}
	p.pos = 0
	if p.next != nil {
		p.w = p.next()
	}
}

func (p *pacer) run(ctx context.Context) Result {
	end := p.opts.Duration
	deadline := p.clk.deadline(end)
	next := time.Duration(0)
	for ctx.Err() == nil {
		now := p.clk.now()
		if now >= end {
			break
		}
		allowed := p.allowance(now)
		// Send batches until what is due is sent, the run ends or a write fails.
		for allowed > 0 && ctx.Err() == nil {
			i := p.pos
			j, lines := i, 0.0
			for j < p.w.Len() && j-i < p.opts.MaxBatch {
				l := float64(p.w.dgrams[j].totals.Lines)
				if lines+l > allowed {
					break
				}
				lines += l
				j++
			}
			if j == i {
				break // the next datagram is not due yet
			}
			n, err := p.s.send(p.w, i, j, deadline)
			for k := i; k < i+n; k++ {
				t := p.w.dgrams[k].totals
				p.res.Sent.Add(t)
				p.credited += float64(t.Lines)
				allowed -= float64(t.Lines)
			}
			p.advance(n)
			if errors.Is(err, os.ErrDeadlineExceeded) {
				break // a write held up by the receiver until the end of the run: not a failure
			}
			if err != nil {
				p.res.Errors++
				p.res.LastErr = err
				// Skip the failed datagram so a persistent error does not spin on it.
				t := p.w.dgrams[p.pos].totals
				p.credited += float64(t.Lines)
				p.advance(1)
				break
			}
			if p.rate == 0 {
				break // unpaced: look at the clock between batches
			}
		}
		if p.rate == 0 {
			continue
		}
		// Wake at the next tick boundary after now.
		next = (p.clk.now()/p.opts.Tick + 1) * p.opts.Tick
		if err := p.clk.sleepUntil(ctx, min(next, end)); err != nil {
			break
		}
	}
	p.res.Elapsed = min(p.clk.now(), end)
	return p.res
}
