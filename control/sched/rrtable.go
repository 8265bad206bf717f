package sched

import (
	"math"
	"slices"
)

// RRTable returns the sequence of backend indexes the dataplane walks for rr
// and wrr, each lcore with its own cursor, so no counter is shared per
// packet. Every backend with a non-zero weight appears in proportion to its
// weight, spread as evenly as nginx's smooth weighted round robin spreads it
// (a backend of weight w out of W recurs about every W/w slots, never in a
// burst).
//
// The weights are first divided by their greatest common divisor, so equal
// weights give a table of one slot per backend. If the sum still exceeds
// maxLen, they are scaled down to fit (largest remainder; every non-zero
// weight keeps at least one slot). All weights zero: an empty table.
func RRTable(weights []uint32, maxLen int) []int32 {
	w := fitWeights(weights, maxLen)
	var total int64
	for _, x := range w {
		total += x
	}
	table := make([]int32, 0, total)
	current := make([]int64, len(w))
	for range total {
		best := -1
		for i, x := range w {
			if x == 0 {
				continue
			}
			current[i] += x
			if best < 0 || current[i] > current[best] {
				best = i
			}
		}
		current[best] -= total
		table = append(table, int32(best))
	}
	return table
}

// fitWeights reduces weights by their gcd and, if their sum is still over
// maxLen, scales them to sum to at most maxLen.
func fitWeights(weights []uint32, maxLen int) []int64 {
	w := make([]int64, len(weights))
	var g, total int64
	nonZero := 0
	for i, x := range weights {
		w[i] = int64(x)
		if x > 0 {
			g = gcd(g, int64(x))
			nonZero++
		}
	}
	if g == 0 || maxLen < nonZero {
		if maxLen < nonZero {
			// Not even one slot each: give the heaviest maxLen one slot.
			return heaviest(weights, maxLen)
		}
		return w
	}
	for i := range w {
		w[i] /= g
		total += w[i]
	}
	if total <= int64(maxLen) {
		return w
	}
	// Every non-zero weight keeps one slot; the rest are shared out by
	// largest remainder.
	spare := int64(maxLen - nonZero)
	type rem struct {
		i    int
		frac float64
	}
	var rems []rem
	var given int64
	for i, x := range w {
		if x == 0 {
			continue
		}
		exact := float64(spare) * float64(x) / float64(total)
		whole := math.Floor(exact)
		w[i] = 1 + int64(whole)
		given += int64(whole)
		rems = append(rems, rem{i, exact - whole})
	}
	slices.SortStableFunc(rems, func(a, b rem) int {
		switch {
		case a.frac > b.frac:
			return -1
		case a.frac < b.frac:
			return 1
		}
		return 0
	})
	for k := 0; given < spare; k++ {
		w[rems[k].i]++
		given++
	}
	return w
}

func heaviest(weights []uint32, n int) []int64 {
	idx := make([]int, 0, len(weights))
	for i, x := range weights {
		if x > 0 {
			idx = append(idx, i)
		}
	}
	slices.SortStableFunc(idx, func(a, b int) int { return int(int64(weights[b]) - int64(weights[a])) })
	w := make([]int64, len(weights))
	for _, i := range idx[:max(n, 0)] {
		w[i] = 1
	}
	return w
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
