package opentsdb

import (
	"bytes"
	"testing"
)

func FuzzLineParser(f *testing.F) {
	for _, s := range []string{
		"put sys.cpu.user 1356998400 42.5 host=webserver01 cpu=0",
		"put sys.cpu.user 1356998400.500 42.5 host=a host=a",
		"put m 1356998400 1e999 a=b", "put  1 1 a=b", "version", "exit", "\x00\xff put",
		"put m 10000000000000 -9223372036854775808 a=b c=d e=f g=h i=j k=l m=n o=p q=r",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		if bytes.IndexByte(line, '\n') >= 0 {
			return // the connection splits lines before the parser sees them
		}
		lp := LineParser{Rules: Rules{MaxTags: 8}}
		cmd, p, rej := lp.Parse(line)
		if cmd == CmdPut && (p == nil) == (rej == nil) {
			t.Fatalf("put with point %v and rejection %v", p, rej)
		}
		if p != nil {
			if len(p.Tags) == 0 || len(p.Tags) > 8 || p.Timestamp <= 0 || len(p.Metric) == 0 {
				t.Fatalf("accepted an invalid point %s", describe(p))
			}
			if _, ok := lp.Rules.validString(p.Metric); !ok {
				t.Fatalf("accepted the metric %q", p.Metric)
			}
		}
		if rej != nil {
			reply := AppendReply(nil, rej)
			if bytes.IndexByte(reply, '\n') != len(reply)-1 {
				t.Fatalf("reply %q is not one line", reply)
			}
		}
	})
}

// FuzzLookup: a line parsed with a Lookup that knows the series of another line (teach) gets
// the answer of a full parse.
func FuzzLookup(f *testing.F) {
	f.Add([]byte("put sys.cpu.user 1356998400 42.5 host=a cpu=0"), []byte("put sys.cpu.user 10000000000000 1 host=a cpu=0"))
	f.Add([]byte("put m 1356998400 1 a=b  c=d "), []byte("put m 1356998400 1e999 a=b  c=d "))
	f.Add([]byte("put m 1 1 a=b"), []byte("put m 1.5 x a=b"))
	f.Fuzz(func(t *testing.T, teach, line []byte) {
		if bytes.IndexByte(teach, '\n') >= 0 || bytes.IndexByte(line, '\n') >= 0 {
			return
		}
		l := newLearner()
		l.learn(string(teach))
		sameAnswer(t, l, line)
	})
}
