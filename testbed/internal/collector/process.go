package collector

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Process is a running collector. Everything about it is addressed by its PID.
type Process struct {
	Kind    Kind
	PID     int
	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error

	mu    sync.Mutex
	log   strings.Builder // the collector's stderr, bounded
	ready bool
	done  chan struct{} // closed when stderr is drained
}

// logLimit bounds the stderr the testbed keeps per process.
const logLimit = 1 << 20

var (
	liveMu sync.Mutex
	live   = map[int]*Process{}
)

// Start runs binary with the configuration file config. The process is registered so that
// KillAll can stop it if the testbed fails before stopping it itself; on Linux it also gets
// SIGKILL if the testbed dies.
func Start(kind Kind, binary, config string) (*Process, error) {
	return StartArgs(kind, binary, "--config", config)
}

// StartArgs runs binary with args, as Start does: registered, stopped by PID. It starts the
// peers that are not collectors (VictoriaMetrics) the same way.
func StartArgs(kind Kind, binary string, args ...string) (*Process, error) {
	cmd := exec.Command(binary, args...)
	cmd.SysProcAttr = sysProcAttr()
	cmd.Stdout = io.Discard
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("collector: start %s: %w", binary, err)
	}
	p := &Process{Kind: kind, PID: cmd.Process.Pid, cmd: cmd, exited: make(chan struct{}), done: make(chan struct{})}
	liveMu.Lock()
	live[p.PID] = p
	liveMu.Unlock()
	go func() {
		defer close(p.done)
		// DOGHOUSE_TESTBED_COLLECTOR_LOG names a file that gets the collector's whole stderr,
		// for looking into a run (for example with GODEBUG=gctrace=1).
		var tee io.Writer = io.Discard
		if path := os.Getenv("DOGHOUSE_TESTBED_COLLECTOR_LOG"); path != "" {
			if f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644); err == nil {
				defer f.Close()
				tee = f
			}
		}
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(tee, line)
			p.mu.Lock()
			if p.log.Len() < logLimit {
				p.log.WriteString(line)
				p.log.WriteByte('\n')
			}
			if strings.Contains(line, "Everything is ready") {
				p.ready = true
			}
			p.mu.Unlock()
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	go func() {
		<-p.done
		p.waitErr = cmd.Wait()
		liveMu.Lock()
		delete(live, p.PID)
		liveMu.Unlock()
		close(p.exited)
	}()
	return p, nil
}

// Log returns what the collector wrote to stderr so far.
func (p *Process) Log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// Exited is closed once the process has exited and been reaped.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// ExitErr is the process's exit status; valid once Exited is closed.
func (p *Process) ExitErr() error { return p.waitErr }

// WaitReady waits, at most timeout, until the collector logged that it is ready and its
// telemetry endpoint answers.
func (p *Process) WaitReady(telemetryURL string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	client := http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		select {
		case <-p.exited:
			return fmt.Errorf("collector %s (pid %d) exited before it was ready: %v\n%s", p.Kind, p.PID, p.waitErr, tail(p.Log(), 3000))
		default:
		}
		p.mu.Lock()
		ready := p.ready
		p.mu.Unlock()
		if ready {
			resp, err := client.Get(telemetryURL)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return nil
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("collector %s (pid %d) not ready after %v\n%s", p.Kind, p.PID, timeout, tail(p.Log(), 3000))
}

// ErrKilled reports that a process did not exit after SIGTERM and was killed.
var ErrKilled = errors.New("collector: killed after SIGTERM timed out")

// Stop sends SIGTERM and waits up to timeout for the process to exit, then sends SIGKILL. It
// returns ErrKilled if it had to kill, or the process's exit error.
func (p *Process) Stop(timeout time.Duration) error {
	select {
	case <-p.exited:
		return p.waitErr
	default:
	}
	if err := syscall.Kill(p.PID, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("collector: SIGTERM pid %d: %w", p.PID, err)
	}
	select {
	case <-p.exited:
		return p.waitErr
	case <-time.After(timeout):
	}
	p.Kill()
	return ErrKilled
}

// Kill sends SIGKILL and waits (up to 10 s) for the process to be reaped.
func (p *Process) Kill() {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = syscall.Kill(p.PID, syscall.SIGKILL)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
	}
}

// KillAll kills every collector this package started that is still running. Call it on every
// way out of the testbed.
func KillAll() {
	liveMu.Lock()
	ps := make([]*Process, 0, len(live))
	for _, p := range live {
		ps = append(ps, p)
	}
	liveMu.Unlock()
	for _, p := range ps {
		p.Kill()
	}
}

// Running returns the PIDs of collectors this package started that have not exited.
func Running() []int {
	liveMu.Lock()
	defer liveMu.Unlock()
	pids := make([]int, 0, len(live))
	for pid := range live {
		pids = append(pids, pid)
	}
	return pids
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// WriteConfig writes s's YAML to path.
func WriteConfig(path string, s Settings) error {
	y, err := s.YAML()
	if err != nil {
		return err
	}
	return os.WriteFile(path, []byte(y), 0o600)
}

// Components returns the output of `binary components`, bounded to 30 s.
func Components(binary string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, binary, "components").Output()
	return string(out), err
}
