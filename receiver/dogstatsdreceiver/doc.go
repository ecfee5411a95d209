// Package dogstatsdreceiver receives DogStatsD metrics, events and service checks over UDP, Unix
// sockets and TCP, aggregates metrics in time as the Datadog Agent does, and emits OpenTelemetry
// metrics and logs.
//
//go:generate ../../build/bin/mdatagen metadata.yaml
package dogstatsdreceiver // import "github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver"
