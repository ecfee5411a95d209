package worker

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/aggregate"
	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/mapper"
	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/packets"
)

// benchPackets builds packets of up to size bytes of DogStatsD lines over contexts distinct
// contexts (about 30 lines of ~270 bytes per 8 KiB packet), all counters of value 1 so the
// total out can be checked against the lines in. Names and tags use about 700 distinct strings,
// well inside the default interner.
func benchPackets(contexts, n, size int) (bodies [][]byte, lines int) {
	rng := rand.New(rand.NewPCG(7, 7))
	ctx := make([]string, contexts)
	for i := range ctx {
		var b strings.Builder
		fmt.Fprintf(&b, "app.request.handled.count.%d:1|c|@1|#service:checkout-api-%d,env:production,region:eu-west-1,az:eu-west-1b", i%500, i%7)
		// Tag values come from small vocabularies, as real tags do; together with the name they
		// still make every context distinct.
		for t := range 8 {
			fmt.Fprintf(&b, ",tag%d:value-%08d", t, (i/500+t*3)%20)
		}
		ctx[i] = b.String()
	}
	for range n {
		var p []byte
		for {
			line := ctx[rng.IntN(contexts)]
			if len(p)+len(line)+1 > size {
				break
			}
			p = append(append(p, line...), '\n')
			lines++
		}
		bodies = append(bodies, p)
	}
	return bodies, lines
}

// BenchmarkPipeline measures the in-process path from a queue of packets through 2 workers
// (parse, intern, batch) into the aggregator, with a flush at the end: the receiver's whole CPU
// path minus the socket reads.
func BenchmarkPipeline(b *testing.B) {
	runPipeline(b, Config{InternerSize: 4096 * 8, InternerMaxLen: 256})
}

// BenchmarkPipelineRenamed is BenchmarkPipeline with the three name options on: a mapper profile
// that maps every name (`app.request.handled.count.<n>` to `app.request.handled` with tag
// `n:<n>`), a namespace, and a blocklist no name is in (so the total still checks out).
func BenchmarkPipelineRenamed(b *testing.B) {
	rules, err := mapper.Compile([]mapper.Profile{{Name: "app", Prefix: "app.", Mappings: []mapper.Mapping{
		{Match: "app.request.handled.count.*", Name: "app.request.handled", Tags: map[string]string{"n": "$1"}},
	}}})
	if err != nil {
		b.Fatal(err)
	}
	runPipeline(b, Config{
		InternerSize: 4096 * 8, InternerMaxLen: 256,
		Mapper: rules, MapperCacheSize: mapper.DefaultCacheSize,
		Namespace: "team", NamespaceExclusions: []string{"datadog.agent", "jvm", "runtime"},
		Blocklist: []string{"team.app.debug", "team.app.request.handled.count"}, BlocklistMatchPrefix: true,
	})
}

func runPipeline(b *testing.B, cfg Config) {
	const workers = 2
	bodies, linesPerRound := benchPackets(10_000, 1024, 8192)
	pool := packets.NewPool(8192)
	agg := aggregate.New(aggregate.Config{MaxContexts: 1 << 20, MaxTimestamped: 1, MaxBuckets: 160}, workers)
	stats := &Stats{}
	queue := make(chan packets.Packets, 64)
	var wg sync.WaitGroup
	for range workers {
		w := New(cfg, pool, agg, &logRecorder{}, stats, time.Now())
		wg.Go(func() { w.Run(queue) })
	}
	var bytes int
	for _, p := range bodies {
		bytes += len(p)
	}
	b.SetBytes(int64(bytes))
	b.ReportAllocs()
	start := time.Now()
	cpuStart := processCPU()
	rounds := 0
	for b.Loop() {
		for i := 0; i < len(bodies); i += 32 {
			batch := make(packets.Packets, 0, 32)
			for _, body := range bodies[i:min(i+32, len(bodies))] {
				p := pool.Get()
				p.SetLen(copy(p.Buffer(), body))
				batch = append(batch, p)
			}
			queue <- batch
		}
		rounds++
	}
	close(queue)
	wg.Wait()
	elapsed := time.Since(start)
	cpu := processCPU() - cpuStart
	md := agg.Flush(time.Unix(0, 0), time.Unix(1, 0))
	var total float64
	rms := md.ResourceMetrics()
	for i := range rms.Len() {
		ms := rms.At(i).ScopeMetrics().At(0).Metrics()
		for j := range ms.Len() {
			dps := ms.At(j).Sum().DataPoints()
			for k := range dps.Len() {
				total += dps.At(k).DoubleValue()
			}
		}
	}
	if want := float64(rounds * linesPerRound); total != want {
		b.Fatalf("counted %v, want %v", total, want)
	}
	b.ReportMetric(float64(rounds*linesPerRound)/elapsed.Seconds(), "lines/s")
	// CPU seconds of the whole process (workers and this feeding loop): on a shared machine
	// wall-clock rates swing with the neighbours, CPU cost per line much less.
	b.ReportMetric(float64(rounds*linesPerRound)/cpu.Seconds(), "lines/cpu-s")
	b.ReportMetric(float64(linesPerRound)/float64(len(bodies)), "lines/packet")
}

// processCPU is the user+system CPU time the process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
