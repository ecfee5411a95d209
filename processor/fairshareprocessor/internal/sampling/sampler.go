// Package sampling decides which aggregated rows of one flush fit a byte budget: StatsHouse's
// hierarchical weighted fair share, its "mainstays", and either its per-row coin flip or a strict
// selection that never spends more than the budget. Both modes are unbiased: the counts and sums
// of kept rows, multiplied by their factor, estimate the true totals without bias.
//
// A Sampler is not safe for concurrent use; it keeps scratch state between runs so that a
// steady-state Run does not allocate.
package sampling

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
)

// MaxLevels bounds the depth of the fair-share hierarchy. Four covers
// namespace, service, metric and one attribute.
const MaxLevels = 4

// Mode selects how a sampled leaf picks its rows.
type Mode uint8

const (
	// Strict keeps rows in random order while they fit the leaf's grant, so the kept bytes never
	// exceed the budget; kept rows are scaled by n/k (n rows offered, k kept), which is unbiased.
	Strict Mode = iota
	// StatsHouse keeps each row independently with probability 1/SF and scales it by SF, as
	// StatsHouse does; the budget holds on average only.
	StatsHouse
)

// Item is one row offered to the sampler. The caller fills the inputs; Run fills the outputs and
// reorders the slice, so the caller finds its row through Ref.
type Item struct {
	// Keys holds the row's group key at each level (for example a namespace hash, then the
	// metric id, then an attribute hash).
	Keys [MaxLevels]uint64
	// Size is what keeping the row costs, in budget units (bytes).
	Size float64
	// Weight is the weight of the row's group at Config.WeightLevel; values <= 0 count as 1.
	Weight float64
	// Whale ranks rows for mainstays: larger values are kept first (for example |count|).
	Whale float64
	// Round asks for the row's factor to be randomly rounded to an integer with the same mean.
	Round bool
	// Ref is the caller's reference to the row.
	Ref int32

	// Factor is the output: 0 when the row is dropped, otherwise the factor its counts and sums
	// must be multiplied by (1 when it was not sampled).
	Factor float64
	// GroupSF is the output sampling factor of the row's group at Config.WeightLevel:
	// group size / group grant, or 1 when the group fit its grant.
	GroupSF float64

	// incl is the inclusion weight of a pooled row (its group's grant / size), or its priority
	// while the pool is sorted.
	incl, prio float64
}

// Config says how the hierarchy is built and how leaves are sampled.
type Config struct {
	// Levels is the number of Item.Keys in use, 1..MaxLevels.
	Levels int
	// WeightLevel is the level whose groups carry Item.Weight and report GroupSF (the metric level).
	WeightLevel int
	// Mode is Strict or StatsHouse.
	Mode Mode
	// Mainstays gives half of a sampled leaf's grant to its largest rows, kept exactly.
	Mainstays bool
}

// Result summarises one Run.
type Result struct {
	Budget    float64
	InBytes   float64
	KeptBytes float64
	InRows    int
	KeptRows  int
}

// group is a contiguous range of items sharing the keys of one level.
type group struct {
	lo, hi  int
	size    float64
	weight  float64
	maxSize float64 // the largest row
}

// Sampler runs the fair-share algorithm. Create it with New.
type Sampler struct {
	cfg     Config
	rng     *rand.Rand
	scratch [MaxLevels][]group
	pool    [MaxLevels][]*Item
}

// New returns a Sampler. Its random choices come from rng, so a fixed seed gives a fixed outcome.
func New(cfg Config, rng *rand.Rand) *Sampler {
	if cfg.Levels < 1 {
		cfg.Levels = 1
	}
	if cfg.Levels > MaxLevels {
		cfg.Levels = MaxLevels
	}
	return &Sampler{cfg: cfg, rng: rng}
}

// Run samples items against budget and fills Factor and GroupSF of every item.
func (s *Sampler) Run(items []Item, budget float64) Result {
	res := Result{Budget: budget, InRows: len(items)}
	for i := range items {
		items[i].Factor = 0
		items[i].GroupSF = 1
		res.InBytes += items[i].Size
	}
	if len(items) == 0 {
		return res
	}
	levels := s.cfg.Levels
	slices.SortFunc(items, func(a, b Item) int {
		for l := range levels {
			if a.Keys[l] != b.Keys[l] {
				if a.Keys[l] < b.Keys[l] {
					return -1
				}
				return 1
			}
		}
		return 0
	})
	if budget > 0 {
		s.share(items, 0, budget)
	}
	for i := range items {
		if items[i].Factor > 0 {
			res.KeptRows++
			res.KeptBytes += items[i].Size
		}
	}
	return res
}

// share splits grant between the groups of items at level and returns the bytes spent
// (in StatsHouse mode, the bytes expected to be spent).
//
// In strict mode a group whose share cannot hold its largest row is not sampled on its own: a
// row larger than the grant of its group could never be kept, and when metrics outnumber the
// rows the budget holds, most groups' shares are below one row, so every such group would be
// dropped and the groups after them kept unscaled, a bias in every total. These groups reserve
// their share and their rows are sampled together, against the sum of those shares, each with
// inclusion weight share/size (see pooled).
func (s *Sampler) share(items []Item, level int, grant float64) float64 {
	groups := s.partition(items, level)
	remaining := grant
	sumW := 0.0
	for _, g := range groups {
		sumW += g.weight
	}
	pool := s.pool[level][:0]
	var poolGrant float64
	// flushPool samples the pooled rows and gives back what they did not use of their reserved
	// shares, so it flows on to the groups after them.
	flushPool := func() {
		if len(pool) > 0 {
			remaining += poolGrant - s.pooled(pool, poolGrant)
			clear(pool)
			pool, poolGrant = pool[:0], 0
		}
	}
	for _, g := range groups {
		part := items[g.lo:g.hi]
		share := remaining * g.weight / sumW
		var spent float64
		// Consecutive pooled groups share one pool; the next group that is not pooled first
		// gets what the pool left.
		if pooledGroup := s.cfg.Mode == Strict && g.size > share && share < g.maxSize; !pooledGroup {
			flushPool()
			share = remaining * g.weight / sumW
		}
		if g.size <= share {
			for i := range part {
				part[i].Factor = 1
			}
			spent = g.size
		} else {
			if level == s.cfg.WeightLevel {
				sf := g.size / share
				for i := range part {
					part[i].GroupSF = sf
				}
			}
			switch {
			case s.cfg.Mode == Strict && share < g.maxSize:
				incl := share / g.size
				for i := range part {
					part[i].incl = incl
					pool = append(pool, &part[i])
				}
				poolGrant += share
				spent = share
			case level+1 < s.cfg.Levels:
				spent = s.share(part, level+1, share)
			default:
				spent = s.leaf(part, share)
			}
			if s.cfg.Mode == StatsHouse {
				spent = share
			}
		}
		remaining -= spent
		sumW -= g.weight
		if remaining < 0 {
			remaining = 0
		}
	}
	flushPool()
	s.pool[level] = pool
	return grant - remaining
}

// pooled is the strict selection over rows with unequal inclusion weights w_i (their group's
// share / size): priority sampling. Every row gets the priority u_i/w_i for an independent
// uniform u_i; rows are visited by ascending priority and kept while they fit; the first that
// does not fit ends the selection, and its priority is the threshold t. It returns the bytes kept.
//
// Why it is unbiased: row i is kept exactly when its priority is below the threshold it would
// face, t_i, which is the priority of the first other row that does not fit once i's size is
// counted in. t_i depends on the other rows' priorities and on sizes, not on u_i, and for a kept
// row it equals t. So P(kept | others) = min(1, w_i*t_i) and the Horvitz-Thompson factor
// 1/min(1, w_i*t) makes every row's scaled value an unbiased estimate of its true value. A row
// keeps a positive probability as long as it fits the pool's grant alone, which is the point of
// pooling the shares of many groups. When every row fits, t is infinite and each factor is 1.
func (s *Sampler) pooled(pool []*Item, grant float64) float64 {
	var kept float64
	if s.cfg.Mainstays {
		// Half of the pool's grant keeps its largest rows exactly, as in a leaf: in a flood of
		// one-row metrics the pool also holds the rows that carry most of the total (an
		// overflow row folds thousands of metrics), and sampling those would make the total
		// swing by their whole value.
		var m int
		kept, m = poolMainstays(pool, grant/2)
		pool = pool[m:]
		grant -= kept
	}
	if len(pool) == 0 {
		return kept
	}
	for _, it := range pool {
		// 1-u is in (0, 1], so no priority is zero and none is infinite.
		it.prio = (1 - s.rng.Float64()) / it.incl
	}
	slices.SortFunc(pool, func(a, b *Item) int {
		switch {
		case a.prio < b.prio:
			return -1
		case a.prio > b.prio:
			return 1
		}
		return 0
	})
	var used float64
	k := 0
	for ; k < len(pool) && used+pool[k].Size <= grant; k++ {
		used += pool[k].Size
	}
	threshold := math.Inf(1)
	if k < len(pool) {
		threshold = pool[k].prio
	}
	for _, it := range pool[:k] {
		f := 1 / min(1, it.incl*threshold)
		if it.Round {
			f = s.roundRandom(f)
		}
		it.Factor = f
	}
	return kept + used
}

// poolMainstays is mainstays over pooled rows: it moves the rows with the largest Whale to the
// front of pool and keeps them (factor 1) while they fit in half, largest first, and returns
// their bytes and count.
func poolMainstays(pool []*Item, half float64) (float64, int) {
	slices.SortFunc(pool, func(a, b *Item) int { return cmp.Compare(b.Whale, a.Whale) })
	var used float64
	m := 0
	for ; m < len(pool) && used+pool[m].Size <= half; m++ {
		used += pool[m].Size
		pool[m].Factor = 1
	}
	return used, m
}

// partition cuts items (sorted by keys) into the groups of level, ordered by size/weight
// ascending, in the per-level scratch slice.
func (s *Sampler) partition(items []Item, level int) []group {
	gs := s.scratch[level][:0]
	for lo := 0; lo < len(items); {
		key := items[lo].Keys[level]
		g := group{lo: lo, weight: 1}
		if level == s.cfg.WeightLevel && items[lo].Weight > 0 {
			g.weight = items[lo].Weight
		}
		hi := lo
		for hi < len(items) && items[hi].Keys[level] == key {
			g.size += items[hi].Size
			g.maxSize = max(g.maxSize, items[hi].Size)
			hi++
		}
		g.hi = hi
		gs = append(gs, g)
		lo = hi
	}
	slices.SortFunc(gs, func(a, b group) int {
		x, y := a.size*b.weight, b.size*a.weight
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return a.lo - b.lo
	})
	s.scratch[level] = gs
	return gs
}

// leaf samples the rows of one group that is over its grant and returns the bytes kept.
func (s *Sampler) leaf(items []Item, grant float64) float64 {
	var kept float64
	rest := items
	if s.cfg.Mainstays {
		var m int
		kept, m = s.mainstays(items, grant/2)
		rest = items[m:]
	}
	if len(rest) == 0 {
		return kept
	}
	if s.cfg.Mode == StatsHouse {
		return kept + s.coinFlip(rest, grant-kept)
	}
	return kept + s.fill(rest, grant-kept)
}

// mainstays moves the rows with the largest Whale to the front and keeps them, largest first,
// while they fit in half; it returns their bytes and count. It stops at the first row that does not fit: a smaller row behind it is
// not a mainstay. The choice depends only on the data, so it adds no bias.
func (s *Sampler) mainstays(items []Item, half float64) (float64, int) {
	minSize := math.Inf(1)
	for i := range items {
		minSize = min(minSize, items[i].Size)
	}
	if minSize > half {
		return 0, 0 // the seed's 1.6-row case: half the budget cannot hold one row
	}
	slices.SortFunc(items, func(a, b Item) int {
		switch {
		case a.Whale > b.Whale:
			return -1
		case a.Whale < b.Whale:
			return 1
		}
		return 0
	})
	var used float64
	m := 0
	for ; m < len(items); m++ {
		if used+items[m].Size > half {
			break
		}
		used += items[m].Size
		items[m].Factor = 1
	}
	return used, m
}

// fill is the strict selection: rows are visited in uniformly random order and kept while they
// fit; the first row that does not fit ends the selection. With n rows and k kept, every kept
// row gets factor n/k.
//
// Why n/k is unbiased: the random order is the order of independent uniform priorities u_i, and
// "stop at the first row that does not fit" makes a row's inclusion monotone in its own priority,
// so row i is kept exactly when u_i < u_stop, the priority of the stopping row (priority
// sampling with threshold). Horvitz-Thompson then gives the unbiased factor 1/u_stop. The order
// of the u_i and their sorted values are independent, and given the order u_stop is the (k+1)-th
// smallest of n uniforms, Beta(k+1, n-k), whose reciprocal has mean n/k. Replacing 1/u_stop by
// that conditional mean (Rao-Blackwell) keeps the estimator unbiased and removes its noise.
func (s *Sampler) fill(items []Item, grant float64) float64 {
	var used float64
	k := 0
	for ; k < len(items); k++ {
		j := k + s.rng.IntN(len(items)-k)
		items[k], items[j] = items[j], items[k]
		if used+items[k].Size > grant {
			break
		}
		used += items[k].Size
	}
	if k == 0 {
		return 0
	}
	f := float64(len(items)) / float64(k)
	for i := range items[:k] {
		items[i].Factor = f
		if items[i].Round {
			items[i].Factor = s.roundRandom(f)
		}
	}
	return used
}

// coinFlip keeps each row with probability grant/size, scaled by SF = size/grant. With random
// rounding the SF is rounded once for the whole group, as StatsHouse does, and a group whose SF
// rounds to 1 is kept whole.
func (s *Sampler) coinFlip(items []Item, grant float64) float64 {
	var size float64
	for i := range items {
		size += items[i].Size
	}
	sf := size / grant
	if items[0].Round {
		sf = s.roundRandom(sf)
	}
	var used float64
	if sf <= 1 {
		for i := range items {
			items[i].Factor = 1
			used += items[i].Size
		}
		return used
	}
	for i := range items {
		if s.rng.Float64()*sf < 1 {
			items[i].Factor = sf
			used += items[i].Size
		}
	}
	return used
}

// roundRandom rounds f down or up so that the mean is f: 1.1 becomes 1 nine times out of ten.
func (s *Sampler) roundRandom(f float64) float64 {
	fl := math.Floor(f)
	if s.rng.Float64() < f-fl {
		return fl + 1
	}
	return fl
}
