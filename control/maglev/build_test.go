package maglev

import (
	"errors"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// TestBuildGolden pins the first slots of a few tables, so any change to the
// hash, the permutation or the fill order fails here: several LB nodes behind
// ECMP, possibly on different versions, must build the same table.
func TestBuildGolden(t *testing.T) {
	cases := []struct {
		name     string
		backends []Backend
		size     uint32
		seed     uint64
		want     []int32
	}{
		{
			name:     "equal weights",
			backends: []Backend{{"alpha", 1}, {"bravo", 1}, {"charlie", 1}},
			size:     DefaultSize,
			want:     []int32{0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 2, 2, 0, 2, 2, 1},
		},
		{
			name:     "weights 1 2 3",
			backends: []Backend{{"alpha", 1}, {"bravo", 2}, {"charlie", 3}},
			size:     DefaultSize,
			want:     []int32{0, 2, 0, 0, 2, 0, 2, 2, 2, 1, 2, 2, 1, 2, 2, 1},
		},
		{
			name:     "smallest size and a seed",
			backends: []Backend{{"alpha", 1}, {"bravo", 2}, {"charlie", 3}},
			size:     MinSize,
			seed:     42,
			want:     []int32{1, 1, 0, 2, 2, 2, 0, 1, 0, 2, 1, 1, 1, 2, 1, 0},
		},
		{
			name:     "largest size, one backend drained",
			backends: []Backend{{"10.0.0.1:80", 100}, {"10.0.0.2:80", 100}, {"10.0.0.3:80", 0}},
			size:     MaxSize,
			seed:     7,
			want:     []int32{0, 1, 0, 0, 0, 1, 1, 0, 1, 0, 1, 1, 1, 0, 1, 0},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			table := mustBuild(t, c.backends, c.size, c.seed)
			if len(table) != int(c.size) {
				t.Fatalf("len = %d, want %d", len(table), c.size)
			}
			if got := table[:len(c.want)]; !slices.Equal(got, c.want) {
				t.Errorf("first slots = %v, want %v", got, c.want)
			}
		})
	}
}

// TestPermutationGolden pins the offset and skip derived from a name, the
// part of the table that must never depend on the machine.
func TestPermutationGolden(t *testing.T) {
	cases := []struct {
		name string
		seed uint64
		want permutation
	}{
		{"alpha", 0, permutation{offset: 40789, skip: 24413}},
		{"alpha", 1, permutation{offset: 20365, skip: 37788}},
		{"bravo", 0, permutation{offset: 32780, skip: 27218}},
		{"bravo", 1, permutation{offset: 10346, skip: 33568}},
	}
	for _, c := range cases {
		if got := newPermutation(c.name, DefaultSize, c.seed); got != c.want {
			t.Errorf("newPermutation(%q, %d, %d) = %+v, want %+v", c.name, DefaultSize, c.seed, got, c.want)
		}
	}
}

func TestBuildFillsEverySlot(t *testing.T) {
	cases := []struct {
		name     string
		backends []Backend
		size     uint32
	}{
		{"one backend", namedBackends(1, 1), MinSize},
		{"as many backends as slots", namedBackends(int(MinSize), 1), MinSize},
		{"10 backends", namedBackends(10, 1), DefaultSize},
		{"1000 backends, largest table", namedBackends(1000, 100), MaxSize},
		{"some drained", append(namedBackends(5, 3), Backend{"drained-a", 0}, Backend{"drained-b", 0}), DefaultSize},
		{"skewed weights", append([]Backend{{"heavy", 65535}}, namedBackends(300, 1)...), DefaultSize},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			table := mustBuild(t, c.backends, c.size, 0)
			for slot, owner := range table {
				if owner < 0 || int(owner) >= len(c.backends) {
					t.Fatalf("slot %d: owner %d, want an index in 0..%d", slot, owner, len(c.backends)-1)
				}
				if c.backends[owner].Weight == 0 {
					t.Fatalf("slot %d owned by %q of weight 0", slot, c.backends[owner].Name)
				}
			}
		})
	}
}

func TestBuildWithoutWeightIsEmpty(t *testing.T) {
	cases := []struct {
		name     string
		backends []Backend
	}{
		{"no backends", nil},
		{"all drained", namedBackends(4, 0)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			table := mustBuild(t, c.backends, MinSize, 0)
			if len(table) != int(MinSize) {
				t.Fatalf("len = %d, want %d", len(table), MinSize)
			}
			for slot, owner := range table {
				if owner != -1 {
					t.Fatalf("slot %d = %d, want -1", slot, owner)
				}
			}
		})
	}
}

func TestBuildDeterministic(t *testing.T) {
	backends := namedBackends(100, 1)
	for i := range backends {
		backends[i].Weight = uint32(1 + i%5)
	}
	first := mustBuild(t, backends, DefaultSize, 9)
	if again := mustBuild(t, backends, DefaultSize, 9); !slices.Equal(first, again) {
		t.Error("two builds from the same input differ")
	}
	// The seed is how operators decorrelate services that share backends.
	if other := mustBuild(t, backends, DefaultSize, 10); slices.Equal(first, other) {
		t.Error("seeds 9 and 10 give the same table")
	}
}

// TestBuildOrderIndependent: the config lists backends in any order, and
// nodes must still agree on which backend owns each slot.
func TestBuildOrderIndependent(t *testing.T) {
	mixed := namedBackends(1000, 1)
	for i := range mixed {
		mixed[i].Weight = uint32(i % 7 * 100) // some drained, several weights
	}
	cases := []struct {
		name     string
		backends []Backend
		size     uint32
	}{
		{"3 backends", []Backend{{"alpha", 1}, {"bravo", 2}, {"charlie", 3}}, MinSize},
		{"100 equal", namedBackends(100, 5), DefaultSize},
		{"1000 mixed weights", mixed, DefaultSize},
		{"skewed (queue fill)", append(namedBackends(300, 1), Backend{"heavy", 65535}), DefaultSize},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := ownerNames(mustBuild(t, c.backends, c.size, 3), c.backends)
			for range 3 {
				shuffled := slices.Clone(c.backends)
				rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
				got := ownerNames(mustBuild(t, shuffled, c.size, 3), shuffled)
				if !slices.Equal(got, want) {
					t.Fatal("shuffled input gives a different owner per slot")
				}
			}
		})
	}
}

func TestBuildErrors(t *testing.T) {
	cases := []struct {
		name     string
		backends []Backend
		size     uint32
		want     error
		wantText string
	}{
		{"size not prime", namedBackends(3, 1), 65536, ErrSizeNotPrime, "next prime is 65537"},
		{"size below range", namedBackends(3, 1), 241, ErrSizeRange, "251..655373"},
		{"size zero", namedBackends(3, 1), 0, ErrSizeRange, "size 0"},
		{"size above range", namedBackends(3, 1), 655379, ErrSizeRange, "size 655379"},
		{"duplicate name", []Backend{{"a", 1}, {"b", 1}, {"a", 2}}, MinSize, ErrDuplicateName, `"a"`},
		{"duplicate drained name", []Backend{{"a", 0}, {"a", 0}}, MinSize, ErrDuplicateName, `"a"`},
		{"more backends than slots", namedBackends(int(MinSize)+1, 1), MinSize, ErrTooManyBackends, "252 backends"},
		{"more than 65535 backends", namedBackends(MaxBackends+1, 1), MaxSize, ErrTooManyBackends, "at most 65535"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			table, err := Build(c.backends, c.size, 0)
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if !strings.Contains(err.Error(), c.wantText) {
				t.Errorf("err = %q, want it to mention %q", err, c.wantText)
			}
			if table != nil {
				t.Errorf("table of %d slots returned with an error", len(table))
			}
		})
	}
}

// TestBuildMemoryIsLinear: a build allocates the table plus a little per slot
// and per backend, never a permutation per backend (N×M entries: 262 MB for
// N=1000, M=65537 even at 4 bytes an entry).
func TestBuildMemoryIsLinear(t *testing.T) {
	backends := namedBackends(1000, 1)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	mustBuild(t, backends, DefaultSize, 0)
	runtime.ReadMemStats(&after)
	// Table 4 B/slot, bitmap 1/8 B/slot; per backend 4 B of sort order and a
	// 32 B filler. Measured 316,672 B.
	limit := uint64(5*DefaultSize) + 64*uint64(len(backends))
	if got := after.TotalAlloc - before.TotalAlloc; got > limit {
		t.Errorf("Build allocated %d B, want <= %d", got, limit)
	}
}
