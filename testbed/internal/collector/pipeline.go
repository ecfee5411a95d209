package collector

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Pipeline is a doghouse configuration file (config/default.yaml) made runnable by the testbed:
// the same components, settings and pipelines, with the dogstatsd receiver on a loopback UDP
// port the OS chose, every socket, file and directory in the run's temporary directory and the
// telemetry on the testbed's port. Anything else that would listen or write somewhere (another
// receiver, an exporter that sends, an extension) is refused rather than run.
type Pipeline struct {
	Source        string // the configuration file
	UDPAddr       string // 127.0.0.1:port for the dogstatsd receiver's udp.endpoint
	Dir           string // the run's directory
	TelemetryPort int
}

// PipelineConfig is a Pipeline rendered.
type PipelineConfig struct {
	YAML string
	// Unixgram is the dogstatsd receiver's Unix datagram socket ("" without one).
	Unixgram string
	// ChunkDir is the directory of the chunkfile exporter of the metrics pipeline.
	ChunkDir string
	// Metrics describes the metrics pipeline, e.g. "dogstatsd → fairshare → chunkfile, debug".
	Metrics string
}

// redirected are the keys that name a place to listen on or write to; every one of them in the
// rendered configuration must have been set by the testbed.
var redirected = []string{"endpoint", "path", "directory", "output_paths", "error_output_paths"}

// Render reads the source and rewrites it.
func (p Pipeline) Render() (PipelineConfig, error) {
	var out PipelineConfig
	b, err := os.ReadFile(p.Source)
	if err != nil {
		return out, err
	}
	var cfg map[string]any
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		return out, fmt.Errorf("collector: %s: %w", p.Source, err)
	}
	r := rewriter{set: map[string]bool{}}
	if len(r.mapAt(cfg, "connectors")) > 0 {
		return out, fmt.Errorf("collector: %s: the testbed does not run connectors", p.Source)
	}
	dogstatsd := 0
	for id, v := range r.mapAt(cfg, "receivers") {
		if typ, _, _ := strings.Cut(id, "/"); typ != "dogstatsd" {
			return out, fmt.Errorf("collector: %s: receiver %q: the testbed only sends to dogstatsd", p.Source, id)
		}
		if dogstatsd++; dogstatsd > 1 {
			return out, fmt.Errorf("collector: %s: more than one dogstatsd receiver", p.Source)
		}
		rc, _ := v.(map[string]any)
		base := "receivers." + id
		if rc == nil {
			rc = map[string]any{}
			r.mapAt(cfg, "receivers")[id] = rc
		}
		r.put(rc, base, "udp", "endpoint", p.UDPAddr)
		if _, ok := rc["unixgram"]; ok {
			out.Unixgram = filepath.Join(p.Dir, "dsd.sock")
			r.put(rc, base, "unixgram", "path", out.Unixgram)
		}
		if _, ok := rc["unix"]; ok {
			r.put(rc, base, "unix", "path", filepath.Join(p.Dir, "dsd-stream.sock"))
		}
		if _, ok := rc["tcp"]; ok {
			r.put(rc, base, "tcp", "endpoint", "127.0.0.1:0")
		}
	}
	if dogstatsd == 0 {
		return out, fmt.Errorf("collector: %s has no dogstatsd receiver", p.Source)
	}
	chunkDirs := map[string]string{}
	for id, v := range r.mapAt(cfg, "exporters") {
		ec, _ := v.(map[string]any)
		if ec == nil {
			ec = map[string]any{}
			r.mapAt(cfg, "exporters")[id] = ec
		}
		file := strings.NewReplacer("/", "-").Replace(id)
		switch typ, _, _ := strings.Cut(id, "/"); typ {
		case "chunkfile":
			chunkDirs[id] = filepath.Join(p.Dir, file)
			r.put(ec, "exporters."+id, "", "directory", chunkDirs[id])
		case "file":
			r.put(ec, "exporters."+id, "", "path", filepath.Join(p.Dir, file+".out"))
		case "debug":
		default:
			return out, fmt.Errorf("collector: %s: exporter %q: the testbed only runs chunkfile, file and debug exporters", p.Source, id)
		}
	}
	// The chunkquery extension (config/default.yaml serves the stored chunks) runs as
	// configured: on a loopback port from the OS, reading the run's chunk directory. It reads
	// only when queried, which the testbed does not do.
	for id, v := range r.mapAt(cfg, "extensions") {
		if typ, _, _ := strings.Cut(id, "/"); typ != "chunkquery" {
			return out, fmt.Errorf("collector: %s: extension %q: the testbed only runs the chunkquery extension", p.Source, id)
		}
		if len(chunkDirs) != 1 {
			return out, fmt.Errorf("collector: %s: extension %q needs exactly one chunkfile exporter to read", p.Source, id)
		}
		xc, _ := v.(map[string]any)
		if xc == nil {
			xc = map[string]any{}
			r.mapAt(cfg, "extensions")[id] = xc
		}
		for _, dir := range chunkDirs {
			r.put(xc, "extensions."+id, "", "directory", dir)
		}
		r.put(xc, "extensions."+id, "", "endpoint", "127.0.0.1:0")
	}
	tel := r.mapAt(r.mapAt(cfg, "service"), "telemetry")
	metrics := r.mapAt(tel, "metrics")
	if metrics["level"] == nil {
		metrics["level"] = "detailed"
	}
	metrics["readers"] = []any{map[string]any{"pull": map[string]any{"exporter": map[string]any{
		"prometheus": map[string]any{"host": "127.0.0.1", "port": p.TelemetryPort}}}}}
	if out.Metrics, out.ChunkDir, err = metricsPipeline(r.mapAt(r.mapAt(cfg, "service"), "pipelines"), chunkDirs); err != nil {
		return out, fmt.Errorf("collector: %s: %w", p.Source, err)
	}
	if err := r.check(cfg, ""); err != nil {
		return out, fmt.Errorf("collector: %s: %w", p.Source, err)
	}
	y, err := yaml.Marshal(cfg)
	if err != nil {
		return out, err
	}
	out.YAML = "# Written by the testbed from " + p.Source + ": its addresses and paths redirected.\n" + string(y)
	return out, nil
}

// metricsPipeline describes the pipeline "metrics" and finds its chunkfile exporter.
func metricsPipeline(pipelines map[string]any, chunkDirs map[string]string) (desc, chunkDir string, err error) {
	pl, _ := pipelines["metrics"].(map[string]any)
	if pl == nil {
		return "", "", errors.New("no pipeline named metrics")
	}
	list := func(key string) []string {
		var s []string
		items, _ := pl[key].([]any)
		for _, it := range items {
			s = append(s, fmt.Sprint(it))
		}
		return s
	}
	exporters := list("exporters")
	for _, e := range exporters {
		if d, ok := chunkDirs[e]; ok {
			if chunkDir != "" {
				return "", "", errors.New("the metrics pipeline has two chunkfile exporters")
			}
			chunkDir = d
		}
	}
	if chunkDir == "" {
		return "", "", errors.New("the metrics pipeline has no chunkfile exporter")
	}
	stages := []string{strings.Join(list("receivers"), ", ")}
	if p := list("processors"); len(p) > 0 {
		stages = append(stages, p...)
	}
	stages = append(stages, strings.Join(exporters, ", "))
	return strings.Join(stages, " → "), chunkDir, nil
}

// rewriter sets values and remembers which keys it set.
type rewriter struct{ set map[string]bool }

// mapAt returns m[key] as a map, creating it when absent.
func (r *rewriter) mapAt(m map[string]any, key string) map[string]any {
	if v, ok := m[key].(map[string]any); ok {
		return v
	}
	v := map[string]any{}
	m[key] = v
	return v
}

// put sets m[sub][key] (m[key] when sub is empty) and records its dotted path.
func (r *rewriter) put(m map[string]any, base, sub, key string, v any) {
	path := base
	if sub != "" {
		m = r.mapAt(m, sub)
		path += "." + sub
	}
	m[key] = v
	r.set[path+"."+key] = true
}

// check fails on any key that names a place to listen on or write to and was not set by put.
func (r *rewriter) check(v any, path string) error {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			p := strings.TrimPrefix(path+"."+k, ".")
			if slices.Contains(redirected, k) && !r.set[p] {
				return fmt.Errorf("%s (%v) is not redirected by the testbed", p, x)
			}
			if err := r.check(x, p); err != nil {
				return err
			}
		}
	case []any:
		for i, x := range v {
			if err := r.check(x, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	}
	return nil
}
