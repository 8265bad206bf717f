package sched

import (
	"math/rand/v2"
	"time"
)

// model is a simulated backend: how its flows last, how much they send and
// how its load and response time grow with its connections.
type model struct {
	weight      uint32
	up, drain   bool
	lifetime    float64       // mean flow lifetime in periods
	bytesPerSec float64       // per connection
	idleLoad    int           // agent load with no connections
	loadPerConn float64       // agent load points per connection
	baseRTT     time.Duration // response time with no connections
	rttPerConn  time.Duration // queueing delay per connection
}

// sim is a closed loop: each period the scheduler sees the counters, the
// dataplane spreads new flows by the published weights, flows end.
type sim struct {
	kind      Kind
	models    []model
	conns     []float64
	weights   [][]uint32 // per period
	flows     [][]int    // new flows per backend per period
	start     time.Time
	slowStart time.Duration
	since     []time.Time
}

const (
	flowsPerPeriod = 2000
	periods        = 50 // 100k new flows
	period         = time.Second
)

func newSim(kind Kind, models ...model) *sim {
	return &sim{kind: kind, models: models, conns: make([]float64, len(models)),
		start: time.Unix(1_700_000_000, 0), since: make([]time.Time, len(models))}
}

func (s *sim) inputs() []Input {
	in := make([]Input, len(s.models))
	for i, m := range s.models {
		c := s.conns[i]
		in[i] = Input{
			Name: string(rune('a' + i)), Weight: m.weight, Up: m.up, Drain: m.drain,
			ActiveConns: int64(c), ByteRate: c * m.bytesPerSec,
			Load:  min(100, m.idleLoad+int(c*m.loadPerConn)),
			RTT:   m.baseRTT + time.Duration(c*float64(m.rttPerConn)),
			Since: s.since[i],
		}
	}
	return in
}

func (s *sim) run(n int, rng *rand.Rand) {
	for range n {
		var prev []uint32
		if len(s.weights) > 0 {
			prev = s.weights[len(s.weights)-1]
		}
		now := s.start.Add(time.Duration(len(s.weights)) * period)
		w := EffectiveWeights(s.kind, s.inputs(), prev, now, s.slowStart)
		s.weights = append(s.weights, w)
		flows := make([]int, len(w))
		var total uint64
		for _, x := range w {
			total += uint64(x)
		}
		for range flowsPerPeriod {
			if total == 0 {
				break
			}
			r := rng.Uint64N(total)
			for i, x := range w {
				if r < uint64(x) {
					flows[i]++
					break
				}
				r -= uint64(x)
			}
		}
		s.flows = append(s.flows, flows)
		for i, m := range s.models {
			if m.lifetime > 0 {
				s.conns[i] -= s.conns[i] / m.lifetime
			}
			s.conns[i] += float64(flows[i])
		}
	}
}

// shares returns each backend's fraction of the new flows in periods [from, to).
func (s *sim) shares(from, to int) []float64 {
	sum := make([]float64, len(s.models))
	var total float64
	for _, f := range s.flows[from:to] {
		for i, x := range f {
			sum[i] += float64(x)
			total += float64(x)
		}
	}
	for i := range sum {
		sum[i] /= total
	}
	return sum
}

// healthy is a backend that is up with weight w and unremarkable figures.
func healthy(w uint32) model {
	return model{weight: w, up: true, lifetime: 3, bytesPerSec: 10_000, idleLoad: 10,
		loadPerConn: 0.005, baseRTT: time.Millisecond, rttPerConn: 200 * time.Nanosecond}
}
