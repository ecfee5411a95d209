// Command chunkfile inspects and converts chunk files (docs/chunk-format.md): dump, verify,
// stats, recover, import and rollup.
package main

import (
	"fmt"
	"io"
	"os"
)

const usage = `usage: chunkfile <command> [flags] <file>

commands:
  dump     print points as JSON lines (default), CSV or OpenTSDB put lines
  verify   check CRCs and structure; exit status 1 and the offset on corruption
  stats    series, events, bytes per event by kind, time range
  recover  seal a segment left unsealed by a crash (cuts a torn tail)
  import   build a chunk file from a JSON lines dump
  rollup   write the rollup of a sealed file at one resolution (a tier file)

run 'chunkfile <command> -h' for the flags of a command.
`

func main() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }

// run executes one command and returns the exit status: 0 ok, 1 the file is corrupt or the
// command failed, 2 bad usage.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmds := map[string]func([]string, io.Reader, io.Writer, io.Writer) int{
		"dump": dumpCmd, "verify": verifyCmd, "stats": statsCmd, "recover": recoverCmd, "import": importCmd,
		"rollup": rollupCmd,
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "chunkfile: unknown command %q\n%s", args[0], usage)
		return 2
	}
	return cmd(args[1:], stdin, stdout, stderr)
}

func fail(stderr io.Writer, cmd string, err error) int {
	fmt.Fprintf(stderr, "chunkfile %s: %v\n", cmd, err)
	return 1
}
