// Package mapper renames DogStatsD metrics by mapper profiles, as the Datadog Agent's
// dogstatsd_mapper_profiles do: a metric named after a pattern (`airflow.job.duration.<type>.<name>`)
// becomes one metric with tags (`airflow.job.duration` with `job_type:<type>`, `job_name:<name>`).
//
// Semantics, from the Agent (comp/dogstatsd/mapper):
//   - Profiles are tried in order; the first whose prefix starts the name (or whose prefix is
//     "*") decides alone: its mappings are tried in order and the first that matches wins. When
//     none of them matches, the name is left as it is, even if a later profile would match it.
//   - A wildcard match (the default match_type) may hold only ASCII letters, digits, '-', '_',
//     '.' and '*', never two '*' in a row; each '*' matches one dot-free piece of the name
//     (possibly empty). A regex match is an RE2 expression. Either must match the whole name.
//   - The name and the tag values of a mapping may refer to the pieces the match captured, as
//     `$1` or `${1}` (regexp.Expand: `$1_x` means the group named "1_x", so write `${1}_x`).
//   - The mapping's tags are added to the tags the line carries; a `host` tag sets the host, as
//     a `host:` tag on the line does.
//   - The result of every name a profile's prefix selects, matched or not, is kept in a bounded
//     cache, so a name is matched against the patterns once while it stays in the cache.
//
// Where this differs from the Agent: a mapping whose name expands to "" leaves the metric
// unmapped (the Agent would emit a metric without a name), and a tag key must not be empty.
//
// Concurrency: Rules are immutable and shared; a Mapper (rules plus its cache) belongs to one
// worker goroutine.
package mapper

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Match types of a mapping.
const (
	MatchWildcard = "wildcard"
	MatchRegex    = "regex"
)

// DefaultCacheSize is the Agent's dogstatsd_mapper_cache_size.
const DefaultCacheSize = 1000

// Profile is one entry of the receiver's `mapper_profiles`.
type Profile struct {
	// Name identifies the profile in errors.
	Name string
	// Prefix selects the names the profile applies to; "*" selects every name.
	Prefix string
	// Mappings are tried in order.
	Mappings []Mapping
}

// Mapping is one rule of a profile.
type Mapping struct {
	// Match is the pattern the whole metric name must match.
	Match string
	// MatchType is MatchWildcard (the default when empty) or MatchRegex.
	MatchType string
	// Name is the new metric name; `$n` and `${n}` expand to the pattern's captures.
	Name string
	// Tags are added to the sample's tags; their values expand like Name.
	Tags map[string]string
}

// Result is what a mapping made of a metric name. It is shared through the cache: callers must
// not modify it.
type Result struct {
	// Name is the new metric name, never empty.
	Name string
	// Tags are the mapping's tags but `host`, as "key:value", sorted by key.
	Tags []string
	// Host is the value of the mapping's `host` tag when HasHost.
	Host    string
	HasHost bool
}

// Rules are compiled profiles.
type Rules struct {
	profiles []profile
}

type profile struct {
	prefix   string
	any      bool // prefix "*"
	mappings []mapping
}

type mapping struct {
	re   *regexp.Regexp
	name string
	tags []tagTemplate // sorted by key
}

type tagTemplate struct{ key, value string }

// allowedWildcard is the Agent's set of wildcard pattern characters.
var allowedWildcard = regexp.MustCompile(`^[a-zA-Z0-9\-_*.]+$`)

// Compile checks and compiles profiles. An error names the YAML key of the receiver's
// `mapper_profiles` at fault, quotes the bad value and says why. No profiles give nil Rules.
func Compile(profiles []Profile) (*Rules, error) {
	if len(profiles) == 0 {
		return nil, nil
	}
	r := &Rules{profiles: make([]profile, 0, len(profiles))}
	for i, p := range profiles {
		at := fmt.Sprintf("`mapper_profiles[%d]", i)
		if p.Name == "" {
			return nil, fmt.Errorf("%s.name` must not be empty", at)
		}
		if p.Prefix == "" {
			return nil, fmt.Errorf("%s.prefix` (profile %q) must not be empty: use \"*\" for every name", at, p.Name)
		}
		cp := profile{prefix: p.Prefix, any: p.Prefix == "*", mappings: make([]mapping, 0, len(p.Mappings))}
		for j, m := range p.Mappings {
			cm, err := compileMapping(m)
			if err != nil {
				return nil, fmt.Errorf("%s.mappings[%d].%w (profile %q)", at, j, err, p.Name)
			}
			cp.mappings = append(cp.mappings, cm)
		}
		r.profiles = append(r.profiles, cp)
	}
	return r, nil
}

// compileMapping checks one mapping in the Agent's order (match type, name, match, pattern);
// its errors start with the field's key, to follow "mapper_profiles[i].mappings[j].".
func compileMapping(m Mapping) (mapping, error) {
	matchType := m.MatchType
	if matchType == "" {
		matchType = MatchWildcard
	}
	if matchType != MatchWildcard && matchType != MatchRegex {
		return mapping{}, fmt.Errorf("match_type` (%q) must be %q or %q", m.MatchType, MatchWildcard, MatchRegex)
	}
	if m.Name == "" {
		return mapping{}, errors.New("name` must not be empty")
	}
	if m.Match == "" {
		return mapping{}, errors.New("match` must not be empty")
	}
	expr := m.Match
	if matchType == MatchWildcard {
		if !allowedWildcard.MatchString(expr) {
			return mapping{}, fmt.Errorf("match` (%q) may hold only letters, digits, '-', '_', '.' and '*' (match_type wildcard; use regex for more)", m.Match)
		}
		if strings.Contains(expr, "**") {
			return mapping{}, fmt.Errorf("match` (%q) must not contain consecutive '*'", m.Match)
		}
		expr = strings.ReplaceAll(expr, ".", `\.`)
		expr = strings.ReplaceAll(expr, "*", `([^.]*)`)
	}
	// Anchored as the Agent anchors it: "^" + expr + "$", so an alternation at the top level
	// ("a|b") anchors only its first and last branches, as it does there.
	re, err := regexp.Compile("^" + expr + "$")
	if err != nil {
		return mapping{}, fmt.Errorf("match` (%q) is not a valid regular expression: %v", m.Match, err)
	}
	cm := mapping{re: re, name: m.Name, tags: make([]tagTemplate, 0, len(m.Tags))}
	for k, v := range m.Tags {
		if k == "" {
			return mapping{}, fmt.Errorf("tags` has an empty key (value %q)", v)
		}
		cm.tags = append(cm.tags, tagTemplate{key: k, value: v})
	}
	slices.SortFunc(cm.tags, func(a, b tagTemplate) int { return strings.Compare(a.key, b.key) })
	return cm, nil
}

// profileFor returns the profile that decides name: the first whose prefix starts it.
func (r *Rules) profileFor(name string) *profile {
	for i := range r.profiles {
		p := &r.profiles[i]
		if p.any || strings.HasPrefix(name, p.prefix) {
			return p
		}
	}
	return nil
}

// apply runs p's mappings on name; nil when none matches.
func (p *profile) apply(name string) *Result {
	for i := range p.mappings {
		m := &p.mappings[i]
		idx := m.re.FindStringSubmatchIndex(name)
		if idx == nil {
			continue
		}
		mapped := string(m.re.ExpandString(nil, m.name, name, idx))
		if mapped == "" {
			return nil
		}
		res := &Result{Name: mapped}
		for _, t := range m.tags {
			v := string(m.re.ExpandString(nil, t.value, name, idx))
			if t.key == "host" {
				res.Host, res.HasHost = v, true
				continue
			}
			res.Tags = append(res.Tags, t.key+":"+v)
		}
		return res
	}
	return nil
}

// Map maps name without a cache; nil when name is not mapped.
func (r *Rules) Map(name string) *Result {
	if p := r.profileFor(name); p != nil {
		return p.apply(name)
	}
	return nil
}

// Mapper maps names through Rules with a bounded cache of results. It is not safe for
// concurrent use: each worker has its own.
type Mapper struct {
	rules *Rules
	cache cache
}

// NewMapper returns a Mapper whose cache keeps up to cacheSize results (at least 1).
func (r *Rules) NewMapper(cacheSize int) *Mapper {
	return &Mapper{rules: r, cache: newCache(cacheSize)}
}

// Map returns what the rules make of name, or nil when name is not mapped. A name no profile
// selects costs only the prefix checks; the others are served from the cache once seen.
func (m *Mapper) Map(name string) *Result {
	p := m.rules.profileFor(name)
	if p == nil {
		return nil
	}
	if res, ok := m.cache.get(name); ok {
		return res
	}
	res := p.apply(name)
	m.cache.add(name, res)
	return res
}

// CacheLen is the number of names in the cache.
func (m *Mapper) CacheLen() int { return len(m.cache.index) }
