package parse

import (
	"reflect"
	"testing"
)

// The Agent's event tests (parse_events_test.go, and the event cases of enrich_test.go); see
// agent_metrics_test.go for how the tables are read.

type agentEventCase struct {
	agent   string
	line    string
	want    Event
	reason  Reason // 0: accepted
	differs string
}

func agentEventCases() []agentEventCase {
	const title, text = "test title", "test text"
	base := Event{Title: title, Text: text}
	with := func(f func(*Event)) Event { e := base; f(&e); return e }
	cases := []agentEventCase{
		{agent: "TestEventMinimal", line: "_e{10,9}:test title|test text", want: base},
		{agent: "TestEventMultilinesText", line: `_e{10,24}:test title|test\line1\nline2\nline3`, want: Event{Title: title, Text: "test\\line1\nline2\nline3"}},
		{agent: "TestEventPipeInTitle", line: `_e{10,24}:test|title|test\line1\nline2\nline3`, want: Event{Title: "test|title", Text: "test\\line1\nline2\nline3"}},
		{agent: "TestEventMetadataTimestamp", line: "_e{10,9}:test title|test text|d:21", want: with(func(e *Event) { e.Timestamp = 21 })},
		{agent: "TestEventMetadataPriority", line: "_e{10,9}:test title|test text|p:low", want: with(func(e *Event) { e.Priority = PriorityLow })},
		{agent: "TestEventMetadataHostname", line: "_e{10,9}:test title|test text|h:localhost", want: with(func(e *Event) { e.Hostname = "localhost" })},
		{agent: "TestEventMetadataAlertType", line: "_e{10,9}:test title|test text|t:warning", want: with(func(e *Event) { e.AlertType = AlertWarning })},
		{agent: "TestEventMetadataAggregatioKey", line: "_e{10,9}:test title|test text|k:some aggregation key", want: with(func(e *Event) { e.AggregationKey = "some aggregation key" })},
		{agent: "TestEventMetadataSourceType", line: "_e{10,9}:test title|test text|s:this is the source", want: with(func(e *Event) { e.SourceType = "this is the source" })},
		{agent: "TestEventMetadataTags", line: "_e{10,9}:test title|test text|#tag1,tag2:test", want: with(func(e *Event) { e.Tags = []string{"tag1", "tag2:test"} })},
		{agent: "TestEventMetadataMultiple", line: "_e{10,9}:test title|test text|t:warning|d:12345|p:low|h:some.host|k:aggKey|s:source test|#tag1,tag2:test",
			want: Event{Title: title, Text: text, Timestamp: 12345, Priority: PriorityLow, Hostname: "some.host", AggregationKey: "aggKey",
				SourceType: "source test", AlertType: AlertWarning, Tags: []string{"tag1", "tag2:test"}}},
		{agent: "TestEventEmptyTitle", line: "_e{0,9}:|test text", reason: ReasonBadEvent},
		{agent: "TestEventEmptyText", line: "_e{10,0}:test title|", want: Event{Title: title}},
		{agent: "TestEventEmptyTextWithAlertType", line: "_e{10,0}:test title||t:warning", want: Event{Title: title, AlertType: AlertWarning}},

		// Optional fields the Agent does not understand are ignored, the event kept.
		{agent: "TestEventError", line: "_e{5,4}:title|text|d:abc", want: Event{Title: "title", Text: "text"}},
		{agent: "TestEventError", line: "_e{5,4}:title|text|p:urgent", want: Event{Title: "title", Text: "text"}},
		{agent: "TestEventError", line: "_e{5,4}:title|text|t:test", want: Event{Title: "title", Text: "text"}},
		{agent: "TestEventError", line: "_e{5,4}:title|text|x:1234", want: Event{Title: "title", Text: "text"}},

		// enrich_test.go: the host, from `h:` or a `host:` tag (removed from the tags).
		{agent: "TestConvertEventMinimal", line: "_e{10,9}:test title|test text", want: base, differs: diffDefaultHost},
		{agent: "TestConvertEventMetadataHostnameInTag", line: "_e{10,9}:test title|test text|#host:localhost", want: with(func(e *Event) { e.Hostname = "localhost" })},
		{agent: "TestConvertEventMetadataEmptyHostTag", line: "_e{10,9}:test title|test text|#host:,other:tag", want: with(func(e *Event) { e.Tags = []string{"other:tag"} })},
		{agent: "TestEventOriginTag", line: "_e{10,9}:test title|test text|t:warning|d:12345|p:low|h:some.host|k:aggKey|s:source test|#tag1,tag2:test,dd.internal.entity_id:testID",
			want: Event{Title: title, Text: text, Timestamp: 12345, Priority: PriorityLow, Hostname: "some.host", AggregationKey: "aggKey",
				SourceType: "source test", AlertType: AlertWarning, Tags: []string{"tag1", "tag2:test"}, PodUID: "testID"},
			differs: diffInternalTags},
		// server_test.go testContainerIDParsing: its title length (10) is one short of "event
		// title", so the lengths do not land on the '|'. The Agent keeps the garbled event.
		{agent: "testContainerIDParsing", line: `_e{10,10}:event title|test\ntext|c:event-container`, reason: ReasonBadEvent, differs: diffEventLengths},
	}
	for _, line := range []string{
		"_e:title|text", "_e{10,10}:title|text", "_e{0,0}:a|a", "_e{0,4}:text", "_e{5555:title|text",
		"_e{a,1}:title|text", "_e{1,a}:title|text", "_e{5,}:title|text", "_e{,4}:title|text", "_e{}:title|text",
		"_e{,}:title|text", "_e|text", "_e:|text", "_e{-123,-987}:", "_e{5,-987}:title", "_e{0001,-9876",
	} {
		cases = append(cases, agentEventCase{agent: "TestEventError", line: line, reason: ReasonBadEvent})
	}
	return cases
}

func TestAgentEventCases(t *testing.T) {
	for _, tc := range agentEventCases() {
		for _, pc := range agentParsers {
			t.Run(tc.agent+"/"+tc.line+"/"+pc.name, func(t *testing.T) {
				got, err := pc.new().ParseEvent([]byte(tc.line))
				if tc.reason != 0 {
					if ReasonOf(err) != tc.reason {
						t.Fatalf("err %v, want reason %s", err, tc.reason)
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
