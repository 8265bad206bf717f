package maglev

// IsPrime reports whether n is prime. Trial division by 6k±1 is exact and,
// for table sizes up to MaxSize, takes well under a microsecond.
func IsPrime(n uint32) bool {
	if n < 4 {
		return n >= 2
	}
	if n%2 == 0 || n%3 == 0 {
		return false
	}
	v := uint64(n)
	for d := uint64(5); d*d <= v; d += 6 {
		if v%d == 0 || v%(d+2) == 0 {
			return false
		}
	}
	return true
}

// NextPrime returns the smallest prime >= n, or 0 when no such prime fits in
// a uint32. Config uses it to suggest a valid table size in its messages.
func NextPrime(n uint32) uint32 {
	for p := uint64(n); p <= 1<<32-1; p++ {
		if IsPrime(uint32(p)) {
			return uint32(p)
		}
	}
	return 0
}
