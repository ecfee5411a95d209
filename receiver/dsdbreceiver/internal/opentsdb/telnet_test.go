package opentsdb

import (
	"fmt"
	"strings"
	"testing"
)

// want is an accepted point, written as "metric ts(ms) value tags…" with the value as %v of
// an int64 or a float64.
func describe(p *Point) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %d", p.Metric, p.Timestamp)
	if p.IsInt {
		fmt.Fprintf(&b, " int:%d", p.Int)
	} else {
		fmt.Fprintf(&b, " float:%v", p.Float)
	}
	for _, t := range p.Tags {
		fmt.Fprintf(&b, " %s=%s", t.Key, t.Value)
	}
	return b.String()
}

// TestTelnetConformance: the put examples of OpenTSDB's docs (user_guide/writing,
// api_telnet/put) and the failures of PutDataPointRpc.importDataPoint, Tags.parse/parseLong and
// TSDB.addPoint, with the reply OpenTSDB 2.4 writes for each.
func TestTelnetConformance(t *testing.T) {
	nine := "a=1 b=2 c=3 d=4 e=5 f=6 g=7 h=8 i=9"
	tests := []struct {
		line   string
		accept string // the point, when accepted
		reply  string // OpenTSDB's reply, when rejected
		reason Reason
	}{
		// Accepted: the docs' examples.
		{line: "put sys.cpu.user 1356998400 42.5 host=webserver01 cpu=0", accept: "sys.cpu.user 1356998400000 float:42.5 host=webserver01 cpu=0"},
		{line: "put sys.cpu.nice 1346846400 50 hostname=web01", accept: "sys.cpu.nice 1346846400000 int:50 hostname=web01"},
		{line: "put sys.if.bytes.out 1366151468 1234 host=web01 interface=eth0", accept: "sys.if.bytes.out 1366151468000 int:1234 host=web01 interface=eth0"},
		// Milliseconds: more than 32 bits, or seconds.millis with the dot dropped.
		{line: "put sys.cpu.user 1356998400500 42.5 host=a", accept: "sys.cpu.user 1356998400500 float:42.5 host=a"},
		{line: "put sys.cpu.user 1356998400.500 42.5 host=a", accept: "sys.cpu.user 1356998400500 float:42.5 host=a"},
		{line: "put m 4294967295 1 a=b", accept: "m 4294967295000 int:1 a=b"},
		{line: "put m 4294967296 1 a=b", accept: "m 4294967296 int:1 a=b"},
		{line: "put m 9999999999999 1 a=b", accept: "m 9999999999999 int:1 a=b"},
		// Values: integers (looksLikeInteger) and floats.
		{line: "put m 1356998400 -9223372036854775808 a=b", accept: "m 1356998400000 int:-9223372036854775808 a=b"},
		{line: "put m 1356998400 +7 a=b", accept: "m 1356998400000 int:7 a=b"},
		{line: "put m 1356998400 1e3 a=b", accept: "m 1356998400000 float:1000 a=b"},
		{line: "put m 1356998400 -.5 a=b", accept: "m 1356998400000 float:-0.5 a=b"},
		// Tags: empty words are skipped, a repeated tag with the same value is one tag.
		{line: "put m 1356998400 1 a=b  c=d ", accept: "m 1356998400000 int:1 a=b c=d"},
		{line: "put m 1356998400 1 host=a host=a", accept: "m 1356998400000 int:1 host=a"},
		{line: "put m 1356998400 1 a=1 b=2 c=3 d=4 e=5 f=6 g=7 h=8", accept: "m 1356998400000 int:1 a=1 b=2 c=3 d=4 e=5 f=6 g=7 h=8"},
		// Unicode letters are allowed (Character.isLetter), and "-_./".
		{line: "put système.cpu_x-y/z 1356998400 1 hôte=wéb", accept: "système.cpu_x-y/z 1356998400000 int:1 hôte=wéb"},
		{line: "put m 1356998400 1 a=b\r", accept: "m 1356998400000 int:1 a=b"},

		// Rejected, with OpenTSDB's reply.
		{line: "put", reply: "put: illegal argument: not enough arguments (need least 4, got 0)\n", reason: ReasonNotEnoughArguments},
		{line: "put sys.cpu.user 1356998400 42.5", reply: "put: illegal argument: not enough arguments (need least 4, got 3)\n", reason: ReasonNotEnoughArguments},
		{line: "put  1356998400 42.5 host=a", reply: "put: illegal argument: empty metric name\n", reason: ReasonEmptyMetric},
		{line: "put m 13x 1 a=b", reply: "put: invalid value: Invalid character 'x' in 13x\n", reason: ReasonInvalidTimestamp},
		{line: "put m 0 1 a=b", reply: "put: illegal argument: invalid timestamp: 0\n", reason: ReasonInvalidTimestamp},
		{line: "put m -5 1 a=b", reply: "put: illegal argument: invalid timestamp: -5\n", reason: ReasonInvalidTimestamp},
		{line: "put m 99999999999999999999 1 a=b", reply: "put: invalid value: Value too long: 99999999999999999999\n", reason: ReasonInvalidTimestamp},
		{line: "put m 10000000000000 1 a=b", reply: "put: illegal argument: bad timestamp=10000000000000 when trying to add value=1 to metric=m, tags={a=b}\n", reason: ReasonBadTimestamp},
		{line: "put m 1356998400  a=b", reply: "put: illegal argument: empty value\n", reason: ReasonEmptyValue},
		{line: "put m 1356998400 abc a=b", reply: "put: invalid value: Invalid character 'a' in abc\n", reason: ReasonInvalidValue},
		{line: "put m 1356998400 NaN a=b", reply: "put: invalid value: Invalid character 'N' in NaN\n", reason: ReasonInvalidValue},
		{line: "put m 1356998400 + a=b", reply: "put: invalid value: Just a sign, no value: +\n", reason: ReasonInvalidValue},
		{line: "put m 1356998400 9223372036854775808 a=b", reply: "put: invalid value: Overflow in 9223372036854775808\n", reason: ReasonInvalidValue},
		{line: "put m 1356998400 1.5x a=b", reply: "put: invalid value: For input string: \"1.5x\"\n", reason: ReasonInvalidValue},
		{line: "put m 1356998400 1e999 a=b", reply: "put: illegal argument: value is NaN or Infinite: Infinity for metric=m timestamp=1356998400\n", reason: ReasonNaNValue},
		{line: "put m 1356998400 1 host", reply: "put: illegal argument: invalid tag: host\n", reason: ReasonInvalidTag},
		{line: "put m 1356998400 1 =b", reply: "put: illegal argument: invalid tag: =b\n", reason: ReasonInvalidTag},
		{line: "put m 1356998400 1 a=", reply: "put: illegal argument: invalid tag: a=\n", reason: ReasonInvalidTag},
		{line: "put m 1356998400 1 a=b=c", reply: "put: illegal argument: invalid tag: a=b=c\n", reason: ReasonInvalidTag},
		{line: "put m 1356998400 1 host=a host=b", reply: "put: illegal argument: duplicate tag: host=b, tags={host=a}\n", reason: ReasonDuplicateTag},
		{line: "put m 1356998400 1 ", reply: "put: illegal argument: Need at least one tag (metric=m, tags={})\n", reason: ReasonMissingTags},
		{line: "put m 1356998400 1 " + nine, reply: "put: illegal argument: Too many tags: 9 maximum allowed: 8, tags: {a=1, b=2, c=3, d=4, e=5, f=6, g=7, h=8, i=9}\n", reason: ReasonTooManyTags},
		{line: "put m!x 1356998400 1 a=b", reply: "put: illegal argument: Invalid metric name (\"m!x\"): illegal character: !\n", reason: ReasonIllegalCharacter},
		{line: "put m 1356998400 1 a!=b", reply: "put: illegal argument: Invalid tag name with value [b] (\"a!\"): illegal character: !\n", reason: ReasonIllegalCharacter},
		{line: "put m 1356998400 1 a=b!", reply: "put: illegal argument: Invalid tag value with key [a] (\"b!\"): illegal character: !\n", reason: ReasonIllegalCharacter},
		{line: "put m\xff 1356998400 1 a=b", reply: "put: illegal argument: Invalid metric name (\"m\\xff\"): illegal character: \ufffd\n", reason: ReasonIllegalCharacter},
		{line: "foo bar", reply: "unknown command: foo.  Try `help'.\n", reason: ReasonUnknownCommand},
		{line: "PUT m 1356998400 1 a=b", reply: "unknown command: PUT.  Try `help'.\n", reason: ReasonUnknownCommand},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			lp := LineParser{Rules: Rules{MaxTags: 8}}
			line := strings.TrimSuffix(tt.line, "\r")
			if strings.HasSuffix(tt.line, "\r") {
				line = tt.line[:len(tt.line)-1] // the connection trims '\r'; the parser sees the rest
			}
			cmd, p, rej := lp.Parse([]byte(line))
			if tt.accept != "" {
				if rej != nil {
					t.Fatalf("rejected: %s", AppendReply(nil, rej))
				}
				if cmd != CmdPut || describe(p) != tt.accept {
					t.Fatalf("got %v %q, want %q", cmd, describe(p), tt.accept)
				}
				return
			}
			if rej == nil {
				t.Fatalf("accepted %q, want the reply %q", describe(p), tt.reply)
			}
			if got := string(AppendReply(nil, rej)); got != tt.reply || rej.Reason != tt.reason {
				t.Fatalf("reply %q (%s), want %q (%s)", got, rej.Reason, tt.reply, tt.reason)
			}
		})
	}
}

func TestTelnetCommands(t *testing.T) {
	lp := LineParser{Rules: Rules{MaxTags: 8}}
	for line, want := range map[string]Command{"": CmdNone, "version": CmdVersion, "help": CmdHelp, "exit": CmdExit} {
		if cmd, _, rej := lp.Parse([]byte(line)); cmd != want || rej != nil {
			t.Errorf("%q: %v %v, want %v", line, cmd, rej, want)
		}
	}
}

func TestAllowSpecialChars(t *testing.T) {
	lp := LineParser{Rules: Rules{MaxTags: 8, AllowSpecialChars: "!:"}}
	if _, _, rej := lp.Parse([]byte("put m!x 1356998400 1 a:b=c!")); rej != nil {
		t.Fatalf("rejected with allow_special_chars: %s", rej.Msg)
	}
}

// TestManyTagsBounded: a line of many thousands of tags is refused without keeping more than
// max_tags + 1 of them.
func TestManyTagsBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("put m 1356998400 1")
	for i := range 100_000 {
		fmt.Fprintf(&b, " k%d=v", i)
	}
	lp := LineParser{Rules: Rules{MaxTags: 8}}
	_, _, rej := lp.Parse([]byte(b.String()))
	if rej == nil || rej.Reason != ReasonTooManyTags || !strings.HasPrefix(rej.Msg, "Too many tags: 100000 maximum allowed: 8") {
		t.Fatalf("got %v", rej)
	}
	if len(lp.p.Tags) > 9 {
		t.Fatalf("kept %d tags", len(lp.p.Tags))
	}
}

// learner is a LineParser.Lookup that knows the metric and tags text of every line a full
// parse accepted.
type learner struct {
	ids map[string]int32
	key []byte
}

func newLearner() *learner { return &learner{ids: map[string]int32{}} }

func (l *learner) lookup(metric, tagsText []byte) int32 {
	l.key = append(append(append(l.key[:0], metric...), ' '), tagsText...)
	if id, ok := l.ids[string(l.key)]; ok {
		return id
	}
	return -1
}

func (l *learner) learn(line string) {
	lp := LineParser{Rules: Rules{MaxTags: 8}}
	if _, p, rej := lp.Parse([]byte(line)); p != nil && rej == nil {
		l.ids[string(p.Metric)+" "+string(p.TagsText)] = int32(len(l.ids))
	}
}

// sameAnswer parses line in full and with Lookup, and fails unless both give the same point
// (but for the tags, which a known series skips) or the same reply; it reports whether the
// parse with Lookup took the known path.
func sameAnswer(t *testing.T, l *learner, line []byte) bool {
	t.Helper()
	full := LineParser{Rules: Rules{MaxTags: 8}}
	known := LineParser{Rules: Rules{MaxTags: 8}, Lookup: l.lookup}
	cmd1, p1, rej1 := full.Parse(line)
	var want, wantReply string
	if p1 != nil {
		tags := p1.Tags
		p1.Tags = nil
		want = describe(p1)
		p1.Tags = tags
	}
	if rej1 != nil {
		wantReply = string(AppendReply(nil, rej1))
	}
	cmd2, p2, rej2 := known.Parse(line)
	var got, gotReply string
	if p2 != nil {
		if p2.Series >= 0 && len(p2.Tags) != 0 {
			t.Fatalf("%q: known series with tags %v", line, p2.Tags)
		}
		tags := p2.Tags
		p2.Tags = nil
		got = describe(p2)
		p2.Tags = tags
	}
	if rej2 != nil {
		gotReply = string(AppendReply(nil, rej2))
	}
	if cmd1 != cmd2 || got != want || gotReply != wantReply {
		t.Fatalf("%q: with Lookup %v %q %q, in full %v %q %q", line, cmd2, got, gotReply, cmd1, want, wantReply)
	}
	if p1 != nil && p1.Series != -1 {
		t.Fatalf("%q: a full parse gave Series %d", line, p1.Series)
	}
	return p2 != nil && p2.Series >= 0
}

// TestLookupGivesTheSameAnswers: a line of a series the parser's Lookup knows skips the tag
// checks, and still gets the point or the reply a full parse gives, whatever its timestamp
// and value.
func TestLookupGivesTheSameAnswers(t *testing.T) {
	l := newLearner()
	l.learn("put sys.cpu.user 1356998400 42.5 host=webserver01 cpu=0")
	l.learn("put m 1356998400 1 a=b  c=d ")
	tags := []string{"host=webserver01 cpu=0"}
	hits := 0
	for _, rest := range []string{
		"1356998400 42.5", "1356998400500 7", "1356998400.500 -.5", "4294967296 1e3", "9999999999999 +7",
		// Rejected with the same replies: timestamp, value, range.
		"13x 1", "0 1", "-5 1", "99999999999999999999 1", "10000000000000 1", "1356998400 ",
		"1356998400 abc", "1356998400 NaN", "1356998400 +", "1356998400 1e999", "1356998400 1.5x",
	} {
		for _, tg := range tags {
			if sameAnswer(t, l, []byte("put sys.cpu.user "+rest+" "+tg)) {
				hits++
			}
		}
		if sameAnswer(t, l, []byte("put m "+rest+" a=b  c=d ")) {
			hits++
		}
		// Same tags under another metric, and the same metric with other tags: checked in full.
		for _, line := range []string{"put m!x " + rest + " a=b  c=d ", "put m " + rest + " a=b  c=d", "put m " + rest + " a=b c=d!"} {
			if sameAnswer(t, l, []byte(line)) {
				t.Fatalf("%q took the known path", line)
			}
		}
	}
	if hits != 10 { // the five accepted values, for both known series
		t.Fatalf("%d lines took the known path, want 10", hits)
	}
}
