package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"runtime"
	"syscall"
	"time"

	"github.com/doghouse-otel/doghouse/chunkfile/workload"
)

type variant struct {
	name   string
	jitter bool
	dur    time.Duration
}

var variants = []variant{
	{"regular, 60 s blocks", false, time.Minute},
	{"regular, 10 s blocks", false, 10 * time.Second},
	{"+-3 ms jitter, 60 s blocks", true, time.Minute},
}

func main() {
	withSpeed := flag.Bool("speed", true, "also measure encode and decode speed (one core)")
	flag.Parse()
	runtime.GOMAXPROCS(1)
	if err := run(*withSpeed); err != nil {
		fmt.Fprintln(os.Stderr, "chunkcompare:", err)
		os.Exit(1)
	}
}

func run(withSpeed bool) error {
	fmt.Println("Speeds: Mevents per second of process CPU time on one core (GOMAXPROCS=1), wall-clock rate in parentheses.")
	fmt.Println()
	fmt.Println("| workload | encoding | total B/event | counters | gauges | latencies | encode Mevents/s | decode Mevents/s |")
	fmt.Println("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, v := range variants {
		all := workload.Generate(workload.Options{Jitter: v.jitter})
		row := func(name string, size func([]workload.Series) (float64, error), enc, dec func() (speed, error)) error {
			total, err := size(all)
			if err != nil {
				return err
			}
			var kinds [3]float64
			for k := workload.Counter; k <= workload.Latency; k++ {
				if kinds[k], err = size(ofKind(all, k)); err != nil {
					return err
				}
			}
			es, ds := "-", "-"
			if withSpeed {
				e, err := enc()
				if err != nil {
					return err
				}
				d, err := dec()
				if err != nil {
					return err
				}
				es, ds = e.String(), d.String()
			}
			fmt.Printf("| %s | %s | %.3f | %.3f | %.3f | %.3f | %s | %s |\n", v.name, name, total, kinds[0], kinds[1], kinds[2], es, ds)
			return nil
		}
		evs := arrivalOrder(all)
		n := len(evs)
		var buf bytes.Buffer
		err := row("chunkfile", func(ss []workload.Series) (float64, error) {
			var b bytes.Buffer
			if err := encodeChunkfile(ss, arrivalOrder(ss), v.dur, &b); err != nil {
				return 0, err
			}
			got, _, err := decodeChunkfile(b.Bytes())
			if err == nil {
				err = checkCount(got, workload.Events(ss))
			}
			return float64(b.Len()) / float64(workload.Events(ss)), err
		}, func() (speed, error) {
			return rate(n, func() error { return encodeChunkfile(all, evs, v.dur, &buf) })
		}, func() (speed, error) {
			if err := encodeChunkfile(all, evs, v.dur, &buf); err != nil {
				return speed{}, err
			}
			data := bytes.Clone(buf.Bytes())
			return rate(n, func() error {
				got, _, err := decodeChunkfile(data)
				if err == nil {
					err = checkCount(got, n)
				}
				return err
			})
		})
		if err != nil {
			return err
		}
		if v.dur != time.Minute && !v.jitter {
			continue // XOR chunks do not depend on the block duration
		}
		err = row("Prometheus XOR, 120 samples/chunk", func(ss []workload.Series) (float64, error) {
			chunks, err := encodeXOR(ss, arrivalOrder(ss))
			if err != nil {
				return 0, err
			}
			got, _, err := decodeXOR(chunks)
			if err == nil {
				err = checkCount(got, workload.Events(ss))
			}
			return float64(xorBytes(chunks)) / float64(workload.Events(ss)), err
		}, func() (speed, error) {
			return rate(n, func() error { _, err := encodeXOR(all, evs); return err })
		}, func() (speed, error) {
			chunks, err := encodeXOR(all, evs)
			if err != nil {
				return speed{}, err
			}
			return rate(n, func() error {
				got, _, err := decodeXOR(chunks)
				if err == nil {
					err = checkCount(got, n)
				}
				return err
			})
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func ofKind(ss []workload.Series, k workload.Kind) []workload.Series {
	var out []workload.Series
	for _, s := range ss {
		if s.Kind == k {
			out = append(out, s)
		}
	}
	return out
}

// speed is a measured rate in millions of events per second.
type speed struct{ wall, cpu float64 }

func (s speed) String() string { return fmt.Sprintf("%.1f (%.1f)", s.cpu, s.wall) }

// rate runs f 5 times after a warm-up and returns the best rate by process CPU time and by
// wall time. With GOMAXPROCS=1 the process CPU time (user+system, all threads, GC included)
// is the cost on one core, and it does not depend on what else the machine runs; wall time
// does.
func rate(events int, f func() error) (speed, error) {
	if err := f(); err != nil {
		return speed{}, err
	}
	var best speed
	for range 5 {
		c0, t0 := cpuTime(), time.Now()
		if err := f(); err != nil {
			return speed{}, err
		}
		wall, cpu := time.Since(t0), cpuTime()-c0
		best.wall = max(best.wall, float64(events)/wall.Seconds()/1e6)
		if cpu > 0 {
			best.cpu = max(best.cpu, float64(events)/cpu.Seconds()/1e6)
		}
	}
	return best, nil
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
