package chunkfile

import (
	"github.com/doghouse-otel/doghouse/chunkfile/internal/enc"
)

// Column modes (docs/chunk-format.md 5).
const (
	colConst     = 0
	colRaw       = 1
	colDelta     = 2
	colDod       = 3
	colXor       = 4
	colRaw64     = 5
	colBytesplit = 6
	colModeMask  = 7
	colZZ        = 8
	maxDecimal   = 18
)

// colEncoder turns the timestamps and columns of one series into header column entries and
// residuals. Each Writer owns one and reuses its buffers from block to block.
type colEncoder struct {
	res     enc.Residuals
	tsMode  []uint64
	tsBase  []uint64
	tsStep  []uint64
	info    []uint64
	first   []uint64
	second  []uint64
	cluster []uint64
	raw64   []byte
	planes  [8][]byte
	u       []uint64 // residual scratch
	est     estimator
	ints    []int64 // decimal scratch
}

func (c *colEncoder) reset() {
	c.res.Reset()
	c.tsMode, c.tsBase, c.tsStep = c.tsMode[:0], c.tsBase[:0], c.tsStep[:0]
	c.info, c.first, c.second, c.cluster = c.info[:0], c.first[:0], c.second[:0], c.cluster[:0]
	c.raw64 = c.raw64[:0]
	for i := range c.planes {
		c.planes[i] = c.planes[i][:0]
	}
}

// put sends the residuals in c.u to the cluster that fits them and records the cluster.
func (c *colEncoder) put() { c.putKey(false) }

func (c *colEncoder) putKey(timestamps bool) {
	k := c.res.Cluster(enc.ClusterKey(c.u, timestamps))
	c.cluster = append(c.cluster, uint64(k))
	c.res.Put(k, c.u)
}
