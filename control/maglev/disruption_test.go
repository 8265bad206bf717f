package maglev

import (
	"math"
	"slices"
	"testing"
)

// Established flows stay put through the flow table, but every new flow of a
// moved slot lands on a different backend: these tests bound how many slots
// move on the changes operators make every day.

// TestRemoveBackendMovesLittle removes each backend in turn; its own slots
// must move (they have to) and few others. The bound is the worst case over
// every backend removed.
func TestRemoveBackendMovesLittle(t *testing.T) {
	cases := []struct {
		n int
		// Worst bystander reshuffle allowed, as a fraction of the table.
		// Measured worst over every removed backend, M=65537:
		// N=10: 173 slots (0.26%); N=100: 453 slots (0.69%).
		maxBystanders float64
	}{
		{n: 10, maxBystanders: 0.005},
		{n: 100, maxBystanders: 0.01},
	}
	for _, c := range cases {
		backends := namedBackends(c.n, 1)
		before := ownerNames(mustBuild(t, backends, DefaultSize, 0), backends)
		worst := 0
		for removed := range backends {
			rest := slices.Delete(slices.Clone(backends), removed, removed+1)
			after := ownerNames(mustBuild(t, rest, DefaultSize, 0), rest)
			_, bystanders := movedSlots(before, after, backends[removed].Name)
			worst = max(worst, bystanders)
		}
		t.Logf("N=%d: removing one backend moves up to %d other slots", c.n, worst)
		if got := float64(worst) / float64(DefaultSize); got > c.maxBystanders {
			t.Errorf("N=%d: removing one backend moved up to %d other slots (%.2f%%), want <= %.2f%%",
				c.n, worst, 100*got, 100*c.maxBystanders)
		}
	}
}

// TestAddBackendMovesLittle adds one backend to N: the newcomer takes about
// 1/(N+1) of the slots and few others change hands.
func TestAddBackendMovesLittle(t *testing.T) {
	cases := []struct {
		n int
		// Measured bystander reshuffle, M=65537, adding "backend-new":
		// N=10: 153 slots (0.23%); N=100: 366 slots (0.56%).
		maxBystanders float64
	}{
		{n: 10, maxBystanders: 0.005},
		{n: 100, maxBystanders: 0.01},
	}
	for _, c := range cases {
		backends := namedBackends(c.n, 1)
		before := ownerNames(mustBuild(t, backends, DefaultSize, 0), backends)
		grown := append(slices.Clone(backends), Backend{Name: "backend-new", Weight: 1})
		after := ownerNames(mustBuild(t, grown, DefaultSize, 0), grown)
		moved, bystanders := movedSlots(before, after, "backend-new")
		t.Logf("N=%d: adding a backend moves %d slots, %d of them between others", c.n, moved, bystanders)
		if got := float64(bystanders) / float64(DefaultSize); got > c.maxBystanders {
			t.Errorf("N=%d: adding a backend moved %d other slots (%.2f%%), want <= %.2f%%",
				c.n, bystanders, 100*got, 100*c.maxBystanders)
		}
		newShare := float64(moved-bystanders) / float64(DefaultSize)
		if want := 1 / float64(c.n+1); math.Abs(newShare-want) > 0.001 {
			t.Errorf("N=%d: newcomer took %.4f of the slots, want %.4f", c.n, newShare, want)
		}
	}
}

// TestWeightChangeMovesLittle: changing one weight should move about the
// change in that backend's share, plus a bounded reshuffle.
func TestWeightChangeMovesLittle(t *testing.T) {
	cases := []struct {
		name           string
		n              int
		others         uint32
		from, to       uint32
		maxExtraMoving float64 // beyond the share change itself
	}{
		// Measured moved fraction against the ideal (share change), M=65537:
		{"N=10 1->2", 10, 1, 1, 2, 0.01},             // 8.36% vs 8.18%
		{"N=100 1->2", 100, 1, 1, 2, 0.01},           // 1.51% vs 0.98%
		{"N=10 2->1", 10, 2, 2, 1, 0.01},             // 4.89% vs 4.74%
		{"N=10 drain", 10, 1, 1, 0, 0.01},            // 10.20% vs 10.00%
		{"N=100 300->400", 100, 300, 300, 400, 0.01}, // 0.69% vs 0.33%
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			backends := namedBackends(c.n, c.others)
			backends[0].Weight = c.from
			before := ownerNames(mustBuild(t, backends, DefaultSize, 0), backends)
			changed := slices.Clone(backends)
			changed[0].Weight = c.to
			after := ownerNames(mustBuild(t, changed, DefaultSize, 0), changed)
			moved, _ := movedSlots(before, after, "")
			t.Logf("moved %d slots (%.2f%%)", moved, 100*float64(moved)/float64(DefaultSize))

			rest := float64(c.others) * float64(c.n-1)
			ideal := math.Abs(float64(c.to)/(float64(c.to)+rest) - float64(c.from)/(float64(c.from)+rest))
			if got := float64(moved) / float64(DefaultSize); got > ideal+c.maxExtraMoving {
				t.Errorf("moved %.2f%% of the slots, want <= %.2f%% (share change) + %.2f%%",
					100*got, 100*ideal, 100*c.maxExtraMoving)
			}
		})
	}
}
