package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"runtime"
	"testing"
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
	speed := flag.Bool("speed", true, "also measure encode and decode speed (one core)")
	flag.Parse()
	runtime.GOMAXPROCS(1)
	if err := run(*speed); err != nil {
		fmt.Fprintln(os.Stderr, "chunkcompare:", err)
		os.Exit(1)
	}
}

func run(speed bool) error {
	fmt.Println("| workload | encoding | total B/event | counters | gauges | latencies | encode Mevents/s | decode Mevents/s |")
	fmt.Println("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, v := range variants {
		all := workload.Generate(workload.Options{Jitter: v.jitter})
		row := func(name string, size func([]workload.Series) (float64, error), enc, dec func() (float64, error)) error {
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
			if speed {
				e, err := enc()
				if err != nil {
					return err
				}
				d, err := dec()
				if err != nil {
					return err
				}
				es, ds = fmt.Sprintf("%.1f", e), fmt.Sprintf("%.1f", d)
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
		}, func() (float64, error) {
			return rate(n, func() error { return encodeChunkfile(all, evs, v.dur, &buf) })
		}, func() (float64, error) {
			if err := encodeChunkfile(all, evs, v.dur, &buf); err != nil {
				return 0, err
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
		}, func() (float64, error) {
			return rate(n, func() error { _, err := encodeXOR(all, evs); return err })
		}, func() (float64, error) {
			chunks, err := encodeXOR(all, evs)
			if err != nil {
				return 0, err
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

// rate runs f as a benchmark and returns millions of events per second.
func rate(events int, f func() error) (float64, error) {
	var ferr error
	res := testing.Benchmark(func(b *testing.B) {
		for b.Loop() {
			if err := f(); err != nil {
				ferr = err
				b.FailNow()
			}
		}
	})
	if ferr != nil {
		return 0, ferr
	}
	return float64(events) * float64(res.N) / res.T.Seconds() / 1e6, nil
}
