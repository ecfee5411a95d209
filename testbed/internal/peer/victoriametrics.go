// Package peer runs the testbed's peers that are not collectors: VictoriaMetrics, which takes
// OpenTSDB `put` lines and `/api/put` on one port, as the dsdb receiver does.
package peer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/doghouse-otel/doghouse/testbed/internal/collector"
)

// VictoriaMetricsBinary is the name Debian's victoria-metrics package installs.
const VictoriaMetricsBinary = "victoria-metrics"

// EnsureVictoriaMetrics returns the path of victoria-metrics, installing Debian's package with
// apt-get when it is missing (as root; `apt-get update` first when the install fails on an old
// package list). Bounded to 10 minutes.
func EnsureVictoriaMetrics(ctx context.Context, log io.Writer) (string, error) {
	if p, err := exec.LookPath(VictoriaMetricsBinary); err == nil {
		return p, nil
	}
	if os.Geteuid() != 0 {
		return "", errors.New("victoria-metrics is not installed and the testbed is not root: `apt-get install victoria-metrics`")
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	apt := func(args ...string) error {
		c := exec.CommandContext(ctx, "apt-get", args...)
		c.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		c.Stdout, c.Stderr = log, log
		fmt.Fprintf(log, "$ %s\n", c.String())
		return c.Run()
	}
	if err := apt("install", "-y", "-q", "victoria-metrics"); err != nil {
		if err := apt("update", "-q"); err != nil {
			return "", fmt.Errorf("apt-get update: %w", err)
		}
		if err := apt("install", "-y", "-q", "victoria-metrics"); err != nil {
			return "", fmt.Errorf("apt-get install victoria-metrics: %w", err)
		}
	}
	return exec.LookPath(VictoriaMetricsBinary)
}

// VictoriaMetricsVersion names the installed VictoriaMetrics: its -version output, or, where
// that is empty (Debian's build has no version stamped in), the Debian package's version.
func VictoriaMetricsVersion(binary string) string {
	if out, err := exec.Command(binary, "-version").Output(); err == nil && strings.TrimSpace(string(out)) != "" {
		return strings.TrimSpace(string(out))
	}
	if out, err := exec.Command("dpkg-query", "-W", "-f=${Version}", VictoriaMetricsBinary).Output(); err == nil && len(out) > 0 {
		return "VictoriaMetrics " + strings.TrimSpace(string(out)) + " (Debian)"
	}
	return "VictoriaMetrics"
}

// VictoriaMetrics is a running single-node VictoriaMetrics on loopback ports the OS chose.
type VictoriaMetrics struct {
	Proc *collector.Process
	// OpenTSDBAddr takes `put` lines and HTTP `/api/put` (one port, sniffed); HTTPAddr serves
	// /metrics and the query API.
	OpenTSDBAddr, HTTPAddr string
}

// StartVictoriaMetrics runs binary with its storage in dir and waits (at most 30 s) until it
// answers /health. Retention is 100 years so that no test timestamp is refused as too old.
// extra are more flags (e.g. -search.disableCache).
func StartVictoriaMetrics(binary, dir string, extra ...string) (*VictoriaMetrics, error) {
	httpPort, err := freePort()
	if err != nil {
		return nil, err
	}
	tsdbPort, err := freePort()
	if err != nil {
		return nil, err
	}
	vm := &VictoriaMetrics{
		HTTPAddr:     net.JoinHostPort("127.0.0.1", strconv.Itoa(httpPort)),
		OpenTSDBAddr: net.JoinHostPort("127.0.0.1", strconv.Itoa(tsdbPort)),
	}
	args := append([]string{"-storageDataPath=" + dir, "-retentionPeriod=100y",
		"-httpListenAddr=" + vm.HTTPAddr, "-opentsdbListenAddr=" + vm.OpenTSDBAddr}, extra...)
	vm.Proc, err = collector.StartArgs(collector.VictoriaMetrics, binary, args...)
	if err != nil {
		return nil, err
	}
	client := http.Client{Timeout: time.Second}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		select {
		case <-vm.Proc.Exited():
			return nil, fmt.Errorf("victoria-metrics (pid %d) exited at start: %v\n%s", vm.Proc.PID, vm.Proc.ExitErr(), vm.Proc.Log())
		default:
		}
		resp, err := client.Get("http://" + vm.HTTPAddr + "/health")
		if err != nil {
			continue
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64))
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK && strings.TrimSpace(string(b)) == "OK" {
			// The OpenTSDB listener starts with the rest; check that it accepts.
			if c, err := net.DialTimeout("tcp", vm.OpenTSDBAddr, time.Second); err == nil {
				c.Close()
				return vm, nil
			}
		}
	}
	vm.Proc.Kill()
	return nil, fmt.Errorf("victoria-metrics (pid %d) not ready after 30 s\n%s", vm.Proc.PID, vm.Proc.Log())
}

// MetricsURL is VictoriaMetrics' own Prometheus endpoint.
func (vm *VictoriaMetrics) MetricsURL() string { return "http://" + vm.HTTPAddr + "/metrics" }

// Inserted is the rows VictoriaMetrics took from OpenTSDB telnet lines and from /api/put.
func Inserted(sc collector.Scrape) (telnet, http float64) {
	telnet, _ = sc.Sum("vm_rows_inserted_total", map[string]string{"type": "opentsdb"})
	http, _ = sc.Sum("vm_rows_inserted_total", map[string]string{"type": "opentsdbhttp"})
	return telnet, http
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
