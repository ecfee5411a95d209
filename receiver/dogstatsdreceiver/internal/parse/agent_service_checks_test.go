package parse

import (
	"reflect"
	"testing"
)

// The Agent's service check tests (parse_service_checks_test.go, and the service check cases of
// enrich_test.go); see agent_metrics_test.go for how the tables are read.

type agentServiceCheckCase struct {
	agent   string
	line    string
	want    ServiceCheck
	reason  Reason // 0: accepted
	differs string
}

func agentServiceCheckCases() []agentServiceCheckCase {
	up := ServiceCheck{Name: "agent.up", Status: StatusOK}
	with := func(f func(*ServiceCheck)) ServiceCheck { sc := up; f(&sc); return sc }
	cases := []agentServiceCheckCase{
		{agent: "TestServiceCheckMinimal", line: "_sc|agent.up|0", want: up},
		{agent: "TestServiceCheckError", line: "_sc|agent.up|0|d:some_time", want: up},
		{agent: "TestServiceCheckError", line: "_sc|agent.up|0|u:unknown", want: up},
		{agent: "TestServiceCheckMetadataTimestamp", line: "_sc|agent.up|0|d:21", want: with(func(sc *ServiceCheck) { sc.Timestamp = 21 })},
		{agent: "TestServiceCheckMetadataHostname", line: "_sc|agent.up|0|h:localhost", want: with(func(sc *ServiceCheck) { sc.Hostname = "localhost" })},
		{agent: "TestServiceCheckMetadataTags", line: "_sc|agent.up|0|#tag1,tag2:test,tag3", want: with(func(sc *ServiceCheck) { sc.Tags = []string{"tag1", "tag2:test", "tag3"} })},
		{agent: "TestServiceCheckMetadataMessage", line: "_sc|agent.up|0|m:this is fine", want: with(func(sc *ServiceCheck) { sc.Message = "this is fine" })},
		{agent: "TestServiceCheckMetadataMultiple", line: "_sc|agent.up|0|d:21|h:localhost|#tag1:test,tag2|m:this is fine", want: with(func(sc *ServiceCheck) {
			sc.Timestamp, sc.Hostname, sc.Tags, sc.Message = 21, "localhost", []string{"tag1:test", "tag2"}, "this is fine"
		})},
		{agent: "TestServiceCheckMetadataMultiple (repeated fields)", line: "_sc|agent.up|0|d:21|h:localhost|h:localhost2|d:22",
			want: with(func(sc *ServiceCheck) { sc.Timestamp, sc.Hostname = 22, "localhost2" })},

		// enrich_test.go: the host, from `h:` or a `host:` tag (removed from the tags).
		{agent: "TestConvertServiceCheckMinimal", line: "_sc|agent.up|0", want: up, differs: diffDefaultHost},
		{agent: "TestConvertServiceCheckMetadataHostnameInTag", line: "_sc|agent.up|0|#host:localhost", want: with(func(sc *ServiceCheck) { sc.Hostname = "localhost" })},
		{agent: "TestConvertServiceCheckMetadataEmptyHostTag", line: "_sc|agent.up|0|#host:,other:tag", want: with(func(sc *ServiceCheck) { sc.Tags = []string{"other:tag"} })},
		{agent: "TestServiceCheckOriginTag", line: "_sc|agent.up|0|d:21|h:localhost|#tag1:test,tag2,dd.internal.entity_id:testID|m:this is fine", want: with(func(sc *ServiceCheck) {
			sc.Timestamp, sc.Hostname, sc.Message = 21, "localhost", "this is fine"
			sc.Tags, sc.PodUID = []string{"tag1:test", "tag2"}, "testID"
		}), differs: diffInternalTags},
		// server_test.go testContainerIDParsing.
		{agent: "testContainerIDParsing", line: "_sc|service-check.name|0|c:service-check-container",
			want: ServiceCheck{Name: "service-check.name", ContainerID: "service-check-container"}},
		// The Agent keeps a message as sent; the official clients escape newlines and "m:".
		{agent: "parseServiceCheck (message kept as sent)", line: `_sc|agent.up|1|m:line one\nline two m\: x`,
			want: ServiceCheck{Name: "agent.up", Status: StatusWarning, Message: "line one\nline two m: x"}, differs: diffCheckEscapes},
	}
	for _, line := range []string{"_sc|agent.up", "_sc|agent.up|", "_sc||", "_sc|", "_sc|agent.up|OK", "_sc|agent.up|21"} {
		cases = append(cases, agentServiceCheckCase{agent: "TestServiceCheckError", line: line, reason: ReasonBadServiceCheck})
	}
	return cases
}

func TestAgentServiceCheckCases(t *testing.T) {
	for _, tc := range agentServiceCheckCases() {
		for _, pc := range agentParsers {
			t.Run(tc.agent+"/"+tc.line+"/"+pc.name, func(t *testing.T) {
				got, err := pc.new().ParseServiceCheck([]byte(tc.line))
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
