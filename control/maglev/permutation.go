package maglev

import "github.com/dchest/siphash"

// The two SipHash-2-4 keys' second halves; the first half is the caller's
// seed. Two different keys give two independent 64-bit hashes of the same
// name, as the paper's h1 (offset) and h2 (skip). SipHash is specified
// byte-for-byte, so every node computes the same values; hash/maphash or map
// iteration would differ per process.
const (
	offsetKey uint64 = 0x7465_6e62_696e_6f66 // "tenbinof"
	skipKey   uint64 = 0x7465_6e62_696e_736b // "tenbinsk"
)

// permutation is one backend's preference list over the table's slots,
// kept as Maglev's (offset, skip) pair instead of M materialised entries:
// entry j is (offset + j*skip) mod M. Because M is prime and 1 <= skip < M,
// the list visits every slot exactly once.
type permutation struct {
	offset uint32
	skip   uint32
}

func newPermutation(name string, size uint32, seed uint64) permutation {
	b := []byte(name)
	h1 := siphash.Hash(seed, offsetKey, b)
	h2 := siphash.Hash(seed, skipKey, b)
	return permutation{
		offset: uint32(h1 % uint64(size)),
		skip:   uint32(h2%uint64(size-1)) + 1,
	}
}
