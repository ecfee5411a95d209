package parse

import (
	"fmt"
	"reflect"
	"testing"
)

func TestParseEvent(t *testing.T) {
	cases := []struct {
		line string
		want Event
	}{
		// Agent: TestEventMinimal, TestEventMultilinesText, TestEventPipeInTitle.
		{"_e{10,9}:test title|test text", Event{Title: "test title", Text: "test text"}},
		{`_e{10,24}:test title|test\line1\nline2\nline3`, Event{Title: "test title", Text: "test\\line1\nline2\nline3"}},
		{`_e{10,24}:test|title|test\line1\nline2\nline3`, Event{Title: "test|title", Text: "test\\line1\nline2\nline3"}},
		{`_e{10,1}:two\nlines|x`, Event{Title: "two\nlines", Text: "x"}},
		// Agent: TestEventMetadata*.
		{"_e{10,9}:test title|test text|d:21", Event{Title: "test title", Text: "test text", Timestamp: 21}},
		{"_e{10,9}:test title|test text|p:low", Event{Title: "test title", Text: "test text", Priority: PriorityLow}},
		{"_e{10,9}:test title|test text|h:localhost", Event{Title: "test title", Text: "test text", Hostname: "localhost"}},
		{"_e{10,9}:test title|test text|t:warning", Event{Title: "test title", Text: "test text", AlertType: AlertWarning}},
		{"_e{10,9}:test title|test text|k:some aggregation key", Event{Title: "test title", Text: "test text", AggregationKey: "some aggregation key"}},
		{"_e{10,9}:test title|test text|s:this is the source", Event{Title: "test title", Text: "test text", SourceType: "this is the source"}},
		{"_e{10,9}:test title|test text|#tag1,tag2:test", Event{Title: "test title", Text: "test text", Tags: []string{"tag1", "tag2:test"}}},
		{"_e{10,9}:test title|test text|t:warning|d:12345|p:low|h:some.host|k:aggKey|s:source test|#tag1,tag2:test", Event{
			Title: "test title", Text: "test text", Timestamp: 12345, Priority: PriorityLow, Hostname: "some.host",
			AggregationKey: "aggKey", SourceType: "source test", AlertType: AlertWarning, Tags: []string{"tag1", "tag2:test"},
		}},
		// Agent: TestEventEmptyText, TestEventEmptyTextWithAlertType.
		{"_e{10,0}:test title|", Event{Title: "test title"}},
		{"_e{10,0}:test title||t:warning", Event{Title: "test title", AlertType: AlertWarning}},
		// Invalid optional values are ignored, not fatal (agent: TestEventError).
		{"_e{5,4}:title|text|d:abc", Event{Title: "title", Text: "text"}},
		{"_e{5,4}:title|text|p:urgent", Event{Title: "title", Text: "text"}},
		{"_e{5,4}:title|text|t:test", Event{Title: "title", Text: "text"}},
		{"_e{5,4}:title|text|x:1234", Event{Title: "title", Text: "text"}},
		{"_e{5,4}:title|text|p:low|p:urgent", Event{Title: "title", Text: "text", Priority: PriorityLow}},
		// Every alert type and priority; the last repeated field wins.
		{"_e{1,1}:a|b|t:error", Event{Title: "a", Text: "b", AlertType: AlertError}},
		{"_e{1,1}:a|b|t:success", Event{Title: "a", Text: "b", AlertType: AlertSuccess}},
		{"_e{1,1}:a|b|t:error|t:info", Event{Title: "a", Text: "b", AlertType: AlertInfo}},
		{"_e{1,1}:a|b|p:low|p:normal", Event{Title: "a", Text: "b", Priority: PriorityNormal}},
		{"_e{1,1}:a|b|d:1|d:-2", Event{Title: "a", Text: "b", Timestamp: -2}},
		// Host: h: wins over a host: tag; the host: tag is removed from the tags either way.
		{"_e{1,1}:a|b|#env:x,host:tagged", Event{Title: "a", Text: "b", Hostname: "tagged", Tags: []string{"env:x"}}},
		{"_e{1,1}:a|b|h:field|#host:tagged,env:x", Event{Title: "a", Text: "b", Hostname: "field", Tags: []string{"env:x"}}},
		{"_e{1,1}:a|b|#host:tagged|h:", Event{Title: "a", Text: "b", Hostname: "tagged"}},
		{"_e{1,1}:a|b|#a|#b", Event{Title: "a", Text: "b", Tags: []string{"b"}}},
		// Origin fields.
		{"_e{1,1}:a|b|c:ci-123|e:cn-web|card:orchestrator", Event{Title: "a", Text: "b", ContainerID: "ci-123", ExternalData: "cn-web", Cardinality: "orchestrator"}},
		// Internal tags (agent: TestEventOriginTag).
		{"_e{10,9}:test title|test text|t:warning|d:12345|p:low|h:some.host|k:aggKey|s:source test|#tag1,tag2:test,dd.internal.entity_id:testID", Event{
			Title: "test title", Text: "test text", Timestamp: 12345, Priority: PriorityLow, Hostname: "some.host",
			AggregationKey: "aggKey", SourceType: "source test", AlertType: AlertWarning, Tags: []string{"tag1", "tag2:test"}, PodUID: "testID",
		}},
		{"_e{1,1}:a|b|#dd.internal.card:none,dd.internal.jmx_check_name:x,host:h|card:low", Event{Title: "a", Text: "b", Hostname: "h", CardinalityTag: "none", Cardinality: "low"}},
		{"_e{1,1}:a|b|#dd.internal.entity_id:p|#env:x", Event{Title: "a", Text: "b", Tags: []string{"env:x"}}},
		// Lengths count bytes: multi-byte UTF-8 titles and texts.
		{"_e{6,6}:héllo|wörld", Event{Title: "héllo", Text: "wörld"}},
		{"_e{24,6}:日本語のタイトル|本文", Event{Title: "日本語のタイトル", Text: "本文"}},
		{"_e{14,4}:\U0001F525 fire \U0001F525|text|#k:v", Event{Title: "\U0001F525 fire \U0001F525", Text: "text", Tags: []string{"k:v"}}},
	}
	for _, tc := range cases {
		t.Run(tc.line, func(t *testing.T) {
			got, err := newTestParser().ParseEvent([]byte(tc.line))
			if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestParseEventByteLengthsFromClient(t *testing.T) {
	// Build events the way datadog-go does: lengths are len() of the UTF-8 bytes, and the text
	// length counts the two-byte escape of each newline.
	for _, ev := range []struct{ title, text string }{
		{"ünïcödé", "tëxt wïth | pipe"},
		{"Ω", "line one\nline two\nline three"},
		{"title|with|pipes", "😀"},
	} {
		escaped := []byte{}
		for _, b := range []byte(ev.text) {
			if b == '\n' {
				escaped = append(escaped, '\\', 'n')
			} else {
				escaped = append(escaped, b)
			}
		}
		line := fmt.Sprintf("_e{%d,%d}:%s|%s|#a:b", len(ev.title), len(escaped), ev.title, escaped)
		got, err := newTestParser().ParseEvent([]byte(line))
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		if got.Title != ev.title || got.Text != ev.text || !reflect.DeepEqual(got.Tags, []string{"a:b"}) {
			t.Fatalf("%q: got %+v", line, got)
		}
	}
}

func TestParseEventErrors(t *testing.T) {
	for _, line := range []string{
		// Agent: TestEventError, TestEventEmptyTitle.
		"_e:title|text",
		"_e{10,10}:title|text",
		"_e{0,0}:a|a",
		"_e{0,4}:text",
		"_e{5555:title|text",
		"_e{a,1}:title|text",
		"_e{1,a}:title|text",
		"_e{5,}:title|text",
		"_e{,4}:title|text",
		"_e{}:title|text",
		"_e{,}:title|text",
		"_e|text",
		"_e:|text",
		"_e{-123,-987}:",
		"_e{5,-987}:title",
		"_e{0001,-9876",
		"_e{0,9}:|test text",
		// Stricter than the agent: the lengths must land on the separators.
		"_e{4,4}:title|text",  // title length one short: byte after it is 'e', not '|'
		"_e{5,3}:title|text",  // text length one short: 't' follows the text
		"_e{5,4}:title|textX", // trailing garbage after the text
		"_e{5,4}title|text",   // no ':' after the header
		"_e{5,4]:title|text",
		"_e{+5,4}:title|text",
		"_e{99999999999999999999999,1}:a|b",
		"_e{5,4}:héllo|text", // a client counting characters instead of bytes
		"_e{",
		"_e{1,1}:a|b\xff",
		"_x{1,1}:a|b",
	} {
		t.Run(line, func(t *testing.T) {
			_, err := newTestParser().ParseEvent([]byte(line))
			r := ReasonOf(err)
			if r != ReasonBadEvent && r != ReasonInvalidUTF8 {
				t.Fatalf("err = %v, want bad_event", err)
			}
		})
	}
}

func TestEventEnumStrings(t *testing.T) {
	if PriorityNormal.String() != "normal" || PriorityLow.String() != "low" {
		t.Fatal("priority labels")
	}
	for a, want := range map[AlertType]string{AlertInfo: "info", AlertSuccess: "success", AlertWarning: "warning", AlertError: "error"} {
		if a.String() != want {
			t.Fatalf("%d: %q want %q", a, a.String(), want)
		}
	}
}

func TestEventStringsDoNotAliasLine(t *testing.T) {
	line := []byte("_e{5,4}:title|text|h:host|k:key|s:src|#a:b|c:cid|e:ext|card:low")
	ev, err := newTestParser().ParseEvent(line)
	if err != nil {
		t.Fatal(err)
	}
	for i := range line {
		line[i] = '#'
	}
	want := Event{Title: "title", Text: "text", Hostname: "host", AggregationKey: "key", SourceType: "src",
		Tags: []string{"a:b"}, ContainerID: "cid", ExternalData: "ext", Cardinality: "low"}
	if !reflect.DeepEqual(ev, want) {
		t.Fatalf("event changed with its line: %+v", ev)
	}
}
