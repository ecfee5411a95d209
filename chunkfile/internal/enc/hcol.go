package enc

// Header column forms (docs/chunk-format.md 4.2).
const (
	hcolEqual   = 0
	hcolVarints = 1
	hcolTokens  = 2
)

// HcolWriter encodes header columns: short lists of uint64 describing series and columns.
type HcolWriter struct {
	toks  []byte
	extra BitWriter
	tmp   []byte
}

// Append appends the smallest form of vs to dst.
func (w *HcolWriter) Append(dst []byte, sc *StreamCoder, vs []uint64) []byte {
	if len(vs) == 0 {
		return append(dst, hcolVarints)
	}
	equal := true
	varLen := 0
	for _, v := range vs {
		if v != vs[0] {
			equal = false
		}
		varLen += uvarintLen(v)
	}
	if equal {
		dst = append(dst, hcolEqual)
		return AppendUvarint(dst, vs[0])
	}
	w.toks = w.toks[:0]
	w.extra.Reset()
	for _, v := range vs {
		t, x, nb := Token(v)
		w.toks = append(w.toks, t)
		w.extra.Write(x, nb)
	}
	w.tmp = append(w.tmp[:0], hcolTokens)
	w.tmp = sc.AppendStream(w.tmp, w.toks)
	ex := w.extra.Bytes()
	w.tmp = AppendUvarint(w.tmp, uint64(len(ex)))
	w.tmp = append(w.tmp, ex...)
	if len(w.tmp) < 1+varLen {
		return append(dst, w.tmp...)
	}
	dst = append(dst, hcolVarints)
	for _, v := range vs {
		dst = AppendUvarint(dst, v)
	}
	return dst
}

// ReadHcol decodes a header column of n values into dst[:0]. scratch is reused for tokens.
func ReadHcol(d *Decbuf, sd *StreamDecoder, dst []uint64, n int, scratch *[]byte) []uint64 {
	dst = dst[:0]
	form := d.Byte()
	if d.E != nil {
		return dst
	}
	switch form {
	case hcolEqual:
		v := d.Uvarint()
		for range n {
			dst = append(dst, v)
		}
	case hcolVarints:
		for range n {
			dst = append(dst, d.Uvarint())
			if d.E != nil {
				return dst[:0]
			}
		}
	case hcolTokens:
		toks := sd.ReadStream(d, *scratch, n)
		*scratch = toks
		ex := d.UvarintBytes()
		if d.E != nil {
			return dst[:0]
		}
		if len(toks) != n {
			d.Fail(errHcolLen)
			return dst[:0]
		}
		var br BitReader
		br.Reset(ex)
		dst = growU64(dst, n)
		for i, t := range toks[:n] {
			v := uint64(t)
			if t >= 16 {
				nb := uint(t-16)>>2 + 2
				if nb <= 56 {
					if br.N < nb {
						br.Ensure(nb)
					}
					v = (4|uint64(t&3))<<nb | br.Acc&(1<<nb-1)
					br.Acc >>= nb
					br.N -= nb
				} else {
					v = (4|uint64(t&3))<<nb | br.Read(nb)
				}
			}
			dst[i] = v
		}
		if br.Overrun {
			d.Fail(ErrShort)
			return dst[:0]
		}
	default:
		d.Fail(errHcolForm)
	}
	return dst
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

func growU64(s []uint64, n int) []uint64 {
	if cap(s) < n {
		return make([]uint64, n)
	}
	return s[:n]
}
