// Command testbed measures otelcol-doghouse and a contrib statsd receiver build side by side.
//
//	testbed suite [-smoke] [-out ../docs/benchmarks.md] [-readme ../README.md]   run every scenario and write the tables
//	testbed run -kind doghouse -transport udp -rate 100000 -duration 10s   measure one run
//	testbed build                                          build the contrib comparison collector
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/doghouse-otel/doghouse/testbed/internal/collector"
	"github.com/doghouse-otel/doghouse/testbed/internal/loadgen"
	"github.com/doghouse-otel/doghouse/testbed/internal/suite"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: testbed suite|run|build [flags]")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1], os.Args[2:])
	stop()
	collector.KillAll() // whatever happened, leave no collector running
	os.Exit(code)
}

func run(ctx context.Context, cmd string, args []string) int {
	fs := flag.NewFlagSet(cmd, flag.ExitOnError)
	paths := suite.DefaultPaths()
	fs.StringVar(&paths.Doghouse, "doghouse", paths.Doghouse, "otelcol-doghouse binary (make build)")
	fs.StringVar(&paths.Contrib, "contrib", paths.Contrib, "otelcol-statsd-contrib binary (built when missing)")
	fs.StringVar(&paths.Testbed, "testbed", paths.Testbed, "the testbed directory (holds contrib-builder-config.yaml)")
	fs.StringVar(&paths.Config, "config", paths.Config, "the doghouse configuration the cardinality floods run as its pipeline")
	switch cmd {
	case "build":
		_ = fs.Parse(args)
		if err := suite.BuildContrib(ctx, paths, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return 0
	case "suite":
		smoke := fs.Bool("smoke", false, "the short doghouse-only smoke run (under 2 minutes)")
		out := fs.String("out", "", "markdown file to write the tables to (default: stdout only)")
		only := fs.String("only", "", "comma-separated scenarios (1-10) to run instead of all")
		command := fs.String("command", "", "how the run was started, for the report, e.g. \"make bench\" (the suite's own arguments are always given)")
		readme := fs.String("readme", "", "README.md whose bench table (between "+suite.ReadmeBegin+" and "+suite.ReadmeEnd+") to rewrite from the results")
		runs := fs.Int("runs", 0, "runs of each configuration in scenarios 1-6, searches in scenario 1 (default 3)")
		scale := fs.Float64("duration-scale", 0, "multiply the load durations of scenarios 1-5 by this, for a short look (default 1)")
		var card suite.Scale
		fs.Float64Var(&card.Rate, "cardinality-rate", 0, "lines/s of the cardinality floods, scenarios 7 and 8 (default 100000)")
		fs.DurationVar(&card.Duration, "cardinality-duration", 0, "load of each cardinality flood run (default 60s)")
		fs.IntVar(&card.Runs, "cardinality-runs", 0, "runs per configuration of the cardinality floods (default 3)")
		fs.IntVar(&card.Count, "cardinality-count", 0, "distinct names (7) or tag sets (8), a multiple of 1000 (default 1000000)")
		_ = fs.Parse(args)
		if card.Count%1000 != 0 || card.Count < 0 || card.Runs < 0 || card.Rate < 0 || card.Duration < 0 || *runs < 0 || *scale < 0 {
			fmt.Fprintln(os.Stderr, "testbed: -cardinality-count must be a multiple of 1000; rates, durations, runs and scales positive")
			return 2
		}
		if *readme != "" && *smoke {
			fmt.Fprintln(os.Stderr, "testbed: -readme takes the comparison, not the smoke run")
			return 2
		}
		if *readme != "" {
			// Fail before the hour of measuring, not after it.
			if b, err := os.ReadFile(*readme); err != nil {
				fmt.Fprintln(os.Stderr, "testbed:", err)
				return 2
			} else if _, err := suite.ReplaceBench(string(b), ""); err != nil {
				fmt.Fprintf(os.Stderr, "testbed: %s: %v\n", *readme, err)
				return 2
			}
		}
		opts := suite.Options{Paths: paths, Smoke: *smoke, Progress: os.Stdout, Command: *command, Cardinality: card,
			Runs: *runs, DurationScale: *scale, Args: append([]string{cmd}, args...)}
		for f := range strings.SplitSeq(*only, ",") {
			if f = strings.TrimSpace(f); f == "" {
				continue
			}
			n, err := strconv.Atoi(f)
			if err != nil || n < 1 || n > 10 {
				fmt.Fprintf(os.Stderr, "testbed: -only %q: scenarios are 1 to 10\n", *only)
				return 2
			}
			opts.Only = append(opts.Only, n)
		}
		rep, err := suite.Run(ctx, opts)
		if rep != nil {
			md := rep.Markdown()
			fmt.Println(md)
			if *out != "" {
				if werr := os.WriteFile(*out, []byte(md), 0o644); werr != nil {
					fmt.Fprintln(os.Stderr, werr)
					return 1
				}
			}
			if *readme != "" && ctx.Err() == nil { // an interrupted run leaves the README alone
				if werr := rep.WriteReadme(*readme, *out); werr != nil {
					fmt.Fprintln(os.Stderr, "testbed:", werr)
					return 1
				}
				fmt.Fprintf(os.Stderr, "testbed: rewrote the bench table of %s\n", *readme)
			}
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "testbed:", err)
			return 1
		}
		return 0
	case "run":
		kind := fs.String("kind", "doghouse", "doghouse or contrib")
		transport := fs.String("transport", "udp", "udp, unixgram or unix")
		rate := fs.Float64("rate", 50000, "lines per second (0: as fast as possible)")
		duration := fs.Duration("duration", 10*time.Second, "load duration")
		contexts := fs.Int("contexts", 1000, "distinct contexts")
		single := fs.Bool("single", false, "one line per datagram")
		senders := fs.Int("senders", 1, "sockets sending in parallel")
		packet := fs.Int("packet", 0, "bytes a packed datagram holds at most (default: 1432 for UDP, 8192 for Unix sockets)")
		names := fs.Int("names", 0, "send a cardinality flood of this many metric names (with -tagsets) instead of the mixed traffic")
		tagSets := fs.Int("tagsets", 0, "tag sets of the cardinality flood")
		pipeline := fs.Bool("pipeline", false, "doghouse: run -config (config/default.yaml) as its pipeline, read back with cmd/chunkfile")
		maxRSS := fs.Int64("max-rss-mib", 4096, "kill the collector once its RSS passes this (0: never)")
		_ = fs.Parse(args)
		packing := loadgen.Packed
		if *single {
			packing = loadgen.Single
		}
		size := *packet
		if size == 0 {
			size = suite.PacketSize(loadgen.Transport(*transport))
		}
		var tr loadgen.Traffic
		var err error
		if *names > 0 || *tagSets > 0 {
			tr, err = loadgen.NewFlood(loadgen.FloodConfig{Names: *names, TagSets: *tagSets, PacketSize: *packet})
		} else {
			tr, err = loadgen.Build(loadgen.Config{Seed: 1, Contexts: *contexts, Packing: packing, PacketSize: size})
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		spec := suite.RunSpec{
			Kind: collector.Kind(*kind), Binary: paths.Doghouse, Transport: loadgen.Transport(*transport), MaxRSS: *maxRSS << 20,
			Phases: []suite.Phase{{Traffic: tr, Rate: *rate, Duration: *duration, Senders: *senders}},
		}
		if spec.Kind == collector.Contrib {
			spec.Binary = paths.Contrib
		}
		if *pipeline {
			if spec.ChunkfileCLI, err = suite.BuildChunkfileCLI(ctx, paths); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			spec.Pipeline = paths.Config
		}
		res, err := suite.Measure(ctx, spec)
		fmt.Println(suite.Describe(res))
		if err != nil {
			fmt.Fprintln(os.Stderr, "testbed:", err, "\n", res.Log)
			return 1
		}
		return 0
	}
	fmt.Fprintf(os.Stderr, "testbed: unknown command %q\n", cmd)
	return 2
}
