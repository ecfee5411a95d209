package otsdb

import (
	"regexp"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
)

// Filter is one tag filter of a sub query: a series passes when its tag Tagk satisfies Expr
// under Type. Filters with GroupBy also split the series into groups by the value of Tagk.
type Filter struct {
	Type    string `json:"type"`
	Tagk    string `json:"tagk"`
	Expr    string `json:"filter"`
	GroupBy bool   `json:"groupBy"`
}

// filterTypes are the filters of OpenTSDB 2.4 this API applies, with what they do.
var filterTypes = map[string]struct{ Description, Examples string }{
	"literal_or": {"Matches series whose tag has one of the values given, separated by | (case-sensitive).",
		`host=literal_or(web01|web02)  {"type":"literal_or","tagk":"host","filter":"web01|web02","groupBy":false}`},
	"iliteral_or": {"As literal_or, ignoring case.",
		`host=iliteral_or(WEB01|web02)  {"type":"iliteral_or","tagk":"host","filter":"WEB01|web02","groupBy":false}`},
	"not_literal_or": {"Matches series whose tag has none of the values given, separated by | (a series without the tag matches).",
		`host=not_literal_or(web01|web02)  {"type":"not_literal_or","tagk":"host","filter":"web01|web02","groupBy":false}`},
	"not_iliteral_or": {"As not_literal_or, ignoring case.",
		`host=not_iliteral_or(WEB01)  {"type":"not_iliteral_or","tagk":"host","filter":"WEB01","groupBy":false}`},
	"wildcard": {"Matches the whole tag value against a glob where * stands for any text (case-sensitive); * alone matches any value.",
		`host=wildcard(web*.example.com)  {"type":"wildcard","tagk":"host","filter":"web*","groupBy":true}`},
	"iwildcard": {"As wildcard, ignoring case.",
		`host=iwildcard(WEB*)  {"type":"iwildcard","tagk":"host","filter":"WEB*","groupBy":true}`},
	"regexp": {"Matches series whose tag value contains a match of the regular expression (RE2 syntax, as Go's regexp package; not anchored unless the expression uses ^ and $).",
		`host=regexp(web[0-9]+)  {"type":"regexp","tagk":"host","filter":"web[0-9]+","groupBy":false}`},
}

// FilterTypes returns the filters this API applies, as /api/config/filters lists them.
func FilterTypes() map[string]map[string]string {
	out := make(map[string]map[string]string, len(filterTypes))
	for name, t := range filterTypes {
		out[name] = map[string]string{"description": t.Description, "examples": t.Examples}
	}
	return out
}

// tagFilter reads the filter of a "tagk=value" pair of a sub query's braces, as OpenTSDB:
// "*" groups by every value, "type(expr)" is that filter, a value with * is the iwildcard
// filter (OpenTSDB's shortcut ignores case), and anything else literal_or.
func tagFilter(pair string, groupBy bool) (Filter, error) {
	k, v, ok := strings.Cut(pair, "=")
	if !ok || k == "" || v == "" {
		return Filter{}, badRequest("invalid tag: %s", pair)
	}
	f := Filter{Tagk: k, Expr: v, GroupBy: groupBy}
	switch paren := strings.IndexByte(v, '('); {
	case v == "*":
		f.Type = "wildcard"
	case paren >= 0:
		if v[len(v)-1] != ')' {
			return Filter{}, badRequest("Filter must end with a ')': %s", v)
		}
		f.Type, f.Expr = strings.ToLower(v[:paren]), v[paren+1:len(v)-1]
	case strings.Contains(v, "*"):
		f.Type = "iwildcard"
	default:
		f.Type = "literal_or"
	}
	return f, f.check()
}

// check validates the filter as OpenTSDB does when it builds one.
func (f Filter) check() error {
	switch {
	case f.Type == "":
		return badRequest("The filter type cannot be null or empty")
	case f.Tagk == "":
		return badRequest("The tagk cannot be null or empty")
	}
	if _, ok := filterTypes[f.Type]; !ok {
		return badRequest("Could not find a tag value filter of the type: %s", f.Type)
	}
	switch {
	case f.Expr == "":
		return badRequest("Filter cannot be null or empty")
	case strings.HasSuffix(f.Type, "literal_or") && f.Expr == "|":
		return badRequest("Filter must contain more than just a pipe")
	case strings.HasSuffix(f.Type, "wildcard") && !strings.Contains(f.Expr, "*"):
		return badRequest("Filter must contain an asterisk")
	case f.Type == "regexp":
		if _, err := regexp.Compile(f.Expr); err != nil {
			return badRequest("Invalid regular expression in filter %s=regexp(%s): %v", f.Tagk, f.Expr, err)
		}
	}
	return nil
}

// matchers translates the filter into label matchers the store applies (all must match). It
// returns false when no series can pass (a literal list without a value).
func (f Filter) matchers() ([]*labels.Matcher, bool) {
	fold := ""
	if strings.HasPrefix(f.Type, "i") || strings.HasPrefix(f.Type, "not_i") {
		fold = "(?i)"
	}
	var m *labels.Matcher
	switch f.Type {
	case "literal_or", "iliteral_or", "not_literal_or", "not_iliteral_or":
		var alts []string
		for v := range strings.SplitSeq(f.Expr, "|") {
			if v != "" { // an empty value never matches: a tag value is never empty
				alts = append(alts, regexp.QuoteMeta(v))
			}
		}
		negate := strings.HasPrefix(f.Type, "not_")
		switch {
		case len(alts) == 0 && negate:
			return nil, true
		case len(alts) == 0:
			return nil, false
		case negate:
			m = labels.MustNewMatcher(labels.MatchNotRegexp, f.Tagk, fold+strings.Join(alts, "|"))
		default:
			m = labels.MustNewMatcher(labels.MatchRegexp, f.Tagk, fold+strings.Join(alts, "|"))
		}
	case "wildcard", "iwildcard":
		parts := strings.Split(f.Expr, "*")
		for i, p := range parts {
			parts[i] = regexp.QuoteMeta(p)
		}
		re := strings.Join(parts, ".*")
		if strings.Trim(f.Expr, "*") == "" {
			re = ".+" // the tag must be there, with any value
		}
		m = labels.MustNewMatcher(labels.MatchRegexp, f.Tagk, fold+re)
	case "regexp":
		// OpenTSDB looks for a match anywhere in the value, of a tag the series has. The
		// expression compiled alone (check), so wrapping it cannot change its meaning.
		return []*labels.Matcher{
			labels.MustNewMatcher(labels.MatchRegexp, f.Tagk, ".+"),
			labels.MustNewMatcher(labels.MatchRegexp, f.Tagk, ".*(?:"+f.Expr+").*"),
		}, true
	}
	return []*labels.Matcher{m}, true
}
