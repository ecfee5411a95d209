package aggregate

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/golden"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/pdatatest/pmetrictest"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.uber.org/goleak"
)

var update = flag.Bool("update", false, "rewrite the expected.yaml and passthrough.yaml files")

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// t0 is the base time of the golden inputs: a multiple of 60 s.
const t0 = int64(1699999980) * int64(time.Second)

func at(sec float64) int64 { return t0 + int64(sec*float64(time.Second)) }

func classifier(rules map[string]time.Duration) func(string) Class {
	return func(name string) Class {
		for prefix, r := range rules {
			if strings.HasPrefix(name, prefix) {
				return Class{Resolution: r, Weight: 1}
			}
		}
		return Class{Resolution: time.Second, Weight: 1}
	}
}

func baseOptions() Options {
	return Options{
		Classify:              classifier(nil),
		KeyResourceAttributes: []string{"*"},
		MaxDelay:              time.Minute,
		Grace:                 time.Second,
	}
}

// goldenCases drive testdata/<name>/input.yaml through one Add at addAt and one Flush at
// flushAt; the exported rows must equal expected.yaml, what Add leaves in the input (to be
// forwarded unchanged) must equal passthrough.yaml (or be empty), and the counters must match.
var goldenCases = []struct {
	name    string
	opt     func(*Options)
	addAt   float64
	flushAt float64
	stats   Stats
}{
	{
		// 1 s windows (start, start+1]: requests{ok} 3+4 and 5 in two windows, requests{err} 1+2
		// (the point at exactly t0+1 closes the first window); temperature keeps its latest
		// point (22 at +0.9, not the later-arriving 19 at +0.4) plus min 19, max 22, count 3;
		// slow.* has 5 s resolution: 1.5+2.5 in (t0, t0+5].
		name: "windows",
		opt: func(o *Options) {
			o.Classify = classifier(map[string]time.Duration{"slow.": 5 * time.Second})
			o.GaugeStats = true
		},
		addAt: 1.9, flushAt: 10,
		stats: Stats{Points: 10},
	},
	{
		// host.name merged away: api's hits 10+25 with max host h2; queue's last value 8 (h2,
		// larger than h1's point-level h9 with 5); latency buckets [1,3,4], count 8, sum 65,
		// min 0.5, max 20 (max host h1, count 6 > 2); size merges scale 1 into scale 0:
		// buckets [3,3] from offset 0, zero count 1, count 7, sum 22; rpc count 10, sum 17
		// without quantiles; single keeps its quantile; db stays its own resource. The
		// cumulative sum and the histogram point with other bounds pass through.
		name: "merges",
		opt: func(o *Options) {
			o.MergeAttributes = []string{"host.name"}
			o.MaxHostAttribute = "host.name"
			o.KeyResourceAttributes = []string{"service.name"}
		},
		addAt: 0.9, flushAt: 5,
		stats: Stats{Points: 12, PassThrough: 1, Unmergeable: 1},
	},
	{
		// At t0+10.5 with max_delay 10 s: +10.2 and +9.8 are on time; +8.5's window closed at
		// +10, so it joins (t0+10, t0+11]; -5 is 15.5 s old and dropped; +20 is clamped to now;
		// a point without a timestamp counts as now. Out: 2 in (t0+9, t0+10] and
		// 1+4+16+32 = 53 in (t0+10, t0+11].
		name: "late",
		opt: func(o *Options) {
			o.MaxDelay = 10 * time.Second
		},
		addAt: 10.5, flushAt: 20,
		stats: Stats{Points: 5, Late: 1, TooLate: 1, FutureClamped: 1},
	},
	{
		// max_rows_per_metric 2: a keeps k=1,2 and folds 3+4 into its overflow row; max_rows 5:
		// after a's 3 rows and b's k=1,2 the store is full, so b's k=3 (30) and c's only point
		// go to overflow rows.
		name: "overflow",
		opt: func(o *Options) {
			o.MaxRowsPerMetric = 2
			o.MaxRows = 5
		},
		addAt: 0.9, flushAt: 5,
		stats: Stats{Points: 8, Overflow: 4},
	},
}

func TestGolden(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join("..", "..", "testdata", tc.name)
			input, err := golden.ReadMetrics(filepath.Join(dir, "input.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			opt := baseOptions()
			tc.opt(&opt)
			s := New(opt)
			s.Add(input, at(tc.addAt))

			var b Batch
			s.Flush(at(tc.flushAt), false, &b)
			out := emitUnsampled(s, &b)

			compareGolden(t, filepath.Join(dir, "expected.yaml"), out)
			pass := filepath.Join(dir, "passthrough.yaml")
			if _, err := os.Stat(pass); err == nil || (*update && input.DataPointCount() > 0) {
				compareGolden(t, pass, input)
			} else if input.DataPointCount() != 0 {
				t.Errorf("%d points left to pass through, want none", input.DataPointCount())
			}
			got := s.Stats()
			got.MetricsCreated = 0 // the metric table has its own tests
			if got != tc.stats {
				t.Errorf("stats %+v, want %+v", got, tc.stats)
			}
			if s.Rows() != 0 {
				t.Errorf("%d rows held after the flush, want 0", s.Rows())
			}
		})
	}
}

func compareGolden(t *testing.T, path string, got pmetric.Metrics) {
	t.Helper()
	if *update {
		if err := golden.WriteMetrics(t, path, got, golden.SkipMetricTimestampNormalization()); err != nil {
			t.Fatal(err)
		}
	}
	want, err := golden.ReadMetrics(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := pmetrictest.CompareMetrics(want, got,
		pmetrictest.IgnoreResourceMetricsOrder(),
		pmetrictest.IgnoreScopeMetricsOrder(),
		pmetrictest.IgnoreMetricsOrder(),
		pmetrictest.IgnoreMetricDataPointsOrder(),
	); err != nil {
		t.Errorf("%s: %v", path, err)
	}
}

// emitUnsampled emits every row of b with factor 1 and releases b.
func emitUnsampled(s *Store, b *Batch) pmetric.Metrics {
	out := pmetric.NewMetrics()
	ones := make([]float64, len(b.Rows))
	for i := range ones {
		ones[i] = 1
	}
	s.Emit(NewOutput(out), b.Rows, ones)
	s.Release(b)
	return out
}
