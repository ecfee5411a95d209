package enc

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

func TestTokenRoundTrip(t *testing.T) {
	vals := []uint64{0, 1, 15, 16, 17, 31, 32, 1000, 1<<20 + 12345, math.MaxUint32, 1 << 63, math.MaxUint64}
	r := rand.New(rand.NewPCG(1, 1))
	for range 10000 {
		vals = append(vals, r.Uint64()>>r.IntN(64))
	}
	var w BitWriter
	var toks []byte
	for _, v := range vals {
		tok, x, nb := Token(v)
		if nb != TokenBits(tok) {
			t.Fatalf("%d: %d extra bits, TokenBits says %d", v, nb, TokenBits(tok))
		}
		if got := FromToken(tok, x); got != v {
			t.Fatalf("%d -> token %d extra %d -> %d", v, tok, x, got)
		}
		toks = append(toks, tok)
		w.Write(x, nb)
	}
	var br BitReader
	br.Reset(w.Bytes())
	for i, v := range vals {
		if got := FromToken(toks[i], br.Read(TokenBits(toks[i]))); got != v {
			t.Fatalf("value %d: read %d, want %d", i, got, v)
		}
	}
	if br.Overrun || br.Remaining() != 0 {
		t.Fatalf("overrun %v, %d bytes left", br.Overrun, br.Remaining())
	}
	if _, _, nb := Token(math.MaxUint64); nb != 61 {
		t.Fatalf("max value has %d extra bits, want 61", nb)
	}
	if tok, _, _ := Token(math.MaxUint64); tok != 255 {
		t.Fatalf("max token %d, want 255", tok)
	}
}

func TestBitReaderOverrun(t *testing.T) {
	var br BitReader
	br.Reset([]byte{0xff})
	if br.Read(8) != 0xff || br.Overrun {
		t.Fatal("first byte")
	}
	if br.Read(1) != 0 || !br.Overrun {
		t.Fatal("reading past the end must yield 0 and set Overrun")
	}
}

func TestZig(t *testing.T) {
	for _, x := range []int64{0, -1, 1, math.MinInt64, math.MaxInt64} {
		if Unzig(Zig(x)) != x {
			t.Fatalf("zigzag %d", x)
		}
	}
	if Zig(-1) != 1 || Zig(1) != 2 {
		t.Fatal("zigzag order")
	}
}

func TestHcolForms(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	cases := map[string][]uint64{
		"empty": nil, "equal": {7, 7, 7, 7}, "small": {1, 2, 3},
		"skewed": func() []uint64 {
			v := make([]uint64, 5000)
			for i := range v {
				v[i] = uint64(r.IntN(3))
			}
			return v
		}(),
		"huge": {math.MaxUint64, 0, 1 << 40},
	}
	var w HcolWriter
	var sc StreamCoder
	var sd StreamDecoder
	for name, vs := range cases {
		b := w.Append(nil, &sc, vs)
		d := NewDecbuf(b)
		var scratch []byte
		got := ReadHcol(&d, &sd, nil, len(vs), &scratch)
		if d.Err() != nil || d.Len() != 0 {
			t.Fatalf("%s: err %v, %d bytes left", name, d.Err(), d.Len())
		}
		if len(got) != len(vs) || (len(vs) > 0 && !equal(got, vs)) {
			t.Fatalf("%s: got %v", name, got)
		}
		if name == "skewed" && len(b) > len(vs)/2 {
			t.Fatalf("skewed column took %d bytes for %d values: entropy coding not used", len(b), len(vs))
		}
	}
}

func equal(a, b []uint64) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestStreams(t *testing.T) {
	var sc StreamCoder
	var sd StreamDecoder
	r := rand.New(rand.NewPCG(3, 3))
	rnd := make([]byte, 1000)
	for i := range rnd {
		rnd[i] = byte(r.Uint32())
	}
	skew := make([]byte, 1000)
	for i := range skew {
		skew[i] = byte(r.IntN(3))
	}
	for _, src := range [][]byte{nil, {5}, bytes.Repeat([]byte{9}, 300), rnd, skew} {
		b := sc.AppendStream(nil, src)
		d := NewDecbuf(b)
		got := sd.ReadStream(&d, nil, len(src))
		if d.Err() != nil || !bytes.Equal(got, src) || d.Len() != 0 {
			t.Fatalf("stream of %d bytes: err %v", len(src), d.Err())
		}
		if len(src) > 1 {
			// A budget below the length is refused before decoding.
			d = NewDecbuf(b)
			sd.ReadStream(&d, nil, len(src)-1)
			if !errors.Is(d.Err(), ErrBudget) {
				t.Fatalf("budget not enforced: %v", d.Err())
			}
		}
	}
	if b := sc.AppendStream(nil, skew); len(b) > 400 {
		t.Fatalf("skewed stream coded in %d bytes", len(b))
	}
}

func TestDecbufSticky(t *testing.T) {
	d := NewDecbuf([]byte{0x80})
	if d.Uvarint() != 0 || !errors.Is(d.Err(), ErrShort) {
		t.Fatal("short varint")
	}
	if d.Byte() != 0 || d.String() != "" || !errors.Is(d.Err(), ErrShort) {
		t.Fatal("error not sticky")
	}
	d = NewDecbuf([]byte{3, 'a'})
	if d.String() != "" || d.Err() == nil {
		t.Fatal("string longer than the buffer")
	}
}

// TestHuffmanStream checks the Huffman coding, which the writer picks for large streams
// when it is about as small as FSE.
func TestHuffmanStream(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	src := make([]byte, 20000)
	for i := range src {
		src[i] = byte(r.NormFloat64()*20) + 100
	}
	var sc StreamCoder
	var sd StreamDecoder
	b := sc.AppendStream(nil, src)
	if b[0] != streamHuff {
		t.Fatalf("coding %d for a large near-Gaussian stream, want huff", b[0])
	}
	d := NewDecbuf(b)
	if got := sd.ReadStream(&d, nil, len(src)); d.Err() != nil || !bytes.Equal(got, src) {
		t.Fatalf("huff round trip: %v", d.Err())
	}
	// Damage inside the Huffman data yields an error or different bytes, never a panic.
	for i := 8; i < len(b); i += 97 {
		bad := bytes.Clone(b)
		bad[i] ^= 0x5a
		d := NewDecbuf(bad)
		sd.ReadStream(&d, nil, len(src))
	}
}
