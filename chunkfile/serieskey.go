package chunkfile

import "hash/maphash"

// seriesKey identifies a series definition by two independent 64-bit hashes of its encoded
// bytes. A writer keeps only this key per series (16 bytes instead of the definition, which is
// written to the file and dropped): two different definitions would have to collide in 128
// bits, which for 2^32 series (the most a file holds) has a probability below 2^-63.
type seriesKey [2]uint64

var seriesSeeds = [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}

func keyOf(def []byte) seriesKey {
	return seriesKey{maphash.Bytes(seriesSeeds[0], def), maphash.Bytes(seriesSeeds[1], def)}
}
