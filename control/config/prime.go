package config

// isPrime is trial division: maglev sizes are at most 655373, so this is a few hundred steps.
func isPrime(n uint32) bool {
	if n < 2 {
		return false
	}
	for d := uint32(2); d*d <= n; d++ {
		if n%d == 0 {
			return false
		}
	}
	return true
}

// nearestPrimes returns the largest prime below n and the smallest above it, within the
// allowed Maglev sizes (0 where there is none).
func nearestPrimes(n uint32) (below, above uint32) {
	for c := n - 1; c >= MinMaglevSize; c-- {
		if isPrime(c) {
			below = c
			break
		}
	}
	for c := n + 1; c <= MaxMaglevSize; c++ {
		if isPrime(c) {
			above = c
			break
		}
	}
	return below, above
}
