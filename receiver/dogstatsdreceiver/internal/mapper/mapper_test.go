package mapper

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type mapCase struct {
	in   string
	want *Result // nil: not mapped
}

func mapped(name string, tags ...string) *Result {
	return &Result{Name: name, Tags: tags}
}

// TestMappings holds the scenarios of the Agent's TestMappings (comp/dogstatsd/mapper/
// mapper_test.go), with their inputs and expected outputs; the Agent's YAML is written as
// Profiles. The Agent's test lists only the names that were mapped: here every input has an
// expectation, nil for the names it leaves out. Tags are sorted by key.
func TestMappings(t *testing.T) {
	for _, tc := range []struct {
		name     string
		profiles []Profile
		cases    []mapCase
	}{
		{
			name: "Simple OK case",
			profiles: []Profile{{Name: "test", Prefix: "test.", Mappings: []Mapping{
				{Match: "test.job.duration.*.*", Name: "test.job.duration", Tags: map[string]string{"job_type": "$1", "job_name": "$2"}},
				{Match: "test.job.size.*.*", Name: "test.job.size", Tags: map[string]string{"foo": "$1", "bar": "$2"}},
			}}},
			cases: []mapCase{
				{"test.job.duration.my_job_type.my_job_name", mapped("test.job.duration", "job_name:my_job_name", "job_type:my_job_type")},
				{"test.job.size.my_job_type.my_job_name", mapped("test.job.size", "bar:my_job_name", "foo:my_job_type")},
				{"test.job.size.not_match", nil},
			},
		},
		{
			name: "Not/Partially mapped are accepted",
			profiles: []Profile{{Name: "test", Prefix: "test.", Mappings: []Mapping{
				{Match: "test.job.duration.*.*", Name: "test.job.duration", Tags: map[string]string{"job_type": "$1"}},
				{Match: "test.task.duration.*.*", Name: "test.task.duration"},
			}}},
			cases: []mapCase{
				{"test.job.duration.my_job_type.my_job_name", mapped("test.job.duration", "job_type:my_job_type")},
				{"test.task.duration.my_job_type.my_job_name", mapped("test.task.duration")},
			},
		},
		{
			name: "Use regex expansion alternative syntax",
			profiles: []Profile{{Name: "test", Prefix: "test.", Mappings: []Mapping{
				{Match: "test.job.duration.*.*", Name: "test.job.duration", Tags: map[string]string{"job_type": "${1}_x", "job_name": "${2}_y"}},
			}}},
			cases: []mapCase{
				{"test.job.duration.my_job_type.my_job_name", mapped("test.job.duration", "job_name:my_job_name_y", "job_type:my_job_type_x")},
			},
		},
		{
			name: "Expand name",
			profiles: []Profile{{Name: "test", Prefix: "test.", Mappings: []Mapping{
				{Match: "test.job.duration.*.*", Name: "test.hello.$2.$1", Tags: map[string]string{"job_type": "$1", "job_name": "$2"}},
			}}},
			cases: []mapCase{
				{"test.job.duration.my_job_type.my_job_name", mapped("test.hello.my_job_name.my_job_type", "job_name:my_job_name", "job_type:my_job_type")},
			},
		},
		{
			name: "Match before underscore",
			profiles: []Profile{{Name: "test", Prefix: "test.", Mappings: []Mapping{
				{Match: "test.*_start", Name: "test.start", Tags: map[string]string{"job": "$1"}},
			}}},
			cases: []mapCase{{"test.my_job_start", mapped("test.start", "job:my_job")}},
		},
		{
			name: "No tags",
			profiles: []Profile{{Name: "test", Prefix: "test.", Mappings: []Mapping{
				{Match: "test.my-worker.start", Name: "test.worker.start"},
				{Match: "test.my-worker.stop.*", Name: "test.worker.stop"},
			}}},
			cases: []mapCase{
				{"test.my-worker.start", mapped("test.worker.start")},
				{"test.my-worker.stop.worker-name", mapped("test.worker.stop")},
			},
		},
		{
			name: "All allowed characters",
			profiles: []Profile{{Name: "test", Prefix: "test.", Mappings: []Mapping{
				{Match: "test.abcdefghijklmnopqrstuvwxyz_ABCDEFGHIJKLMNOPQRSTUVWXYZ-01234567.*", Name: "test.alphabet"},
			}}},
			cases: []mapCase{{"test.abcdefghijklmnopqrstuvwxyz_ABCDEFGHIJKLMNOPQRSTUVWXYZ-01234567.123", mapped("test.alphabet")}},
		},
		{
			name: "Regex match type",
			profiles: []Profile{{Name: "test", Prefix: "test.", Mappings: []Mapping{
				{Match: `test\.job\.duration\.(.*)`, MatchType: "regex", Name: "test.job.duration", Tags: map[string]string{"job_name": "$1"}},
				{Match: `test\.task\.duration\.(.*)`, MatchType: "regex", Name: "test.task.duration", Tags: map[string]string{"task_name": "$1"}},
			}}},
			cases: []mapCase{
				{"test.job.duration.my.funky.job$name-abc/123", mapped("test.job.duration", "job_name:my.funky.job$name-abc/123")},
				{"test.task.duration.MY_task_name", mapped("test.task.duration", "task_name:MY_task_name")},
			},
		},
		{
			name: "Complex Regex match type",
			profiles: []Profile{{Name: "test", Prefix: "test.", Mappings: []Mapping{
				{Match: `test\.job\.([a-z][0-9]-\w+)\.(.*)`, MatchType: "regex", Name: "test.job", Tags: map[string]string{"job_type": "$1", "job_name": "$2"}},
			}}},
			cases: []mapCase{
				{"test.job.a5-foo.bar", mapped("test.job", "job_name:bar", "job_type:a5-foo")},
				{"test.job.foo.bar-not-match", nil},
			},
		},
		{
			name: "Profile and prefix",
			profiles: []Profile{
				{Name: "test", Prefix: "foo.", Mappings: []Mapping{
					{Match: "foo.duration.*", Name: "foo.duration", Tags: map[string]string{"name": "$1"}},
				}},
				{Name: "test", Prefix: "bar.", Mappings: []Mapping{
					{Match: "bar.count.*", Name: "bar.count", Tags: map[string]string{"name": "$1"}},
					{Match: "foo.duration2.*", Name: "foo.duration2", Tags: map[string]string{"name": "$1"}},
				}},
			},
			cases: []mapCase{
				{"foo.duration.foo_name1", mapped("foo.duration", "name:foo_name1")},
				{"foo.duration2.foo_name1", nil}, // the mapping is in the profile of another prefix
				{"bar.count.bar_name1", mapped("bar.count", "name:bar_name1")},
				{"z.not.mapped", nil},
			},
		},
		{
			name: "Wildcard prefix",
			profiles: []Profile{{Name: "test", Prefix: "*", Mappings: []Mapping{
				{Match: "foo.duration.*", Name: "foo.duration", Tags: map[string]string{"name": "$1"}},
			}}},
			cases: []mapCase{{"foo.duration.foo_name1", mapped("foo.duration", "name:foo_name1")}},
		},
		{
			name: "Wildcard prefix order",
			profiles: []Profile{
				{Name: "test", Prefix: "*", Mappings: []Mapping{
					{Match: "foo.duration.*", Name: "foo.duration", Tags: map[string]string{"name1": "$1"}},
				}},
				{Name: "test", Prefix: "*", Mappings: []Mapping{
					{Match: "foo.duration.*", Name: "foo.duration", Tags: map[string]string{"name2": "$1"}},
				}},
			},
			cases: []mapCase{{"foo.duration.foo_name", mapped("foo.duration", "name1:foo_name")}},
		},
		{
			name: "Multiple profiles order",
			profiles: []Profile{
				{Name: "test", Prefix: "foo.", Mappings: []Mapping{
					{Match: "foo.*.duration.*", Name: "foo.bar1.duration", Tags: map[string]string{"bar": "$1", "foo": "$2"}},
				}},
				{Name: "test", Prefix: "foo.bar.", Mappings: []Mapping{
					{Match: "foo.bar.duration.*", Name: "foo.bar2.duration", Tags: map[string]string{"foo_bar": "$1"}},
				}},
			},
			cases: []mapCase{{"foo.bar.duration.foo_name", mapped("foo.bar1.duration", "bar:bar", "foo:foo_name")}},
		},

		// Beyond the Agent's tests, from its code (Map returns at the end of the first profile
		// whose prefix matches) and from Go's regexp.Expand.
		{
			name: "first profile whose prefix matches decides, even when none of its mappings does",
			profiles: []Profile{
				{Name: "broad", Prefix: "app.", Mappings: []Mapping{{Match: "app.db.*", Name: "app.db"}}},
				{Name: "narrow", Prefix: "app.http.", Mappings: []Mapping{{Match: "app.http.*", Name: "app.http"}}},
			},
			cases: []mapCase{
				{"app.db.query", mapped("app.db")},
				{"app.http.get", nil},
			},
		},
		{
			name: "first matching mapping wins",
			profiles: []Profile{{Name: "p", Prefix: "a.", Mappings: []Mapping{
				{Match: "a.*.x", Name: "first", Tags: map[string]string{"k": "$1"}},
				{Match: "a.b.*", Name: "second"},
			}}},
			cases: []mapCase{{"a.b.x", mapped("first", "k:b")}, {"a.b.y", mapped("second")}},
		},
		{
			name: "a wildcard matches one dot-free piece, possibly empty",
			profiles: []Profile{{Name: "p", Prefix: "a.", Mappings: []Mapping{
				{Match: "a.*.end", Name: "m", Tags: map[string]string{"k": "$1"}},
			}}},
			cases: []mapCase{{"a..end", mapped("m", "k:")}, {"a.b.c.end", nil}, {"a.b.end.more", nil}},
		},
		{
			name: "$1_x names the group 1_x (empty); ${1}_x is the capture then _x",
			profiles: []Profile{{Name: "p", Prefix: "a.", Mappings: []Mapping{
				{Match: "a.*", Name: "m.$1_x", Tags: map[string]string{"k": "${1}_x"}},
			}}},
			cases: []mapCase{{"a.b", mapped("m.", "k:b_x")}},
		},
		{
			name: "a host tag becomes the host",
			profiles: []Profile{{Name: "p", Prefix: "servers.", Mappings: []Mapping{
				{Match: "servers.*.cpu", Name: "cpu", Tags: map[string]string{"host": "$1", "role": "web"}},
			}}},
			cases: []mapCase{{"servers.web01.cpu", &Result{Name: "cpu", Tags: []string{"role:web"}, Host: "web01", HasHost: true}}},
		},
		{
			name: "a name that expands to nothing leaves the metric unmapped",
			profiles: []Profile{{Name: "p", Prefix: "a.", Mappings: []Mapping{
				{Match: `a\.(.*)`, MatchType: "regex", Name: "$1", Tags: map[string]string{"k": "v"}},
			}}},
			cases: []mapCase{{"a.", nil}, {"a.b", mapped("b", "k:v")}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rules, err := Compile(tc.profiles)
			require.NoError(t, err)
			m := rules.NewMapper(DefaultCacheSize)
			for _, c := range tc.cases {
				// Twice: computed, then from the cache.
				for pass := range 2 {
					assert.Equal(t, c.want, m.Map(c.in), "%s (pass %d)", c.in, pass)
				}
				assert.Equal(t, c.want, rules.Map(c.in), "%s without cache", c.in)
			}
		})
	}
}

// TestMappingErrors holds the Agent's TestMappingErrors scenarios; the Agent checks a phrase
// of its message, here the whole message, which names the YAML key and the profile.
func TestMappingErrors(t *testing.T) {
	job := map[string]string{"job_type": "$1", "job_name": "$2"}
	for _, tc := range []struct {
		name     string
		profiles []Profile
		want     string
	}{
		{
			name:     "Empty name", // the Agent's "Missing name" decodes to the same profile
			profiles: []Profile{{Name: "test", Prefix: "test.", Mappings: []Mapping{{Match: "test.job.duration.*.*", Tags: job}}}},
			want:     "`mapper_profiles[0].mappings[0].name` must not be empty (profile \"test\")",
		},
		{
			name:     "Missing match",
			profiles: []Profile{{Name: "test", Prefix: "test.", Mappings: []Mapping{{Name: "test.job.duration", Tags: job}}}},
			want:     "`mapper_profiles[0].mappings[0].match` must not be empty (profile \"test\")",
		},
		{
			name:     "Invalid match regex []",
			profiles: []Profile{{Name: "test", Prefix: "test.", Mappings: []Mapping{{Match: "test.[]duration.*.*", Name: "test.job.duration"}}}},
			want:     "`mapper_profiles[0].mappings[0].match` (\"test.[]duration.*.*\") may hold only letters, digits, '-', '_', '.' and '*' (match_type wildcard; use regex for more) (profile \"test\")",
		},
		{
			name:     "Invalid match regex ^",
			profiles: []Profile{{Name: "test", Prefix: "test.", Mappings: []Mapping{{Match: "^test.invalid.duration.*.*", Name: "test.job.duration"}}}},
			want:     "`mapper_profiles[0].mappings[0].match` (\"^test.invalid.duration.*.*\") may hold only letters, digits, '-', '_', '.' and '*' (match_type wildcard; use regex for more) (profile \"test\")",
		},
		{
			name:     "Consecutive *",
			profiles: []Profile{{Name: "test", Prefix: "test.", Mappings: []Mapping{{Match: "test.invalid.duration.**", Name: "test.job.duration"}}}},
			want:     "`mapper_profiles[0].mappings[0].match` (\"test.invalid.duration.**\") must not contain consecutive '*' (profile \"test\")",
		},
		{
			name:     "Invalid match type",
			profiles: []Profile{{Name: "test", Prefix: "test.", Mappings: []Mapping{{Match: "test.invalid.duration", MatchType: "invalid", Name: "test.job.duration"}}}},
			want:     "`mapper_profiles[0].mappings[0].match_type` (\"invalid\") must be \"wildcard\" or \"regex\" (profile \"test\")",
		},
		{
			name:     "Missing profile name",
			profiles: []Profile{{Prefix: "test.", Mappings: []Mapping{{Match: "test.invalid.duration", MatchType: "invalid", Name: "test.job.duration"}}}},
			want:     "`mapper_profiles[0].name` must not be empty",
		},
		{
			name:     "Missing profile prefix",
			profiles: []Profile{{Name: "test", Mappings: []Mapping{{Match: "test.invalid.duration", MatchType: "invalid", Name: "test.job.duration"}}}},
			want:     "`mapper_profiles[0].prefix` (profile \"test\") must not be empty: use \"*\" for every name",
		},
		// Ours.
		{
			name: "bad regex, second profile, third mapping",
			profiles: []Profile{
				{Name: "ok", Prefix: "a.", Mappings: []Mapping{{Match: "a.*", Name: "a"}}},
				{Name: "broken", Prefix: "b.", Mappings: []Mapping{
					{Match: "b.*", Name: "b"}, {Match: "b.c", Name: "c"},
					{Match: `b\.(x`, MatchType: "regex", Name: "x"},
				}},
			},
			want: "`mapper_profiles[1].mappings[2].match` (\"b\\\\.(x\") is not a valid regular expression: error parsing regexp: missing closing ): `^b\\.(x$` (profile \"broken\")",
		},
		{
			name:     "empty tag key",
			profiles: []Profile{{Name: "p", Prefix: "a.", Mappings: []Mapping{{Match: "a.*", Name: "a", Tags: map[string]string{"": "$1"}}}}},
			want:     "`mapper_profiles[0].mappings[0].tags` has an empty key (value \"$1\") (profile \"p\")",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Compile(tc.profiles)
			require.EqualError(t, err, tc.want)
		})
	}
}

func TestNoProfilesNoRules(t *testing.T) {
	rules, err := Compile(nil)
	require.NoError(t, err)
	assert.Nil(t, rules)
}

// TestCacheKeepsMatchedAndUnmatchedNames checks that a result, mapped or not, is computed once
// per cached name, and that names no profile selects are not cached.
func TestCacheKeepsMatchedAndUnmatchedNames(t *testing.T) {
	rules, err := Compile([]Profile{{Name: "p", Prefix: "a.", Mappings: []Mapping{{Match: "a.*.x", Name: "ax", Tags: map[string]string{"k": "$1"}}}}})
	require.NoError(t, err)
	m := rules.NewMapper(10)
	first := m.Map("a.b.x")
	require.NotNil(t, first)
	assert.Same(t, first, m.Map("a.b.x"), "a hit returns the cached result")
	assert.Nil(t, m.Map("a.nomatch"))
	assert.Nil(t, m.Map("a.nomatch"))
	assert.Nil(t, m.Map("other.name"))
	assert.Equal(t, 2, m.CacheLen(), "a.b.x and a.nomatch (negative) cached; other.name not selected by any profile")
	res, ok := m.cache.get("a.nomatch")
	assert.True(t, ok, "the negative result is cached")
	assert.Nil(t, res)
}

// TestCacheEvictsByClock checks the bound and that a recently used name outlives an unused one.
func TestCacheEvictsByClock(t *testing.T) {
	c := newCache(3)
	r := func(s string) *Result { return &Result{Name: s} }
	c.add("a", r("A"))
	c.add("b", r("B"))
	c.add("c", nil)
	_, _ = c.get("a") // a is in use
	c.add("d", r("D"))
	assert.Len(t, c.index, 3)
	_, okA := c.get("a")
	_, okB := c.get("b")
	assert.True(t, okA, "a was used since it was added: kept")
	assert.False(t, okB, "b is the first unused slot: evicted")
	for _, name := range []string{"c", "d"} {
		_, ok := c.get(name)
		assert.True(t, ok, name)
	}
	// A stream of one-off names never grows the cache past its size.
	for i := range 100 {
		c.add(fmt.Sprint("x", i), nil)
	}
	assert.Len(t, c.index, 3)
	assert.Len(t, c.slots, 3)
}

func TestCacheSizeAtLeastOne(t *testing.T) {
	rules, err := Compile([]Profile{{Name: "p", Prefix: "*", Mappings: []Mapping{{Match: "*", Name: "m"}}}})
	require.NoError(t, err)
	m := rules.NewMapper(0)
	assert.Equal(t, "m", m.Map("a").Name)
	assert.Equal(t, "m", m.Map("b").Name)
	assert.Equal(t, 1, m.CacheLen())
}
