package daemon

import (
	"time"

	"tenbin/control/health"
)

// BackendKey names a backend of a service: what the operator types on the command line.
type BackendKey struct {
	Service string
	Backend string
}

func (k BackendKey) String() string { return k.Service + "/" + k.Backend }

// Health is the checks' latest word on one backend.
type Health struct {
	State  health.State  // the zero value is down: nobody has vouched for it yet
	Load   int           // agent-reported load 0..100, -1 unknown
	RTT    time.Duration // EWMA of check round trips, 0 unknown
	Since  time.Time     // when State was entered (slow start counts from a rise)
	Detail string        // what the last check saw, for the operator
}

// healthOf converts the monitor's status of a target.
func healthOf(st health.Status) Health {
	return Health{State: st.State, Load: st.Load, RTT: st.RTTEWMA, Since: st.Since, Detail: st.Last.Detail}
}

// Admin holds an operator's runtime overrides of one backend. They last until the backend
// leaves the configuration or the daemon restarts.
type Admin struct {
	Weight   *uint16 `json:"weight,omitempty"`   // replaces the configured weight
	Drained  bool    `json:"drained,omitempty"`  // weight 0, established flows stay
	Disabled *bool   `json:"disabled,omitempty"` // replaces the configured `disabled`
}

// zero reports whether the override changes nothing.
func (a Admin) zero() bool { return a.Weight == nil && !a.Drained && a.Disabled == nil }

// Feedback is what the dataplane's counters say of one backend, for the feedback schedulers.
type Feedback struct {
	ActiveFlows int64   // flows in the lcores' flow tables
	ByteRate    float64 // bytes per second toward the backend
}

// StateChanges counts a backend's health state changes, by the state entered. They are
// counted as the checks report them, so a change that is undone before the next publish
// still counts.
type StateChanges struct {
	Up    uint64 `json:"up"`
	Down  uint64 `json:"down"`
	Drain uint64 `json:"drain"`
}

func (c *StateChanges) add(s health.State) {
	switch s {
	case health.StateUp:
		c.Up++
	case health.StateDrain:
		c.Drain++
	default:
		c.Down++
	}
}
