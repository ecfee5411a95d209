package gui

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// required reports whether a missing prerequisite fails the test instead of skipping it.
func required() bool { return os.Getenv("DOGHOUSE_E2E") == "require" }

func binary(t *testing.T) string {
	t.Helper()
	path := os.Getenv("DOGHOUSE_OTELCOL")
	if path == "" {
		path = filepath.Join("..", "..", "build", "otelcol-doghouse", "otelcol-doghouse")
	}
	if _, err := os.Stat(path); err != nil {
		if required() {
			t.Fatalf("built collector %s is missing: %v", path, err)
		}
		t.Skipf("built collector %s is missing (run `make build`, or `make gui-test` which builds it): %v", path, err)
	}
	return path
}

var (
	udpLine   = regexp.MustCompile(`DogStatsD listener started.*"transport": "udp", "address": "([^"]+)"`)
	queryLine = regexp.MustCompile(`Serving the chunk store.*"endpoint": "([^"]+)"`)
)

// collector is the built binary running on a config, its log kept for failure messages.
type collector struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	log    bytes.Buffer
	udp    string // the DogStatsD UDP address it bound
	api    string // http://host:port of the chunkquery extension
	exited chan error
}

// startCollector runs the binary and waits (bounded) until it logged both addresses.
func startCollector(t *testing.T, config string) *collector {
	t.Helper()
	c := &collector{exited: make(chan error, 1)}
	c.cmd = exec.Command(binary(t), "--config", config)
	stderr, err := c.cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, c.cmd.Start())
	ready := make(chan struct{})
	var once sync.Once
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			c.mu.Lock()
			c.log.WriteString(sc.Text() + "\n")
			if m := udpLine.FindStringSubmatch(sc.Text()); m != nil {
				c.udp = m[1]
			}
			if m := queryLine.FindStringSubmatch(sc.Text()); m != nil {
				c.api = "http://" + m[1]
			}
			if c.udp != "" && c.api != "" {
				once.Do(func() { close(ready) })
			}
			c.mu.Unlock()
		}
		c.exited <- c.cmd.Wait()
	}()
	t.Cleanup(func() {
		if c.cmd.ProcessState == nil {
			_ = c.cmd.Process.Kill() // stop what we started, by PID
			<-c.exited
		}
	})
	select {
	case <-ready:
	case err := <-c.exited:
		t.Fatalf("collector exited before it was ready: %v\n%s", err, c.logs())
	case <-time.After(30 * time.Second):
		t.Fatalf("collector not ready after 30s\n%s", c.logs())
	}
	return c
}

func (c *collector) logs() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.log.String()
}

// stop sends SIGTERM by PID and waits (bounded) for a clean exit.
func (c *collector) stop(t *testing.T) {
	t.Helper()
	require.NoError(t, c.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-c.exited:
		require.NoError(t, err, "collector did not exit cleanly\n%s", c.logs())
	case <-time.After(30 * time.Second):
		t.Fatalf("collector still running 30s after SIGTERM\n%s", c.logs())
	}
}
