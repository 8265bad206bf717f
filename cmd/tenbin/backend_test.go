package main

import (
	"testing"

	"tenbin/control/daemon"
)

// A backend taking no new flows shows whether flows are still on it: idle means it can be
// stopped without cutting a connection.
func TestBackendStateShowsWhenADrainedBackendIsIdle(t *testing.T) {
	view := func(weight uint32, present, drained bool, flows uint64) daemon.BackendView {
		var b daemon.BackendView
		b.Weight, b.Present, b.Drained, b.ActiveFlows = weight, present, drained, flows
		return b
	}
	for _, c := range []struct {
		b    daemon.BackendView
		want string
	}{
		{view(100, true, false, 3), "active"},
		{view(0, true, true, 3), "drained, flows left"},
		{view(0, true, true, 0), "drained, idle"},
		{view(0, true, false, 3), "draining"}, // its agent asks for drain, or weight 0
		{view(0, true, false, 0), "idle"},
		{view(0, false, false, 0), "out"},
	} {
		if got := backendState(c.b); got != c.want {
			t.Errorf("weight %d present %v drained %v flows %d: %q, want %q",
				c.b.Weight, c.b.Present, c.b.Drained, c.b.ActiveFlows, got, c.want)
		}
	}
}
