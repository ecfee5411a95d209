package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/doghouse-otel/doghouse/chunkfile"
)

func verifyCmd(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		if err == nil {
			fmt.Fprintln(stderr, "usage: chunkfile verify <file>")
		}
		return 2
	}
	path := fs.Arg(0)
	r, err := chunkfile.OpenFile(path, chunkfile.ReaderOptions{})
	if err != nil {
		return verifyFailed(stdout, stderr, path, err)
	}
	defer r.Close()
	points := 0
	for r.Next() {
		points += r.Batch().Len()
	}
	if err := r.Err(); err != nil {
		return verifyFailed(stdout, stderr, path, err)
	}
	state := "sealed"
	if !r.Sealed() {
		state = "unsealed (no footer: still being written, or run 'chunkfile recover')"
	}
	fmt.Fprintf(stdout, "%s: ok, %s, %d series, %d points, %d bytes\n", path, state, r.NumSeries(), points, r.Offset())
	return 0
}

func verifyFailed(stdout, stderr io.Writer, path string, err error) int {
	var ce *chunkfile.CorruptionError
	if errors.As(err, &ce) {
		fmt.Fprintf(stdout, "%s: CORRUPT at offset %d: %s\n", path, ce.Offset, ce.Error())
		return 1
	}
	return fail(stderr, "verify", err)
}
