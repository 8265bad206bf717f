package sched

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol {
		t.Errorf("%s = %.3f, want %.3f ± %.3f", what, got, want, tol)
	}
}

func TestStaticSchedulersHonourConfiguredWeights(t *testing.T) {
	for _, kind := range []Kind{Maglev, Hash, WRR} {
		t.Run(string(kind), func(t *testing.T) {
			s := newSim(kind, healthy(1), healthy(2), healthy(3))
			s.run(periods, rand.New(rand.NewPCG(1, 2)))
			got := s.shares(0, periods)
			for i, want := range []float64{1.0 / 6, 2.0 / 6, 3.0 / 6} {
				near(t, "share of backend "+string(rune('a'+i)), got[i], want, 0.01)
			}
		})
	}
	t.Run("rr", func(t *testing.T) {
		s := newSim(RR, healthy(1), healthy(2), healthy(3))
		s.run(periods, rand.New(rand.NewPCG(1, 2)))
		for i, got := range s.shares(0, periods) {
			near(t, "share of backend "+string(rune('a'+i)), got, 1.0/3, 0.01)
		}
	})
}

func TestDownDrainAndDisabledGetNoNewFlows(t *testing.T) {
	down, drain, disabled := healthy(5), healthy(5), healthy(0)
	down.up = false
	drain.drain = true
	for _, kind := range Kinds {
		s := newSim(kind, healthy(1), down, drain, disabled)
		s.run(5, rand.New(rand.NewPCG(3, 4)))
		for p, w := range s.weights {
			if w[1] != 0 || w[2] != 0 || w[3] != 0 {
				t.Errorf("%s period %d: weights %v, want only backend a non-zero", kind, p, w)
			}
		}
		if got := s.shares(0, 5)[0]; got != 1 {
			t.Errorf("%s: the only eligible backend got %.3f of new flows, want all", kind, got)
		}
	}
}

// Each feedback scheduler must move new flows away from a backend that is
// worse by its measure: from the start, and when a backend turns worse
// half-way through the run.
func TestFeedbackSchedulersSteerAwayFromTheWorstBackend(t *testing.T) {
	cases := []struct {
		kind     Kind
		worsen   func(*model)
		maxShare float64 // of the worst backend, after settling
	}{
		{LeastConn, func(m *model) { m.lifetime = 12 }, 0.22},
		{LeastTraffic, func(m *model) { m.bytesPerSec = 80_000 }, 0.17},
		{LeastLoad, func(m *model) { m.idleLoad = 70 }, 0.2},
		{Fastest, func(m *model) { m.baseRTT = 6 * time.Millisecond }, 0.15},
	}
	for _, c := range cases {
		t.Run(string(c.kind), func(t *testing.T) {
			worst := healthy(1)
			c.worsen(&worst)
			s := newSim(c.kind, healthy(1), healthy(1), worst)
			s.run(periods, rand.New(rand.NewPCG(5, 6)))
			settled := s.shares(periods-20, periods)
			if settled[2] > c.maxShare || settled[2] >= settled[0] || settled[2] >= settled[1] {
				t.Errorf("worst backend gets %.3f of new flows (others %.3f, %.3f), want ≤ %.2f and less than each other",
					settled[2], settled[0], settled[1], c.maxShare)
			}
			near(t, "the two equal backends' share difference", settled[0]-settled[1], 0, 0.03)
		})
		t.Run(string(c.kind)+"/turns-worse", func(t *testing.T) {
			s := newSim(c.kind, healthy(1), healthy(1), healthy(1))
			s.run(periods/2, rand.New(rand.NewPCG(5, 6)))
			before := s.shares(periods/2-10, periods/2)
			c.worsen(&s.models[2])
			s.run(periods/2, rand.New(rand.NewPCG(7, 8)))
			after := s.shares(periods-10, periods)
			t.Logf("share of the backend that turned worse: %.3f before, %.3f after", before[2], after[2])
			near(t, "share before it turned worse", before[2], 1.0/3, 0.03)
			if after[2] > c.maxShare {
				t.Errorf("after turning worse it still gets %.3f of new flows, want ≤ %.2f", after[2], c.maxShare)
			}
		})
	}
}

// Weighted least-conn: with equal flow lifetimes, connections (and so new
// flows) settle in proportion to the configured weights.
func TestLeastConnIsWeighted(t *testing.T) {
	s := newSim(LeastConn, healthy(1), healthy(1), healthy(2))
	s.run(periods, rand.New(rand.NewPCG(7, 8)))
	got := s.shares(periods-20, periods)
	for i, want := range []float64{0.25, 0.25, 0.5} {
		near(t, "share of backend "+string(rune('a'+i)), got[i], want, 0.03)
	}
	total := s.conns[0] + s.conns[1] + s.conns[2]
	near(t, "connections on the weight-2 backend", s.conns[2]/total, 0.5, 0.03)
}

// The damped loop settles: in the last 25 of 50 periods no backend's weight
// swings by more than a small band, and its changes do not keep reversing.
func TestFeedbackConvergesWithoutOscillation(t *testing.T) {
	worst := healthy(1)
	worst.lifetime, worst.bytesPerSec, worst.idleLoad, worst.baseRTT = 12, 80_000, 70, 6*time.Millisecond
	// Strong coupling: load and RTT grow fast with connections.
	steep := healthy(2)
	steep.loadPerConn, steep.rttPerConn = 0.02, 2*time.Microsecond
	for _, kind := range []Kind{LeastConn, LeastTraffic, LeastLoad, Fastest} {
		t.Run(string(kind), func(t *testing.T) {
			s := newSim(kind, healthy(1), steep, worst)
			s.run(periods, rand.New(rand.NewPCG(9, 10)))
			for i, m := range s.models {
				full := float64(m.weight) * unitsPerWeight
				lo, hi := math.Inf(1), math.Inf(-1)
				reversals, lastSign := 0, 0
				for p := periods - 25; p < periods; p++ {
					w := float64(s.weights[p][i])
					lo, hi = math.Min(lo, w), math.Max(hi, w)
					d := w - float64(s.weights[p-1][i])
					if math.Abs(d) < 0.02*full {
						continue
					}
					sign := 1
					if d < 0 {
						sign = -1
					}
					if lastSign != 0 && sign != lastSign {
						reversals++
					}
					lastSign = sign
				}
				if hi-lo > 0.1*full || reversals > 1 {
					t.Errorf("backend %d: weight in last 25 periods ranged %v..%v (full %v) with %d reversals; want a settled loop",
						i, lo, hi, full, reversals)
				}
			}
		})
	}
}

func TestSlowStartRampsLinearlyForEveryKind(t *testing.T) {
	const slowStart = 10 * time.Second
	for _, kind := range Kinds {
		t.Run(string(kind), func(t *testing.T) {
			s := newSim(kind, healthy(2), healthy(2))
			s.slowStart = slowStart
			s.since[1] = s.start // backend b just came up
			s.run(15, rand.New(rand.NewPCG(11, 12)))
			full := 2.0 * unitsPerWeight
			if kind == RR {
				full = unitsPerWeight
			}
			for p, w := range s.weights {
				want := full
				if el := time.Duration(p) * period; el < slowStart {
					want = full * (0.01 + 0.99*float64(el)/float64(slowStart))
				}
				if kind.Feedback() {
					// Feedback may hold it below the ramp, never above.
					if float64(w[1]) > math.Ceil(want) {
						t.Errorf("period %d: weight %d above the ramp %.1f", p, w[1], want)
					}
					continue
				}
				if math.Abs(float64(w[1])-want) > 1 {
					t.Errorf("period %d: weight %d, want %.1f", p, w[1], want)
				}
			}
			if kind.Feedback() {
				// It does reach its fair share once the ramp is over.
				near(t, "ramped backend's share after the ramp", s.shares(12, 15)[1], 0.5, 0.1)
			}
			if w := s.weights[0][1]; w < 1 || w > 3 {
				t.Errorf("at the start of the ramp weight %d, want about 1%% of %v", w, full)
			}
		})
	}
}

func TestStateChangeDoesNotRescaleOthers(t *testing.T) {
	in := []Input{{Name: "a", Weight: 3, Up: true}, {Name: "b", Weight: 7, Up: true}, {Name: "c", Weight: 5, Up: true}}
	before := EffectiveWeights(Maglev, in, nil, time.Now(), 0)
	in[2].Up = false
	after := EffectiveWeights(Maglev, in, nil, time.Now(), 0)
	if before[0] != after[0] || before[1] != after[1] || after[2] != 0 {
		t.Errorf("weights %v then %v: a and b must keep theirs when c goes down", before, after)
	}
}

func TestWeightsStayWithinMaxWeight(t *testing.T) {
	in := []Input{{Weight: 1, Up: true}, {Weight: 1 << 30, Up: true}, {Weight: 1000, Up: true}}
	for _, kind := range Kinds {
		for i, w := range EffectiveWeights(kind, in, nil, time.Now(), 0) {
			if w < 1 || w > MaxWeight {
				t.Errorf("%s: backend %d weight %d outside 1..%d", kind, i, w, MaxWeight)
			}
		}
	}
}

func TestParseKind(t *testing.T) {
	if k, err := ParseKind(""); err != nil || k != Maglev {
		t.Errorf(`ParseKind("") = %q, %v; want maglev`, k, err)
	}
	for _, k := range Kinds {
		if got, err := ParseKind(string(k)); err != nil || got != k {
			t.Errorf("ParseKind(%q) = %q, %v", k, got, err)
		}
	}
	if _, err := ParseKind("random"); err == nil {
		t.Error(`ParseKind("random") accepted`)
	}
}
