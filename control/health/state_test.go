package health

import (
	"testing"
	"time"
)

func TestStatusHysteresis(t *testing.T) {
	type step struct {
		res  Result
		want State
	}
	cases := []struct {
		name  string
		start State
		steps []step
	}{
		{"down until rise successes", StateDown, []step{{ok, StateDown}, {ok, StateDown}, {ok, StateUp}}},
		{"a failure restarts rise", StateDown, []step{{ok, StateDown}, {ok, StateDown}, {bad, StateDown}, {ok, StateDown}, {ok, StateDown}, {ok, StateUp}}},
		{"up until fall failures", StateUp, []step{{bad, StateUp}, {bad, StateUp}, {ok, StateUp}, {bad, StateUp}, {bad, StateUp}, {bad, StateDown}}},
		{"drain counts toward rise", StateDown, []step{{drain, StateDown}, {ok, StateDown}, {drain, StateDrain}, {ok, StateUp}}},
		{"drained goes down after fall", StateDrain, []step{{bad, StateDrain}, {bad, StateDrain}, {bad, StateDown}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := Status{State: c.start, Load: -1}
			for i, st := range c.steps {
				s.observe(st.res, 3, 3, time.Now())
				if s.State != st.want {
					t.Fatalf("after step %d: %s, want %s", i, s.State, st.want)
				}
			}
		})
	}
}

func TestStatusRTTEWMA(t *testing.T) {
	s := Status{Load: -1}
	for _, ms := range []int{10, 10, 20} {
		s.observe(Result{Up: true, Load: -1, RTT: time.Duration(ms) * time.Millisecond}, 1, 1, time.Now())
	}
	if want := 13 * time.Millisecond; s.RTTEWMA != want || s.RTT != 20*time.Millisecond {
		t.Errorf("RTT %v EWMA %v, want 20ms and %v", s.RTT, s.RTTEWMA, want)
	}
	s.observe(bad, 1, 1, time.Now())
	if s.RTTEWMA != 13*time.Millisecond {
		t.Errorf("a failed probe moved the EWMA to %v", s.RTTEWMA)
	}
}
