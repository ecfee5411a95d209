// Package dsdbreceiver receives OpenTSDB data points (the telnet-style `put` line protocol and
// `POST /api/put`) and StatsHouse JSON batches on one TCP port, telling the protocols apart by
// each connection's first bytes, and StatsHouse JSON datagrams on UDP at the same port number.
// Other HTTP requests on the port go to an extension's handler (the chunkquery extension's
// query API and GUI), so ingestion, API and GUI share one port.
//
//go:generate ../../build/bin/mdatagen metadata.yaml
package dsdbreceiver // import "github.com/doghouse-otel/doghouse/receiver/dsdbreceiver"
