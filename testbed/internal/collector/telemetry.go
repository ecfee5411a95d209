package collector

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Sample is one series of a Prometheus text exposition.
type Sample struct {
	Name   string
	Labels map[string]string
	Value  float64
}

// Scrape is one read of a collector's Prometheus endpoint.
type Scrape []Sample

// ParseProm parses the Prometheus text format (the subset collectors emit: one sample a line,
// optional labels with quoted values, an optional timestamp).
func ParseProm(r io.Reader) (Scrape, error) {
	var out Scrape
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		s, err := parseSample(line)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, sc.Err()
}

func parseSample(line string) (Sample, error) {
	s := Sample{Labels: map[string]string{}}
	rest := line
	if i := strings.IndexAny(line, "{ "); i < 0 {
		return s, fmt.Errorf("collector: no value in %q", line)
	} else {
		s.Name, rest = line[:i], line[i:]
	}
	if s.Name == "" {
		return s, fmt.Errorf("collector: no metric name in %q", line)
	}
	if rest[0] == '{' {
		rest = rest[1:]
		for {
			rest = strings.TrimLeft(rest, " ,")
			if strings.HasPrefix(rest, "}") {
				rest = rest[1:]
				break
			}
			k, v, ok := strings.Cut(rest, "=\"")
			if !ok {
				return s, fmt.Errorf("collector: bad labels in %q", line)
			}
			val, n, err := unquote(v)
			if err != nil {
				return s, fmt.Errorf("collector: %w in %q", err, line)
			}
			s.Labels[strings.TrimSpace(k)] = val
			rest = v[n:]
		}
	}
	f := strings.Fields(rest)
	if len(f) < 1 || len(f) > 2 {
		return s, fmt.Errorf("collector: bad value in %q", line)
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return s, fmt.Errorf("collector: value %q in %q: %w", f[0], line, err)
	}
	s.Value = v
	return s, nil
}

// unquote reads a label value up to its closing quote, handling \\, \" and \n; it returns the
// value and the bytes consumed, the quote included.
func unquote(s string) (string, int, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			return b.String(), i + 1, nil
		case '\\':
			if i+1 == len(s) {
				return "", 0, fmt.Errorf("unterminated escape")
			}
			i++
			if s[i] == 'n' {
				b.WriteByte('\n')
			} else {
				b.WriteByte(s[i])
			}
		default:
			b.WriteByte(s[i])
		}
	}
	return "", 0, fmt.Errorf("unterminated label value")
}

// Sum adds the values of every series of name (or name_total, as some exporters suffix
// counters) whose labels include match.
func (sc Scrape) Sum(name string, match map[string]string) (float64, bool) {
	var total float64
	found := false
	for _, s := range sc {
		if s.Name != name && s.Name != name+"_total" {
			continue
		}
		ok := true
		for k, v := range match {
			if s.Labels[k] != v {
				ok = false
				break
			}
		}
		if ok {
			total += s.Value
			found = true
		}
	}
	return total, found
}

// Get is Sum without a label filter, 0 when absent.
func (sc Scrape) Get(name string) float64 {
	v, _ := sc.Sum(name, nil)
	return v
}

// ScrapeURL reads a Prometheus endpoint, giving up after timeout.
func ScrapeURL(url string, timeout time.Duration) (Scrape, error) {
	client := http.Client{Timeout: timeout}
	resp, err := client.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("collector: %s answered %s", url, resp.Status)
	}
	return ParseProm(resp.Body)
}
