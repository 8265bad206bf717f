package health

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// events collects a Monitor's events for a test.
type events struct {
	mu   sync.Mutex
	list []Event
	ch   chan Event
}

func newEvents() *events { return &events{ch: make(chan Event, 1000)} }

func (e *events) add(ev Event) {
	e.mu.Lock()
	e.list = append(e.list, ev)
	e.mu.Unlock()
	e.ch <- ev
}

func (e *events) wait(t *testing.T, want State, within time.Duration) Event {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case ev := <-e.ch:
			if ev.New == want {
				return ev
			}
		case <-deadline:
			t.Fatalf("no transition to %s within %v", want, within)
		}
	}
}

func fastSpec(kind Kind) Spec {
	return Spec{Kind: kind, Interval: 50 * time.Millisecond, Timeout: 40 * time.Millisecond, Rise: 2, Fall: 3, Jitter: 0.1}
}

// logBuffer is a log sink the test can read while the Monitor writes.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// A killed backend is reported down within interval × fall (plus jitter,
// one timeout and scheduling slack); a restarted one up within
// interval × rise.
func TestMonitorDetectionBound(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	var logs logBuffer
	ev := newEvents()
	m := NewMonitor(slog.New(slog.NewTextHandler(&logs, nil)), ev.add)
	defer m.Close()
	spec := fastSpec(TCP)
	if err := m.Update([]Job{{Target: targetAt(t, addr), Spec: spec}}); err != nil {
		t.Fatal(err)
	}
	up := ev.wait(t, StateUp, time.Second)
	if up.Old != StateDown {
		t.Errorf("first event %s→%s, want down→up", up.Old, up.New)
	}

	slack := 100 * time.Millisecond
	bound := func(n int) time.Duration {
		return time.Duration(float64(spec.Interval)*(1+spec.Jitter))*time.Duration(n) + spec.Timeout + slack
	}
	killed := time.Now()
	l.Close()
	down := ev.wait(t, StateDown, 2*time.Second)
	if took := down.Time.Sub(killed); took > bound(spec.Fall) {
		t.Errorf("down reported %v after the kill, want ≤ %v", took, bound(spec.Fall))
	} else {
		t.Logf("down reported %v after the kill (bound %v)", took, bound(spec.Fall))
	}
	if out := logs.String(); !strings.Contains(out, "backend down") || !strings.Contains(out, "web/b1/"+addr) {
		t.Errorf("log lacks the down transition:\n%s", logs.String())
	}

	restarted := time.Now()
	l, err = net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s again: %v", addr, err)
	}
	defer l.Close()
	up = ev.wait(t, StateUp, 2*time.Second)
	if took := up.Time.Sub(restarted); took > bound(spec.Rise) {
		t.Errorf("up reported %v after the restart, want ≤ %v", took, bound(spec.Rise))
	}

	st := m.States()
	if len(st) != 1 || st[0].State != StateUp || st[0].Transitions != 3 || st[0].RTTEWMA <= 0 || st[0].Successes < 2 {
		t.Errorf("States() = %+v, want one up target with 3 transitions, an RTT and ≥2 successes", st)
	}
}

// scripted returns the next of a fixed list of results, then repeats the
// last, and records how many probes ran.
type scripted struct {
	mu      sync.Mutex
	results []Result
	n       int
	first   time.Time
}

func (s *scripted) Check(context.Context) Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n == 0 {
		s.first = time.Now()
	}
	r := s.results[min(s.n, len(s.results)-1)]
	s.n++
	return r
}

func (s *scripted) probes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

func scriptedMonitor(t *testing.T, checkers map[string]*scripted, onEvent func(Event)) *Monitor {
	t.Helper()
	m := NewMonitor(slog.New(slog.DiscardHandler), onEvent)
	m.newChecker = func(_ Spec, tg Target) (Checker, error) { return checkers[tg.Backend], nil }
	t.Cleanup(m.Close)
	return m
}

var (
	ok    = Result{Up: true, Load: -1, RTT: time.Millisecond}
	bad   = Result{Load: -1}
	drain = Result{Up: true, Drain: true, Load: 40, RTT: time.Millisecond}
)

// A flapping backend changes state no faster than rise/fall allow: every
// transition to up follows at least rise successes in a row, every one to
// down at least fall failures in a row.
func TestMonitorFlappingBackend(t *testing.T) {
	// Flaps every probe, then in runs of 2, then 3 and 4.
	var seq []Result
	upNext := true
	for _, run := range []int{1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4} {
		for range run {
			if upNext {
				seq = append(seq, ok)
			} else {
				seq = append(seq, bad)
			}
		}
		upNext = !upNext
	}
	sc := &scripted{results: seq}
	var mu sync.Mutex
	var at []int // probe count when each event fired
	var evs []Event
	m := scriptedMonitor(t, map[string]*scripted{"b1": sc}, func(e Event) {
		mu.Lock()
		at = append(at, sc.probes())
		evs = append(evs, e)
		mu.Unlock()
	})
	spec := fastSpec(TCP)
	spec.Interval, spec.Timeout, spec.Rise, spec.Fall, spec.Jitter = 2*time.Millisecond, time.Millisecond, 3, 3, 0
	if err := m.Update([]Job{{Target: Target{Service: "s", Backend: "b1"}, Spec: spec}}); err != nil {
		t.Fatal(err)
	}
	for sc.probes() < len(seq)+2 {
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	for i, e := range evs {
		n := at[i]
		need, want := spec.Rise, true
		if e.New == StateDown {
			need, want = spec.Fall, false
		}
		for k := n - need; k < n; k++ {
			if k < 0 || seq[min(k, len(seq)-1)].Up != want {
				t.Errorf("event %d (%s→%s) after probe %d without %d %v results in a row", i, e.Old, e.New, n, need, want)
				break
			}
		}
	}
	// Runs of 1 and 2 must not move it; the runs of 3 and 4 do, each once.
	if len(evs) != 6 {
		t.Errorf("%d transitions, want 6 (the runs of 3 and 4 only): %v", len(evs), evs)
	}
}

func TestMonitorDrainAndInitialUp(t *testing.T) {
	sc := &scripted{results: []Result{drain, drain, ok, drain, bad, bad}}
	ev := newEvents()
	m := scriptedMonitor(t, map[string]*scripted{"b1": sc}, ev.add)
	spec := fastSpec(Agent)
	spec.Interval, spec.Timeout, spec.Rise, spec.Fall, spec.InitialUp = 5*time.Millisecond, time.Millisecond, 2, 2, true
	if err := m.Update([]Job{{Target: Target{Service: "s", Backend: "b1"}, Spec: spec}}); err != nil {
		t.Fatal(err)
	}
	if st := m.States(); st[0].State != StateUp {
		t.Errorf("InitialUp target starts %s", st[0].State)
	}
	// Up and drain follow the agent at once; down still needs fall failures.
	var got []State
	for range 4 {
		select {
		case e := <-ev.ch:
			got = append(got, e.New)
		case <-time.After(time.Second):
			t.Fatalf("events so far %v", got)
		}
	}
	if want := []State{StateDrain, StateUp, StateDrain, StateDown}; !slicesEqual(got, want) {
		t.Errorf("states %v, want %v", got, want)
	}
	if st := m.States()[0]; st.Load != 40 || st.Failures < 2 {
		t.Errorf("status %+v: want the agent's last load 40 and ≥2 failures", st)
	}
}

func slicesEqual(a, b []State) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestMonitorUpdateKeepsUnchangedTargets(t *testing.T) {
	checkers := map[string]*scripted{"a": {results: []Result{ok}}, "b": {results: []Result{ok}}, "c": {results: []Result{bad}}}
	ev := newEvents()
	m := scriptedMonitor(t, checkers, ev.add)
	spec := fastSpec(TCP)
	spec.Interval, spec.Timeout = 5*time.Millisecond, time.Millisecond
	job := func(name string, s Spec) Job { return Job{Target: Target{Service: "s", Backend: name}, Spec: s} }
	if err := m.Update([]Job{job("a", spec), job("b", spec)}); err != nil {
		t.Fatal(err)
	}
	ev.wait(t, StateUp, time.Second)
	ev.wait(t, StateUp, time.Second)

	slower := spec
	slower.Interval = 10 * time.Millisecond
	if err := m.Update([]Job{job("a", spec), job("b", slower), job("c", spec)}); err != nil {
		t.Fatal(err)
	}
	st := m.States()
	if len(st) != 3 {
		t.Fatalf("%d targets after update, want 3", len(st))
	}
	for _, s := range st {
		want := StateUp
		if s.Target.Backend == "c" {
			want = StateDown
		}
		if s.State != want {
			t.Errorf("%s is %s right after the update, want %s", s.Target.Backend, s.State, want)
		}
		if s.Target.Backend == "b" && s.Transitions != 1 {
			t.Errorf("b's counters were reset by a spec change: %+v", s)
		}
	}
	m.Update([]Job{job("c", spec)})
	if st := m.States(); len(st) != 1 || st[0].Target.Backend != "c" {
		t.Errorf("after removing a and b: %+v", st)
	}
	bad := spec
	bad.Rise = 0
	if err := m.Update([]Job{job("c", bad)}); err == nil {
		t.Error("Update accepted rise 0")
	}
}

// Targets added together are not all probed in the same instant.
func TestMonitorJitterSpreadsFirstProbes(t *testing.T) {
	checkers := map[string]*scripted{}
	var jobs []Job
	spec := fastSpec(TCP)
	spec.Interval, spec.Jitter = 200*time.Millisecond, 1
	for i := range 20 {
		name := string(rune('a' + i))
		checkers[name] = &scripted{results: []Result{ok}}
		jobs = append(jobs, Job{Target: Target{Service: "s", Backend: name}, Spec: spec})
	}
	m := scriptedMonitor(t, checkers, nil)
	start := time.Now()
	if err := m.Update(jobs); err != nil {
		t.Fatal(err)
	}
	time.Sleep(spec.Interval + 50*time.Millisecond)
	var lo, hi time.Duration = time.Hour, 0
	for _, c := range checkers {
		c.mu.Lock()
		d := c.first.Sub(start)
		c.mu.Unlock()
		lo, hi = min(lo, d), max(hi, d)
	}
	if hi-lo < spec.Interval/4 {
		t.Errorf("first probes spread over %v, want most of %v", hi-lo, spec.Interval)
	}
}
