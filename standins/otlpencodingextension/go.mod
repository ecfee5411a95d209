// Stand-in for the contrib OTLP encoding extension module; see ../README.md.
module github.com/open-telemetry/opentelemetry-collector-contrib/extension/encoding/otlpencodingextension

go 1.26
