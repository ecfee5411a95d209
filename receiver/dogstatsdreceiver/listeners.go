package dogstatsdreceiver

import (
	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/listener"
	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/origin"
)

// enabledTransports names the transports cfg turns on, in a fixed order.
func enabledTransports(cfg *Config) []string {
	var out []string
	if cfg.UDP.Endpoint != "" {
		out = append(out, "udp")
	}
	if cfg.UnixDatagram.Path != "" {
		out = append(out, "unixgram")
	}
	if cfg.UnixStream.Path != "" {
		out = append(out, "unix")
	}
	if cfg.TCP.Endpoint != "" {
		out = append(out, "tcp")
	}
	return out
}

// newListeners builds one listener per enabled transport; nothing is bound yet. Validate has
// already checked the permissions, so parse errors cannot happen here.
func newListeners(cfg *Config, set listener.Settings) []listener.Listener {
	var ls []listener.Listener
	// One pid -> container cache serves both Unix sockets.
	var resolver *origin.Resolver
	if cfg.OriginDetection.Enabled {
		resolver = origin.NewResolver(origin.ResolverConfig{})
	}
	if cfg.UDP.Endpoint != "" {
		ls = append(ls, listener.NewUDP(listener.UDPConfig{
			Endpoint: cfg.UDP.Endpoint, SoRcvbuf: cfg.UDP.SoRcvbuf, Readers: cfg.UDP.Readers,
			EOLRequired: cfg.UDP.EOLRequired,
		}, set))
	}
	if cfg.UnixDatagram.Path != "" {
		perm, _ := parsePermissions(cfg.UnixDatagram.SocketPermissions)
		ls = append(ls, listener.NewUnixDatagram(listener.UnixDatagramConfig{
			Path: cfg.UnixDatagram.Path, Permissions: perm, SoRcvbuf: cfg.UnixDatagram.SoRcvbuf,
			OriginDetection: cfg.OriginDetection.Enabled, Resolver: resolver,
			EOLRequired: cfg.UnixDatagram.EOLRequired,
		}, set))
	}
	if cfg.UnixStream.Path != "" {
		perm, _ := parsePermissions(cfg.UnixStream.SocketPermissions)
		ls = append(ls, listener.NewUnixStream(listener.UnixStreamConfig{
			Path: cfg.UnixStream.Path, Permissions: perm, MaxConnections: cfg.UnixStream.MaxConnections,
			OriginDetection: cfg.OriginDetection.Enabled, Resolver: resolver,
			EOLRequired: cfg.UnixStream.EOLRequired,
		}, set))
	}
	if cfg.TCP.Endpoint != "" {
		ls = append(ls, listener.NewTCP(listener.TCPConfig{
			Endpoint: cfg.TCP.Endpoint, MaxConnections: cfg.TCP.MaxConnections,
			EOLRequired: cfg.TCP.EOLRequired,
		}, set))
	}
	return ls
}
