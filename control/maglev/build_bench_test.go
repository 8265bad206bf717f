package maglev

import (
	"fmt"
	"testing"
)

// BenchmarkBuild measures a full table build, one sub-benchmark per
// population and table size; allocations are the table, a bitmap and the
// per-backend state, never N×M.
func BenchmarkBuild(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		for _, m := range []uint32{DefaultSize, MaxSize} {
			backends := namedBackends(n, 1)
			b.Run(fmt.Sprintf("N=%d/M=%d", n, m), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := Build(backends, m, 0); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
