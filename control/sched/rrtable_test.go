package sched

import (
	"slices"
	"testing"
)

func counts(table []int32, n int) []int {
	c := make([]int, n)
	for _, b := range table {
		c[b]++
	}
	return c
}

func TestRRTableSharesAreExact(t *testing.T) {
	cases := []struct {
		weights []uint32
		maxLen  int
		want    []int
	}{
		{[]uint32{100, 100, 100}, 65536, []int{1, 1, 1}},
		{[]uint32{5, 1, 1}, 65536, []int{5, 1, 1}},
		{[]uint32{200, 0, 300, 100}, 65536, []int{2, 0, 3, 1}},
		{[]uint32{7, 13, 0, 29}, 65536, []int{7, 13, 0, 29}},
		{[]uint32{0, 0}, 65536, []int{0, 0}},
		// Too long for maxLen: scaled, every non-zero weight keeps a slot.
		{[]uint32{60000, 30000, 1}, 100, []int{66, 33, 1}},
	}
	for _, c := range cases {
		table := RRTable(c.weights, c.maxLen)
		if got := counts(table, len(c.weights)); !slices.Equal(got, c.want) {
			t.Errorf("RRTable(%v, %d): slots per backend %v, want %v", c.weights, c.maxLen, got, c.want)
		}
		if len(table) > c.maxLen {
			t.Errorf("RRTable(%v, %d) has %d slots", c.weights, c.maxLen, len(table))
		}
	}
}

func TestRRTableIsSmooth(t *testing.T) {
	// nginx's example: 5,1,1 gives a a b a c a a, never five a in a row.
	if got, want := RRTable([]uint32{5, 1, 1}, 64), []int32{0, 0, 1, 0, 2, 0, 0}; !slices.Equal(got, want) {
		t.Errorf("RRTable(5,1,1) = %v, want %v", got, want)
	}
	weights := []uint32{1, 2, 3, 5, 8, 13, 21}
	table := RRTable(weights, 65536)
	total := len(table)
	for b, w := range weights {
		// Walking the table round and round, backend b recurs within
		// twice its fair spacing (weighted round robin without smoothing
		// would leave a gap of total-w).
		limit := 2 * ((total + int(w) - 1) / int(w))
		last := -1
		for i := range 2 * total {
			if table[i%total] != int32(b) {
				continue
			}
			if last >= 0 && i-last > limit {
				t.Errorf("backend %d (weight %d) recurs after %d slots, want ≤ %d", b, w, i-last, limit)
			}
			last = i
		}
	}
}

// The dataplane walks one table with one cursor per lcore: every lcore sees
// the exact shares whatever slot it starts at.
func TestRRTableFromAnyCursor(t *testing.T) {
	table := RRTable([]uint32{3, 1}, 64)
	for start := range table {
		c := make([]int, 2)
		for i := range 4 * len(table) {
			c[table[(start+i)%len(table)]]++
		}
		if c[0] != 3*c[1] {
			t.Errorf("from slot %d: %v, want 3:1", start, c)
		}
	}
}
