package parse

import (
	"slices"
	"strings"
	"testing"

	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/packets"
)

// The Agent's message identification (parse_test.go) and line splitting with and without
// dogstatsd_eol_required (server_test.go: TestScanLines, TestEOLParsing, TestE2EParsing); see
// agent_metrics_test.go for how the tables are read.

type agentKindCase struct {
	agent   string
	line    string
	want    Kind
	differs string
}

func agentKindCases() []agentKindCase {
	return []agentKindCase{
		{agent: "TestIdentifyEvent", line: "_e{4,5}:title|text|#shell,bash", want: KindEvent},
		{agent: "TestIdentifyServiceCheck", line: "_sc|NAME|STATUS|d:TIMESTAMP|h:HOSTNAME|#TAG_KEY_1:TAG_VALUE_1,TAG_2|m:SERVICE_CHECK_MESSAGE", want: KindServiceCheck},
		{agent: "TestIdentifyMetricSample", line: "song.length:240|h|@0.5", want: KindMetric},
		{agent: "TestIdentifyRandomString", line: "song.length:240|h|@0.5", want: KindMetric},
		{agent: "findMessageType (prefix \"_sc\")", line: "_sc.latency:1|ms", want: KindMetric, differs: diffServiceCheckPrefix},
	}
}

const diffServiceCheckPrefix = "`_sc` prefix"

func TestAgentKindCases(t *testing.T) {
	for _, tc := range agentKindCases() {
		if got := LineKind([]byte(tc.line)); got != tc.want {
			t.Errorf("%s: LineKind(%q) = %s, want %s", tc.agent, tc.line, got, tc.want)
		}
	}
}

// With eol_required the listener drops the packet's last line when it has no '\n'
// (packets.DropUnterminated); the parser then splits what is left. Without it every line is
// parsed. A '\r' before the '\n' is dropped either way, as the Agent's dropCR does.
func TestAgentEOLCases(t *testing.T) {
	words := []string{"foo", "bar", "baz", "quz", "hax"}
	for _, tc := range []struct {
		agent   string
		packet  string
		off, on []string
	}{
		{"TestScanLines / TestEOLParsing (terminated)", strings.Join(words, "\n") + "\n", words, words},
		{"TestScanLines / TestEOLParsing (last line unterminated)", strings.Join(words, "\n"), words, words[:4]},
		{"TestEOLParsing (\\r\\n)", strings.Join(words, "\r\n"), words, words[:4]},
		{"TestE2EParsing", "daemon:666|g|#foo:bar\ndaemon:666|g|#foo:bar", []string{"daemon:666|g|#foo:bar", "daemon:666|g|#foo:bar"}, []string{"daemon:666|g|#foo:bar"}},
	} {
		for _, eol := range []bool{false, true} {
			packet, want := []byte(tc.packet), tc.off
			if eol {
				packet, _ = packets.DropUnterminated(packet)
				want = tc.on
			}
			var got []string
			for line := range Lines(packet) {
				got = append(got, string(line))
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s, eol_required=%v: lines %q, want %q", tc.agent, eol, got, want)
			}
		}
	}
}

// TestE2EParsing counts samples: two with the option off, one with it on.
func TestAgentE2EParsingSamples(t *testing.T) {
	for eol, want := range map[bool]int{false: 2, true: 1} {
		packet := []byte("daemon:666|g|#foo:bar\ndaemon:666|g|#foo:bar")
		if eol {
			packet, _ = packets.DropUnterminated(packet)
		}
		p := newTestParser()
		var samples []Sample
		var tags []string
		for line := range Lines(packet) {
			var err error
			if samples, tags, err = p.AppendSamples(samples, tags, line); err != nil {
				t.Fatal(err)
			}
		}
		if len(samples) != want {
			t.Errorf("eol_required=%v: %d samples, want %d", eol, len(samples), want)
		}
		for _, s := range samples {
			if s.Name != "daemon" || s.Value != 666 || s.Type != Gauge || !slices.Equal(s.Tags, []string{"foo:bar"}) {
				t.Errorf("sample %+v", s)
			}
		}
	}
}
