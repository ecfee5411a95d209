package statshouse

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func describe(m *Metric) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s", m.Name)
	if m.TS != 0 {
		fmt.Fprintf(&b, " ts=%d", m.TS)
	}
	if m.HasCounter {
		fmt.Fprintf(&b, " counter=%v", m.Counter)
	}
	if len(m.Values) > 0 {
		fmt.Fprintf(&b, " value=%v", m.Values)
	}
	if len(m.Unique) > 0 {
		fmt.Fprintf(&b, " unique=%v", m.Unique)
	}
	for _, t := range m.Tags {
		fmt.Fprintf(&b, " %s=%s", t.Key, t.Value)
	}
	return b.String()
}

func parse(t testing.TB, batch string) ([]string, error) {
	t.Helper()
	ps := Parser{MaxTags: 48}
	var out []string
	err := ps.Parse([]byte(batch), func(m *Metric, rej *Error) {
		if rej != nil {
			out = append(out, "rejected: "+rej.Reason.String())
			return
		}
		out = append(out, describe(m))
	})
	return out, err
}

// TestConformance: the JSON examples of StatsHouse's docs (docs/protocol.md, website/docs:
// guides/send-data.md, guides/design-metric.md, overview/concepts.md) and the agent's checks.
func TestConformance(t *testing.T) {
	tests := []struct{ name, batch, want string }{
		{"send-data: counter", `{"metrics":[{"name":"my_metric","tags":{},"counter":1000}]}`, "[my_metric counter=1000]"},
		{"design-metric: counter", `{"metrics":[ {"name": "toy_packets_count",
 "tags":{"format": "JSON", "status": "ok"},
 "counter": 1}] }`, "[toy_packets_count counter=1 format=JSON status=ok]"},
		{"design-metric: value", `{"metrics":[ {"name": "toy_packets_size",
 "tags":{"format": "JSON", "status": "ok"},
 "value": [150]} ]}`, "[toy_packets_size value=[150] format=JSON status=ok]"},
		{"design-metric: unique", `{"metrics":[ {"name": "toy_packets_user",
 "tags":{"format": "JSON", "status": "ok"},
 "unique": [17]} ]}`, "[toy_packets_user unique=[17] format=JSON status=ok]"},
		{"concepts: user-guided sampling", `{"metrics":[{"name":"my_metric","tags":{},"counter":6, "value":[1, 2, 3]}]}`, "[my_metric counter=6 value=[1 2 3]]"},
		{"components: two metrics", `{"metrics":[
{"name":"rpc_call_latency",
 "tags":{"protocol": "tcp"},
 "value": [15, 18, 60]},
{"name": "rpc_call_errors",
 "tags":{"protocol": "udp","error_code": "-3000"},
 "counter": 5}
]}`, "[rpc_call_latency value=[15 18 60] protocol=tcp rpc_call_errors counter=5 protocol=udp error_code=-3000]"},
		// protocol.md shows every field at once; the agent refuses value and unique together.
		{"protocol.md: every field", `{"metrics":[{"ts":1670673392,"name":"foobar","tags":{"env":"production"},"counter":100500.1,"value":[0.7],"unique":[591068825]}]}`,
			"[rejected: value_unique_both_set]"},
		{"timestamp", `{"metrics":[{"name":"a","counter":1,"ts":1670673392}]}`, "[a ts=1670673392 counter=1]"},
		{"namespace separator", `{"metrics":[{"name":"ns:a_1","counter":1}]}`, "[ns:a_1 counter=1]"},
		{"numbered tag keys", `{"metrics":[{"name":"a","counter":1,"tags":{"0":"x","key1":"y","_s":"z"}}]}`, "[a counter=1 0=x key1=y _s=z]"},
		{"nulls are absent", `{"metrics":[{"name":"a","counter":1,"tags":null,"value":null,"ts":null}]}`, "[a counter=1]"},
		{"unknown fields skipped", `{"metrics":[{"name":"a","counter":1,"histogram":[[1,2]]}],"x":{}}`, "[a counter=1]"},
		{"no metrics", `{}`, "[]"},
		{"bad name", `{"metrics":[{"name":"1a","counter":1},{"name":"a.b","counter":1},{"name":"a:b:c","counter":1},{"name":"ok","counter":1}]}`,
			"[rejected: invalid_name rejected: invalid_name rejected: invalid_name ok counter=1]"},
		{"zero counter", `{"metrics":[{"name":"a"},{"name":"b","counter":0}]}`, "[rejected: zero_counter rejected: zero_counter]"},
		{"negative counter", `{"metrics":[{"name":"a","counter":-1}]}`, "[rejected: negative_counter]"},
		{"too big counter", `{"metrics":[{"name":"a","counter":1e39}]}`, "[rejected: too_big_counter]"},
		{"too big value", `{"metrics":[{"name":"a","value":[1,-1e39]}]}`, "[rejected: too_big_value]"},
		{"infinite value", `{"metrics":[{"name":"a","value":[1e400]}]}`, "[rejected: too_big_value]"},
		{"too long tag", `{"metrics":[{"name":"a","counter":1,"tags":{"k":"` + strings.Repeat("v", 129) + `"}}]}`, "[rejected: invalid_tag]"},
		{"empty tag key", `{"metrics":[{"name":"a","counter":1,"tags":{"":"v"}}]}`, "[rejected: invalid_tag]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parse(t, tt.batch)
			if err != nil {
				t.Fatal(err)
			}
			if s := fmt.Sprint(got); s != tt.want {
				if got == nil && tt.want == "[]" {
					return
				}
				t.Fatalf("got  %s\nwant %s", s, tt.want)
			}
		})
	}
}

func TestInvalidBatches(t *testing.T) {
	for _, batch := range []string{
		``, `[]`, `{"metrics":{}}`, `{"metrics":[1]}`, `{"metrics":[{"name":1}]}`,
		`{"metrics":[{"name":"a","tags":{"k":1}}]}`, `{"metrics":[{"name":"a","unique":[1.5]}]}`,
		`{"metrics":[{"name":"a","ts":-1}]}`, `{"metrics":[{"name":"a","ts":4294967296}]}`,
		`{"metrics":[{"name":"a","counter":"1"}]}`, `{"metrics":[]} x`, "{\"metrics\":[{\"name\":\"a\xff\"}]}",
	} {
		if _, err := parse(t, batch); err == nil || err.(*Error).Reason != ReasonInvalidJSON {
			t.Errorf("%q: got %v, want invalid_json", batch, err)
		}
	}
}

// TestMillionTagsBounded: a metric with a million tags keeps at most max_tags + 1 of them.
func TestMillionTagsBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"metrics":[{"name":"a","counter":1,"tags":{`)
	for i := range 1_000_000 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"k%d":"v"`, i)
	}
	b.WriteString("}}]}")
	ps := Parser{MaxTags: 48}
	var rej *Error
	if err := ps.Parse([]byte(b.String()), func(_ *Metric, r *Error) { rej = r }); err != nil {
		t.Fatal(err)
	}
	if rej == nil || rej.Reason != ReasonTooManyTags || len(ps.m.Tags) > 49 {
		t.Fatalf("rejection %v, %d tags kept", rej, len(ps.m.Tags))
	}
}

func TestSplitter(t *testing.T) {
	stream := `{"metrics":[{"name":"a","tags":{"k":"}{\"]"},"counter":1}]}{"metrics":[]}`
	var sp Splitter
	// Fed one byte at a time, the first object ends where it should.
	for i := 1; i <= len(stream); i++ {
		if n := sp.Next([]byte(stream[:i])); n != 0 {
			if first := stream[:n]; !json.Valid([]byte(first)) || n != strings.Index(stream, "}{\"metrics\":[]}")+1 {
				t.Fatalf("first object %q", first)
			}
			return
		}
	}
	t.Fatal("no object found")
}

func FuzzParser(f *testing.F) {
	for _, s := range []string{
		`{"metrics":[{"name":"my_metric","tags":{},"counter":6, "value":[1, 2, 3]}]}`,
		`{"metrics":[{"ts":1670673392,"name":"foobar","tags":{"env":"production"},"counter":100500.1,"unique":[591068825]}]}`,
		`{"metrics":[{"name":"a","counter":-1},{"name":"b\u00e9","value":[1e400]}]}`, `{`, "{\xff}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, batch []byte) {
		ps := Parser{MaxTags: 4}
		err := ps.Parse(batch, func(m *Metric, rej *Error) {
			if (m == nil) == (rej == nil) {
				t.Fatalf("metric %v and rejection %v", m, rej)
			}
			if m != nil && (!validName(m.Name) || len(m.Tags) > 4 || len(m.Values) > 0 && len(m.Unique) > 0 ||
				!(m.Counter >= 0) || m.Counter == 0 && len(m.Values) == 0 && len(m.Unique) == 0) {
				t.Fatalf("accepted %s", describe(m))
			}
		})
		if err == nil && !json.Valid(batch) {
			t.Fatalf("accepted a batch that is not JSON: %q", batch)
		}
	})
}

func FuzzSplitter(f *testing.F) {
	f.Add([]byte(`{"metrics":[{"name":"a\"}","counter":1}]}{}`))
	f.Add([]byte(`{"a":[{"b":"\\"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 || b[0] != '{' {
			return
		}
		var whole, bytewise Splitter
		n := whole.Next(b)
		m := 0
		for i := 1; i <= len(b) && m == 0; i++ {
			m = bytewise.Next(b[:i])
		}
		if n != m {
			t.Fatalf("whole %d, byte by byte %d", n, m)
		}
		if n > 0 && json.Valid(b) && n != len(bytes.TrimRight(b, " \t\r\n")) {
			t.Fatalf("a valid object of %d bytes split at %d", len(b), n)
		}
	})
}
