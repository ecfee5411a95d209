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
	res  *Resource // shared by the shard's contexts of one origin
	// all holds the tags, sorted with exact duplicates removed (the first ntags), then the tag
	// order the context was first seen in when it differs: clients repeat their order, so a
	// sample in that order matches without being sorted. One slice keeps the key small.
	all   []string
	ntags uint32
	typ   parse.MetricType
	// overflow marks the context that takes the samples of new contexts beyond max_contexts.
	overflow bool
}

// tags returns the context's canonical tags.
func (k *contextKey) tags() []string { return k.all[:k.ntags] }

// wire returns the tags in the order the context was first seen in.
func (k *contextKey) wire() []string {
	if len(k.all) > int(k.ntags) {
		return k.all[k.ntags:]
	}
	return k.all[:k.ntags]
}

// noResource is the origin of samples without host, container, pod or external data: most traffic
// shares it without a lookup.
var noResource = &Resource{}

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

// hashSample hashes the identity of s. Tags are combined by addition, so the hash does not
// depend on their order, and a tag repeated in the sample is counted once: a sample hashes like
// its canonical form (sorted, duplicates removed), so the hash routes it to the right shard
// before its tags are sorted. Beyond maxPairwiseTags tags it sorts s.Tags in place.
func hashSample(s *parse.Sample) uint64 {
	h := mix(maphash.String(seed, s.Name), uint64(s.Type))
	for i, f := range [4]string{s.Host, s.ContainerID, s.ExternalData, s.PodUID} {
		if f != "" {
			h = mix(h, maphash.String(seed, f)+uint64(i+1))
		}
	}
	if len(s.Tags) > maxPairwiseTags {
		// Pairwise duplicate checks grow with the square of the count: sort instead, which
		// leaves every tag once.
		s.Tags = canonicalTags(s.Tags)
		var tags uint64
		for _, t := range s.Tags {
			tags += mix(maphash.String(seed, t), 0)
		}
		return mix(h, tags)
	}
	var seen [maxPairwiseTags]uint64
	var tags uint64
	n := 0
next:
	for _, t := range s.Tags {
		th := mix(maphash.String(seed, t), 0)
		for _, o := range seen[:n] {
			if o == th {
				continue next
			}
		}
		seen[n] = th
		n++
		tags += th
	}
	return mix(h, tags)
}

// maxPairwiseTags is the tag count up to which hashSample finds repeated tags by comparing
// hashes pairwise.
const maxPairwiseTags = 32

// numTypes sizes the per-type tables (indexed by parse.MetricType).
const numTypes = int(parse.Distribution) + 1

// mix folds v into h (a multiply-xorshift finaliser, so that sums of mixed values do not
// cancel out the way sums of raw hashes of related strings could).
func mix(h, v uint64) uint64 {
	h ^= v
	h *= 0x9e3779b97f4a7c15
	return h ^ h>>32
}

func (k *contextKey) sameOrigin(s *parse.Sample) bool {
	return k.name == s.Name && k.typ == s.Type && *k.res == resourceOf(s)
}

// matchesWire reports whether s is this context with its tags in the order first seen.
func (k *contextKey) matchesWire(s *parse.Sample) bool {
	return k.sameOrigin(s) && slices.Equal(k.wire(), s.Tags)
}

// matches reports whether s, whose tags are canonical, is this context.
func (k *contextKey) matches(s *parse.Sample) bool {
	return k.sameOrigin(s) && slices.Equal(k.tags(), s.Tags)
}

func resourceOf(s *parse.Sample) Resource {
	return Resource{Host: s.Host, ContainerID: s.ContainerID, ExternalData: s.ExternalData, PodUID: s.PodUID}
}
