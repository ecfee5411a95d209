// Package gui tests the chunkquery extension's built-in GUI in a real browser: Debian's
// chromium, driven by chromedp, against the built otelcol-doghouse. It is a module of its own so
// that the collector's module does not depend on chromedp. The test builds nothing: `make
// gui-test` builds the distribution and points DOGHOUSE_OTELCOL at it; run alone, the test skips
// when the binary or chromium is missing, unless DOGHOUSE_E2E=require.
package gui
