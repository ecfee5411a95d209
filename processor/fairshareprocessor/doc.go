//go:generate sh -c "cd ../../internal/tools && go tool mdatagen ../../processor/fairshareprocessor/metadata.yaml"

// Package fairshareprocessor aggregates metrics into wall-clock windows per metric and attribute
// set, measures their cardinality, and samples the rows under a byte budget with StatsHouse's
// weighted fair share, so that one flooding metric cannot crowd out the others.
package fairshareprocessor // import "github.com/doghouse-otel/doghouse/processor/fairshareprocessor"
