package maglev

import (
	"container/heap"
)

// Weighted population, after katran's MaglevHashV2: the fill goes in rounds;
// in every round each backend earns credit equal to its weight and, when its
// credit reaches the largest weight T, spends T to claim its next preferred
// free slot. The heaviest backend claims once a round, the others in
// proportion to weight, until the table is full. Within a round backends go
// in name order, which is what makes the table independent of input order.
//
// Credit starts at T/2, so a backend's k-th claim falls in the round where
// its earned weight first reaches (k-1/2)·T: shares are the exact ones
// rounded to the nearest slot. Starting at 0 would round every light backend
// down, and a table that fills before the light backends' first claim would
// give them nothing (1 backend of weight 65535 with 999 of weight 1 took
// 99.997% of the slots instead of 98.5%).

// filler is one backend's progress through the fill.
type filler struct {
	weight uint64
	credit uint64 // weight earned but not yet spent on a slot
	next   uint32 // next slot of its permutation to try
	skip   uint32
	limit  uint32 // size - skip, see advance
	index  int32  // position in the caller's slice
}

// fill runs the weighted Maglev population on table (all -1), given the
// backends in name order and T, the largest weight. Both strategies produce
// the same table; they differ in cost. Scanning every backend every round
// costs N per round, and there are about M·T/sum(weights) rounds, so with a
// few heavy backends and many light ones most of that scan is backends with
// nothing to claim yet; a queue ordered by next claim costs log N per slot
// instead.
func fill(table []int32, fillers []filler, maxWeight uint64) {
	var sum uint64
	for i := range fillers {
		sum += fillers[i].weight
	}
	// Scanning costs about 0.9 ns per backend per round, M·(max/mean)·0.9 ns
	// in all; the queue (container/heap) costs 9-11 ms for M=65537 and
	// N >= 100 whatever the weights. Measured break-even: max/mean ≈ 130.
	// Max/mean never exceeds N, so small populations always scan.
	maxOverMean := uint64(len(fillers)) * maxWeight / sum
	if maxOverMean <= 128 {
		fillByRounds(table, fillers, maxWeight)
	} else {
		fillByQueue(table, fillers, maxWeight)
	}
}

// fillByRounds plays the rounds literally: the fast path for even weights.
func fillByRounds(table []int32, fillers []filler, maxWeight uint64) {
	size := uint32(len(table))
	taken := make([]uint64, (size+63)/64)
	for i := range fillers {
		fillers[i].credit = maxWeight / 2
	}
	placed := uint32(0)
	for {
		for i := range fillers {
			f := &fillers[i]
			f.credit += f.weight
			if f.credit < maxWeight {
				continue
			}
			f.credit -= maxWeight

			pos := firstFree(taken, f.next, f.skip, f.limit)
			taken[pos/64] |= 1 << (pos % 64)
			table[pos] = f.index
			f.next = advance(pos, f.skip, f.limit)

			placed++
			if placed == size {
				return
			}
		}
	}
}

// fillByQueue visits only the backends that claim in a round: it pops the
// backend with the earliest (round, name) and computes its next claim round
// in closed form. Same claims in the same order as fillByRounds.
func fillByQueue(table []int32, fillers []filler, maxWeight uint64) {
	size := uint32(len(table))
	taken := make([]uint64, (size+63)/64)
	q := claimQueue{
		fillers:   fillers,
		order:     make([]int32, len(fillers)),
		claims:    make([]uint64, len(fillers)),
		rounds:    make([]uint64, len(fillers)),
		maxWeight: maxWeight,
	}
	for i := range fillers {
		q.order[i] = int32(i)
		q.rounds[i] = q.claimRound(i)
	}
	heap.Init(&q)
	for placed := uint32(0); placed < size; placed++ {
		i := q.order[0]
		f := &fillers[i]
		pos := firstFree(taken, f.next, f.skip, f.limit)
		taken[pos/64] |= 1 << (pos % 64)
		table[pos] = f.index
		f.next = advance(pos, f.skip, f.limit)

		q.claims[i]++
		q.rounds[i] = q.claimRound(int(i))
		heap.Fix(&q, 0)
	}
}

// claimQueue orders fillers by (round of next claim, name order); name order
// is the position in fillers, which Build sorted by name. Its bookkeeping
// lives here rather than in filler to keep filler, which the round scan
// walks, at 32 bytes.
type claimQueue struct {
	fillers   []filler
	order     []int32  // heap of indexes into fillers
	claims    []uint64 // slots claimed so far, per filler
	rounds    []uint64 // round of the next claim, per filler
	maxWeight uint64
}

// claimRound is the round (counting from 1) of filler i's next claim: the
// first round r where T/2 + r·w >= (claims+1)·T, i.e. its credit reaches T.
func (q *claimQueue) claimRound(i int) uint64 {
	need := (q.claims[i]+1)*q.maxWeight - q.maxWeight/2
	w := q.fillers[i].weight
	return (need + w - 1) / w
}

func (q *claimQueue) Len() int { return len(q.order) }

func (q *claimQueue) Less(i, j int) bool {
	a, b := q.order[i], q.order[j]
	if q.rounds[a] != q.rounds[b] {
		return q.rounds[a] < q.rounds[b]
	}
	return a < b
}

func (q *claimQueue) Swap(i, j int) { q.order[i], q.order[j] = q.order[j], q.order[i] }

// Push and Pop complete heap.Interface; the queue never grows or shrinks
// because every backend always has a next claim.
func (q *claimQueue) Push(any) { panic("maglev: claimQueue.Push") }
func (q *claimQueue) Pop() any { panic("maglev: claimQueue.Pop") }

// firstFree returns the first slot at or after pos in a backend's
// permutation that is not yet taken. The search probes a bitmap (8 KiB for
// the default size, so it stays in L1) rather than the 256 KiB table: this
// loop is nearly all of a build's time.
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
