package health

import "time"

// State is what the control plane does with a backend.
type State uint8

// States. Down is the zero value: a target nobody has vouched for yet.
const (
	StateDown  State = iota
	StateUp          // receives new flows
	StateDrain       // alive; keeps its flows but receives no new ones
)

func (s State) String() string {
	switch s {
	case StateUp:
		return "up"
	case StateDrain:
		return "drain"
	}
	return "down"
}

// rttWeight is the EWMA weight of the newest RTT sample.
const rttWeight = 0.3

// Status is a target's health as the Monitor last saw it.
type Status struct {
	Target      Target
	State       State
	Since       time.Time // when State was entered
	LastCheck   time.Time
	Last        Result // the newest probe's result
	RTT         time.Duration
	RTTEWMA     time.Duration // over successful probes; 0 before the first
	Load        int           // last load the agent reported, -1 unknown
	Successes   int           // consecutive
	Failures    int           // consecutive
	Checks      uint64
	Transitions uint64
}

// observe folds one result into the status with rise/fall hysteresis and
// reports whether the state changed.
func (s *Status) observe(res Result, rise, fall int, now time.Time) (old State, changed bool) {
	old = s.State
	s.Checks++
	s.LastCheck = now
	s.Last = res
	s.RTT = res.RTT
	if res.Load >= 0 {
		s.Load = res.Load
	}
	alive := StateUp
	if res.Drain {
		alive = StateDrain
	}
	if res.Up {
		s.Successes++
		s.Failures = 0
		if s.RTTEWMA == 0 {
			s.RTTEWMA = res.RTT
		} else {
			s.RTTEWMA = time.Duration(rttWeight*float64(res.RTT) + (1-rttWeight)*float64(s.RTTEWMA))
		}
		if s.State != StateDown || s.Successes >= rise {
			s.State = alive
		}
	} else {
		s.Failures++
		s.Successes = 0
		if s.State != StateDown && s.Failures >= fall {
			s.State = StateDown
		}
	}
	if s.State == old {
		return old, false
	}
	s.Since = now
	s.Transitions++
	return old, true
}
