package otsdb

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// BenchmarkFilterMatchersAtLimit builds the store matchers of filters as long as a request
// may hold (maxFilterBytes): what one request can make the server allocate for its filters.
// B/op divided by the bytes of the filter is the cost of a filter byte.
func BenchmarkFilterMatchersAtLimit(b *testing.B) {
	// names joins host names, each written by esc, up to maxFilterBytes with the tag key.
	names := func(esc func(string) string) string {
		var out []string
		n := len("host") + 2
		for i := 0; ; i++ {
			name := esc(fmt.Sprintf("web-%05d.example.com", i))
			if n+len(name)+1 > maxFilterBytes {
				return strings.Join(out, "|")
			}
			out = append(out, name)
			n += len(name) + 1
		}
	}
	plain := func(s string) string { return s }
	for _, f := range []Filter{
		{Type: "literal_or", Tagk: "host", Expr: names(plain)},
		{Type: "iliteral_or", Tagk: "host", Expr: names(plain)},
		{Type: "regexp", Tagk: "host", Expr: "^(" + names(regexp.QuoteMeta) + ")"},
		// Counted repetitions up to maxRegexpSize.
		{Type: "regexp", Tagk: "host", Expr: "^web-[0-4][0-9]{4}" + strings.Repeat("[a-z.]{0,1000}", 15) + "$"},
	} {
		b.Run(fmt.Sprintf("%s/%d_bytes", f.Type, len(f.Tagk)+len(f.Expr)), func(b *testing.B) {
			q := &Query{Start: 0, End: 1, Subs: []*SubQuery{{Metric: "m", Filters: []Filter{f}}}}
			if err := q.Validate(Limits{}); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(f.Tagk) + len(f.Expr)))
			for b.Loop() {
				ms, ok, err := f.matchers()
				pass := func(v string) bool {
					for _, m := range ms {
						if !m.Matches(v) {
							return false
						}
					}
					return true
				}
				if err != nil || !ok || !pass("web-00042.example.com") || pass("web-99999.example.com") {
					b.Fatal("the filter does not select the names it holds")
				}
			}
		})
	}
}
