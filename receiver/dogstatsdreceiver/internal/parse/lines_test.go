package parse

import (
	"reflect"
	"testing"
)

func collect(packet string) []string {
	var out []string
	for line := range Lines([]byte(packet)) {
		out = append(out, string(line))
	}
	return out
}

func TestLines(t *testing.T) {
	cases := []struct {
		packet string
		want   []string
	}{
		{"", nil},
		{"a:1|c", []string{"a:1|c"}},
		{"a:1|c\n", []string{"a:1|c"}},
		{"a:1|c\nb:2|g", []string{"a:1|c", "b:2|g"}},
		{"a:1|c\r\nb:2|g\r\n", []string{"a:1|c", "b:2|g"}},
		{"\n\na:1|c\n\n\nb:2|g\n\n", []string{"a:1|c", "b:2|g"}},
		{"\r\n\r\na:1|c\r", []string{"a:1|c"}},
		// Only the '\r' right before a line end is dropped.
		{"a\rb:1|c\r\r\n", []string{"a\rb:1|c\r"}},
	}
	for _, tc := range cases {
		if got := collect(tc.packet); !reflect.DeepEqual(got, tc.want) {
			t.Fatalf("Lines(%q) = %q, want %q", tc.packet, got, tc.want)
		}
	}
}

func TestLinesStopsWhenAsked(t *testing.T) {
	n := 0
	for range Lines([]byte("a\nb\nc\n")) {
		n++
		if n == 2 {
			break
		}
	}
	if n != 2 {
		t.Fatalf("iterated %d lines after break at 2", n)
	}
}

func TestNextLine(t *testing.T) {
	line, rest := NextLine([]byte("a:1|c\r\nb"))
	if string(line) != "a:1|c" || string(rest) != "b" {
		t.Fatalf("NextLine = %q, %q", line, rest)
	}
	line, rest = NextLine([]byte("b"))
	if string(line) != "b" || rest != nil {
		t.Fatalf("NextLine(last) = %q, %q", line, rest)
	}
}

func TestLineKind(t *testing.T) {
	for line, want := range map[string]Kind{
		"_e{4,5}:title|text|#shell,bash": KindEvent,
		"_sc|NAME|STATUS|d:TIMESTAMP|h:HOSTNAME|#TAG_KEY_1:TAG_VALUE_1,TAG_2|m:SERVICE_CHECK_MESSAGE": KindServiceCheck,
		"song.length:240|h|@0.5": KindMetric,
		"random gibberish":       KindMetric,
		"_sc.metric:1|c":         KindMetric,
		"_e.metric:1|c":          KindMetric,
		"_sc":                    KindMetric,
		"_e":                     KindMetric,
		"":                       KindMetric,
	} {
		if got := LineKind([]byte(line)); got != want {
			t.Fatalf("LineKind(%q) = %s, want %s", line, got, want)
		}
	}
	if KindMetric.String() != "metric" || KindEvent.String() != "event" || KindServiceCheck.String() != "service_check" {
		t.Fatal("kind labels")
	}
}

func TestParseLocalData(t *testing.T) {
	for raw, want := range map[string]LocalData{
		"":                           {},
		"abc123":                     {ContainerID: "abc123"},
		"cid-abc123":                 {ContainerID: "abc123"},
		"ci-abc123":                  {ContainerID: "abc123"},
		"in-42":                      {Inode: 42},
		"ci-abc,in-42":               {ContainerID: "abc", Inode: 42},
		"in-42,ci-abc":               {ContainerID: "abc", Inode: 42},
		"ci-abc,in-notanum":          {ContainerID: "abc"},
		"in-99999999999999999999999": {},
		"ci-abc,xx-1":                {ContainerID: "abc"},
	} {
		if got := ParseLocalData(raw); got != want {
			t.Fatalf("ParseLocalData(%q) = %+v, want %+v", raw, got, want)
		}
	}
}
