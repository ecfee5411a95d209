package enc

import "math/bits"

// Residuals are split into a one-byte token, which carries the shape of their distribution and
// is entropy coded, and extra bits, which are close to uniform and stored raw: values below 16
// are their own token; a larger value of bit length n (5..64) keeps its leading 1 implied and
// the next two bits in the token (token = 16 + 4*(n-5) + those bits) and writes its low n-3
// bits as extra bits. Two mantissa bits in the token keep the cost of the uniform-within-bucket
// assumption to hundredths of a bit on smooth distributions (measured on the reference
// workload), and 256 tokens cover all of uint64.

// Token returns the token of v, the extra bits and their count.
func Token(v uint64) (tok byte, extra uint64, nb uint) {
	if v < 16 {
		return byte(v), 0, 0
	}
	n := uint(bits.Len64(v))
	nb = n - 3
	m := (v >> nb) & 3
	return byte(16 + 4*(n-5) + uint(m)), v & (1<<nb - 1), nb
}

// TokenBits returns the number of extra bits that follow token t.
func TokenBits(t byte) uint {
	if t < 16 {
		return 0
	}
	return uint(t-16)>>2 + 2
}

// FromToken rebuilds a value from its token and extra bits.
func FromToken(t byte, extra uint64) uint64 {
	if t < 16 {
		return uint64(t)
	}
	nb := uint(t-16)>>2 + 2
	return (4|uint64(t&3))<<nb | extra
}

// Zig maps a signed value to an unsigned one with small magnitudes first.
func Zig(x int64) uint64 { return uint64(x<<1) ^ uint64(x>>63) }

// Unzig inverts Zig.
func Unzig(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }

// Cost estimates the bits a residual costs once coded: its bit length plus about one bit of
// token entropy. Encoders compare modes with it; only the relative order matters.
func Cost(v uint64) int { return bits.Len64(v) + 1 }

// Residuals accumulates the tokens of one block, one token stream per cluster, and the shared
// extra bit stream. Columns whose residuals have similar magnitudes share a cluster so each
// stream's entropy coder sees one distribution.
type Residuals struct {
	Tokens [][]byte // by cluster index
	Extra  BitWriter
	index  [2 * 65]int16 // cluster key -> index+1
}

// Reset empties r for a new block and keeps its buffers.
func (r *Residuals) Reset() {
	for i := range r.Tokens {
		r.Tokens[i] = r.Tokens[i][:0]
	}
	r.Tokens = r.Tokens[:0]
	r.Extra.Reset()
	r.index = [2 * 65]int16{}
}

// Cluster returns the stream index for cluster key (0..129, see ClusterKey), creating the
// stream on first use.
func (r *Residuals) Cluster(key int) int {
	if i := r.index[key]; i > 0 {
		return int(i) - 1
	}
	n := len(r.Tokens)
	if n < cap(r.Tokens) {
		r.Tokens = r.Tokens[:n+1]
		r.Tokens[n] = r.Tokens[n][:0]
	} else {
		r.Tokens = append(r.Tokens, nil)
	}
	r.index[key] = int16(n + 1)
	return n
}

// ClusterKey returns the cluster key of residuals vs: their rounded mean bit length (0..64),
// plus 65 for timestamp residuals, which never share a stream with values: jitter residuals and
// counter increments have similar magnitudes but different distributions, and mixing them cost
// 0.3 bits an event on the jittered reference workload.
func ClusterKey(vs []uint64, timestamps bool) int {
	off := 0
	if timestamps {
		off = 65
	}
	if len(vs) == 0 {
		return off
	}
	s := 0
	for _, v := range vs {
		s += bits.Len64(v)
	}
	return off + (2*s+len(vs))/(2*len(vs))
}

// Put appends residuals vs to cluster c.
func (r *Residuals) Put(c int, vs []uint64) {
	toks := r.Tokens[c]
	for _, v := range vs {
		if v < 16 {
			toks = append(toks, byte(v))
			continue
		}
		n := uint(bits.Len64(v))
		nb := n - 3
		toks = append(toks, byte(16+4*(n-5)+uint((v>>nb)&3)))
		r.Extra.Write(v&(1<<nb-1), nb)
	}
	r.Tokens[c] = toks
}

// TokenReader hands out the residuals of one cluster stream; the extra bits come from a bit
// stream shared by all clusters.
type TokenReader struct {
	Toks []byte
	Pos  int
}
