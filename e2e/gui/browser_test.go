package gui

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// stepTimeout bounds every wait on the page: a render is a few queries on a few points.
const stepTimeout = 20 * time.Second

// tab is one headless chromium tab.
type tab struct {
	t   *testing.T
	ctx context.Context

	mu      sync.Mutex
	console []string // errors and exceptions the page reported, failed requests
}

// newTab starts Debian's chromium (found on PATH) for the test, bounded by `limit` as a
// whole, and stops it (by its PID, if it outlived its context) when the test ends.
func newTab(t *testing.T, limit time.Duration) *tab {
	t.Helper()
	if _, err := exec.LookPath("chromium"); err != nil {
		if required() {
			t.Fatalf("chromium is not on PATH (`make gui-test` installs Debian's package): %v", err)
		}
		t.Skipf("chromium is not on PATH (apt-get install chromium, or `make gui-test`): %v", err)
	}
	bound, cancelBound := context.WithTimeout(context.Background(), limit)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.NoSandbox, // as root, chromium refuses to start with its sandbox
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(bound, opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	b := &tab{t: t, ctx: ctx}
	require.NoError(t, chromedp.Do(ctx), "start chromium")
	messages := chromedp.Console(ctx)
	responses := chromedp.Events(ctx, network.ResponseReceived)
	proc := chromedp.FromContext(ctx).Browser.Process()
	done := make(chan struct{}, 2)
	go func() {
		defer func() { done <- struct{}{} }()
		for ev, err := range responses {
			if err != nil {
				return
			}
			if ev.Response.Status >= 400 {
				b.mu.Lock()
				b.console = append(b.console, fmt.Sprintf("HTTP %d: %s", ev.Response.Status, ev.Response.URL))
				b.mu.Unlock()
			}
		}
	}()
	go func() {
		defer func() { done <- struct{}{} }()
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.IsException() || m.Type == chromedp.ConsoleError {
				b.mu.Lock()
				b.console = append(b.console, m.String())
				b.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
		cancelBound()
		<-done
		<-done
		if proc != nil {
			_ = proc.Kill() // a no-op once the allocator has reaped it
		}
	})
	return b
}

// do runs actions with the step timeout.
func (b *tab) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	require.NoError(b.t, chromedp.Do(ctx, actions...), "%s\n%s", what, b.diagnostics())
}

// eval evaluates a JavaScript expression whose value is JSON-encoded into v.
func (b *tab) eval(expr string, v any) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify(`+expr+`)`))
	require.NoError(b.t, err, "evaluate %s\n%s", expr, b.diagnostics())
	require.NoError(b.t, json.Unmarshal([]byte(raw), v), "evaluate %s: %s", expr, raw)
}

// waitFor polls a JavaScript condition until it holds, for at most the step timeout.
func (b *tab) waitFor(what, cond string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](cond,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(stepTimeout)))
	require.NoError(b.t, err, "waiting for %s (%s)\n%s", what, cond, b.diagnostics())
}

// diagnostics is what a failure message needs: the page's status, URL state and errors.
func (b *tab) diagnostics() string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	page, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`JSON.stringify({status: document.body.dataset.status, text: document.getElementById('status').textContent, url: location.href, shown: window.doghouse})`))
	if err != nil {
		page = "(page not readable: " + err.Error() + ")"
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return fmt.Sprintf("page: %s\nconsole errors: %s", page, strings.Join(b.console, "\n"))
}

func (b *tab) consoleErrors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.console...)
}

// shown is window.doghouse: what the page drew, read back from uPlot.
type shown struct {
	Seq            int     `json:"seq"`
	Query          string  `json:"query"`
	Start          float64 `json:"start"`
	End            float64 `json:"end"`
	Step           float64 `json:"step"`
	SamplingFactor float64 `json:"samplingFactor"`
	State          struct {
		Metric  string   `json:"metric"`
		Fn      string   `json:"fn"`
		GroupBy []string `json:"groupBy"`
		From    float64  `json:"from"`
		To      any      `json:"to"` // "now" or Unix seconds
	} `json:"state"`
	X      []float64 `json:"x"`
	Series []struct {
		Label  string            `json:"label"`
		Stroke string            `json:"stroke"`
		Metric map[string]string `json:"metric"`
		Y      []*float64        `json:"y"`
	} `json:"series"`
}

// chart waits until the page has drawn a chart whose query satisfies cond (a JavaScript
// expression over `q`, the query), and returns what it shows.
func (b *tab) chart(what, cond string) shown {
	b.t.Helper()
	b.waitFor(what, `document.body.dataset.status === 'ready' && window.doghouse && window.doghouse.query && ((q) => `+cond+`)(window.doghouse.query)`)
	var s shown
	b.eval(`window.doghouse`, &s)
	return s
}

// legend reads the labels of uPlot's legend (its first row is the time axis).
func (b *tab) legend() []string {
	b.t.Helper()
	var labels []string
	b.eval(`[...document.querySelectorAll('#chart .u-legend .u-series')].slice(1).map((r) => r.querySelector('.u-label').textContent)`, &labels)
	return labels
}
