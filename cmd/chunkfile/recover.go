package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/doghouse-otel/doghouse/chunkfile"
)

func recoverCmd(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("recover", flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		if err == nil {
			fmt.Fprintln(stderr, "usage: chunkfile recover <file>")
		}
		return 2
	}
	path := fs.Arg(0)
	res, err := chunkfile.Recover(path)
	if err != nil {
		return fail(stderr, "recover", err)
	}
	if res.AlreadySealed {
		fmt.Fprintf(stdout, "%s: already sealed, nothing to do (%d series, %d blocks, %d points)\n", path, res.Series, res.Blocks, res.Points)
		return 0
	}
	fmt.Fprintf(stdout, "%s: sealed; kept %d series, %d blocks, %d points; dropped %d bytes", path, res.Series, res.Blocks, res.Points, res.BytesDropped)
	if res.Checkpoints > 0 {
		fmt.Fprintf(stdout, "; %d checkpoints turned into blocks", res.Checkpoints)
	}
	if res.CutReason != "" {
		fmt.Fprintf(stdout, " (%s)", res.CutReason)
	}
	fmt.Fprintln(stdout)
	return 0
}
