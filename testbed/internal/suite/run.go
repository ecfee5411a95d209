// Package suite runs the testbed's scenarios against built collectors and renders the results
// as markdown tables with doghouse and the contrib receiver side by side.
package suite

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"time"

	"github.com/doghouse-otel/doghouse/testbed/internal/collector"
	"github.com/doghouse-otel/doghouse/testbed/internal/loadgen"
	"github.com/doghouse-otel/doghouse/testbed/internal/procstat"
)

// Phase is one stretch of load in a run. Its traffic's Prefix names it in the output, so the
// counter totals of each phase are checked separately.
type Phase struct {
	Traffic    loadgen.Traffic
	Rate       float64 // lines per second; 0 is as fast as the generator goes
	Duration   time.Duration
	Senders    int
	PauseAfter time.Duration
}

// Interrupt stops the collector while the last phase is still sending.
type Interrupt struct {
	After time.Duration // into the last phase
	Kill  bool          // SIGKILL instead of SIGTERM
}

// RunSpec is one collector process measured under load.
type RunSpec struct {
	Kind      collector.Kind
	Binary    string
	Transport loadgen.Transport
	Receiver  []string // extra doghouse receiver keys
	UDPRcvBuf int      // doghouse udp.so_rcvbuf; 0: system default
	Chunkfile string   // chunkfile exporter directory (doghouse only)
	// ChunkfileOptions are extra keys of the chunkfile exporter.
	ChunkfileOptions []string
	Phases           []Phase
	Interrupt        *Interrupt
	// Interval is both receivers' aggregation_interval; default 1s.
	Interval time.Duration
	// Dir holds the run's sockets, configuration and outputs; a temporary directory when empty.
	Dir string
	// Pipeline, when set (doghouse only), is a configuration file such as config/default.yaml
	// to run as it is, with its addresses and paths redirected (collector.Pipeline) instead of
	// the testbed's receiver -> file configuration; the metrics are read back from its chunkfile
	// exporter's directory with ChunkfileCLI, the project's cmd/chunkfile.
	Pipeline, ChunkfileCLI string
	// MaxRSS, when positive, kills the collector (and fails the run) once its resident memory
	// passes it, so a runaway collector cannot take the shared machine down.
	MaxRSS int64
	// Overload is for runs the collector may not keep up with (the cardinality floods): a
	// telemetry endpoint too slow to answer counts as busy, a collector still busy 60 s after
	// the load is measured as it is (RunResult.StillBusy), the last scrape may take a minute,
	// and a collector that has not exited 2 minutes after SIGTERM is killed and its output read
	// anyway (RunResult.StopErr) instead of failing the run.
	Overload bool
}

// PhaseResult is what one phase sent and what came out for it.
type PhaseResult struct {
	Prefix      string
	Load        loadgen.Result
	OutCounters float64 // Σ of the counter points of the phase's metrics in the output
	OutContexts int     // distinct counter series of the phase in the output
}

// Delivered is the share of the phase's counter total found in the output; every counter line
// carries a known value, so this is the end-to-end delivery of the phase's lines.
func (p PhaseResult) Delivered() float64 {
	if p.Load.Sent.CounterSum == 0 {
		return math.NaN()
	}
	return p.OutCounters / p.Load.Sent.CounterSum
}

// RunResult is one measured run.
type RunResult struct {
	Spec   RunSpec
	Phases []PhaseResult
	// Own telemetry at the end of the load (before stopping).
	Lines      float64 // lines the receiver read: doghouse otelcol_receiver_dogstatsd_lines; contrib: lines parsed
	Accepted   float64 // lines the receiver accepted: doghouse lines - rejected; contrib: lines parsed
	Samples    float64 // doghouse otelcol_receiver_dogstatsd_samples
	QueueDrops float64 // doghouse otelcol_receiver_dogstatsd_queue_drops
	// ContextsOverflow is doghouse's otelcol_receiver_dogstatsd_contexts_overflow: samples of new
	// contexts beyond max_contexts, folded into the overflow context of their type.
	ContextsOverflow float64
	KernelDrops      int64 // datagrams, from /proc/net/udp (-1: not a UDP run)
	CPU              time.Duration
	GenCPU           time.Duration // the testbed process (load generator) over the same window
	LoadTime         time.Duration // from the first line sent to the end of the drain
	BaseRSS          int64         // resident memory once ready, before any load
	PeakRSS          int64
	Output           collector.Output
	LogRecords       int64 // doghouse events and service checks in the logs output
	StopErr          error
	// Interrupted runs: the last value of the accepted counter seen while the collector was
	// stopping, and how the restart went.
	LastAccepted float64
	// UDPKernel is what the kernel's system-wide UDP counters rose by over an interrupted UDP
	// run, from before the load until the collector was gone and the load had ended: the
	// datagrams it refused (no socket took them) and dropped on arrival; nil otherwise.
	UDPKernel *procstat.UDPCounters
	Log       string
	// Pipeline describes the metrics pipeline of a Pipeline run ("dogstatsd → fairshare →
	// chunkfile, debug"), and Fairshare is that run's processor and exporter telemetry.
	Pipeline  string
	Fairshare FairshareTelemetry
	// StillBusy reports an Overload run whose collector was still working 60 s after the load.
	StillBusy bool
	// RcvBuf is the socket receive buffer of the run's listener as the kernel reported it
	// (getsockopt SO_RCVBUF), from doghouse's "DogStatsD listener started" log line; 0 when not
	// logged (contrib logs nothing of the kind: it has no setting and keeps the system default).
	RcvBuf int64
}

// rcvbufLine matches the receive buffer doghouse logs for each listener it starts.
var rcvbufLine = regexp.MustCompile(`DogStatsD listener started.*"transport": "([a-z]+)".*"receive_buffer_bytes": ([0-9]+)`)

// loggedRcvBuf is the receive buffer doghouse logged for its listener on transport.
func loggedRcvBuf(log string, transport loadgen.Transport) int64 {
	for _, m := range rcvbufLine.FindAllStringSubmatch(log, -1) {
		if m[1] == string(transport) {
			n, _ := strconv.ParseInt(m[2], 10, 64)
			return n
		}
	}
	return 0
}

// GeneratorBound applies the testbed's rule to a run of one phase: it sent less than 95% of
// the asked rate while the load generator used at least 90% of a core, so the generator, not
// the collector, set the rate.
func (r RunResult) GeneratorBound() bool {
	if len(r.Spec.Phases) != 1 || r.Spec.Phases[0].Rate <= 0 {
		return false
	}
	return generatorBound(r.Rate(), r.Spec.Phases[0].Rate, r.GenShare())
}

// FairshareTelemetry is the fairshare processor's and the chunkfile exporter's own telemetry at
// the end of a Pipeline run.
type FairshareTelemetry struct {
	Late     float64 // otelcol_processor_fairshare_points_late: aggregated into a later window
	TooLate  float64 // otelcol_processor_fairshare_points_dropped{reason="too_late"}
	Overflow float64 // otelcol_processor_fairshare_points_overflow
	// MetricOverflow is otelcol_processor_fairshare_points_metric_overflow: points of metrics
	// beyond max_metrics merged into fairshare.overflow.<kind>.
	MetricOverflow float64
	// RowsKept and RowsDropped are otelcol_processor_fairshare_flush_rows by outcome.
	RowsKept, RowsDropped float64
	// OverBudget is otelcol_processor_fairshare_flushes_over_budget; BudgetBytes and KeptBytes
	// are otelcol_processor_fairshare_budget_bytes and …_flush_bytes{outcome="kept"}.
	OverBudget, BudgetBytes, KeptBytes float64
	// ExportFailed adds the chunkfile exporter's otelcol_exporter_send_failed_metric_points,
	// otelcol_exporter_enqueue_failed_metric_points and otelcol_exporter_chunkfile_points_rejected.
	ExportFailed float64
}

func readFairshare(sc collector.Scrape) FairshareTelemetry {
	exporter := map[string]string{"exporter": "chunkfile"}
	failed, _ := sc.Sum("otelcol_exporter_send_failed_metric_points", exporter)
	refused, _ := sc.Sum("otelcol_exporter_enqueue_failed_metric_points", exporter)
	tooLate, _ := sc.Sum("otelcol_processor_fairshare_points_dropped", map[string]string{"reason": "too_late"})
	kept, _ := sc.Sum("otelcol_processor_fairshare_flush_rows", map[string]string{"outcome": "kept"})
	dropped, _ := sc.Sum("otelcol_processor_fairshare_flush_rows", map[string]string{"outcome": "dropped"})
	keptBytes, _ := sc.Sum("otelcol_processor_fairshare_flush_bytes", map[string]string{"outcome": "kept"})
	return FairshareTelemetry{
		Late: sc.Get("otelcol_processor_fairshare_points_late"), TooLate: tooLate,
		Overflow: sc.Get("otelcol_processor_fairshare_points_overflow"), RowsKept: kept, RowsDropped: dropped,
		MetricOverflow: sc.Get("otelcol_processor_fairshare_points_metric_overflow"),
		OverBudget:     sc.Get("otelcol_processor_fairshare_flushes_over_budget"),
		BudgetBytes:    sc.Get("otelcol_processor_fairshare_budget_bytes"), KeptBytes: keptBytes,
		ExportFailed: failed + refused + sc.Get("otelcol_exporter_chunkfile_points_rejected"),
	}
}

// SendTime is how long the phases sent.
func (r RunResult) SendTime() time.Duration {
	var d time.Duration
	for _, p := range r.Phases {
		d += p.Load.Elapsed
	}
	return d
}

// Cores is the collector's CPU time over the time the load was sent: the cores it needed to keep
// up with the traffic (work left over after the load ended counts too).
func (r RunResult) Cores() float64 {
	if d := r.SendTime(); d > 0 {
		return r.CPU.Seconds() / d.Seconds()
	}
	return math.NaN()
}

// GenShare is the load generator's CPU over the time it sent, in cores.
func (r RunResult) GenShare() float64 {
	if d := r.SendTime(); d > 0 {
		return r.GenCPU.Seconds() / d.Seconds()
	}
	return math.NaN()
}

// Received estimates the lines that reached the collector: lines sent less the share the
// counter totals say was lost.
func (r RunResult) Received() float64 {
	var sent, delivered float64
	for _, p := range r.Phases {
		sent += float64(p.Load.Sent.Lines)
		if d := p.Delivered(); !math.IsNaN(d) {
			delivered += float64(p.Load.Sent.Lines) * math.Min(d, 1)
		}
	}
	if delivered == 0 {
		return sent
	}
	return delivered
}

// CPUPerMillion is collector CPU seconds per million lines received.
func (r RunResult) CPUPerMillion() float64 {
	rec := r.Received()
	if rec == 0 {
		return math.NaN()
	}
	return r.CPU.Seconds() / rec * 1e6
}

// Loss is 1 - delivered over all phases' counters.
func (r RunResult) Loss() float64 {
	var in, out float64
	for _, p := range r.Phases {
		in += p.Load.Sent.CounterSum
		out += p.OutCounters
	}
	if in == 0 {
		return math.NaN()
	}
	return 1 - out/in
}

// Rate is the achieved send rate over all phases.
func (r RunResult) Rate() float64 {
	var lines int64
	var d time.Duration
	for _, p := range r.Phases {
		lines += p.Load.Sent.Lines
		d += p.Load.Elapsed
	}
	if d == 0 {
		return 0
	}
	return float64(lines) / d.Seconds()
}

func freeTCPPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func freeUDPPort() (int, error) {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port, nil
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Measure runs spec: it starts the collector, sends every phase, waits until the collector has
// worked through what it received, reads its telemetry, CPU and memory, stops it and reads
// its output. The collector never outlives Measure.
func Measure(ctx context.Context, spec RunSpec) (res RunResult, err error) {
	res = RunResult{Spec: spec, KernelDrops: -1}
	dir := spec.Dir
	if dir == "" {
		// Short and under /tmp: Unix socket paths are limited to 108 bytes.
		if dir, err = os.MkdirTemp("", "tb-"); err != nil {
			return res, err
		}
		defer os.RemoveAll(dir)
	}
	tport, err := freeTCPPort()
	if err != nil {
		return res, err
	}
	settings := collector.Settings{
		Kind: spec.Kind, Transport: string(spec.Transport), TelemetryPort: tport,
		Output: filepath.Join(dir, "metrics.pb"), Receiver: spec.Receiver, ChunkfileDir: spec.Chunkfile,
		Chunkfile: spec.ChunkfileOptions, UDPRcvBuf: spec.UDPRcvBuf,
		AggregationInterval: cmpOr(spec.Interval, time.Second).String(),
	}
	if spec.Kind == collector.Doghouse && spec.Pipeline == "" {
		settings.Logs = filepath.Join(dir, "logs.pb")
	}
	var udpAddr netip.AddrPort
	switch spec.Transport {
	case loadgen.UDP:
		port, err := freeUDPPort()
		if err != nil {
			return res, err
		}
		udpAddr = netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port))
		settings.Addr = udpAddr.String()
	default:
		settings.Addr = filepath.Join(dir, "dsd.sock")
	}
	cfgPath := filepath.Join(dir, "config.yaml")
	var chunkDir string
	if spec.Pipeline != "" {
		if spec.Kind != collector.Doghouse || (spec.Transport != loadgen.UDP && spec.Transport != loadgen.UnixGram) {
			return res, fmt.Errorf("a pipeline run is doghouse over udp or unixgram, not %s over %s", spec.Kind, spec.Transport)
		}
		udp := udpAddr.String()
		if spec.Transport != loadgen.UDP {
			// The configuration's UDP listener stays, on a port nobody sends to.
			port, err := freeUDPPort()
			if err != nil {
				return res, err
			}
			udp = "127.0.0.1:" + strconv.Itoa(port)
		}
		pc, err := collector.Pipeline{Source: spec.Pipeline, UDPAddr: udp, Dir: dir, TelemetryPort: tport}.Render()
		if err != nil {
			return res, err
		}
		if spec.Transport == loadgen.UnixGram {
			if pc.Unixgram == "" {
				return res, fmt.Errorf("%s has no unixgram listener", spec.Pipeline)
			}
			settings.Addr = pc.Unixgram
		}
		res.Pipeline, chunkDir = pc.Metrics, pc.ChunkDir
		if err := os.WriteFile(cfgPath, []byte(pc.YAML), 0o600); err != nil {
			return res, err
		}
	} else if err := collector.WriteConfig(cfgPath, settings); err != nil {
		return res, err
	}
	url := "http://127.0.0.1:" + strconv.Itoa(tport) + "/metrics"
	proc, err := collector.Start(spec.Kind, spec.Binary, cfgPath)
	if err != nil {
		return res, err
	}
	defer func() {
		proc.Kill() // no-op once stopped
		if err != nil {
			res.Log = tailString(proc.Log(), 4000)
		}
	}()
	if err := proc.WaitReady(url, 60*time.Second); err != nil {
		return res, err
	}
	res.RcvBuf = loggedRcvBuf(proc.Log(), spec.Transport)
	ctx, cancelRun := context.WithCancel(ctx)
	defer cancelRun()
	if spec.MaxRSS > 0 {
		stopGuard := guardRSS(proc, spec.MaxRSS, cancelRun)
		defer func() {
			if rss := stopGuard(); rss > 0 {
				res.PeakRSS = max(res.PeakRSS, rss)
				err = fmt.Errorf("%w: %s over %s (%v)", ErrRSSLimit, mib(rss), mib(spec.MaxRSS), err)
			}
		}()
	}
	target := loadgen.Target{Transport: spec.Transport, Addr: settings.Addr}
	if mem, err := procstat.ReadMemory(proc.PID); err == nil {
		res.BaseRSS = mem.RSS
	}
	cpu0, err := procstat.ReadCPU(proc.PID)
	if err != nil {
		return res, err
	}
	gen0, t0 := selfCPU(), time.Now()

	var udp0 procstat.UDPCounters
	udpCounted := spec.Interrupt != nil && !spec.Interrupt.Kill && spec.Transport == loadgen.UDP
	if udpCounted {
		if udp0, err = procstat.ReadUDPCounters(); err != nil {
			return res, err
		}
	}
	var stopped chan stopOutcome
	for i, ph := range spec.Phases {
		last := i == len(spec.Phases)-1
		loadCtx, cancel := context.WithCancel(ctx)
		if last && spec.Interrupt != nil {
			stopped = make(chan stopOutcome, 1)
			go interrupt(loadCtx, proc, url, spec.Interrupt, cpu0.Total(), cancel, stopped)
		}
		lr, err := loadgen.Run(loadCtx, ph.Traffic, target, loadgen.RunOptions{Rate: ph.Rate, Duration: ph.Duration, Senders: ph.Senders})
		cancel()
		if err != nil {
			return res, fmt.Errorf("phase %s: %w", ph.Traffic.Prefix(), err)
		}
		res.Phases = append(res.Phases, PhaseResult{Prefix: ph.Traffic.Prefix(), Load: lr})
		if ph.PauseAfter > 0 && !last {
			if err := sleep(ctx, ph.PauseAfter); err != nil {
				return res, err
			}
		}
	}
	if stopped != nil {
		out := <-stopped
		res.LastAccepted, res.StopErr = out.lastAccepted, out.err
		res.CPU, res.PeakRSS = out.cpu, out.peakRSS
		res.GenCPU, res.LoadTime = selfCPU()-gen0, time.Since(t0)
		if udpCounted {
			// Loopback delivers a datagram within the send call; wait a moment anyway.
			if err := sleep(ctx, 100*time.Millisecond); err != nil {
				return res, err
			}
			udp1, err := procstat.ReadUDPCounters()
			if err != nil {
				return res, err
			}
			d := udp1.Sub(udp0)
			res.UDPKernel = &d
		}
		if spec.Interrupt.Kill {
			return res, readOutputs(&res, settings)
		}
	} else {
		err := drain(ctx, proc, url, spec.Kind, cmpOr(spec.Interval, time.Second), spec.Pipeline != "", spec.Overload)
		if errors.Is(err, errStillBusy) && spec.Overload {
			res.StillBusy, err = true, nil
		}
		if err != nil {
			return res, err
		}
		res.GenCPU, res.LoadTime = selfCPU()-gen0, time.Since(t0)
		cpu1, err := procstat.ReadCPU(proc.PID)
		if err != nil {
			return res, err
		}
		res.CPU = cpu1.Total() - cpu0.Total()
		mem, err := procstat.ReadMemory(proc.PID)
		if err != nil {
			return res, err
		}
		res.PeakRSS = mem.PeakRSS
		scrapeTimeout, stopTimeout := 5*time.Second, 60*time.Second
		if spec.Overload {
			scrapeTimeout, stopTimeout = time.Minute, 2*time.Minute
		}
		sc, err := collector.ScrapeURL(url, scrapeTimeout)
		if err != nil {
			return res, err
		}
		res.Lines, res.Accepted, res.Samples, res.QueueDrops = accepted(sc, spec.Kind)
		res.ContextsOverflow = sc.Get("otelcol_receiver_dogstatsd_contexts_overflow")
		if spec.Pipeline != "" {
			res.Fairshare = readFairshare(sc)
		}
		if spec.Transport == loadgen.UDP {
			sock, err := procstat.UDPDrops(udpAddr)
			if err != nil {
				return res, err
			}
			res.KernelDrops = int64(sock.Drops)
		}
		res.StopErr = proc.Stop(stopTimeout)
	}
	if res.StopErr != nil && !(spec.Overload && errors.Is(res.StopErr, collector.ErrKilled)) {
		return res, fmt.Errorf("stopping %s: %w", spec.Kind, res.StopErr)
	}
	if chunkDir != "" {
		return res, readChunkOutput(ctx, &res, spec.ChunkfileCLI, chunkDir)
	}
	return res, readOutputs(&res, settings)
}

// readChunkOutput reads a pipeline run's chunkfile segments, bounded to 10 minutes.
func readChunkOutput(ctx context.Context, res *RunResult, cli, dir string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	out, err := collector.ReadChunkfiles(ctx, cli, dir)
	if err != nil {
		return fmt.Errorf("reading the chunkfile segments: %w", err)
	}
	res.Output = out
	res.setPhaseOutputs()
	return nil
}

// setPhaseOutputs gives each phase its counters from the output. The overflow metrics' counters
// (collector.OverflowPrefix) belong to the phase when there is only one; with several phases
// they cannot be told apart and count for none.
func (r *RunResult) setPhaseOutputs() {
	for i := range r.Phases {
		p := &r.Phases[i]
		p.OutCounters = r.Output.CounterSum[p.Prefix]
		p.OutContexts = r.Output.CounterContexts[p.Prefix]
		if len(r.Phases) == 1 {
			p.OutCounters += r.Output.CounterSum[collector.OverflowPrefix]
		}
	}
}

// ErrRSSLimit reports a collector killed because it passed RunSpec.MaxRSS.
var ErrRSSLimit = errors.New("collector killed at the RSS limit")

// guardRSS checks proc's resident memory every 100 ms and kills it, then calls cancel, once it
// passes limit. The returned stop ends the watch and returns the RSS seen at the kill (0: none).
func guardRSS(proc *collector.Process, limit int64, cancel func()) (stop func() int64) {
	done := make(chan struct{})
	killedAt := make(chan int64, 1)
	go func() {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				killedAt <- 0
				return
			case <-proc.Exited():
				killedAt <- 0
				return
			case <-t.C:
			}
			if mem, err := procstat.ReadMemory(proc.PID); err == nil && mem.RSS > limit {
				proc.Kill()
				cancel()
				killedAt <- mem.RSS
				return
			}
		}
	}()
	return func() int64 {
		close(done)
		return <-killedAt
	}
}

func readOutputs(res *RunResult, s collector.Settings) error {
	out, err := collector.ReadOutput(s.Output)
	if err != nil {
		return fmt.Errorf("reading %s output: %w", s.Kind, err)
	}
	res.Output = out
	res.setPhaseOutputs()
	if s.Logs != "" {
		n, err := collector.CountLogRecords(s.Logs)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("reading %s logs: %w", s.Kind, err)
		}
		res.LogRecords = n
	}
	return nil
}

// accepted reads the line counters of a scrape: lines read, lines accepted, samples and queue drops.
func accepted(sc collector.Scrape, kind collector.Kind) (lines, acc, samples, queueDrops float64) {
	if kind == collector.Doghouse {
		lines = sc.Get("otelcol_receiver_dogstatsd_lines")
		return lines, lines - sc.Get("otelcol_receiver_dogstatsd_lines_rejected"), sc.Get("otelcol_receiver_dogstatsd_samples"), sc.Get("otelcol_receiver_dogstatsd_queue_drops")
	}
	// The contrib receiver counts parsed lines in steps of 100 and failures one per 100.
	ok, _ := sc.Sum("otelcol_receiver_received_statsd_metrics", map[string]string{"parse_success": "true"})
	return ok, ok, ok, 0
}

// drain waits until the collector has processed what it received: the line counter has not
// moved for longer than an aggregation interval (so the interval holding the last line was
// emitted: the contrib receiver emits nothing at shutdown) and, for doghouse, its queue is
// empty. In a pipeline run the points fairshare aggregated and chunkfile wrote must be still
// too, for 2 s more: fairshare flushes a window its grace (1 s by default) after the window's
// end. Bounded to 60 s, after which it returns errStillBusy. With overload, a scrape that fails
// (a collector too busy to answer in 5 s) counts as busy instead of failing.
func drain(ctx context.Context, proc *collector.Process, url string, kind collector.Kind, interval time.Duration, pipeline, overload bool) error {
	still := max(1500*time.Millisecond, interval+500*time.Millisecond)
	if pipeline {
		still += 2 * time.Second
	}
	deadline := time.Now().Add(60 * time.Second)
	last, since := -1.0, time.Now()
	for time.Now().Before(deadline) {
		select {
		case <-proc.Exited():
			return fmt.Errorf("%s exited during the run: %v", kind, proc.ExitErr())
		default:
		}
		sc, err := collector.ScrapeURL(url, 5*time.Second)
		if err != nil && !overload {
			return err
		}
		lines, _, _, _ := accepted(sc, kind)
		if pipeline {
			lines += sc.Get("otelcol_processor_fairshare_points_aggregated") + sc.Get("otelcol_exporter_chunkfile_points_written")
		}
		busy := err != nil || kind == collector.Doghouse && sc.Get("otelcol_receiver_dogstatsd_queue_depth") > 0
		if q, _ := sc.Sum("otelcol_exporter_queue_size", map[string]string{"exporter": "chunkfile"}); pipeline && q > 0 {
			busy = true
		}
		if lines != last || busy {
			last, since = lines, time.Now()
		} else if time.Since(since) >= still {
			return nil
		}
		if err := sleep(ctx, 250*time.Millisecond); err != nil {
			return err
		}
	}
	return fmt.Errorf("%s: %w", kind, errStillBusy)
}

var errStillBusy = errors.New("still busy 60s after the load ended")

type stopOutcome struct {
	lastAccepted float64
	cpu          time.Duration
	peakRSS      int64
	err          error
}

// interrupt waits intr.After, then stops the collector (SIGTERM, or SIGKILL) while the load
// goes on, polling its telemetry as fast as it answers to see the last accepted-line count
// before it went away; it cancels the load once the process is gone.
func interrupt(ctx context.Context, proc *collector.Process, url string, intr *Interrupt, cpu0 time.Duration, cancel func(), out chan<- stopOutcome) {
	defer cancel()
	var o stopOutcome
	defer func() { out <- o }()
	// Graceful stops: poll from a moment before SIGTERM, so the count seen is never older than
	// the signal.
	const lead = 300 * time.Millisecond
	if err := sleep(ctx, max(0, intr.After-lead)); err != nil {
		o.err = err
		return
	}
	var polls chan float64
	stopPolling := make(chan struct{})
	if !intr.Kill {
		polls = make(chan float64, 1)
		go func() {
			var lastSeen float64
			defer func() { polls <- lastSeen }()
			for i := 0; i < 100000; i++ { // bounded: the process exits within the Stop timeout
				select {
				case <-stopPolling:
					return
				default:
				}
				if sc, err := collector.ScrapeURL(url, 200*time.Millisecond); err == nil {
					if _, acc, _, _ := accepted(sc, proc.Kind); acc > 0 {
						lastSeen = acc
					}
				}
				time.Sleep(time.Millisecond)
			}
		}()
	}
	if err := sleep(ctx, min(lead, intr.After)); err != nil {
		o.err = err
		close(stopPolling)
		if polls != nil {
			<-polls
		}
		return
	}
	if mem, err := procstat.ReadMemory(proc.PID); err == nil {
		o.peakRSS = mem.PeakRSS
	}
	if c, err := procstat.ReadCPU(proc.PID); err == nil {
		o.cpu = c.Total() - cpu0
	}
	if intr.Kill {
		proc.Kill()
		return
	}
	o.err = proc.Stop(60 * time.Second)
	close(stopPolling)
	o.lastAccepted = <-polls
}

func cmpOr[T comparable](v, d T) T {
	var zero T
	if v == zero {
		return d
	}
	return v
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func tailString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
