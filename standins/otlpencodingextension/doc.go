// Package otlpencodingextension is an empty stand-in: only the tests of contrib's fileexporter
// import the real package, and the builder's `go mod tidy` must find it. See ../README.md.
package otlpencodingextension // import "github.com/open-telemetry/opentelemetry-collector-contrib/extension/encoding/otlpencodingextension"
