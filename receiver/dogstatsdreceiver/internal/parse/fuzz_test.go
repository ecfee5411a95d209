package parse

import (
	"bytes"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/intern"
)

var fuzzSeedPackets = []string{
	"page.views.total:12.5|c|@0.5|#env:prod,service:web,region:eu-west-1",
	"a:1|c\nb:2:3:4|d|#x\r\n_e{5,4}:title|text|#a\n_sc|chk|2|m:down|c:abc\n\nbad\n",
	"_e{6,6}:héllo|wörld|d:1|h:h|k:k|p:low|s:s|t:error|#host:x,a|c:ci-1,in-2|e:cn-a|card:high",
	"_sc|a|1|d:5|h:h|#t|m:one\\ntwo m\\: x|c:c|e:e|card:low",
	"m:1|g|T1700000000|#host:a,host:b|@1|c:x|e:y|card:z|f:future",
	"users:1:2:3|s|#a\nm:NaN|g\nm:1e999|c\nm:1|c|@0\nm:1|x\n:1|c\nm:|c",
}

// FuzzParse feeds whole packets through Lines and the three parsers, as a worker does, and checks
// what every parser promises: no panic, accepted samples are finite and typed, rejected lines
// leave the buffers as they were, and no returned string aliases the packet.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeedPackets {
		f.Add([]byte(s))
	}
	for _, tc := range metricCases {
		f.Add([]byte(tc.line))
	}
	var all []string
	for _, tc := range metricCases {
		all = append(all, tc.line)
	}
	f.Add([]byte(strings.Join(all, "\n")))

	f.Fuzz(func(t *testing.T, packet []byte) {
		// A small interner so that resets and too-long strings happen under fuzzing too.
		p := New(intern.New(8, 16))
		var dst []Sample
		var tagBuf []string
		var others []any
		for line := range Lines(packet) {
			if len(line) == 0 || bytes.IndexByte(line, '\n') >= 0 {
				t.Fatalf("Lines yielded %q", line)
			}
			switch LineKind(line) {
			case KindMetric:
				n, m := len(dst), len(tagBuf)
				var err error
				dst, tagBuf, err = p.AppendSamples(dst, tagBuf, line)
				if err != nil {
					checkRejected(t, line, err)
					if len(dst) != n || len(tagBuf) != m {
						t.Fatalf("%q rejected but buffers grew", line)
					}
					continue
				}
				if len(dst) == n {
					t.Fatalf("%q accepted without a sample", line)
				}
				for _, s := range dst[n:] {
					checkSample(t, line, s)
				}
				if dst[n].Type == Set && len(dst) != n+1 {
					t.Fatalf("%q: a set line gave %d samples", line, len(dst)-n)
				}
			case KindEvent:
				ev, err := p.ParseEvent(line)
				if err != nil {
					checkRejected(t, line, err)
					continue
				}
				if ev.Title == "" {
					t.Fatalf("%q: event without title", line)
				}
				checkTags(t, line, ev.Tags)
				others = append(others, ev)
			case KindServiceCheck:
				sc, err := p.ParseServiceCheck(line)
				if err != nil {
					checkRejected(t, line, err)
					continue
				}
				if sc.Name == "" || sc.Status > StatusUnknown {
					t.Fatalf("%q: service check %+v", line, sc)
				}
				checkTags(t, line, sc.Tags)
				others = append(others, sc)
			}
		}
		// Returned strings must survive the packet going back to its pool.
		before := fmt.Sprintf("%+v %+v", dst, others)
		for i := range packet {
			packet[i] ^= 0x5a
		}
		if after := fmt.Sprintf("%+v %+v", dst, others); after != before {
			t.Fatalf("results alias the packet:\nbefore %s\nafter  %s", before, after)
		}
	})
}

func checkRejected(t *testing.T, line []byte, err error) {
	t.Helper()
	if r := ReasonOf(err); r == 0 || r.String() == "unknown" {
		t.Fatalf("%q: error %v carries no known reason", line, err)
	}
}

func checkSample(t *testing.T, line []byte, s Sample) {
	t.Helper()
	if s.Name == "" {
		t.Fatalf("%q: empty name", line)
	}
	if s.Type < Counter || s.Type > Distribution {
		t.Fatalf("%q: unknown type %d", line, s.Type)
	}
	if math.IsNaN(s.Value) || math.IsInf(s.Value, 0) {
		t.Fatalf("%q: non-finite value %v", line, s.Value)
	}
	if !(s.SampleRate > 0 && s.SampleRate <= 1) {
		t.Fatalf("%q: sample rate %v", line, s.SampleRate)
	}
	if s.Timestamp < 0 {
		t.Fatalf("%q: timestamp %d", line, s.Timestamp)
	}
	if (s.Type == Set) != (s.SetValue != "") {
		t.Fatalf("%q: type %s with set value %q", line, s.Type, s.SetValue)
	}
	if cap(s.Tags) != len(s.Tags) {
		t.Fatalf("%q: Tags capacity %d exceeds length %d", line, cap(s.Tags), len(s.Tags))
	}
	checkTags(t, line, s.Tags)
}

func checkTags(t *testing.T, line []byte, tags []string) {
	t.Helper()
	for _, tag := range tags {
		if tag == "" || strings.HasPrefix(tag, "host:") || strings.ContainsAny(tag, ",|\n") {
			t.Fatalf("%q: bad tag %q", line, tag)
		}
	}
}
