package worker

import (
	"slices"
	"strings"
)

// names applies the metric namespace and the blocklist to metric names (after the mapper), as
// the Agent's enrichMetricSample does: the namespace is prefixed unless the name starts with an
// excluded prefix, and the blocklist is tested on the result. The outcome is cached per name so
// that a sample costs one map lookup and the prefixed name is built once, not per sample. One
// names belongs to one worker.
type names struct {
	namespace  string // ends with '.'; empty: no namespace
	exclusions []string
	block      blocklist
	cache      map[string]nameOutcome
	maxCache   int
}

type nameOutcome struct {
	name    string
	blocked bool
}

// newNames returns nil when neither a namespace nor a blocklist is set.
func newNames(namespace string, exclusions, blocked []string, matchPrefix bool, cacheSize int) *names {
	if namespace == "" && len(blocked) == 0 {
		return nil
	}
	if namespace != "" && !strings.HasSuffix(namespace, ".") {
		namespace += "." // as the Agent does with statsd_metric_namespace
	}
	cacheSize = max(cacheSize, 1)
	return &names{
		namespace: namespace, exclusions: exclusions, block: newBlocklist(blocked, matchPrefix),
		cache: make(map[string]nameOutcome, min(cacheSize, 1024)), maxCache: cacheSize,
	}
}

// apply returns the name a sample named name goes on with, and whether it is blocked.
func (n *names) apply(name string) (string, bool) {
	if o, ok := n.cache[name]; ok {
		return o.name, o.blocked
	}
	out := name
	if n.namespace != "" && !hasAnyPrefix(name, n.exclusions) {
		out = n.namespace + name
	}
	o := nameOutcome{name: out, blocked: n.block.blocks(out)}
	if len(n.cache) >= n.maxCache {
		// Emptied when full, like the string interner: no per-entry bookkeeping on the hit path.
		clear(n.cache)
	}
	n.cache[name] = o
	return o.name, o.blocked
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// blocklist is the Agent's statsd_metric_blocklist: exact names, or prefixes when matchPrefix.
// Entries are sorted and, with matchPrefix, an entry another one starts is dropped, so at most
// one entry can start a name: the greatest one not after it.
type blocklist struct {
	entries     []string
	matchPrefix bool
}

func newBlocklist(entries []string, matchPrefix bool) blocklist {
	e := slices.Clone(entries)
	slices.Sort(e)
	e = slices.Compact(e)
	if matchPrefix {
		kept := e[:0]
		for _, s := range e {
			if len(kept) == 0 || !strings.HasPrefix(s, kept[len(kept)-1]) {
				kept = append(kept, s)
			}
		}
		e = kept
	}
	return blocklist{entries: e, matchPrefix: matchPrefix}
}

func (b *blocklist) blocks(name string) bool {
	if len(b.entries) == 0 {
		return false
	}
	i, found := slices.BinarySearch(b.entries, name)
	if found {
		return true
	}
	return b.matchPrefix && i > 0 && strings.HasPrefix(name, b.entries[i-1])
}
