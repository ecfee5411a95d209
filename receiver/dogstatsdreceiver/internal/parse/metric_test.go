package parse

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// metricCase is one line and either the Samples it gives or the reason it is rejected.
type metricCase struct {
	line   string
	want   []Sample
	reason Reason
}

// one builds the Sample of a single-value line with default fields.
func one(name string, v float64, t MetricType) Sample {
	return Sample{Name: name, Value: v, Type: t, SampleRate: 1}
}

func with(s Sample, f func(*Sample)) Sample { f(&s); return s }

func packed(name string, t MetricType, vs ...float64) []Sample {
	out := make([]Sample, len(vs))
	for i, v := range vs {
		out[i] = one(name, v, t)
	}
	return out
}

func tagged(s Sample, tags ...string) Sample { s.Tags = tags; return s }

const cid = "2a25f7fc8fbf573d62053d7263dd2d440c07b6ab4d2b107e50b0d4df1f2ee15f"

var metricCases = []metricCase{
	// The types, single values (agent: TestParseGauge/Counter/Histogram/Timer/Set, TestSampleDistribution).
	{line: "daemon:666|g", want: []Sample{one("daemon", 666, Gauge)}},
	{line: "daemon:21|c", want: []Sample{one("daemon", 21, Counter)}},
	{line: "daemon:21|h", want: []Sample{one("daemon", 21, Histogram)}},
	{line: "daemon:21|ms", want: []Sample{one("daemon", 21, Timer)}},
	{line: "daemon:3.5|d", want: []Sample{one("daemon", 3.5, Distribution)}},
	{line: "daemon:abc|s", want: []Sample{with(one("daemon", 0, Set), func(s *Sample) { s.SetValue = "abc" })}},
	{line: "daemon:♬†øU†øU¥ºuT0♪|s", want: []Sample{with(one("daemon", 0, Set), func(s *Sample) { s.SetValue = "♬†øU†øU¥ºuT0♪" })}},

	// Packed values (v1.1), agent: TestParse*Multiple and TestUnsafeParseFloatList.
	{line: "daemon:666:777|g", want: packed("daemon", Gauge, 666, 777)},
	{line: "daemon:666:777|c", want: packed("daemon", Counter, 666, 777)},
	{line: "daemon:21:22|h", want: packed("daemon", Histogram, 21, 22)},
	{line: "daemon:21:22|ms", want: packed("daemon", Timer, 21, 22)},
	{line: "daemon:3.5:4.5|d", want: packed("daemon", Distribution, 3.5, 4.5)},
	{line: "page.views:1:2:32|d", want: packed("page.views", Distribution, 1, 2, 32)},
	{line: "m:1.1234:21.5:13|d", want: packed("m", Distribution, 1.1234, 21.5, 13)},
	{line: "m:1.1234:41:|d", want: packed("m", Distribution, 1.1234, 41)},
	{line: "m:1.1234::41|d", want: packed("m", Distribution, 1.1234, 41)},
	{line: "m::1.1234::41|d", want: packed("m", Distribution, 1.1234, 41)},
	{line: "song.length:240:234|h|@0.5", want: []Sample{
		with(one("song.length", 240, Histogram), func(s *Sample) { s.SampleRate = 0.5 }),
		with(one("song.length", 234, Histogram), func(s *Sample) { s.SampleRate = 0.5 }),
	}},
	{line: "m:1:x:3|d", reason: ReasonBadValue},
	{line: "m:1:NaN:3|d", reason: ReasonNonFiniteValue},
	{line: "m:::|d", reason: ReasonNoValue},
	// Sets are never packed: the raw value is one member (agent: TestParseSetMultiple).
	{line: "daemon:abc:def|s", want: []Sample{with(one("daemon", 0, Set), func(s *Sample) { s.SetValue = "abc:def" })}},
	{line: "users:1:2:3|s", want: []Sample{with(one("users", 0, Set), func(s *Sample) { s.SetValue = "1:2:3" })}},

	// Tags.
	{line: "custom_counter:1|c|#protocol:http,bench", want: []Sample{tagged(one("custom_counter", 1, Counter), "protocol:http", "bench")}},
	{line: "daemon:666|g|#sometag1:somevalue1,sometag2:somevalue2", want: []Sample{tagged(one("daemon", 666, Gauge), "sometag1:somevalue1", "sometag2:somevalue2")}},
	{line: "daemon:666|g|#", want: []Sample{one("daemon", 666, Gauge)}},
	{line: "♬†øU†øU¥ºuT0♪:666|g|#intitulé:T0µ", want: []Sample{tagged(one("♬†øU†øU¥ºuT0♪", 666, Gauge), "intitulé:T0µ")}},
	// Colons inside tag values are kept; the tag stays one string.
	{line: "m:1|c|#url:http://a:80/x,k:v:w", want: []Sample{tagged(one("m", 1, Counter), "url:http://a:80/x", "k:v:w")}},
	// Empty tags are dropped.
	{line: "m:1|c|#,a,,b,", want: []Sample{tagged(one("m", 1, Counter), "a", "b")}},
	// host: leaves the tags for Host; the last one wins.
	{line: "m:1|c|#env:prod,host:web1,role:db", want: []Sample{with(tagged(one("m", 1, Counter), "env:prod", "role:db"), func(s *Sample) { s.Host = "web1" })}},
	{line: "m:1|c|#host:a,host:b", want: []Sample{with(one("m", 1, Counter), func(s *Sample) { s.Host = "b" })}},
	{line: "m:1|c|#hostname:x", want: []Sample{tagged(one("m", 1, Counter), "hostname:x")}},
	// A repeated tags field replaces the earlier one, host included.
	{line: "m:1|c|#a,host:h|#b", want: []Sample{tagged(one("m", 1, Counter), "b")}},
	{line: "m:1|c|#a|#host:h,b", want: []Sample{with(tagged(one("m", 1, Counter), "b"), func(s *Sample) { s.Host = "h" })}},
	{line: "m:1:2|d|#a,b", want: []Sample{tagged(one("m", 1, Distribution), "a", "b"), tagged(one("m", 2, Distribution), "a", "b")}},

	// Sample rates.
	{line: "daemon:666|g|@0.21", want: []Sample{with(one("daemon", 666, Gauge), func(s *Sample) { s.SampleRate = 0.21 })}},
	{line: "m:1|c|@1", want: []Sample{one("m", 1, Counter)}},
	{line: "m:1|c|@1e-3", want: []Sample{with(one("m", 1, Counter), func(s *Sample) { s.SampleRate = 0.001 })}},
	{line: "m:1|c|@0.5|@0.25", want: []Sample{with(one("m", 1, Counter), func(s *Sample) { s.SampleRate = 0.25 })}},
	{line: "daemon:666|g|@abc", reason: ReasonBadSampleRate},
	{line: "m:1|c|@", reason: ReasonBadSampleRate},
	{line: "m:1|c|@0", reason: ReasonBadSampleRate},
	{line: "m:1|c|@-0.5", reason: ReasonBadSampleRate},
	{line: "m:1|c|@1.5", reason: ReasonBadSampleRate},
	{line: "m:1|c|@NaN", reason: ReasonBadSampleRate},
	{line: "m:1|c|@Inf", reason: ReasonBadSampleRate},

	// Timestamps (v1.3); order of optional fields does not matter (agent: TestParseGaugeWithTimestamp).
	{line: "metric:1234|g|#onetag|T1657100430", want: []Sample{with(tagged(one("metric", 1234, Gauge), "onetag"), func(s *Sample) { s.Timestamp = 1657100430 })}},
	{line: "metric:1234|g|#|T1657100430", want: []Sample{with(one("metric", 1234, Gauge), func(s *Sample) { s.Timestamp = 1657100430 })}},
	{line: "metric:1234|g|@0.21|T1657100440", want: []Sample{with(one("metric", 1234, Gauge), func(s *Sample) { s.SampleRate = 0.21; s.Timestamp = 1657100440 })}},
	{line: "metric:1234|g|#thereisatag|@0.21|T1657100440", want: []Sample{with(tagged(one("metric", 1234, Gauge), "thereisatag"), func(s *Sample) { s.SampleRate = 0.21; s.Timestamp = 1657100440 })}},
	{line: "metric:1234|g|#thereisatag|T1657100540|@0.21", want: []Sample{with(tagged(one("metric", 1234, Gauge), "thereisatag"), func(s *Sample) { s.SampleRate = 0.21; s.Timestamp = 1657100540 })}},
	{line: "metric:1234|g|@0.21|T1657100540|#thereisatag", want: []Sample{with(tagged(one("metric", 1234, Gauge), "thereisatag"), func(s *Sample) { s.SampleRate = 0.21; s.Timestamp = 1657100540 })}},
	{line: "metric:1234|g|T1657100540|@0.25|#atag", want: []Sample{with(tagged(one("metric", 1234, Gauge), "atag"), func(s *Sample) { s.SampleRate = 0.25; s.Timestamp = 1657100540 })}},
	{line: "metric:1234|g|T1657100540|#atag|@0.25", want: []Sample{with(tagged(one("metric", 1234, Gauge), "atag"), func(s *Sample) { s.SampleRate = 0.25; s.Timestamp = 1657100540 })}},
	{line: "m:1|c|T1|T2", want: []Sample{with(one("m", 1, Counter), func(s *Sample) { s.Timestamp = 2 })}},
	{line: "metric:1234|g|#onetag|TABCD", reason: ReasonBadTimestamp},
	{line: "metric:1234|g|#onetag|T", reason: ReasonBadTimestamp},
	{line: "metric:1234|g|#onetag|T-102348932", reason: ReasonBadTimestamp},
	{line: "m:1|g|T0", reason: ReasonBadTimestamp},
	{line: "m:1|g|T1.5", reason: ReasonBadTimestamp},

	// Container id (v1.2), external data (v1.5), cardinality (v1.6), future fields (agent: TestParseManyPipes).
	{line: "example.metric:2.39283|d|@1.000000|#environment:dev|c:" + cid, want: []Sample{with(tagged(one("example.metric", 2.39283, Distribution), "environment:dev"), func(s *Sample) { s.ContainerID = cid })}},
	{line: "example.metric:2.39283|d|T1657100540|@1.000000|#environment:dev|c:" + cid + "|f:wowthisisacoolfeature|f2:omgthisoneiscooler", want: []Sample{with(tagged(one("example.metric", 2.39283, Distribution), "environment:dev"), func(s *Sample) { s.ContainerID = cid; s.Timestamp = 1657100540 })}},
	{line: "metric:1234|g|c:1234567890abcdef", want: []Sample{with(one("metric", 1234, Gauge), func(s *Sample) { s.ContainerID = "1234567890abcdef" })}},
	{line: "m:1|c|c:ci-abc,in-42|e:it-false,cn-web,pu-123|card:high", want: []Sample{with(one("m", 1, Counter), func(s *Sample) {
		s.ContainerID = "ci-abc,in-42"
		s.ExternalData = "it-false,cn-web,pu-123"
		s.Cardinality = "high"
	})}},
	{line: "m:1|c|c:a|c:b", want: []Sample{with(one("m", 1, Counter), func(s *Sample) { s.ContainerID = "b" })}},
	// The Agent's internal tags are taken out of the tags (agent: TestConvertEntityOriginDetection*,
	// TestEnrichTags, TestEnrichTagsWithJMXCheckName): the last entity id, the first non-empty
	// cardinality; jmx_check_name is dropped; other dd.internal. tags stay tags.
	{line: "daemon:666|g|#sometag1:somevalue1,host:my-hostname,dd.internal.entity_id:foo,sometag2:somevalue2", want: []Sample{with(tagged(one("daemon", 666, Gauge), "sometag1:somevalue1", "sometag2:somevalue2"), func(s *Sample) {
		s.Host = "my-hostname"
		s.PodUID = "foo"
	})}},
	{line: "m:1|c|#dd.internal.entity_id:pod-uid,dd.internal.card:high,env:x", want: []Sample{with(tagged(one("m", 1, Counter), "env:x"), func(s *Sample) { s.PodUID = "pod-uid"; s.CardinalityTag = "high" })}},
	{line: "m:1|c|#dd.internal.entity_id:none", want: []Sample{with(one("m", 1, Counter), func(s *Sample) { s.PodUID = "none" })}},
	{line: "m:1|c|#dd.internal.entity_id:a,dd.internal.entity_id:b", want: []Sample{with(one("m", 1, Counter), func(s *Sample) { s.PodUID = "b" })}},
	{line: "m:1|c|#dd.internal.card:,dd.internal.card:low,dd.internal.card:none", want: []Sample{with(one("m", 1, Counter), func(s *Sample) { s.CardinalityTag = "low" })}},
	{line: "m:1|c|#dd.internal.card:orchestrator", want: []Sample{with(one("m", 1, Counter), func(s *Sample) { s.CardinalityTag = "orchestrator" })}},
	{line: "m:1|c|#dd.internal.card:Weird", want: []Sample{with(one("m", 1, Counter), func(s *Sample) { s.CardinalityTag = "Weird" })}},
	// The field and the tag are both kept for the worker to choose; the Agent would leave the
	// tag among the tags when the field is present, here it never is a tag.
	{line: "m:1|c|#dd.internal.card:high,a|card:none", want: []Sample{with(tagged(one("m", 1, Counter), "a"), func(s *Sample) { s.CardinalityTag = "high"; s.Cardinality = "none" })}},
	{line: "m:1|c|#foo,dd.internal.jmx_check_name:kafka", want: []Sample{tagged(one("m", 1, Counter), "foo")}},
	{line: "m:1|c|#dd.internal.other:x,dd.internal.entity_id,dd.internalx:y,dd.internal.", want: []Sample{tagged(one("m", 1, Counter), "dd.internal.other:x", "dd.internal.entity_id", "dd.internalx:y", "dd.internal.")}},
	{line: "m:1|c|#dd.internal.entity_id:a,dd.internal.card:none|#env:y", want: []Sample{tagged(one("m", 1, Counter), "env:y")}},
	{line: "m:1:2|d|#dd.internal.entity_id:p", want: []Sample{with(one("m", 1, Distribution), func(s *Sample) { s.PodUID = "p" }), with(one("m", 2, Distribution), func(s *Sample) { s.PodUID = "p" })}},
	{line: "m:1|c|cardinal|e|c", want: []Sample{one("m", 1, Counter)}},
	{line: "daemon:666|g|m:test", want: []Sample{one("daemon", 666, Gauge)}},
	{line: "m:1|c||#a", want: []Sample{tagged(one("m", 1, Counter), "a")}},
	{line: "m:1|c|", want: []Sample{one("m", 1, Counter)}},

	// Values: '+' and '-' gauges are absolute values; NaN and infinities are refused.
	{line: "m:+5|g", want: []Sample{one("m", 5, Gauge)}},
	{line: "m:-5|g", want: []Sample{one("m", -5, Gauge)}},
	{line: "m:-0.25e2|ms", want: []Sample{one("m", -25, Timer)}},
	{line: "m:1e-400|g", want: []Sample{one("m", 0, Gauge)}},
	{line: "m:NaN|g", reason: ReasonNonFiniteValue},
	{line: "m:nan|c", reason: ReasonNonFiniteValue},
	{line: "m:Inf|g", reason: ReasonNonFiniteValue},
	{line: "m:+Inf|h", reason: ReasonNonFiniteValue},
	{line: "m:-Inf|d", reason: ReasonNonFiniteValue},
	{line: "m:infinity|ms", reason: ReasonNonFiniteValue},
	{line: "m:1e400|g", reason: ReasonNonFiniteValue},
	{line: "m:-1e400|c", reason: ReasonNonFiniteValue},
	{line: "daemon:abc|g", reason: ReasonBadValue},
	{line: "m: 1|g", reason: ReasonBadValue},
	{line: "m:1,5|g", reason: ReasonBadValue},

	// Malformed lines (agent: TestParseMetricError).
	{line: "daemon:666", reason: ReasonBadType},
	{line: "daemon:666|", reason: ReasonBadType},
	{line: "daemon:666|unknown", reason: ReasonBadType},
	{line: "daemon:666|G", reason: ReasonBadType},
	{line: "daemon:666|#a|g", reason: ReasonBadType},
	{line: "daemon:|g", reason: ReasonNoValue},
	{line: "abc666|g", reason: ReasonNoValue},
	{line: "garbage", reason: ReasonNoValue},
	{line: ":666|g", reason: ReasonEmptyName},
	{line: "|g", reason: ReasonEmptyName},
	{line: "", reason: ReasonEmptyName},
	{line: "m:\xff|g", reason: ReasonInvalidUTF8},
	{line: "m\xc3:1|g", reason: ReasonInvalidUTF8},
}

func TestAppendSamples(t *testing.T) {
	for _, tc := range metricCases {
		t.Run(tc.line, func(t *testing.T) {
			p := newTestParser()
			got, tags, err := p.AppendSamples(nil, nil, []byte(tc.line))
			if tc.reason != 0 {
				if ReasonOf(err) != tc.reason {
					t.Fatalf("err = %v, want reason %s", err, tc.reason)
				}
				if len(got) != 0 || len(tags) != 0 {
					t.Fatalf("rejected line left %d samples and %d tags behind", len(got), len(tags))
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

func TestAppendSamplesKeepsEarlierContentOnError(t *testing.T) {
	p := newTestParser()
	dst, tagBuf, err := p.AppendSamples(nil, nil, []byte("ok:1|c|#a,b"))
	if err != nil {
		t.Fatal(err)
	}
	// Every failure point after tags were appended or values were parsed must roll back.
	for _, bad := range []string{"m:1:2|d|#x,y|@0", "m:1|c|#x,y|Tnope", "m:1:2:x|d|#x", "m:1|c|#x|@2|#y"} {
		dst2, tagBuf2, err := p.AppendSamples(dst, tagBuf, []byte(bad))
		if err == nil {
			t.Fatalf("%q accepted", bad)
		}
		if len(dst2) != 1 || len(tagBuf2) != 2 {
			t.Fatalf("%q: dst %d tagBuf %d after error, want 1 and 2", bad, len(dst2), len(tagBuf2))
		}
		dst, tagBuf = dst2, tagBuf2
	}
	if !reflect.DeepEqual(dst[0].Tags, []string{"a", "b"}) {
		t.Fatalf("first line's tags changed: %q", dst[0].Tags)
	}
}

func TestTagBufferSharedAcrossLines(t *testing.T) {
	p := newTestParser()
	var dst []Sample
	var tagBuf []string
	lines := []string{"a:1:2|d|#x:1,y:2", "b:1|c", "c:1|g|#z:3,host:h"}
	for _, l := range lines {
		var err error
		dst, tagBuf, err = p.AppendSamples(dst, tagBuf, []byte(l))
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(dst) != 4 || len(tagBuf) != 3 {
		t.Fatalf("got %d samples, %d tags; want 4, 3", len(dst), len(tagBuf))
	}
	want := [][]string{{"x:1", "y:2"}, {"x:1", "y:2"}, nil, {"z:3"}}
	for i, w := range want {
		if !reflect.DeepEqual(dst[i].Tags, w) {
			t.Fatalf("sample %d tags %q, want %q", i, dst[i].Tags, w)
		}
	}
	// A consumer appending to one Sample's Tags must not overwrite the next line's tags.
	_ = append(dst[0].Tags, "extra")
	if dst[3].Tags[0] != "z:3" {
		t.Fatalf("appending to a Sample's Tags overwrote another line's tags")
	}
	// Truncating the buffers for the next batch reuses them.
	dst, tagBuf, _ = p.AppendSamples(dst[:0], tagBuf[:0], []byte("d:1|c|#w"))
	if dst[0].Tags[0] != "w" || &tagBuf[0] != &dst[0].Tags[0] {
		t.Fatalf("tags not written into the reused buffer")
	}
}

func TestSampleStringsDoNotAliasLine(t *testing.T) {
	p := newTestParser()
	line := []byte("page.views:1|s|#env:prod,host:web1,dd.internal.entity_id:pod,dd.internal.card:odd|c:abc|e:ext|card:low")
	got, _, err := p.AppendSamples(nil, nil, line)
	if err != nil {
		t.Fatal(err)
	}
	for i := range line {
		line[i] = 'X'
	}
	s := got[0]
	if s.Name != "page.views" || s.SetValue != "1" || s.Tags[0] != "env:prod" || s.Host != "web1" ||
		s.ContainerID != "abc" || s.ExternalData != "ext" || s.Cardinality != "low" || s.PodUID != "pod" || s.CardinalityTag != "odd" {
		t.Fatalf("sample changed when the line buffer was overwritten: %+v", s)
	}
}

func TestLineTooLong(t *testing.T) {
	p := newTestParser()
	p.SetMaxLineLength(16)
	if _, _, err := p.AppendSamples(nil, nil, []byte("exactly.sixteen:1|c")[:16]); ReasonOf(err) == ReasonLineTooLong {
		t.Fatalf("a line of exactly the limit was refused as too long")
	}
	if _, _, err := p.AppendSamples(nil, nil, []byte("seventeen.byte:1|c")); ReasonOf(err) != ReasonLineTooLong {
		t.Fatalf("err = %v, want line_too_long", err)
	}
	if _, err := p.ParseEvent([]byte("_e{5,4}:title|text|#abc")); ReasonOf(err) != ReasonLineTooLong {
		t.Fatalf("event: err = %v, want line_too_long", err)
	}
	if _, err := p.ParseServiceCheck([]byte("_sc|a.long.check.name|0")); ReasonOf(err) != ReasonLineTooLong {
		t.Fatalf("service check: err = %v, want line_too_long", err)
	}
	p.SetMaxLineLength(0)
	p.SetMaxKeyLengths(0, 0)
	long := "m:1|c|#" + strings.Repeat("t", 1<<17)
	if _, _, err := p.AppendSamples(nil, nil, []byte(long)); err != nil {
		t.Fatalf("limit 0 must mean no limit: %v", err)
	}
}

func TestDefaultMaxLineLength(t *testing.T) {
	p := newTestParser()
	p.SetMaxKeyLengths(0, 0) // the line length alone
	ok := "m:1|c|#" + strings.Repeat("t", DefaultMaxLineLength-len("m:1|c|#"))
	if _, _, err := p.AppendSamples(nil, nil, []byte(ok)); err != nil {
		t.Fatalf("line of %d bytes refused: %v", len(ok), err)
	}
	if _, _, err := p.AppendSamples(nil, nil, []byte(ok+"t")); ReasonOf(err) != ReasonLineTooLong {
		t.Fatalf("err = %v, want line_too_long", err)
	}
}

func TestMetricLineDoesNotAllocateOnceInterned(t *testing.T) {
	p := newTestParser()
	lines := [][]byte{
		[]byte("page.views.total:12.5|c|@0.5|#env:prod,service:web,region:eu-west-1"),
		[]byte("latency:1:2:3:4|d|#env:prod,host:web1|c:abc|T1700000000"),
		[]byte("bad:1|c|@7"),
	}
	dst := make([]Sample, 0, 16)
	tagBuf := make([]string, 0, 16)
	for _, l := range lines {
		p.AppendSamples(dst, tagBuf, l)
	}
	for _, l := range lines {
		allocs := testing.AllocsPerRun(200, func() {
			p.AppendSamples(dst[:0], tagBuf[:0], l)
		})
		if allocs != 0 {
			t.Errorf("%q: %.1f allocations per line", l, allocs)
		}
	}
}

func TestReasons(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Reasons() {
		label := r.String()
		if label == "unknown" || seen[label] {
			t.Fatalf("reason %d has label %q (unknown or duplicate)", r, label)
		}
		seen[label] = true
		if strings.ToLower(label) != label || strings.ContainsAny(label, " -") {
			t.Fatalf("label %q is not snake_case", label)
		}
		err := r.err()
		if ReasonOf(err) != r || !strings.Contains(err.Error(), label) {
			t.Fatalf("error for %s: %v / %s", label, err, ReasonOf(err))
		}
		if ReasonOf(fmt.Errorf("wrapped: %w", err)) != r {
			t.Fatalf("ReasonOf does not unwrap")
		}
	}
	if len(seen) != 14 {
		t.Fatalf("%d reasons, want 14", len(seen))
	}
	if ReasonOf(nil) != 0 || ReasonOf(fmt.Errorf("other")) != 0 || Reason(200).String() != "unknown" {
		t.Fatal("ReasonOf/String on foreign values")
	}
}

func TestMetricTypeString(t *testing.T) {
	for line, want := range map[string]string{"a:1|c": "c", "a:1|g": "g", "a:1|ms": "ms", "a:1|h": "h", "a:1|s": "s", "a:1|d": "d"} {
		got, _, err := newTestParser().AppendSamples(nil, nil, []byte(line))
		if err != nil || got[0].Type.String() != want {
			t.Fatalf("%q: type %v err %v, want %s", line, got, err, want)
		}
	}
}

func TestNameAndTagsTooLong(t *testing.T) {
	p := newTestParser()
	p.SetMaxKeyLengths(8, 10)
	for _, tc := range []struct {
		line string
		want Reason
	}{
		{"12345678:1|c|#a:1", 0},
		{"123456789:1|c", ReasonNameTooLong},
		{"123456789:1:2|d", ReasonNameTooLong},
		{"m:1|c|#0123456789", 0},
		{"m:1|c|#a:1,b:2,c:3", ReasonTagsTooLong},
		{"m:1|c|#a|#a:1,b:2,c:3", ReasonTagsTooLong}, // a repeated field is checked too
		{"m:1|c|@0.5|#a:1,b:2,c:3", ReasonTagsTooLong},
	} {
		dst, tags, err := p.AppendSamples(nil, nil, []byte(tc.line))
		if ReasonOf(err) != tc.want || (tc.want != 0 && (len(dst) != 0 || len(tags) != 0)) {
			t.Errorf("%q: %v, %d samples, %d tags; want %v and nothing appended", tc.line, err, len(dst), len(tags), tc.want)
		}
	}
	if ReasonNameTooLong.String() != "name_too_long" || ReasonTagsTooLong.String() != "tags_too_long" {
		t.Fatal("labels")
	}
	p.SetMaxKeyLengths(0, 0)
	if _, _, err := p.AppendSamples(nil, nil, []byte(strings.Repeat("n", 5000)+":1|c|#"+strings.Repeat("t", 9000))); err != nil {
		t.Fatalf("limits off: %v", err)
	}
}
