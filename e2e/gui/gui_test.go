package gui

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The pipeline of config/default.yaml with the GUI's extension, on ports from the OS. The
// budget is small enough that fairshare samples the flood metric (about 30 KB a second) and
// large enough that the page views (six rows, a few hundred bytes) pass whole.
const config = `
receivers:
  dogstatsd:
    udp:
      endpoint: 127.0.0.1:0
    aggregation_interval: 1s
processors:
  fairshare:
    merge_attributes: [host.name]
    budget:
      bytes_per_second: 4000
exporters:
  chunkfile:
    directory: %[1]s/chunks
extensions:
  chunkquery:
    directory: %[1]s/chunks
    endpoint: 127.0.0.1:0
service:
  extensions: [chunkquery]
  pipelines:
    metrics:
      receivers: [dogstatsd]
      processors: [fairshare]
      exporters: [chunkfile]
  telemetry:
    metrics:
      level: none
`

const metric = "gui.page.views"

// sent is what the test sends: page views by env and page.
var sent = map[[2]string]int{
	{"prod", "home"}: 7, {"prod", "cart"}: 3,
	{"stage", "home"}: 5, {"stage", "cart"}: 2,
	{"dev", "home"}: 11, {"dev", "cart"}: 13,
}

// floodRows distinct tag values of gui.flood, sent once each: far over the budget.
const floodRows = 1000

// sendLines sends the page views one line per view, and the flood, as raw DogStatsD datagrams
// of up to 40 lines.
func sendLines(t *testing.T, addr string) {
	t.Helper()
	var lines []string
	for k, n := range sent {
		for range n {
			lines = append(lines, fmt.Sprintf("%s:1|c|#env:%s,page:%s", metric, k[0], k[1]))
		}
	}
	for i := range floodRows {
		lines = append(lines, fmt.Sprintf("gui.flood:1|c|#id:%d", i))
	}
	conn, err := net.Dial("udp", addr)
	require.NoError(t, err)
	defer conn.Close()
	for len(lines) > 0 {
		n := min(40, len(lines))
		_, err := conn.Write([]byte(strings.Join(lines[:n], "\n")))
		require.NoError(t, err)
		lines = lines[n:]
		time.Sleep(time.Millisecond) // the socket buffer is not the subject here
	}
}

// want sums the sent views over the envs kept, by page (or in one group when byPage is false).
func want(keep func(env string) bool, byPage bool) map[string]float64 {
	out := map[string]float64{}
	for k, n := range sent {
		if !keep(k[0]) {
			continue
		}
		label := "sum(" + metric + ")"
		if byPage {
			label = "page=" + k[1]
		}
		out[label] += float64(n)
	}
	return out
}

// totals adds up each series' plotted values, multiplied by the step for a rate: each point
// covers exactly one step, so the sum over the chart is what was counted in its range.
func totals(s shown, perSecond bool) map[string]float64 {
	out := map[string]float64{}
	for _, se := range s.Series {
		var sum float64
		for _, v := range se.Y {
			if v != nil {
				if perSecond {
					sum += *v * s.Step
				} else {
					sum += *v
				}
			}
		}
		out[se.Label] = sum
	}
	return out
}

func assertTotals(t *testing.T, what string, want, got map[string]float64) {
	t.Helper()
	require.Len(t, got, len(want), "%s: series %v, want %v", what, got, want)
	for k, w := range want {
		assert.InDelta(t, w, got[k], 1e-9, "%s: %s", what, k)
	}
}

func labels(s shown) []string {
	var out []string
	for _, se := range s.Series {
		out = append(out, se.Label)
	}
	return out
}

// apiQuery runs an instant query against the collector's API.
func apiQuery(t *testing.T, api, q string) []struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
} {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get(api + "/api/v1/query?query=" + url.QueryEscape(q))
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	var r struct {
		Data struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal(body, &r))
	return r.Data.Result
}

// apiLabelValues lists a label's values through the collector's API.
func apiLabelValues(t *testing.T, api, name, match string) []string {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get(api + "/api/v1/label/" + url.PathEscape(name) + "/values?match[]=" + url.QueryEscape(match))
	require.NoError(t, err)
	defer resp.Body.Close()
	var r struct {
		Data []string `json:"data"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&r))
	return r.Data
}

// waitStored waits (bounded) until the API answers the sent totals and a sampling factor of
// the flood, so the browser part starts on data that is all there.
func waitStored(t *testing.T, c *collector) float64 {
	t.Helper()
	total := 0
	for _, n := range sent {
		total += n
	}
	deadline := time.Now().Add(30 * time.Second)
	for ; time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		r := apiQuery(t, c.api, fmt.Sprintf(`sum(increase({%q}[10m]))`, metric))
		sf := apiQuery(t, c.api, `max(max_over_time({"fairshare.sampling.factor", "metric.name"="gui.flood"}[10m]))`)
		if len(r) == 1 && r[0].Value[1] == strconv.Itoa(total) && len(sf) == 1 {
			f, err := strconv.ParseFloat(sf[0].Value[1].(string), 64)
			require.NoError(t, err)
			return f
		}
	}
	t.Fatalf("the sent lines were not all queryable within 30s\n%s", c.logs())
	return 0
}

// TestGUIShowsWhatWasSent drives the built collector's GUI in chromium as a user would:
// DogStatsD lines sent, the metric picked with the autocomplete, a tag filtered with several
// values and then negated, another tag grouped by, the function and the time range changed, a
// range zoomed by dragging, the URL reloaded, the CSV downloaded, and at each step the legend
// and the plotted values compared with what was sent.
func TestGUIShowsWhatWasSent(t *testing.T) {
	dir, err := os.MkdirTemp("", "doghouse-gui-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	cfg := filepath.Join(dir, "config.yaml")
	require.NoError(t, os.WriteFile(cfg, fmt.Appendf(nil, config, dir), 0o600))
	c := startCollector(t, cfg)
	sendLines(t, c.udp)
	floodFactor := waitStored(t, c)
	require.Greater(t, floodFactor, 1.0, "fairshare sampled the flood")

	b := newTab(t, 3*time.Minute)
	b.do("open the GUI", chromedp.Navigate(c.api+"/"))
	b.waitFor("the idle page", `document.body.dataset.status === 'idle'`)

	// The metric, picked with the autocomplete: a few letters, then the suggestion.
	b.do("type part of the name", chromedp.SendKeys(chromedp.ID("metric"), "page.vi"))
	b.waitFor("the suggestion", `[...document.querySelectorAll('#suggestions li')].some((li) => li.textContent === '`+metric+`')`)
	var idx int
	b.eval(`[...document.querySelectorAll('#suggestions li')].findIndex((li) => li.textContent === '`+metric+`')`, &idx)
	b.do("pick the suggestion", chromedp.Click(chromedp.ID(fmt.Sprintf("suggestion-%d", idx))))
	all := func(string) bool { return true }
	s := b.chart("the metric's chart", `q.includes('`+metric+`')`)
	assert.Equal(t, metric, s.State.Metric)
	assert.Equal(t, []string{"sum(" + metric + ")"}, b.legend())
	assertTotals(t, "all page views", want(all, false), totals(s, false))

	// Two values of env kept.
	b.waitFor("the tag rows", `document.querySelector('.tag[data-key="env"] .tag-value[data-value="stage"]') && document.querySelector('.tag[data-key="page"]')`)
	b.waitFor("the chart to fit beside the tag rows", `document.querySelector('#chart .uplot').getBoundingClientRect().right <= document.documentElement.clientWidth`)
	b.do("keep env prod and stage",
		chromedp.Click(chromedp.CSS(`.tag[data-key="env"] .tag-value[data-value="prod"]`)),
		chromedp.Click(chromedp.CSS(`.tag[data-key="env"] .tag-value[data-value="stage"]`)))
	prodOrStage := func(env string) bool { return env == "prod" || env == "stage" }
	s = b.chart("env prod|stage", `q.includes('env=~"prod|stage"')`)
	assertTotals(t, "env prod and stage", want(prodOrStage, false), totals(s, false))

	// Grouped by page: one line per page, named in the legend.
	b.do("group by page", chromedp.Click(chromedp.CSS(`.tag[data-key="page"] .group-by`)))
	s = b.chart("grouped by page", `q.startsWith('sum by (page)') && q.includes('env=~"prod|stage"')`)
	assert.Equal(t, []string{"page=cart", "page=home"}, b.legend())
	assert.Equal(t, []string{"page=cart", "page=home"}, labels(s))
	assertTotals(t, "prod and stage by page", want(prodOrStage, true), totals(s, false))

	// The env values negated: everything but prod and stage.
	b.do("negate env", chromedp.Click(chromedp.CSS(`.tag[data-key="env"] .negate`)))
	notProdOrStage := func(env string) bool { return !prodOrStage(env) }
	s = b.chart("env not prod|stage", `q.includes('env!~"prod|stage"')`)
	assert.Equal(t, []string{"page=cart", "page=home"}, b.legend())
	assertTotals(t, "not prod or stage, by page", want(notProdOrStage, true), totals(s, false))

	// The function: per-second rates, which times the step add up to the counts.
	b.do("function rate", chromedp.SetValue(chromedp.ID("fn"), "rate"))
	s = b.chart("rate", `q.startsWith('sum by (page) (rate(')`)
	assertTotals(t, "rate × step", want(notProdOrStage, true), totals(s, true))
	assert.Equal(t, 3600.0, -s.State.From, "the default range is the last hour")
	oneHourStep := s.Step

	// A time preset: the last 15 minutes, at a finer step.
	b.do("preset 15m", chromedp.Click(chromedp.CSS(`button.preset[data-range="900"]`)))
	s = b.chart("the last 15 minutes", `window.doghouse.state.from === -900`)
	assert.Less(t, s.Step, oneHourStep, "a shorter range has a finer step")
	assertTotals(t, "15m", want(notProdOrStage, true), totals(s, true))
	assert.Equal(t, 0.0, math.Mod(s.Start, s.Step), "the start is aligned to the step")

	// Drag-to-zoom over the right half, where the points are: an absolute range.
	var over struct{ Left, Top, Width, Height float64 }
	b.eval(`(() => { const r = document.querySelector('#chart .u-over').getBoundingClientRect(); return {left: r.left, top: r.top, width: r.width, height: r.height}; })()`, &over)
	y := over.Top + over.Height/2
	b.do("drag across the chart", chromedp.DragAndDropXY(over.Left+over.Width/2, y, over.Left+over.Width-1, y))
	s = b.chart("the zoomed range", `typeof window.doghouse.state.to === 'number'`)
	zoomed := s.State.To.(float64) - s.State.From
	assert.InDelta(t, 450, zoomed, 45, "the right half of 15 minutes, give or take a few pixels: %v s", zoomed)
	assertTotals(t, "zoomed", want(notProdOrStage, true), totals(s, true))
	var search string
	b.eval(`location.search`, &search)
	assert.Contains(t, search, "to="+strconv.FormatFloat(s.State.To.(float64), 'f', -1, 64))

	// The URL holds the state: a reload draws the same chart.
	legend := b.legend()
	b.do("reload", chromedp.Reload())
	again := b.chart("the reloaded chart", `true`)
	assert.Equal(t, s.Query, again.Query)
	assert.Equal(t, s.X, again.X)
	require.Len(t, again.Series, len(s.Series))
	for i := range s.Series {
		assert.Equal(t, s.Series[i].Label, again.Series[i].Label)
		assert.Equal(t, s.Series[i].Y, again.Series[i].Y, s.Series[i].Label)
	}
	assert.Equal(t, legend, b.legend())

	var reloaded string
	b.eval(`location.href`, &reloaded)
	checkCSV(t, b, dir, again)
	checkScreenshot(t, b, again)

	// The sampling factor badge of a metric fairshare sampled.
	b.do("open the flood metric", chromedp.Navigate(c.api+"/?m=gui.flood&from=-900&to=now"))
	s = b.chart("the flood's chart", `q.includes('"gui.flood"')`)
	assert.InDelta(t, floodFactor, s.SamplingFactor, 1e-9)
	var badge struct {
		Hidden bool   `json:"hidden"`
		Text   string `json:"text"`
		Factor string `json:"factor"`
	}
	b.eval(`(() => { const e = document.getElementById('sampling'); return {hidden: e.hidden, text: e.textContent, factor: e.dataset.factor}; })()`, &badge)
	assert.False(t, badge.Hidden, "the badge shows on a sampled metric")
	assert.Equal(t, strconv.FormatFloat(floodFactor, 'f', -1, 64), badge.Factor)
	assert.Equal(t, fmt.Sprintf("sampled ×%v", math.Round(floodFactor*100)/100), badge.Text)
	// The flood's tag: its values as the API lists them, the first 200 shown.
	ids := apiLabelValues(t, c.api, "id", `{"gui.flood"}`)
	require.NotEmpty(t, ids)
	b.waitFor("the id tag's values", `document.querySelectorAll('.tag[data-key="id"] .tag-value').length > 0`)
	var shownIDs []string
	b.eval(`[...document.querySelectorAll('.tag[data-key="id"] .tag-value')].map((e) => e.dataset.value)`, &shownIDs)
	assert.Equal(t, ids[:min(200, len(ids))], shownIDs)

	// Live refresh: the chart is redrawn without any action.
	b.do("live every 5 s", chromedp.SetValue(chromedp.ID("live"), "5"))
	b.waitFor("the live setting", `location.search.includes('live=5')`)
	var seq int
	b.eval(`window.doghouse.seq`, &seq)
	b.waitFor("a refresh by the timer", fmt.Sprintf(`window.doghouse.seq > %d && document.body.dataset.status === 'ready'`, seq))

	b.do("back to the page views", chromedp.Navigate(reloaded))
	b.chart("the page views again", `q.includes('`+metric+`')`)
	b.eval(`document.getElementById('sampling').hidden`, &badge.Hidden)
	assert.True(t, badge.Hidden, "no badge on a metric that was not sampled")

	assert.Empty(t, b.consoleErrors(), "errors in the page's console")
	c.stop(t)
}

// checkCSV downloads the CSV export as a user would (a click on the link) and compares it with
// the chart.
func checkCSV(t *testing.T, b *tab, dir string, s shown) {
	t.Helper()
	downloads := filepath.Join(dir, "downloads")
	require.NoError(t, os.MkdirAll(downloads, 0o755))
	_, err := chromedp.CallBrowser(b.ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: downloads, EventsEnabled: new(true),
	})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	progress := chromedp.BrowserEvents(ctx, browser.DownloadProgress) // subscribed before the click
	b.do("click CSV", chromedp.Click(chromedp.ID("csv")))
	for ev, err := range progress {
		require.NoError(t, err, "waiting for the CSV download to complete")
		if ev.State == browser.DownloadProgressStateCompleted {
			break
		}
		require.NotEqual(t, browser.DownloadProgressStateCanceled, ev.State, "download canceled")
	}
	name := fmt.Sprintf("%s-%s.csv", metric, s.State.Fn)
	f, err := os.Open(filepath.Join(downloads, name))
	require.NoError(t, err, "the download is named after the metric and function")
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, len(s.X)+1, "a header and a row per step")
	assert.Equal(t, append([]string{"time", "unix"}, labels(s)...), rows[0])
	for i, row := range rows[1:] {
		assert.Equal(t, strconv.FormatFloat(s.X[i], 'f', -1, 64), row[1])
		ts, err := time.Parse(time.RFC3339, row[0])
		require.NoError(t, err)
		assert.Equal(t, int64(s.X[i]), ts.Unix())
		for j, se := range s.Series {
			if se.Y[i] == nil {
				assert.Empty(t, row[2+j])
				continue
			}
			v, err := strconv.ParseFloat(row[2+j], 64)
			require.NoError(t, err)
			assert.Equal(t, *se.Y[i], v, "%s at %s", se.Label, row[0])
		}
	}
}

// checkScreenshot takes a screenshot of the plotting area and checks that each series' colour
// is drawn in it, and that it is more than a blank canvas and a grid.
func checkScreenshot(t *testing.T, b *tab, s shown) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	buf, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS("#chart .u-over")))
	require.NoError(t, err, "screenshot")
	if p := os.Getenv("DOGHOUSE_GUI_SCREENSHOT"); p != "" { // the whole page, for a person to look at
		page, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(p, page, 0o644))
	}
	img, err := png.Decode(bytes.NewReader(buf))
	require.NoError(t, err)
	colours := map[[3]uint8]int{}
	forEachPixel(img, func(c [3]uint8) { colours[c]++ })
	assert.Greater(t, len(colours), 8, "distinct colours in the plotting area")
	for _, se := range s.Series {
		want := parseHex(t, se.Stroke)
		near := 0
		for c, n := range colours {
			if dist(c, want) < 60 {
				near += n
			}
		}
		assert.GreaterOrEqual(t, near, 10, "pixels of %s's colour %s", se.Label, se.Stroke)
	}
}

func forEachPixel(img image.Image, f func([3]uint8)) {
	r := img.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			f([3]uint8{uint8(cr >> 8), uint8(cg >> 8), uint8(cb >> 8)})
		}
	}
}

func parseHex(t *testing.T, s string) [3]uint8 {
	t.Helper()
	v, err := strconv.ParseUint(strings.TrimPrefix(s, "#"), 16, 32)
	require.NoError(t, err, s)
	return [3]uint8{uint8(v >> 16), uint8(v >> 8), uint8(v)}
}

func dist(a, b [3]uint8) float64 {
	var d float64
	for i := range a {
		x := float64(a[i]) - float64(b[i])
		d += x * x
	}
	return math.Sqrt(d)
}
