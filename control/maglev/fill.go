package maglev

// filler is one backend's progress through the fill.
type filler struct {
	credit uint64 // weight accrued but not yet spent on a slot
	weight uint64
	next   uint32 // next slot of its permutation to try
	skip   uint32
	index  int32 // position in the caller's slice
}

// fill runs the Maglev population loop. The search for a free slot probes a
// bitmap (8 KiB for the default size, so it stays in L1) rather than the
// 256 KiB table itself: the search is nearly all of the build's time.
//
// With very uneven weights most rounds pass without the light backends
// claiming anything; that costs one add and compare per backend per round
// (e.g. weights 65535 vs 1 for 999 others: ~M rounds × N, tens of ms), which
// a control plane can afford and keeps the fill exact and simple.
func fill(table []int32, fillers []filler, maxWeight uint64) {
	size := uint32(len(table))
	taken := make([]uint64, (size+63)/64)
	placed := uint32(0)
	for {
		for i := range fillers {
			f := &fillers[i]
			f.credit += f.weight
			if f.credit < maxWeight {
				continue
			}
			f.credit -= maxWeight

			pos, skip, limit := f.next, f.skip, size-f.skip
			pos = firstFree(taken, pos, skip, limit)
			taken[pos/64] |= 1 << (pos % 64)
			table[pos] = f.index
			f.next = advance(pos, skip, limit)

			placed++
			if placed == size {
				return
			}
		}
	}
}

// firstFree returns the first slot at or after pos in a backend's
// permutation that is not yet taken.
func firstFree(taken []uint64, pos, skip, limit uint32) uint32 {
	for taken[pos/64]&(1<<(pos%64)) != 0 {
		pos = advance(pos, skip, limit)
	}
	return pos
}

// advance steps pos to the next entry of a permutation, (pos + skip) mod
// size, given limit = size - skip: one compare and one add on the critical
// path instead of an add, a compare and a subtract. (A branch-free mask was
// measured no faster.)
func advance(pos, skip, limit uint32) uint32 {
	next := pos + skip
	if pos >= limit {
		next = pos - limit
	}
	return next
}
