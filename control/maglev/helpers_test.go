package maglev

import "fmt"

// namedBackends returns n backends named like a config would name them,
// all with the given weight.
func namedBackends(n int, weight uint32) []Backend {
	backends := make([]Backend, n)
	for i := range backends {
		backends[i] = Backend{Name: fmt.Sprintf("backend-%04d", i), Weight: weight}
	}
	return backends
}

// ownerNames turns a table of indexes into the names that own each slot, the
// form in which tables built from differently ordered inputs compare.
func ownerNames(table []int32, backends []Backend) []string {
	names := make([]string, len(table))
	for i, owner := range table {
		if owner >= 0 {
			names[i] = backends[owner].Name
		}
	}
	return names
}

// movedSlots counts the slots whose owner differs between before and after,
// and among them those where neither owner is the backend named changed:
// the reshuffle among bystanders.
func movedSlots(before, after []string, changed string) (moved, bystanders int) {
	for i := range before {
		if before[i] == after[i] {
			continue
		}
		moved++
		if before[i] != changed && after[i] != changed {
			bystanders++
		}
	}
	return moved, bystanders
}

// mustBuild is Build for inputs the test knows to be valid.
func mustBuild(t interface {
	Helper()
	Fatalf(string, ...any)
}, backends []Backend, size uint32, seed uint64) []int32 {
	t.Helper()
	table, err := Build(backends, size, seed)
	if err != nil {
		t.Fatalf("Build(%d backends, %d, %d): %v", len(backends), size, seed, err)
	}
	return table
}
