package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/doghouse-otel/doghouse/chunkfile"
)

func rollupCmd(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("rollup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "rollup file to create (must not exist)")
	res := fs.Duration("res", 0, "window length, a whole number of milliseconds (1m, 1h, ...)")
	maxWindows := fs.Int("max-windows", chunkfile.DefaultRollupMaxWindows, "most (series, window) pairs held in memory at once")
	if err := fs.Parse(args); err != nil || *out == "" || *res <= 0 || fs.NArg() != 1 {
		if err == nil {
			fmt.Fprintln(stderr, "usage: chunkfile rollup -res <duration> -o <new file> [-max-windows N] <sealed file>")
		}
		return 2
	}
	path := fs.Arg(0)
	st, err := rollupFile(path, *out, chunkfile.RollupOptions{Resolution: *res, MaxWindows: *maxWindows})
	if err != nil {
		if errors.Is(err, chunkfile.ErrNotSealed) {
			err = fmt.Errorf("%w: run 'chunkfile recover %s' first", err, path)
		}
		return fail(stderr, "rollup", err)
	}
	fmt.Fprintf(stdout, "%s: %s rollup of %s: %d series, %d windows, %d points from %d raw points in %d passes\n",
		*out, *res, path, st.Series, st.Windows, st.Points, st.RawPoints, st.Passes)
	if st.SkippedPoints > 0 {
		fmt.Fprintf(stdout, "%s: %d raw points left out (%d series with a %s attribute of their own, or timestamps at the ends of the int64 range)\n",
			*out, st.SkippedPoints, st.SkippedSeries, chunkfile.RollupAttr)
	}
	return 0
}

// rollupFile writes the rollup of the sealed file in to the new file out, which it removes if
// anything fails.
func rollupFile(in, out string, opts chunkfile.RollupOptions) (st chunkfile.RollupStats, err error) {
	seg, err := chunkfile.Create(out, chunkfile.Options{})
	if err != nil {
		return st, err
	}
	defer func() {
		if err != nil {
			seg.Abandon()
			os.Remove(out)
		}
	}()
	if st, err = chunkfile.RollupFile(context.Background(), seg.Writer, in, opts); err != nil {
		return st, err
	}
	return st, seg.Close()
}
