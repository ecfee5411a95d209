package otsdb

import (
	"math"
	"sort"
	"strings"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/doghouse-otel/doghouse/chunkfile"
)

// DefaultSuggestions is how many names /api/suggest returns when max is not given (OpenTSDB's
// MAX_SUGGESTIONS).
const DefaultSuggestions = 25

// Suggest returns, sorted, up to max (DefaultSuggestions when max <= 0) distinct names
// starting with prefix among the store's metric names (typ "metrics"), tag keys ("tagk") or
// tag values of any key ("tagv"). Only the number series an /api/query can select count.
func Suggest(st Store, typ, prefix string, max int) ([]string, error) {
	if typ != "metrics" && typ != "tagk" && typ != "tagv" {
		return nil, badRequest("Invalid 'type' parameter:%s", typ)
	}
	if max <= 0 {
		max = DefaultSuggestions
	}
	all, err := st.SeriesIn(nil, math.MinInt64, math.MaxInt64, 0)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, s := range all {
		if s.Kind != chunkfile.KindGauge && s.Kind != chunkfile.KindSum {
			continue
		}
		s.Labels.Range(func(l labels.Label) {
			var name string
			switch {
			case (typ == "metrics") != (l.Name == labels.MetricName):
				return
			case typ == "metrics":
				name = l.Value
			case typ == "tagk":
				name = l.Name
			default:
				name = l.Value
			}
			if strings.HasPrefix(name, prefix) {
				seen[name] = true
			}
		})
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	if len(out) > max {
		out = out[:max]
	}
	return out, nil
}
