package parse

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/intern"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func newTestParser() *Parser {
	return New(intern.New(intern.DefaultMaxEntries, intern.DefaultMaxLen))
}
