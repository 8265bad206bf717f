package maglev

import (
	"slices"
	"testing"
)

// TestFillStrategiesAgree: fill picks a strategy by cost; the table must not
// depend on which one ran.
func TestFillStrategiesAgree(t *testing.T) {
	cases := []struct {
		name    string
		weights func(i int) uint32
		n       int
	}{
		{"equal", func(int) uint32 { return 1 }, 50},
		{"mixed", func(i int) uint32 { return uint32(1 + i*7%13) }, 50},
		{"with drained", func(i int) uint32 { return uint32(i % 3) }, 50},
		{"skewed", func(i int) uint32 { return max(1, uint32(i/199)*65535) }, 200},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			backends := namedBackends(c.n, 0)
			for i := range backends {
				backends[i].Weight = c.weights(i)
			}
			var fillers []filler
			var maxWeight uint64
			for i, b := range backends { // namedBackends are in name order
				if b.Weight == 0 {
					continue
				}
				p := newPermutation(b.Name, MinSize, 0)
				fillers = append(fillers, filler{weight: uint64(b.Weight), next: p.offset, skip: p.skip, limit: MinSize - p.skip, index: int32(i)})
				maxWeight = max(maxWeight, uint64(b.Weight))
			}
			byRounds, byQueue := make([]int32, MinSize), make([]int32, MinSize)
			fillByRounds(byRounds, slices.Clone(fillers), maxWeight)
			fillByQueue(byQueue, slices.Clone(fillers), maxWeight)
			if !slices.Equal(byRounds, byQueue) {
				t.Errorf("fillByRounds and fillByQueue differ:\n%v\n%v", byRounds, byQueue)
			}
		})
	}
}
