package daemon

import (
	"log/slog"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"tenbin/control/health"
	"tenbin/control/sched"
	"tenbin/control/shm"
)

// steerProber stands in for health.Monitor in the feedback tests: every backend is up
// when the test says, with the agent load and check RTT the test sets.
type steerProber struct {
	mu      sync.Mutex
	onEvent func(health.Event)
	jobs    []health.Job
	load    map[BackendKey]int
	rtt     map[BackendKey]time.Duration
}

func newSteerProber() *steerProber {
	return &steerProber{load: map[BackendKey]int{}, rtt: map[BackendKey]time.Duration{}}
}

func (p *steerProber) newProber(_ *slog.Logger, onEvent func(health.Event)) Prober {
	p.onEvent = onEvent
	return p
}

func (p *steerProber) Update(jobs []health.Job) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.jobs = jobs
	return nil
}

func (p *steerProber) States() []health.Status {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []health.Status
	for _, j := range p.jobs {
		k := BackendKey{j.Target.Service, j.Target.Backend}
		st := health.Status{Target: j.Target, State: health.StateUp, Checks: 1, Load: -1, RTTEWMA: p.rtt[k]}
		if l, ok := p.load[k]; ok {
			st.Load = l
		}
		out = append(out, st)
	}
	return out
}

func (p *steerProber) Close() {}

// up reports backends up since the given time: those named, or every one.
func (p *steerProber) up(since time.Time, keys ...BackendKey) {
	p.mu.Lock()
	jobs := p.jobs
	p.mu.Unlock()
	for _, j := range jobs {
		if k := (BackendKey{j.Target.Service, j.Target.Backend}); len(keys) == 0 || slices.Contains(keys, k) {
			p.onEvent(health.Event{Target: j.Target, New: health.StateUp, Time: since, Result: health.Result{Load: -1}})
		}
	}
}

// counters is backend k's row of lcore 0's counters, where the dataplane counts it.
func (le *liveEngine) counters(t *testing.T, k BackendKey) *[shm.ObjCounterMax]uint64 {
	t.Helper()
	slot, ok := le.reg.slots.Load().backends[k]
	if !ok {
		t.Fatalf("%s has no slot in the region", k)
	}
	return &le.region.Counters(0).Backend[slot]
}

// shareOf is the fraction of the lcores' lookup table that sends new flows to backend.
func (le *liveEngine) shareOf(t *testing.T, service, backend string) float64 {
	t.Helper()
	s := le.seen(t, service)
	total := 0
	for _, n := range s.slots {
		total += n
	}
	if total == 0 {
		return 0
	}
	return float64(s.slots[backend]) / float64(total)
}

const feedbackConfig = labPorts + labBackends + `
services:
  - {name: lc, vip: 198.18.1.10, port: 80, mode: nat, scheduler: least-conn, health_check: {kind: tcp}, backends: *backends}
  - {name: lt, vip: 198.18.1.11, port: 80, mode: nat, scheduler: least-traffic, health_check: {kind: tcp}, backends: *backends}
  - {name: ll, vip: 198.18.1.12, port: 80, mode: nat, scheduler: least-load, health_check: {kind: agent, agent_port: 5555}, backends: *backends}
  - {name: ff, vip: 198.18.1.13, port: 80, mode: nat, scheduler: fastest, health_check: {kind: tcp}, backends: *backends}
`

// The feedback schedulers through the engine: the dataplane's counters (active flows,
// bytes), the agent's load and the checks' RTT move the lcores' table away from the busy
// backend, one damped step per period, and back when the roles swap.
func TestEngineFeedbackSchedulersSteerTheTable(t *testing.T) {
	p := newSteerProber()
	le := startEngine(t, feedbackConfig, time.Hour, p.newProber)
	p.up(time.Time{})
	le.applyHealthEvents()

	feeds := map[string]func(busy, idle BackendKey){
		"lc": func(busy, idle BackendKey) { // flows in the lcores' tables
			atomic.StoreUint64(&le.counters(t, busy)[shm.ObjActiveFlows], 900)
			atomic.StoreUint64(&le.counters(t, idle)[shm.ObjActiveFlows], 100)
		},
		"lt": func(busy, idle BackendKey) { // bytes since the last period
			atomic.AddUint64(&le.counters(t, busy)[shm.ObjBytes], 8_000_000)
			atomic.AddUint64(&le.counters(t, idle)[shm.ObjBytes], 1_000_000)
		},
		"ll": func(busy, idle BackendKey) { // the agents' load
			p.mu.Lock()
			p.load[busy], p.load[idle] = 90, 10
			p.mu.Unlock()
		},
		"ff": func(busy, idle BackendKey) { // the checks' round trips
			p.mu.Lock()
			p.rtt[busy], p.rtt[idle] = 20*time.Millisecond, time.Millisecond
			p.mu.Unlock()
		},
	}
	const periods = 8
	// run feeds the measurements and runs the periods; it returns a's share after each.
	run := func(busy, idle string) map[string][]float64 {
		shares := map[string][]float64{}
		for range periods {
			for svc, feed := range feeds {
				feed(BackendKey{svc, busy}, BackendKey{svc, idle})
			}
			le.feedbackTick()
			for svc := range feeds {
				shares[svc] = append(shares[svc], le.shareOf(t, svc, "a"))
			}
		}
		return shares
	}
	for svc := range feeds {
		if a := le.shareOf(t, svc, "a"); math.Abs(a-0.5) > 0.05 {
			t.Fatalf("%s: a has %.2f of the table before any measurement, want half", svc, a)
		}
	}
	// One period moves a weight by at most MaxStep of its full weight: from half the
	// table, a's share can fall to (1-MaxStep)/(2-MaxStep) at most per period.
	minAfterOne := (1 - sched.MaxStep) / (2 - sched.MaxStep)

	toB := run("a", "b")
	for svc, shares := range toB {
		t.Logf("%s: a busy, a's share per period %.3f", svc, shares)
		if shares[0] < minAfterOne-0.02 {
			t.Errorf("%s: a fell to %.2f in one period; damping allows %.2f", svc, shares[0], minAfterOne)
		}
		for i := 1; i < len(shares); i++ {
			if shares[i] > shares[i-1]+0.005 {
				t.Errorf("%s: a's share went back up in period %d (%.3f after %.3f): the loop oscillates", svc, i+1, shares[i], shares[i-1])
			}
		}
		if last := shares[len(shares)-1]; last > 0.25 {
			t.Errorf("%s: the busy backend still has %.2f of the table after %d periods", svc, last, periods)
		}
	}
	toA := run("b", "a")
	for svc, shares := range toA {
		t.Logf("%s: b busy, a's share per period %.3f", svc, shares)
		for i := 1; i < len(shares); i++ {
			if shares[i] < shares[i-1]-0.005 {
				t.Errorf("%s: a's share fell in period %d (%.3f after %.3f) while b was the busy one", svc, i+1, shares[i], shares[i-1])
			}
		}
		if last := shares[len(shares)-1]; last < 0.75 {
			t.Errorf("%s: a has only %.2f of the table after %d periods with b busy", svc, last, periods)
		}
	}
}

// Run republishes the feedback weights every FeedbackEvery by itself.
func TestEngineRepublishesFeedbackEveryPeriod(t *testing.T) {
	p := newSteerProber()
	le := startEngine(t, feedbackConfig, 20*time.Millisecond, p.newProber)
	(&testEngine{Engine: le.Engine}).run(t)
	p.up(time.Time{})
	waitFor(t, "lc up", func() bool { return le.shareOf(t, "lc", "a") > 0.4 })
	atomic.StoreUint64(&le.counters(t, BackendKey{"lc", "a"})[shm.ObjActiveFlows], 900)
	atomic.StoreUint64(&le.counters(t, BackendKey{"lc", "b"})[shm.ObjActiveFlows], 100)
	start := time.Now()
	waitFor(t, "the busy backend's share to fall", func() bool { return le.shareOf(t, "lc", "a") < 0.25 })
	t.Logf("a's share under 25%% %v after its flows piled up (period 20ms)", time.Since(start).Round(time.Millisecond))
}

const slowStartConfig = labPorts + labBackends + `
x-service: &service {port: 80, mode: nat, slow_start: 400ms, health_check: {kind: tcp}, backends: *backends}
services:
  - {<<: *service, name: maglev, vip: 198.18.1.10, scheduler: maglev, maglev_size: 1021}
  - {<<: *service, name: hash, vip: 198.18.1.11, scheduler: hash, maglev_size: 1021}
  - {<<: *service, name: rr, vip: 198.18.1.12, scheduler: rr}
  - {<<: *service, name: wrr, vip: 198.18.1.13, scheduler: wrr}
  - {<<: *service, name: lc, vip: 198.18.1.14, scheduler: least-conn}
  - {<<: *service, name: lt, vip: 198.18.1.15, scheduler: least-traffic}
  - {<<: *service, name: ll, vip: 198.18.1.16, scheduler: least-load, health_check: {kind: agent, agent_port: 5555}}
  - {<<: *service, name: ff, vip: 198.18.1.17, scheduler: fastest}
`

// Slow start through the engine, for every scheduler: a backend that comes up next to one
// that has been up for long is published at 1% of its weight, ramps linearly with each
// period (the feedback schedulers damped as documented in control/sched) and reaches an
// equal share after slow_start.
func TestEngineSlowStartRampsEveryScheduler(t *testing.T) {
	p := newSteerProber()
	le := startEngine(t, slowStartConfig, time.Hour, p.newProber)
	cfg, _ := le.Config()
	var olds, news []BackendKey
	for _, s := range cfg.Services {
		olds = append(olds, BackendKey{s.Name, "a"})
		news = append(news, BackendKey{s.Name, "b"})
	}
	p.up(time.Now().Add(-time.Hour), olds...)
	upAt := time.Now()
	p.up(upAt, news...)
	slowStart := cfg.Services[0].SlowStart
	ramp := func(at time.Time) float64 { return min(1, 0.01+0.99*float64(at.Sub(upAt))/float64(slowStart)) }

	// ratio is b's published weight over a's, as the lcores read them.
	ratio := func(service string) float64 {
		cs := le.region.ConfigSet(le.region.ActiveIndex())
		var w [2]float64
		for i := 1; i < int(cs.NBackends); i++ {
			b := &cs.Backends[i]
			if shm.CString(cs.Services[b.Service].Name[:]) == service && b.Addr[3] >= 11 && b.Addr[3] <= 12 {
				w[b.Addr[3]-11] = float64(b.Weight)
			}
		}
		return w[1] / w[0]
	}
	prev := map[string]float64{}
	for step := 0; step < 30; step++ {
		before := time.Now()
		if step == 0 {
			le.applyHealthEvents()
		} else {
			le.feedbackTick()
		}
		after := time.Now()
		done := before.Sub(upAt) > slowStart
		for _, s := range cfg.Services {
			r := ratio(s.Name)
			// Slow start caps b's weight at the ramp. The static schedulers sit on the
			// cap; the feedback ones also damp each period's step (Gain of the gap, at
			// most MaxStep), which lags the cap when a period is long next to slow_start.
			lo, hi := ramp(before)-0.03, ramp(after)+0.03
			if sched.Kind(s.Scheduler.String()).Feedback() && step > 0 {
				lo = min(lo, prev[s.Name]+min(sched.Gain*(1-prev[s.Name]), sched.MaxStep)-0.03)
			}
			if r < lo || r > hi {
				t.Errorf("%s, %v after b came up: b at %.3f of a's weight, want %.3f..%.3f", s.Name,
					before.Sub(upAt).Round(time.Millisecond), r, lo, hi)
			}
			if r < prev[s.Name] {
				t.Errorf("%s: b's weight went down during its ramp (%.3f after %.3f)", s.Name, r, prev[s.Name])
			}
			prev[s.Name] = r
			if share := le.shareOf(t, s.Name, "b"); step == 0 && share > 0.05 {
				t.Errorf("%s: b has %.3f of the table as it comes up", s.Name, share)
			}
			done = done && r > 0.97
		}
		if done {
			break
		}
		time.Sleep(slowStart / 8)
	}
	for _, s := range cfg.Services {
		if share := le.shareOf(t, s.Name, "b"); math.Abs(share-0.5) > 0.05 {
			t.Errorf("%s: b has %.3f of the table after slow start, want half", s.Name, share)
		}
	}
}
