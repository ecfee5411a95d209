package parse

import (
	"reflect"
	"testing"
)

func TestParseServiceCheck(t *testing.T) {
	cases := []struct {
		line string
		want ServiceCheck
	}{
		// Agent: TestServiceCheckMinimal, TestServiceCheckMetadata*.
		{"_sc|agent.up|0", ServiceCheck{Name: "agent.up", Status: StatusOK}},
		{"_sc|agent.up|0|d:21", ServiceCheck{Name: "agent.up", Timestamp: 21}},
		{"_sc|agent.up|0|h:localhost", ServiceCheck{Name: "agent.up", Hostname: "localhost"}},
		{"_sc|agent.up|0|#tag1,tag2:test,tag3", ServiceCheck{Name: "agent.up", Tags: []string{"tag1", "tag2:test", "tag3"}}},
		{"_sc|agent.up|0|m:this is fine", ServiceCheck{Name: "agent.up", Message: "this is fine"}},
		{"_sc|agent.up|0|d:21|h:localhost|#tag1:test,tag2|m:this is fine", ServiceCheck{
			Name: "agent.up", Timestamp: 21, Hostname: "localhost", Tags: []string{"tag1:test", "tag2"}, Message: "this is fine",
		}},
		{"_sc|agent.up|0|d:21|h:localhost|h:localhost2|d:22", ServiceCheck{Name: "agent.up", Timestamp: 22, Hostname: "localhost2"}},
		// Invalid timestamp and unknown fields are ignored (agent: TestServiceCheckError).
		{"_sc|agent.up|0|d:some_time", ServiceCheck{Name: "agent.up"}},
		{"_sc|agent.up|0|u:unknown", ServiceCheck{Name: "agent.up"}},
		// Every status.
		{"_sc|a|1", ServiceCheck{Name: "a", Status: StatusWarning}},
		{"_sc|a|2", ServiceCheck{Name: "a", Status: StatusCritical}},
		{"_sc|Redis connection|3", ServiceCheck{Name: "Redis connection", Status: StatusUnknown}},
		// The message comes last but fields after it are still read, as clients put |c: there.
		{"_sc|a|2|#env:dev|m:Redis timed out|c:abc|e:cn-x|card:low", ServiceCheck{
			Name: "a", Status: StatusCritical, Tags: []string{"env:dev"}, Message: "Redis timed out",
			ContainerID: "abc", ExternalData: "cn-x", Cardinality: "low",
		}},
		// The official clients escape newlines and "m:" in messages; undo it.
		{`_sc|a|1|m:line one\nline two m\: colon`, ServiceCheck{Name: "a", Status: StatusWarning, Message: "line one\nline two m: colon"}},
		// A '|' ends the message (as in the agent).
		{"_sc|a|0|m:before|after", ServiceCheck{Name: "a", Message: "before"}},
		// Host tags and h:.
		{"_sc|a|0|#host:h1,env:a", ServiceCheck{Name: "a", Hostname: "h1", Tags: []string{"env:a"}}},
		{"_sc|a|0|#host:h1|h:h2", ServiceCheck{Name: "a", Hostname: "h2"}},
		{"_sc|a|0|#a|#b", ServiceCheck{Name: "a", Tags: []string{"b"}}},
		// Internal tags, as Java clients send them (from a real kafka check payload).
		{"_sc|kafka.can_connect|2|#env:staging,service:datadog-agent,dd.internal.entity_id:none,dd.internal.card:none,instance:kafka-127.0.0.1-9999|m:Unable to connect", ServiceCheck{
			Name: "kafka.can_connect", Status: StatusCritical, Message: "Unable to connect", PodUID: "none", CardinalityTag: "none",
			Tags: []string{"env:staging", "service:datadog-agent", "instance:kafka-127.0.0.1-9999"},
		}},
		{"_sc|a|0|#dd.internal.entity_id:uid-1,dd.internal.card:high", ServiceCheck{Name: "a", PodUID: "uid-1", CardinalityTag: "high"}},
		{"_sc|a|0||m:x|", ServiceCheck{Name: "a", Message: "x"}},
	}
	for _, tc := range cases {
		t.Run(tc.line, func(t *testing.T) {
			got, err := newTestParser().ParseServiceCheck([]byte(tc.line))
			if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestParseServiceCheckErrors(t *testing.T) {
	for _, line := range []string{
		// Agent: TestServiceCheckError.
		"_sc|agent.up",
		"_sc|agent.up|",
		"_sc||",
		"_sc|",
		"_sc|agent.up|OK",
		"_sc|agent.up|21",
		// Statuses outside 0..3.
		"_sc|a|4",
		"_sc|a|-1",
		"_sc|a|00",
		"_sc||0",
		"_sc",
		"_scx|a|0",
	} {
		t.Run(line, func(t *testing.T) {
			if _, err := newTestParser().ParseServiceCheck([]byte(line)); ReasonOf(err) != ReasonBadServiceCheck {
				t.Fatalf("err = %v, want bad_service_check", err)
			}
		})
	}
}

func TestServiceCheckStatusString(t *testing.T) {
	for s, want := range map[ServiceCheckStatus]string{StatusOK: "ok", StatusWarning: "warning", StatusCritical: "critical", StatusUnknown: "unknown"} {
		if s.String() != want {
			t.Fatalf("%d: %q want %q", s, s.String(), want)
		}
	}
}
