package otsdb

import (
	"regexp"
	"regexp/syntax"
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
		_, err := f.regexpSize() // parsed only: Query.Validate bounds the compiled size
		return err
	}
	return nil
}

// regexpSize parses a regexp filter (without compiling it) and returns about how many
// instructions it compiles to: counted repetitions make a short expression large
// ("[a-z]{1000}" is 1,000 instructions), and compiling costs memory by the instruction.
func (f Filter) regexpSize() (int64, error) {
	re, err := syntax.Parse(f.Expr, syntax.Perl)
	if err != nil {
		return 0, badRequest("Invalid regular expression in filter %s=regexp(%s): %v", f.Tagk, f.Expr, err)
	}
	return progSize(re), nil
}

// progSize estimates the instructions re compiles to. Go's parser refuses nested counted
// repetitions of more than 1,000 in all, so the product stays small.
func progSize(re *syntax.Regexp) int64 {
	switch re.Op {
	case syntax.OpLiteral:
		return int64(len(re.Rune)) + 1
	case syntax.OpConcat, syntax.OpAlternate:
		n := int64(1)
		for _, sub := range re.Sub {
			n += progSize(sub)
		}
		return n
	case syntax.OpCapture, syntax.OpStar, syntax.OpPlus, syntax.OpQuest:
		return progSize(re.Sub[0]) + 2
	case syntax.OpRepeat:
		n := re.Max
		if n < 0 {
			n = re.Min + 1
		}
		return int64(max(n, 1))*(progSize(re.Sub[0])+1) + 1
	}
	return 1
}

// matchers translates the filter into label matchers the store applies (all must match). It
// returns false when no series can pass (a literal list without a value).
func (f Filter) matchers() ([]*labels.Matcher, bool, error) {
	fold := ""
	if strings.HasPrefix(f.Type, "i") || strings.HasPrefix(f.Type, "not_i") {
		fold = "(?i)"
	}
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
			return nil, true, nil
		case len(alts) == 0:
			return nil, false, nil
		case negate:
			return matcher(labels.MatchNotRegexp, f.Tagk, fold+strings.Join(alts, "|"))
		default:
			return matcher(labels.MatchRegexp, f.Tagk, fold+strings.Join(alts, "|"))
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
		return matcher(labels.MatchRegexp, f.Tagk, fold+re)
	case "regexp":
		// OpenTSDB looks for a match anywhere in the value, of a tag the series has. The
		// expression must parse alone, so wrapping it cannot change its meaning.
		if _, err := f.regexpSize(); err != nil {
			return nil, false, err
		}
		ms, ok, err := matcher(labels.MatchRegexp, f.Tagk, ".*(?:"+f.Expr+").*")
		if err != nil {
			return nil, false, err
		}
		return append(ms, labels.MustNewMatcher(labels.MatchRegexp, f.Tagk, ".+")), ok, nil
	}
	return nil, false, badRequest("Could not find a tag value filter of the type: %s", f.Type)
}

func matcher(t labels.MatchType, name, value string) ([]*labels.Matcher, bool, error) {
	m, err := labels.NewMatcher(t, name, value)
	if err != nil {
		return nil, false, badRequest("Invalid filter on %s: %v", name, err)
	}
	return []*labels.Matcher{m}, true, nil
}
