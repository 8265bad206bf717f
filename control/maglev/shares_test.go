package maglev

import (
	"math"
	"slices"
	"testing"
)

// TestBuildSharesFollowWeights: the share of new flows a backend receives is
// its share of slots, which must be its share of the weight.
func TestBuildSharesFollowWeights(t *testing.T) {
	weighted := func(n int, weight func(i int) uint32) []Backend {
		backends := namedBackends(n, 0)
		for i := range backends {
			backends[i].Weight = weight(i)
		}
		return backends
	}
	cases := []struct {
		name     string
		backends []Backend
		size     uint32
	}{
		{"3 equal", namedBackends(3, 1), DefaultSize},
		{"10 weights 1..10", weighted(10, func(i int) uint32 { return uint32(i + 1) }), DefaultSize},
		{"10 weights 1..10, smallest table", weighted(10, func(i int) uint32 { return uint32(i + 1) }), MinSize},
		{"100 weights 1..7, smallest table", weighted(100, func(i int) uint32 { return uint32(1 + i%7) }), MinSize},
		{"1000 equal", namedBackends(1000, 100), DefaultSize},
		{"1000 scheduler-like weights", weighted(1000, func(i int) uint32 { return uint32(100 + i*37%6400) }), DefaultSize},
		{"1000, a third drained", weighted(1000, func(i int) uint32 { return uint32(i % 3) }), MaxSize},
		{"1 heavy and 999 light (queue fill)", weighted(1000, func(i int) uint32 { return max(1, uint32(i/999)*65535) }), DefaultSize},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			table := mustBuild(t, c.backends, c.size, 0)
			var sum float64
			for _, b := range c.backends {
				sum += float64(b.Weight)
			}
			for i, got := range Shares(table, len(c.backends)) {
				want := float64(c.backends[i].Weight) / sum
				if diff := math.Abs(got - want); diff > 0.01 {
					t.Errorf("%s: share %.5f, want %.5f ± 0.01", c.backends[i].Name, got, want)
				}
				// Tighter, for the many small shares where 0.01 says little:
				// within 1% of the share itself, give or take 2 slots of
				// rounding. Each backend's count is its exact share rounded
				// to a slot (measured at most 0.98 slot off), except that
				// the heavy backend absorbs the others' roundings (15 slots
				// in the 1-heavy case, 0.02% of the table).
				slot := 1 / float64(c.size)
				if diff := math.Abs(got - want); diff > 0.01*want+2*slot {
					t.Errorf("%s: share %.6f is %.1f slots from %.6f", c.backends[i].Name, got, diff/slot, want)
				}
			}
		})
	}
}

func TestShares(t *testing.T) {
	cases := []struct {
		name  string
		table []int32
		n     int
		want  []float64
	}{
		{"even", []int32{0, 1, 0, 1}, 2, []float64{0.5, 0.5}},
		{"empty slots count for nobody", []int32{0, -1, -1, 1}, 2, []float64{0.25, 0.25}},
		{"owners beyond n are ignored", []int32{0, 2, 2, 2}, 2, []float64{0.25, 0}},
		{"no table", nil, 2, []float64{0, 0}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Shares(c.table, c.n); !slices.Equal(got, c.want) {
				t.Errorf("Shares(%v, %d) = %v, want %v", c.table, c.n, got, c.want)
			}
		})
	}
}
