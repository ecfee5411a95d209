package aggregate

import (
	"hash/maphash"
	"slices"

	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/parse"
)

// seed is shared by every shard so the same context hashes alike everywhere and shards can be
// merged by hash at flush time.
var seed = maphash.MakeSeed()

// contextKey identifies one aggregated series: DogStatsD calls it a context.
type contextKey struct {
	name string
	typ  parse.MetricType
	res  Resource
	tags []string // sorted, exact duplicates removed
}

// canonicalTags sorts tags in place and removes exact duplicates, so that `a:1,b:2` and
// `b:2,a:1,a:1` name the same context (DogStatsD tags are a set). It returns the shortened slice.
func canonicalTags(tags []string) []string {
	// Insertion sort: lines carry a handful of tags and this neither allocates nor calls
	// through an interface.
	for i := 1; i < len(tags); i++ {
		for j := i; j > 0 && tags[j] < tags[j-1]; j-- {
			tags[j], tags[j-1] = tags[j-1], tags[j]
		}
	}
	return slices.Compact(tags)
}

// hashSample hashes the identity of s, whose Tags must already be canonical.
func hashSample(s *parse.Sample) uint64 {
	var h maphash.Hash
	h.SetSeed(seed)
	h.WriteString(s.Name)
	h.WriteByte(byte(s.Type))
	h.WriteString(s.Host)
	h.WriteByte(0)
	h.WriteString(s.ContainerID)
	h.WriteByte(0)
	h.WriteString(s.ExternalData)
	for _, t := range s.Tags {
		h.WriteByte(0)
		h.WriteString(t)
	}
	return h.Sum64()
}

func (k *contextKey) matches(s *parse.Sample) bool {
	return k.name == s.Name && k.typ == s.Type && k.res == resourceOf(s) && slices.Equal(k.tags, s.Tags)
}

func (k *contextKey) equal(o *contextKey) bool {
	return k.name == o.name && k.typ == o.typ && k.res == o.res && slices.Equal(k.tags, o.tags)
}

func resourceOf(s *parse.Sample) Resource {
	return Resource{Host: s.Host, ContainerID: s.ContainerID, ExternalData: s.ExternalData}
}
