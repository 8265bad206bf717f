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
