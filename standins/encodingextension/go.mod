// Stand-in for the contrib encoding extension module; see ../README.md.
module github.com/open-telemetry/opentelemetry-collector-contrib/extension/encoding

go 1.26
