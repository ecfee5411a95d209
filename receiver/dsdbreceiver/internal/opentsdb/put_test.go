package opentsdb

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

type putResult struct {
	points []string // accepted points (describe) and "error: <message>" for rejected ones
}

func parsePut(t testing.TB, body string) (putResult, error) {
	t.Helper()
	pp := PutParser{Rules: Rules{MaxTags: 8}}
	var r putResult
	err := pp.Parse([]byte(body), func(p *Point, raw *Raw, rej *Error) {
		if rej != nil {
			r.points = append(r.points, "error: "+rej.Msg)
			return
		}
		r.points = append(r.points, describe(p))
	})
	return r, err
}

// TestPutConformance: the request examples of OpenTSDB's /api/put docs and the per-point
// failures of IncomingDataPoint.validate, PutDataPointRpc and TSDB.addPoint, with the message
// OpenTSDB 2.4 puts in its `details` answer.
func TestPutConformance(t *testing.T) {
	tests := []struct {
		name, body string
		want       []string
	}{
		{"docs: single data point", `{"metric":"sys.cpu.nice","timestamp":1346846400,"value":18,"tags":{"host":"web01","dc":"lga"}}`,
			[]string{"sys.cpu.nice 1346846400000 int:18 host=web01 dc=lga"}},
		{"docs: multiple data points", `[
			{"metric":"sys.cpu.nice","timestamp":1346846400,"value":18,"tags":{"host":"web01","dc":"lga"}},
			{"metric":"sys.cpu.nice","timestamp":1346846400,"value":9,"tags":{"host":"web02","dc":"lga"}}]`,
			[]string{"sys.cpu.nice 1346846400000 int:18 host=web01 dc=lga", "sys.cpu.nice 1346846400000 int:9 host=web02 dc=lga"}},
		{"docs: details example (value NaN)", `{"metric":"sys.cpu.nice","timestamp":1365465600,"value":"NaN","tags":{"host":"web01"}}`,
			[]string{"error: Unable to parse value to a number"}},
		{"milliseconds", `{"metric":"m","timestamp":1346846400123,"value":1.5,"tags":{"a":"b"}}`, []string{"m 1346846400123 float:1.5 a=b"}},
		{"value and timestamp as strings", `{"metric":"m","timestamp":"1346846400","value":"18","tags":{"a":"b"}}`, []string{"m 1346846400000 int:18 a=b"}},
		{"unknown fields are ignored", `{"metric":"m","timestamp":1,"value":1,"tags":{"a":"b"},"tsuid":null,"x":[{"y":1}]}`, []string{"m 1000 int:1 a=b"}},
		{"repeated tag: the last wins", `{"metric":"m","timestamp":1,"value":1,"tags":{"a":"b","a":"c"}}`, []string{"m 1000 int:1 a=c"}},
		{"escapes", `{"metric":"sys.cpu\u002fnice","timestamp":1,"value":1,"tags":{"h\u00f4te":"w\u00e9b"}}`, []string{"sys.cpu/nice 1000 int:1 hôte=wéb"}},
		{"one bad point of three", `[{"metric":"a","timestamp":1,"value":1,"tags":{"h":"x"}},{"metric":"","timestamp":1,"value":1,"tags":{"h":"x"}},{"metric":"c","timestamp":1,"value":3,"tags":{"h":"x"}}]`,
			[]string{"a 1000 int:1 h=x", "error: Metric name was empty", "c 1000 int:3 h=x"}},
		{"missing metric", `{"timestamp":1,"value":1,"tags":{"a":"b"}}`, []string{"error: Metric name was empty"}},
		{"timestamp 0", `{"metric":"m","timestamp":0,"value":1,"tags":{"a":"b"}}`, []string{"error: Invalid timestamp"}},
		{"negative timestamp", `{"metric":"m","timestamp":-1,"value":1,"tags":{"a":"b"}}`, []string{"error: Invalid timestamp"}},
		{"missing value", `{"metric":"m","timestamp":1,"tags":{"a":"b"}}`, []string{"error: Empty value"}},
		{"empty value", `{"metric":"m","timestamp":1,"value":"","tags":{"a":"b"}}`, []string{"error: Empty value"}},
		{"missing tags", `{"metric":"m","timestamp":1,"value":1}`, []string{"error: Missing tags"}},
		{"empty tags", `{"metric":"m","timestamp":1,"value":1,"tags":{}}`, []string{"error: Missing tags"}},
		{"value not a number", `{"metric":"m","timestamp":1,"value":"abc","tags":{"a":"b"}}`, []string{"error: Unable to parse value to a number"}},
		{"infinite value", `{"metric":"m","timestamp":1,"value":1e999,"tags":{"a":"b"}}`, []string{"error: value is NaN or Infinite: Infinity for metric=m timestamp=1"}},
		{"too many tags", `{"metric":"m","timestamp":1,"value":1,"tags":{"a":"1","b":"2","c":"3","d":"4","e":"5","f":"6","g":"7","h":"8","i":"9"}}`,
			[]string{"error: Too many tags: 9 maximum allowed: 8, tags: {a=1, b=2, c=3, d=4, e=5, f=6, g=7, h=8, i=9}"}},
		{"bad timestamp", `{"metric":"m","timestamp":10000000000000,"value":1,"tags":{"a":"b"}}`,
			[]string{"error: bad timestamp=10000000000000 when trying to add value=1 to metric=m, tags={a=b}"}},
		{"illegal character in the metric", `{"metric":"sys cpu","timestamp":1,"value":1,"tags":{"a":"b"}}`,
			[]string{`error: Invalid metric name ("sys cpu"): illegal character:  `}},
		{"illegal character in a tag value", `{"metric":"m","timestamp":1,"value":1,"tags":{"a":"b c"}}`,
			[]string{`error: Invalid tag value with key [a] ("b c"): illegal character:  `}},
		{"null tag value", `{"metric":"m","timestamp":1,"value":1,"tags":{"a":null}}`, []string{"error: Invalid tag value with key [a]: null"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parsePut(t, tt.body)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got.points) != fmt.Sprint(tt.want) {
				t.Fatalf("got  %q\nwant %q", got.points, tt.want)
			}
		})
	}
}

// TestPutBodyErrors: bodies OpenTSDB refuses whole (HttpJsonSerializer.parsePutV1,
// PutDataPointRpc), with its message.
func TestPutBodyErrors(t *testing.T) {
	for body, want := range map[string]string{
		"":                       "Missing request content",
		"  ":                     "Missing request content",
		"[]":                     "No datapoints found in content",
		"metric=m":               "The JSON must start as an object or an array",
		`{"metric":"m"`:          "Unable to parse the given JSON",
		`[{"metric":"m"},`:       "Unable to parse the given JSON",
		`{"metric":1}`:           "Unable to parse the given JSON",
		`{"timestamp":1.5}`:      "Unable to parse the given JSON",
		`{"tags":{"a":true}}`:    "Unable to parse the given JSON",
		`{} {}`:                  "Unable to parse the given JSON",
		`[1]`:                    "Unable to parse the given JSON",
		"{\"metric\":\"m\xff\"}": "Unable to parse the given JSON",
	} {
		_, err := parsePut(t, body)
		var be *BodyError
		if err == nil || !asBodyError(err, &be) || be.Message != want {
			t.Errorf("%q: got %v, want %q", body, err, want)
		}
	}
}

func asBodyError(err error, be **BodyError) bool {
	e, ok := err.(*BodyError)
	*be = e
	return ok
}

// TestPutMillionTagsBounded: a body with a million tags keeps at most max_tags + 1 of them.
func TestPutMillionTagsBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"metric":"m","timestamp":1,"value":1,"tags":{`)
	for i := range 1_000_000 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"k%d":"v"`, i)
	}
	b.WriteString("}}")
	pp := PutParser{Rules: Rules{MaxTags: 8}}
	var msg string
	if err := pp.Parse([]byte(b.String()), func(_ *Point, _ *Raw, rej *Error) {
		if rej != nil {
			msg = rej.Msg
		}
	}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(msg, "Too many tags: 1000000 maximum allowed: 8") {
		t.Fatalf("got %q", msg)
	}
	if len(pp.raw.Tags) > 9 {
		t.Fatalf("kept %d tags", len(pp.raw.Tags))
	}
}

func FuzzPutParser(f *testing.F) {
	for _, s := range []string{
		`{"metric":"sys.cpu.nice","timestamp":1346846400,"value":18,"tags":{"host":"web01","dc":"lga"}}`,
		`[{"metric":"a","timestamp":1,"value":"1.5","tags":{"h":"x"}},{"metric":"","timestamp":1,"value":1,"tags":{"h":"x"}}]`,
		`{"metric":"m","timestamp":"1","value":1e999,"tags":{"a":null,"b":"\ud83d\ude00"}}`,
		`[`, `{"a":[[[[{}]]]]}`, "\xff",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		pp := PutParser{Rules: Rules{MaxTags: 8}}
		n := 0
		err := pp.Parse(body, func(p *Point, raw *Raw, rej *Error) {
			n++
			if (p == nil) == (rej == nil) {
				t.Fatalf("point %v and rejection %v", p, rej)
			}
			if p != nil {
				if len(p.Tags) == 0 || len(p.Tags) > 8 || p.Timestamp <= 0 || !utf8.Valid(p.Metric) {
					t.Fatalf("accepted an invalid point %s", describe(p))
				}
			}
		})
		if err == nil && !json.Valid(body) {
			t.Fatalf("accepted a body that is not JSON: %q", body)
		}
		if err == nil && n == 0 {
			t.Fatalf("a body without points passed")
		}
	})
}
