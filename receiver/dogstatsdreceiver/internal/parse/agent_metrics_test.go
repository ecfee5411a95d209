package parse

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/intern"
)

// The Datadog Agent's parser tests (comp/dogstatsd/server/impl: parse_test.go,
// parse_metrics_test.go, parse_events_test.go, parse_service_checks_test.go, and enrich_test.go
// where it is about parsing), ported as tables: the inputs and expected results are the
// Agent's, the test code is ours. A case where this parser deliberately differs says how in
// `differs`, which must quote a row of the differences table in README.md; its expectation is
// what this parser does.

// Differences, as they are named in README.md's "Where we differ from the agent" table.
const (
	diffEmptyTags      = "empty tags (`#a,,b,`)"
	diffTimestamps     = "`\\|T` and `\\|c:`/`\\|e:`/`\\|card:`"
	diffDefaultHost    = "no `host:` tag and no `h:` field"
	diffInternalTags   = "`dd.internal.entity_id:<id>`, `dd.internal.card:<c>` tags"
	diffEventLengths   = "event lengths not landing on `\\|`"
	diffCheckEscapes   = "service check message escapes"
	diffTimerType      = "`ms` type"
	diffNoSampleRateOK = "`@0`, `@-1`, `@2`, `@NaN`"
)

// agentParsers are the parser configurations every Agent case runs under: the defaults, and
// every limit off. No Agent case is near a limit, so both must give the same result.
var agentParsers = []struct {
	name string
	new  func() *Parser
}{
	{"defaults", func() *Parser { return New(intern.New(intern.DefaultMaxEntries, intern.DefaultMaxLen)) }},
	{"limits off", func() *Parser {
		p := New(intern.New(intern.DefaultMaxEntries, intern.DefaultMaxLen))
		p.SetMaxLineLength(0)
		p.SetMaxKeyLengths(0, 0)
		return p
	}},
}

type agentMetricCase struct {
	agent   string // the Agent test the case comes from
	line    string
	want    []Sample
	reason  Reason // 0: accepted
	differs string // a README difference row; empty when the Agent gives the same result
}

const agentCID = "2a25f7fc8fbf573d62053d7263dd2d440c07b6ab4d2b107e50b0d4df1f2ee15f"

func ts(s Sample, t int64) Sample { s.Timestamp = t; return s }

func rate(s Sample, r float64) Sample { s.SampleRate = r; return s }

func host(s Sample, h string) Sample { s.Host = h; return s }

func set(name, member string) Sample {
	return with(one(name, 0, Set), func(s *Sample) { s.SetValue = member })
}

func agentMetricCases() []agentMetricCase {
	cases := []agentMetricCase{
		{agent: "TestParseGauge", line: "daemon:666|g", want: []Sample{one("daemon", 666, Gauge)}},
		{agent: "TestParseGaugeMultiple", line: "daemon:666:777|g", want: packed("daemon", Gauge, 666, 777)},
		{agent: "TestParseCounter", line: "daemon:21|c", want: []Sample{one("daemon", 21, Counter)}},
		{agent: "TestParseCounterMultiple", line: "daemon:666:777|c", want: packed("daemon", Counter, 666, 777)},
		{agent: "TestParseCounterWithTags", line: "custom_counter:1|c|#protocol:http,bench", want: []Sample{tagged(one("custom_counter", 1, Counter), "protocol:http", "bench")}},
		{agent: "TestParseHistogram", line: "daemon:21|h", want: []Sample{one("daemon", 21, Histogram)}},
		{agent: "TestParseHistogramrMultiple", line: "daemon:21:22|h", want: packed("daemon", Histogram, 21, 22)},
		{agent: "TestParseTimer", line: "daemon:21|ms", want: []Sample{one("daemon", 21, Timer)}},
		{agent: "TestParseTimerMultiple", line: "daemon:21:22|ms", want: packed("daemon", Timer, 21, 22)},
		{agent: "TestParseSet", line: "daemon:abc|s", want: []Sample{set("daemon", "abc")}},
		{agent: "TestParseSetMultiple", line: "daemon:abc:def|s", want: []Sample{set("daemon", "abc:def")}},
		{agent: "TestSampleDistribution", line: "daemon:3.5|d", want: []Sample{one("daemon", 3.5, Distribution)}},
		{agent: "TestParseDistributionMultiple", line: "daemon:3.5:4.5|d", want: packed("daemon", Distribution, 3.5, 4.5)},
		{agent: "TestParseSetUnicode", line: "daemon:♬†øU†øU¥ºuT0♪|s", want: []Sample{set("daemon", "♬†øU†øU¥ºuT0♪")}},
		{agent: "TestParseGaugeWithTags", line: "daemon:666|g|#sometag1:somevalue1,sometag2:somevalue2", want: []Sample{tagged(one("daemon", 666, Gauge), "sometag1:somevalue1", "sometag2:somevalue2")}},
		{agent: "TestParseGaugeWithNoTags", line: "daemon:666|g", want: []Sample{one("daemon", 666, Gauge)}},
		{agent: "TestParseGaugeWithSampleRate", line: "daemon:666|g|@0.21", want: []Sample{rate(one("daemon", 666, Gauge), 0.21)}},
		{agent: "TestParseGaugeWithPoundOnly", line: "daemon:666|g|#", want: []Sample{one("daemon", 666, Gauge)}},
		{agent: "TestParseGaugeWithUnicode", line: "♬†øU†øU¥ºuT0♪:666|g|#intitulé:T0µ", want: []Sample{tagged(one("♬†øU†øU¥ºuT0♪", 666, Gauge), "intitulé:T0µ")}},

		{agent: "TestParseMetricError", line: "daemon:666", reason: ReasonBadType},
		{agent: "TestParseMetricError", line: "daemon:666|", reason: ReasonBadType},
		{agent: "TestParseMetricError", line: "daemon:|g", reason: ReasonNoValue},
		{agent: "TestParseMetricError", line: ":666|g", reason: ReasonEmptyName},
		{agent: "TestParseMetricError", line: "abc666|g", reason: ReasonNoValue},
		{agent: "TestParseMetricError", line: "daemon:666|g|m:test", want: []Sample{one("daemon", 666, Gauge)}},
		{agent: "TestParseMetricError", line: "daemon:abc|g", reason: ReasonBadValue},
		{agent: "TestParseMetricError", line: "daemon:666|unknown", reason: ReasonBadType},
		{agent: "TestParseMetricError", line: "daemon:666|g|@abc", reason: ReasonBadSampleRate},

		// The Agent reads `|T` only with dogstatsd_no_aggregation_pipeline (on by default); its
		// test runs the first line with the option off (no timestamp) and on.
		{agent: "TestParseGaugeWithTimestamp (no_aggregation_pipeline off)", line: "metric:1234|g|#onetag|T1657100430",
			want: []Sample{ts(tagged(one("metric", 1234, Gauge), "onetag"), 1657100430)}, differs: diffTimestamps},
		{agent: "TestParseGaugeWithTimestamp (no_aggregation_pipeline on)", line: "metric:1234|g|#onetag|T1657100430",
			want: []Sample{ts(tagged(one("metric", 1234, Gauge), "onetag"), 1657100430)}},
		{agent: "TestParseGaugeWithTimestamp", line: "metric:1234|g|#|T1657100430", want: []Sample{ts(one("metric", 1234, Gauge), 1657100430)}},
		{agent: "TestParseGaugeWithTimestamp", line: "metric:1234|g|@0.21|T1657100440", want: []Sample{ts(rate(one("metric", 1234, Gauge), 0.21), 1657100440)}},
		{agent: "TestParseGaugeWithTimestamp", line: "metric:1234|g|#thereisatag|@0.21|T1657100440", want: []Sample{ts(rate(tagged(one("metric", 1234, Gauge), "thereisatag"), 0.21), 1657100440)}},
		{agent: "TestParseGaugeWithTimestamp", line: "metric:1234|g|#thereisatag|T1657100540|@0.21", want: []Sample{ts(rate(tagged(one("metric", 1234, Gauge), "thereisatag"), 0.21), 1657100540)}},
		{agent: "TestParseGaugeWithTimestamp", line: "metric:1234|g|@0.21|T1657100540|#thereisatag", want: []Sample{ts(rate(tagged(one("metric", 1234, Gauge), "thereisatag"), 0.21), 1657100540)}},
		{agent: "TestParseGaugeWithTimestamp", line: "metric:1234|g|T1657100540|@0.25|#atag", want: []Sample{ts(rate(tagged(one("metric", 1234, Gauge), "atag"), 0.25), 1657100540)}},
		{agent: "TestParseGaugeWithTimestamp", line: "metric:1234|g|T1657100540|#atag|@0.25", want: []Sample{ts(rate(tagged(one("metric", 1234, Gauge), "atag"), 0.25), 1657100540)}},
		{agent: "TestParseGaugeTimestampMalformed", line: "metric:1234|g|#onetag|TABCD", reason: ReasonBadTimestamp},
		{agent: "TestParseGaugeTimestampMalformed", line: "metric:1234|g|#onetag|T", reason: ReasonBadTimestamp},
		{agent: "TestParseGaugeTimestampMalformed", line: "metric:1234|g|#onetag|T-102348932", reason: ReasonBadTimestamp},

		{agent: "TestParseManyPipes (4 pipes)", line: "example.metric:2.39283|d|@1.000000|#environment:dev|c:" + agentCID,
			want: []Sample{with(tagged(one("example.metric", 2.39283, Distribution), "environment:dev"), func(s *Sample) { s.ContainerID = agentCID })}},
		{agent: "TestParseManyPipes (5 pipes)", line: "example.metric:2.39283|d|T1657100540|@1.000000|#environment:dev|c:" + agentCID,
			want: []Sample{with(ts(tagged(one("example.metric", 2.39283, Distribution), "environment:dev"), 1657100540), func(s *Sample) { s.ContainerID = agentCID })}},
		{agent: "TestParseManyPipes (6 pipes)", line: "example.metric:2.39283|d|T1657100540|@1.000000|#environment:dev|c:" + agentCID + "|f:wowthisisacoolfeature",
			want: []Sample{with(ts(tagged(one("example.metric", 2.39283, Distribution), "environment:dev"), 1657100540), func(s *Sample) { s.ContainerID = agentCID })}},
		{agent: "TestParseManyPipes (7 pipes)", line: "example.metric:2.39283|d|T1657100540|@1.000000|#environment:dev|c:" + agentCID + "|f:wowthisisacoolfeature|f2:omgthisoneiscooler",
			want: []Sample{with(ts(tagged(one("example.metric", 2.39283, Distribution), "environment:dev"), 1657100540), func(s *Sample) { s.ContainerID = agentCID })}},
		// The Agent reads `|c:` only with dogstatsd_origin_detection_client; here the field is
		// always read and the worker honours it with origin_detection.client_origin (see
		// agent_origin_test.go for both settings).
		{agent: "TestParseContainerID", line: "metric:1234|g|c:1234567890abcdef",
			want: []Sample{with(one("metric", 1234, Gauge), func(s *Sample) { s.ContainerID = "1234567890abcdef" })}},

		// parse_test.go: TestUnsafeParseFloat, TestUnsafeParseFloatList (packed values).
		{agent: "TestUnsafeParseFloat", line: "m:1.1234|g", want: []Sample{one("m", 1.1234, Gauge)}},
		{agent: "TestUnsafeParseFloatList", line: "m:1.1234:21.5:13|d", want: packed("m", Distribution, 1.1234, 21.5, 13)},
		{agent: "TestUnsafeParseFloatList", line: "m:1.1234|d", want: packed("m", Distribution, 1.1234)},
		{agent: "TestUnsafeParseFloatList", line: "m:1.1234:41:|d", want: packed("m", Distribution, 1.1234, 41)},
		{agent: "TestUnsafeParseFloatList", line: "m:1.1234::41|d", want: packed("m", Distribution, 1.1234, 41)},
		{agent: "TestUnsafeParseFloatList", line: "m::1.1234::41|d", want: packed("m", Distribution, 1.1234, 41)},
		{agent: "TestUnsafeParseFloatList", line: "m:|d", reason: ReasonNoValue},
		// parse_test.go: TestParseTags, TestParseTagsEmpty.
		{agent: "TestParseTags", line: "m:1|c|#tag:test,mytag,good:boy", want: []Sample{tagged(one("m", 1, Counter), "tag:test", "mytag", "good:boy")}},
		{agent: "TestParseTagsEmpty", line: "m:1|c|#", want: []Sample{one("m", 1, Counter)}},
		{agent: "parseTags (empty tags kept as \"\")", line: "m:1|c|#a,,b,", want: []Sample{tagged(one("m", 1, Counter), "a", "b")}, differs: diffEmptyTags},

		// enrich_test.go, where it is about parsing: the host tag and what each type becomes.
		{agent: "TestConvertParseSet", line: "daemon:abc:def|s", want: []Sample{set("daemon", "abc:def")}, differs: diffDefaultHost},
		{agent: "TestConvertParseSetUnicode", line: "daemon:♬†øU†øU¥ºuT0♪|s", want: []Sample{set("daemon", "♬†øU†øU¥ºuT0♪")}, differs: diffDefaultHost},
		{agent: "TestConvertParseGaugeWithPoundOnly", line: "daemon:666|g|#", want: []Sample{one("daemon", 666, Gauge)}, differs: diffDefaultHost},
		{agent: "TestConvertParseGaugeWithUnicode", line: "♬†øU†øU¥ºuT0♪:666|g|#intitulé:T0µ", want: []Sample{tagged(one("♬†øU†øU¥ºuT0♪", 666, Gauge), "intitulé:T0µ")}, differs: diffDefaultHost},
		{agent: "TestConvertEntityOriginDetectionTags", line: "daemon:666|g|#sometag1:somevalue1,host:my-hostname,dd.internal.entity_id:foo,sometag2:somevalue2",
			want:    []Sample{with(host(tagged(one("daemon", 666, Gauge), "sometag1:somevalue1", "sometag2:somevalue2"), "my-hostname"), func(s *Sample) { s.PodUID = "foo" })},
			differs: diffInternalTags},
		{agent: "TestOrigin", line: "metric.name:123|g|c:metric-container|#dd.internal.card:none",
			want:    []Sample{with(one("metric.name", 123, Gauge), func(s *Sample) { s.ContainerID, s.CardinalityTag = "metric-container", "none" })},
			differs: diffInternalTags},
		// Rates the Agent takes and divides by later.
		{agent: "parseMetricSampleSampleRate (any float)", line: "daemon:666|c|@0", reason: ReasonBadSampleRate, differs: diffNoSampleRateOK},
		{agent: "parseMetricSampleSampleRate (any float)", line: "daemon:666|c|@2", reason: ReasonBadSampleRate, differs: diffNoSampleRateOK},
	}
	// TestConvertParseMultiple, TestConvertParseSingle, ...WithTags, ...WithSampleRate: every
	// numeric type. The Agent fills the host with its own hostname; it makes `ms` a histogram.
	for _, typ := range []struct {
		symbol string
		mt     MetricType
	}{{"g", Gauge}, {"c", Counter}, {"h", Histogram}, {"ms", Timer}, {"d", Distribution}} {
		differs, hostDiffers := diffDefaultHost, ""
		if typ.mt == Timer {
			differs, hostDiffers = diffTimerType, diffTimerType
		}
		cases = append(cases,
			agentMetricCase{agent: "TestConvertParseMultiple", line: "daemon:666:777.5|" + typ.symbol, want: packed("daemon", typ.mt, 666, 777.5), differs: differs},
			agentMetricCase{agent: "TestConvertParseSingle", line: "daemon:666|" + typ.symbol, want: packed("daemon", typ.mt, 666), differs: differs},
			agentMetricCase{agent: "TestConvertParseSingleWithTags", line: "daemon:666|" + typ.symbol + "|#protocol:http,bench",
				want: []Sample{tagged(one("daemon", 666, typ.mt), "protocol:http", "bench")}, differs: differs},
			agentMetricCase{agent: "TestConvertParseSingleWithHostTags", line: "daemon:666|" + typ.symbol + "|#protocol:http,host:custom-host,bench",
				want: []Sample{host(tagged(one("daemon", 666, typ.mt), "protocol:http", "bench"), "custom-host")}, differs: hostDiffers},
			// An empty host tag: no host (the Agent's own hostname is not filled in either).
			agentMetricCase{agent: "TestConvertParseSingleWithEmptyHostTags", line: "daemon:666|" + typ.symbol + "|#protocol:http,host:,bench",
				want: []Sample{tagged(one("daemon", 666, typ.mt), "protocol:http", "bench")}, differs: hostDiffers},
			agentMetricCase{agent: "TestConvertParseSingleWithSampleRate", line: "daemon:666|" + typ.symbol + "|@0.21",
				want: []Sample{rate(one("daemon", 666, typ.mt), 0.21)}, differs: differs},
		)
	}
	return cases
}

func TestAgentMetricCases(t *testing.T) {
	for _, tc := range agentMetricCases() {
		for _, pc := range agentParsers {
			t.Run(tc.agent+"/"+tc.line+"/"+pc.name, func(t *testing.T) {
				got, tags, err := pc.new().AppendSamples(nil, nil, []byte(tc.line))
				if tc.reason != 0 {
					if ReasonOf(err) != tc.reason || len(got) != 0 || len(tags) != 0 {
						t.Fatalf("err %v, %d samples, %d tags; want reason %s and nothing appended", err, len(got), len(tags), tc.reason)
					}
					return
				}
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				if !reflect.DeepEqual(got, tc.want) {
					t.Fatalf("got  %+v\nwant %+v", got, tc.want)
				}
			})
		}
	}
}

// Every difference a table marks is a row of the README's differences table.
func TestAgentDifferencesAreDocumented(t *testing.T) {
	section := readmeDifferences(t)
	marked := map[string]bool{}
	for _, tc := range agentMetricCases() {
		marked[tc.differs] = true
	}
	for _, tc := range agentEventCases() {
		marked[tc.differs] = true
	}
	for _, tc := range agentServiceCheckCases() {
		marked[tc.differs] = true
	}
	for _, tc := range agentKindCases() {
		marked[tc.differs] = true
	}
	delete(marked, "")
	if len(marked) == 0 {
		t.Fatal("no case is marked as differing")
	}
	for d := range marked {
		if !strings.Contains(section, "\n| "+d+" |") {
			t.Errorf("difference %q is not a row of README.md's differences table", d)
		}
	}
}

// readmeDifferences returns the "Where we differ from the agent" section of README.md.
func readmeDifferences(t *testing.T) string {
	t.Helper()
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	start := strings.Index(string(readme), "## Where we differ from the agent")
	if start < 0 {
		t.Fatal("README.md has no differences section")
	}
	section := string(readme[start:])
	if end := strings.Index(section[3:], "\n## "); end >= 0 {
		section = section[:end+3]
	}
	return section
}
