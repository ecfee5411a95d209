package suite

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// Paths locates the testbed and the two collector binaries.
type Paths struct {
	Testbed  string // the testbed directory (holds contrib-builder-config.yaml)
	Doghouse string // otelcol-doghouse, built by the repository's `make build`
	Contrib  string // otelcol-statsd-contrib, built by BuildContrib
	// Config is the distribution's default configuration (config/default.yaml), which the
	// cardinality floods run as the doghouse pipeline.
	Config string
}

// DefaultPaths finds the testbed directory from the working directory (the testbed itself, the
// repository root, or a package directory inside the testbed) and derives the binaries from it;
// DOGHOUSE_OTELCOL and DOGHOUSE_CONTRIB_OTELCOL override the binaries.
func DefaultPaths() Paths {
	wd, _ := os.Getwd()
	tb := wd
	for _, c := range []string{wd, filepath.Join(wd, "testbed"), filepath.Join(wd, ".."), filepath.Join(wd, "../.."), filepath.Join(wd, "../../..")} {
		if _, err := os.Stat(filepath.Join(c, "contrib-builder-config.yaml")); err == nil {
			tb = filepath.Clean(c)
			break
		}
	}
	p := Paths{
		Testbed:  tb,
		Doghouse: filepath.Join(tb, "..", "build", "otelcol-doghouse", "otelcol-doghouse"),
		Contrib:  filepath.Join(tb, "build", "otelcol-statsd-contrib", "otelcol-statsd-contrib"),
		Config:   filepath.Join(tb, "..", "config", "default.yaml"),
	}
	if v := os.Getenv("DOGHOUSE_OTELCOL"); v != "" {
		p.Doghouse = v
	}
	if v := os.Getenv("DOGHOUSE_CONTRIB_OTELCOL"); v != "" {
		p.Contrib = v
	}
	return p
}

// BuildContrib builds the comparison collector from contrib-builder-config.yaml with the OCB
// binary of the repository's internal/tools (the same one `make build` uses), unless a binary
// built from the same manifest is already there. Bounded to 20 minutes.
func BuildContrib(ctx context.Context, p Paths, log io.Writer) error {
	manifest := filepath.Join(p.Testbed, "contrib-builder-config.yaml")
	b, err := os.ReadFile(manifest)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(b)
	stamp := hex.EncodeToString(sum[:])
	stampFile := p.Contrib + ".manifest-sha256"
	if old, err := os.ReadFile(stampFile); err == nil && string(old) == stamp {
		if _, err := os.Stat(p.Contrib); err == nil {
			fmt.Fprintf(log, "reusing %s (built from the same manifest)\n", p.Contrib)
			return nil
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Minute)
	defer cancel()
	abs, err := filepath.Abs(p.Testbed)
	if err != nil {
		return err
	}
	builder := filepath.Join(abs, "build", "bin", "builder")
	steps := []*exec.Cmd{
		exec.CommandContext(ctx, "go", "build", "-C", filepath.Join(abs, "..", "internal", "tools"), "-o", builder, "go.opentelemetry.io/collector/cmd/builder"),
		exec.CommandContext(ctx, builder, "--config", "contrib-builder-config.yaml"),
	}
	for _, c := range steps {
		c.Dir, c.Stdout, c.Stderr = abs, log, log
		fmt.Fprintf(log, "$ %s\n", c.String())
		if err := c.Run(); err != nil {
			return fmt.Errorf("building the contrib collector: %s: %w", c.String(), err)
		}
	}
	return os.WriteFile(stampFile, []byte(stamp), 0o644)
}
