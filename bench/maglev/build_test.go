package maglevbench

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/kkdai/maglev"

	tenbin "tenbin/control/maglev"
)

// kkdaiMemoryBudget skips the kkdai cases whose permutations (N×M uint64s,
// materialised on every build) would not fit comfortably on a shared 24 GiB
// test machine: N=1000, M=655373 needs 5.2 GB.
const kkdaiMemoryBudget = 1 << 30

// BenchmarkBuild builds the same equal-weight population with both libraries
// (kkdai/maglev has no weights). Both hash names with SipHash-2-4, so the
// work differs only in the algorithm and its memory.
func BenchmarkBuild(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		for _, m := range []uint32{tenbin.DefaultSize, tenbin.MaxSize} {
			names := make([]string, n)
			backends := make([]tenbin.Backend, n)
			for i := range names {
				names[i] = fmt.Sprintf("10.0.%d.%d:80", i/256, i%256)
				backends[i] = tenbin.Backend{Name: names[i], Weight: 1}
			}
			b.Run(fmt.Sprintf("N=%d/M=%d/impl=tenbin", n, m), func(b *testing.B) {
				b.ReportAllocs()
				defer reportCPUTime(b)()
				for b.Loop() {
					if _, err := tenbin.Build(backends, m, 0); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(fmt.Sprintf("N=%d/M=%d/impl=kkdai", n, m), func(b *testing.B) {
				if need := uint64(n) * uint64(m) * 8; need > kkdaiMemoryBudget {
					b.Skipf("kkdai/maglev would allocate %d MB of permutations", need>>20)
				}
				b.ReportAllocs()
				defer reportCPUTime(b)()
				for b.Loop() {
					if _, err := maglev.NewMaglev(names, uint64(m)); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// reportCPUTime adds a cpu-ns/op metric: the process's CPU time (all
// threads, so the garbage collector's work counts too) per iteration. On a
// shared machine wall-clock ns/op grows with everyone else's load; CPU time
// mostly does not, so it is the figure to compare across runs.
func reportCPUTime(b *testing.B) func() {
	start := cpuTime(b)
	return func() {
		b.ReportMetric(float64((cpuTime(b)-start).Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}

func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
