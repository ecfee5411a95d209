// Package collector runs a built collector binary as the testbed measures it: it writes the
// collector's configuration, starts and stops the process by PID, scrapes its own telemetry and
// reads back what its file exporter wrote.
package collector

import (
	"fmt"
	"strings"
)

// Kind is which collector build is measured.
type Kind string

const (
	// Doghouse is otelcol-doghouse with its dogstatsd receiver.
	Doghouse Kind = "doghouse"
	// Contrib is otelcol-statsd-contrib with the contrib statsd receiver v0.164.1.
	Contrib Kind = "contrib"
	// VictoriaMetrics is Debian's victoria-metrics, the peer of the dsdb receiver's OpenTSDB
	// ingestion (scenario 9).
	VictoriaMetrics Kind = "victoriametrics"
)

// SystemRcvBuf as Settings.UDPRcvBuf sets doghouse's `udp.so_rcvbuf: 0`: the system's default
// socket receive buffer, as the contrib receiver always has.
const SystemRcvBuf = -1

// Settings is one collector configuration. Both kinds get the same downstream: the file exporter
// writing OTLP protobuf (length-prefixed), which the testbed reads back to check counter totals.
type Settings struct {
	Kind Kind
	// Transport and Addr are what the receiver listens on: "udp" with 127.0.0.1:port, or
	// "unixgram" / "unix" with a socket path. The contrib receiver has no Unix stream transport.
	Transport string
	Addr      string
	// Output is the file the metrics are written to; Logs, when set, receives doghouse's events
	// and service checks (the contrib receiver drops them as unparsable lines).
	Output, Logs string
	// TelemetryPort is the loopback port of the collector's Prometheus endpoint.
	TelemetryPort int
	// AggregationInterval is the receivers' flush period, e.g. "1s".
	AggregationInterval string
	// Receiver holds extra doghouse receiver keys (YAML lines, indented under the receiver),
	// e.g. "queue_size: 256". Ignored for contrib.
	Receiver []string
	// UDPRcvBuf sets doghouse's udp.so_rcvbuf (bytes); 0 leaves the key out, so the receiver's
	// default applies; SystemRcvBuf writes `so_rcvbuf: 0`, which keeps the system default
	// (net.core.rmem_default). The contrib receiver has no such setting for UDP.
	UDPRcvBuf int
	// ChunkfileDir, when set, adds doghouse's chunkfile exporter writing there next to the
	// file exporter; Chunkfile holds extra keys of that exporter (YAML lines, e.g.
	// "max_segment_age: 2s").
	ChunkfileDir string
	Chunkfile    []string
}

// YAML renders the collector configuration.
func (s Settings) YAML() (string, error) {
	if s.AggregationInterval == "" {
		s.AggregationInterval = "1s"
	}
	var b strings.Builder
	b.WriteString("receivers:\n")
	switch s.Kind {
	case Doghouse:
		b.WriteString("  dogstatsd:\n")
		udp := `""`
		if s.Transport == "udp" {
			udp = s.Addr
		}
		fmt.Fprintf(&b, "    udp:\n      endpoint: %s\n", udp)
		switch {
		case s.UDPRcvBuf > 0:
			fmt.Fprintf(&b, "      so_rcvbuf: %d\n", s.UDPRcvBuf)
		case s.UDPRcvBuf == SystemRcvBuf:
			b.WriteString("      so_rcvbuf: 0\n")
		}
		switch s.Transport {
		case "udp":
		case "unixgram":
			fmt.Fprintf(&b, "    unixgram:\n      path: %s\n", s.Addr)
		case "unix":
			fmt.Fprintf(&b, "    unix:\n      path: %s\n", s.Addr)
		default:
			return "", fmt.Errorf("collector: doghouse has no transport %q", s.Transport)
		}
		fmt.Fprintf(&b, "    aggregation_interval: %s\n", s.AggregationInterval)
		for _, l := range s.Receiver {
			fmt.Fprintf(&b, "    %s\n", l)
		}
	case Contrib:
		if s.Transport != "udp" && s.Transport != "unixgram" {
			return "", fmt.Errorf("collector: the contrib statsd receiver has no transport %q", s.Transport)
		}
		// Timers, histograms and distributions become exponential histograms, as in doghouse
		// (the contrib default turns every sample into its own gauge point); tags without a
		// value are allowed, as DogStatsD does.
		fmt.Fprintf(&b, `  statsd:
    endpoint: %s
    transport: %s
    aggregation_interval: %s
    enable_simple_tags: true
    timer_histogram_mapping:
      - statsd_type: timer
        observer_type: histogram
      - statsd_type: histogram
        observer_type: histogram
      - statsd_type: distribution
        observer_type: histogram
`, s.Addr, s.Transport, s.AggregationInterval)
	default:
		return "", fmt.Errorf("collector: unknown kind %q", s.Kind)
	}
	receiver := map[Kind]string{Doghouse: "dogstatsd", Contrib: "statsd"}[s.Kind]
	b.WriteString("exporters:\n")
	fmt.Fprintf(&b, "  file/metrics:\n    path: %s\n    format: proto\n", s.Output)
	metricsExporters := "[file/metrics]"
	if s.ChunkfileDir != "" {
		if s.Kind != Doghouse {
			return "", fmt.Errorf("collector: only doghouse has the chunkfile exporter")
		}
		fmt.Fprintf(&b, "  chunkfile:\n    directory: %s\n", s.ChunkfileDir)
		for _, l := range s.Chunkfile {
			fmt.Fprintf(&b, "    %s\n", l)
		}
		metricsExporters = "[file/metrics, chunkfile]"
	}
	logs := s.Logs != "" && s.Kind == Doghouse
	if logs {
		fmt.Fprintf(&b, "  file/logs:\n    path: %s\n    format: proto\n", s.Logs)
	}
	fmt.Fprintf(&b, "service:\n  pipelines:\n    metrics:\n      receivers: [%s]\n      exporters: %s\n", receiver, metricsExporters)
	if logs {
		fmt.Fprintf(&b, "    logs:\n      receivers: [%s]\n      exporters: [file/logs]\n", receiver)
	}
	fmt.Fprintf(&b, `  telemetry:
    logs:
      level: info
    metrics:
      level: detailed
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: %d
`, s.TelemetryPort)
	return b.String(), nil
}
