package worker

import (
	"math"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/aggregate"
	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/packets"
)

// FuzzWorkerPipeline runs a packet through a worker (parser, names, origin, histogram copies)
// into the aggregator and flushes it: nothing may panic, whatever the bytes (a line with more
// than 32 distinct tags once crashed the aggregator, past the parser's fuzz target), and every
// emitted number is finite.
func FuzzWorkerPipeline(f *testing.F) {
	many := make([]string, 40)
	for i := range many {
		many[i] = "t" + strings.Repeat("x", i%7) + ":" + string(rune('a'+i%26))
	}
	for _, seed := range []string{
		"page.views:1|c|#env:prod,team:a",
		"lat:1:2:3|h|@0.5|#a,b:c",
		"m:1|g|#" + strings.Join(many, ",") + ",dup:1,dup:1",
		"m:1|d|c:ci-abc,in-42|#dd.internal.entity_id:uid,dd.internal.card:none",
		"_e{5,4}:title|text|#host:h",
		"_sc|check|1|#x",
		"s:member:with:colons|s\nt:5|ms|T1700000000",
		"legacy.a.b:1|c\nshop.debug:2|c",
	} {
		f.Add([]byte(seed), uint8(0))
		f.Add([]byte(seed), uint8(7))
	}
	f.Fuzz(func(t *testing.T, data []byte, opts uint8) {
		if len(data) > 8192 {
			return
		}
		cfg := Config{InternerSize: 64, InternerMaxLen: 64, BatchSize: 4,
			ClientOrigin: opts&1 != 0, HistogramToDistribution: opts&2 != 0, DistributionPrefix: "dist."}
		if opts&4 != 0 {
			cfg.Namespace, cfg.Blocklist = "shop", []string{"shop.debug"}
		}
		pool := packets.NewPool(8192)
		agg := aggregate.New(aggregate.Config{MaxContexts: 64, MaxTimestamped: 16, MaxBuckets: 20, ScopeName: "f"}, 2)
		w := New(cfg, pool, agg, &logRecorder{}, &Stats{}, time.Now())
		p := pool.Get()
		p.SetLen(copy(p.Buffer(), data))
		w.Process(packets.Packets{p})
		for range 2 {
			checkFinite(t, agg.Flush(time.Unix(0, 0), time.Unix(1, 0)))
		}
	})
}

func checkFinite(t *testing.T, md pmetric.Metrics) {
	t.Helper()
	rms := md.ResourceMetrics()
	for i := range rms.Len() {
		sms := rms.At(i).ScopeMetrics()
		for j := range sms.Len() {
			ms := sms.At(j).Metrics()
			for k := range ms.Len() {
				m := ms.At(k)
				var dps pmetric.NumberDataPointSlice
				switch m.Type() {
				case pmetric.MetricTypeSum:
					dps = m.Sum().DataPoints()
				case pmetric.MetricTypeGauge:
					dps = m.Gauge().DataPoints()
				default:
					continue
				}
				for l := range dps.Len() {
					if v := dps.At(l).DoubleValue(); math.IsNaN(v) || math.IsInf(v, 0) {
						t.Fatalf("metric %q: value %v", m.Name(), v)
					}
				}
			}
		}
	}
}
