package mapper

import (
	"fmt"
	"runtime"
	"testing"
)

// benchRules is a typical setup: two profiles of a few wildcard mappings, one regex.
func benchRules(b *testing.B) *Rules {
	b.Helper()
	rules, err := Compile([]Profile{
		{Name: "airflow", Prefix: "airflow.", Mappings: []Mapping{
			{Match: "airflow.job.start_time.*", Name: "airflow.job.start_time", Tags: map[string]string{"job_name": "$1"}},
			{Match: "airflow.job.duration.*.*", Name: "airflow.job.duration", Tags: map[string]string{"job_type": "$1", "job_name": "$2"}},
			{Match: "airflow.dag.*.*.duration", Name: "airflow.dag.task.duration", Tags: map[string]string{"dag_id": "$1", "task_id": "$2"}},
		}},
		{Name: "app", Prefix: "app.", Mappings: []Mapping{
			{Match: `app\.http\.(get|post)\.(\d+)`, MatchType: "regex", Name: "app.http.requests", Tags: map[string]string{"method": "$1", "status": "$2"}},
		}},
	})
	if err != nil {
		b.Fatal(err)
	}
	return rules
}

// BenchmarkMap measures one lookup per iteration.
//   - hit: a mapped name served from the cache (the steady state);
//   - unselected: a name no profile's prefix selects (most traffic when profiles are narrow);
//   - miss: every lookup evaluates the patterns and expands the result (a cache of 1 slot and
//     two names alternating), the cost of a name's first sighting.
func BenchmarkMap(b *testing.B) {
	rules := benchRules(b)
	b.Run("hit", func(b *testing.B) {
		m := rules.NewMapper(DefaultCacheSize)
		name := "airflow.dag.etl_daily.load_users.duration"
		m.Map(name)
		b.ReportAllocs()
		for b.Loop() {
			if m.Map(name) == nil {
				b.Fatal("not mapped")
			}
		}
	})
	b.Run("unselected", func(b *testing.B) {
		m := rules.NewMapper(DefaultCacheSize)
		b.ReportAllocs()
		for b.Loop() {
			if m.Map("service.requests.count") != nil {
				b.Fatal("mapped")
			}
		}
	})
	b.Run("miss", func(b *testing.B) {
		m := rules.NewMapper(1)
		names := [2]string{"airflow.dag.etl_daily.load_users.duration", "app.http.post.503"}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if m.Map(names[i&1]) == nil {
				b.Fatal("not mapped")
			}
			i++
		}
	})
	b.Run("many-names", func(b *testing.B) {
		// 10,000 distinct names through the default cache: mostly misses with evictions.
		m := rules.NewMapper(DefaultCacheSize)
		names := make([]string, 10_000)
		for i := range names {
			names[i] = fmt.Sprintf("airflow.job.duration.type%d.job%d", i%13, i)
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			m.Map(names[i%len(names)])
			i++
		}
	})
}

// BenchmarkCacheMemory reports the heap cost of one cached mapping result for a typical mapping
// (`airflow.job.duration.<type>.<name>` to `airflow.job.duration` with 2 tags), the figure
// behind mapper_cache_size's memory bound in the README. The names looked up are not counted:
// in the receiver they are the interner's strings, shared with the cache.
func BenchmarkCacheMemory(b *testing.B) {
	rules := benchRules(b)
	names := make([]string, DefaultCacheSize)
	for i := range names {
		names[i] = fmt.Sprintf("airflow.job.duration.type%d.some_job_name_%d", i%13, i)
	}
	var perEntry float64
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		m := rules.NewMapper(DefaultCacheSize)
		for _, name := range names {
			if m.Map(name) == nil {
				b.Fatal("not mapped")
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		perEntry = float64(after.HeapAlloc-before.HeapAlloc) / DefaultCacheSize
		runtime.KeepAlive(m)
	}
	b.ReportMetric(perEntry, "bytes/entry")
}
