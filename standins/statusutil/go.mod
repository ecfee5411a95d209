module go.opentelemetry.io/collector/internal/statusutil

go 1.26

require (
	google.golang.org/genproto/googleapis/rpc v0.0.0-20260803160001-6ac0973c030d
	google.golang.org/grpc v1.84.0
	google.golang.org/protobuf v1.36.11
)

require golang.org/x/sys v0.47.0 // indirect
