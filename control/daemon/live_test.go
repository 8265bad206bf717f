package daemon

import (
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"tenbin/control/config"
	"tenbin/control/health"
	"tenbin/control/shm"
)

// The tests in this file run the engine as the daemon does: real health checks
// (health.Monitor) against HTTP servers on 127.0.0.1, publishes into a region that
// simulated lcores read, and assertions on what the lcores see.

// backendServer is a backend's health endpoint on 127.0.0.1. It answers 200 unless it is
// set down, or as its script says while the script lasts (one answer per probe).
type backendServer struct {
	addr netip.AddrPort
	srv  *httptest.Server

	mu     sync.Mutex
	down   bool
	script []bool
	probes int
}

func newBackendServer(t *testing.T) *backendServer {
	t.Helper()
	b := &backendServer{}
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		b.mu.Lock()
		ok := !b.down
		if len(b.script) > 0 {
			ok, b.script = b.script[0], b.script[1:]
		}
		b.probes++
		b.mu.Unlock()
		if !ok {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(b.srv.Close)
	b.addr = netip.MustParseAddrPort(b.srv.Listener.Addr().String())
	return b
}

func (b *backendServer) setDown(down bool) {
	b.mu.Lock()
	b.down = down
	b.mu.Unlock()
}

func (b *backendServer) probeCount() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.probes
}

// localProber is health.Monitor with every target's address and check port replaced by
// its local server's: the configuration names lab addresses, the checks reach 127.0.0.1.
type localProber struct {
	*health.Monitor
	addrs map[BackendKey]netip.AddrPort
}

func (p *localProber) Update(jobs []health.Job) error {
	local := slices.Clone(jobs)
	for i := range local {
		if a, ok := p.addrs[BackendKey{local[i].Target.Service, local[i].Target.Backend}]; ok {
			local[i].Target.Addr, local[i].Target.Port, local[i].Spec.Port = a.Addr(), a.Port(), a.Port()
		}
	}
	return p.Monitor.Update(local)
}

type liveEngine struct {
	*Engine
	region *shm.Region
}

// newLiveEngine runs an engine on cfgText with real checks against servers and two
// simulated lcores that must move to every publish.
func newLiveEngine(t *testing.T, cfgText string, servers map[BackendKey]*backendServer) *liveEngine {
	t.Helper()
	addrs := map[BackendKey]netip.AddrPort{}
	for k, s := range servers {
		addrs[k] = s.addr
	}
	le := startEngine(t, cfgText, time.Hour, func(log *slog.Logger, onEvent func(health.Event)) Prober {
		return &localProber{Monitor: health.NewMonitor(log, onEvent), addrs: addrs}
	})
	(&testEngine{Engine: le.Engine}).run(t)
	startLcores(t, le.region.Path)
	return le
}

// startEngine starts (but does not run) an engine on cfgText in a temporary region.
func startEngine(t *testing.T, cfgText string, feedbackEvery time.Duration, newProber func(*slog.Logger, func(health.Event)) Prober) *liveEngine {
	t.Helper()
	cfg, err := config.Parse("live.yaml", []byte(cfgText))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "region")
	params := testParams
	params.LUTCapacity = 1 << 19 // room for four services of the default Maglev size
	e, err := New(Options{
		Config: cfg, ConfigText: []byte(cfgText), RegionPath: path, RegionParams: params,
		HeartbeatEvery: 10 * time.Millisecond, FeedbackEvery: feedbackEvery, NewProber: newProber,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	r, err := shm.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return &liveEngine{Engine: e, region: r}
}

// startLcores runs two simulated lcores on the region until the test ends.
func startLcores(t *testing.T, path string) {
	t.Helper()
	stop := make(chan struct{})
	var torn atomic.Int64
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Add(1)
		go func() { defer wg.Done(); fakeLcore(path, i, stop, &torn) }()
	}
	t.Cleanup(func() {
		close(stop)
		wg.Wait()
		if torn.Load() != 0 {
			t.Errorf("an lcore saw its config set rewritten under it (%d)", torn.Load())
		}
	})
}

// seenService is a service as an lcore reads it from the active set.
type seenService struct {
	flags   uint16
	slots   map[string]int // lookup-table slots per backend, by name
	present map[string]bool
}

// seen reads the active set the way an lcore does and names backends by the engine's
// last publish (the region has only addresses).
func (le *liveEngine) seen(t *testing.T, service string) seenService {
	t.Helper()
	names := map[netip.AddrPort]string{}
	if v, err := le.Service(service); err == nil {
		for _, b := range v.Backends {
			names[netip.AddrPortFrom(b.Address, b.Port)] = b.Name
		}
	}
	for {
		r := le.region
		active := r.ActiveIndex()
		cs := r.ConfigSet(active)
		gen := atomic.LoadUint64(&cs.Generation)
		out := seenService{slots: map[string]int{}, present: map[string]bool{}}
		si := -1
		for i := range int(cs.NServices) {
			if shm.CString(cs.Services[i].Name[:]) == service {
				si = i
			}
		}
		if si < 0 {
			t.Fatalf("no service %s in the active set", service)
		}
		sv := cs.Services[si]
		out.flags = sv.Flags
		name := func(i uint16) string {
			b := &cs.Backends[i]
			return names[netip.AddrPortFrom(addrOf(b.Addr, b.Family), b.Port)]
		}
		for i := 1; i < int(cs.NBackends); i++ {
			if b := &cs.Backends[i]; b.Family != 0 && int(b.Service) == si && b.Flags&shm.BackendPresent != 0 {
				out.present[name(uint16(i))] = true
			}
		}
		for _, bi := range r.LUT(active)[sv.LUTOffset : sv.LUTOffset+sv.LUTSize] {
			if bi != 0 {
				out.slots[name(bi)]++
			}
		}
		if r.ActiveIndex() == active && atomic.LoadUint64(&cs.Generation) == gen {
			return out
		}
	}
}

// waitSeen polls what the lcores see until cond holds, for up to 3 s.
func (le *liveEngine) waitSeen(t *testing.T, service, what string, cond func(seenService) bool) seenService {
	t.Helper()
	for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(2 * time.Millisecond) {
		s := le.seen(t, service)
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s: %s sees %+v", what, service, s)
		}
	}
}

// labPorts and labBackends start the test configurations: one port on the backends'
// subnet, and backends a and b.
const (
	labPorts = `
dataplane:
  ports:
    - {name: lan, ipv4: 198.18.0.1/24}
`
	labBackends = `
x-backends: &backends
  - {name: a, address: 198.18.0.11}
  - {name: b, address: 198.18.0.12}
`
)

// webConfig is a nat service "web" with the check and backends rs1..rsN.
func webConfig(check string, n int) string {
	cfg := labPorts + `
services:
  - name: web
    vip: 198.18.1.10
    port: 80
    mode: nat
    maglev_size: 251
    health_check: ` + check + `
    backends:
`
	for i := 1; i <= n; i++ {
		cfg += fmt.Sprintf("      - {name: rs%d, address: 198.18.0.%d}\n", i, 10+i)
	}
	return cfg
}

// publishSlack is what a publish may add on this 2-core machine shared with other tests:
// build, fill the inactive set, wait for both lcores.
const publishSlack = 150 * time.Millisecond

func TestEngineTakesAKilledBackendOutWithinIntervalTimesFall(t *testing.T) {
	servers := map[BackendKey]*backendServer{}
	for _, b := range []string{"rs1", "rs2", "rs3"} {
		servers[BackendKey{"web", b}] = newBackendServer(t)
	}
	le := newLiveEngine(t, webConfig("{kind: http, path: /health, interval: 50ms, timeout: 40ms, rise: 2, fall: 3, jitter: 0.2}", 3), servers)
	le.waitSeen(t, "web", "every backend in the table", func(s seenService) bool { return len(s.slots) == 3 })

	hc := le.cfg.Services[0].HealthCheck
	interval := time.Duration(float64(hc.Interval) * (1 + hc.Jitter))
	bound := time.Duration(hc.Fall)*interval + hc.Timeout + publishSlack
	// The first failing probe may come at once; fall-1 more are due, each at least
	// interval × (1 - jitter) later.
	floor := time.Duration(float64(time.Duration(hc.Fall-1)*hc.Interval) * (1 - hc.Jitter))

	killed := time.Now()
	servers[BackendKey{"web", "rs2"}].srv.Close() // the server dies: connections refused
	s := le.waitSeen(t, "web", "rs2 out of the table", func(s seenService) bool { return s.slots["rs2"] == 0 })
	took := time.Since(killed)
	t.Logf("rs2 out of the lcores' table %v after it died (bound %v = fall %d × interval %v × (1+jitter %.1f) + timeout %v + publish %v)",
		took, bound, hc.Fall, hc.Interval, hc.Jitter, hc.Timeout, publishSlack)
	if took > bound {
		t.Errorf("a dead backend stayed in the table %v, over the bound %v", took, bound)
	}
	if took < floor {
		t.Errorf("out after %v: sooner than fall=%d checks allow (%v)", took, hc.Fall, floor)
	}
	if s.present["rs2"] || s.slots["rs1"] == 0 || s.slots["rs3"] == 0 || s.slots["rs1"]+s.slots["rs3"] != 251 {
		t.Errorf("after rs2 died the lcores see %+v: want rs2 gone (its flows re-selected), rs1 and rs3 sharing every slot", s)
	}
	waitFor(t, "the view to follow the region", func() bool { v, _ := le.Service("web"); return v.Backends[1].Health == "down" })
	v, _ := le.Service("web")
	if b := v.Backends[1]; b.StateChanges.Down != 1 || b.Detail == "" || b.Load != -1 {
		t.Errorf("rs2 as the operator sees it: %+v", b)
	}
}

func TestEngineDoesNotFlapTheTableFasterThanRiseAndFall(t *testing.T) {
	cfg := webConfig("{kind: http, path: /health, interval: 30ms, timeout: 25ms, rise: 3, fall: 2, jitter: 0}", 2)
	ok, bad := true, false
	// rs1's answers, one per probe, and when the table must change (rise 3, fall 2).
	script := []bool{
		ok, ok, ok, // up: in
		bad, ok, bad, ok, bad, ok, bad, ok, // flapping at the probe rate: stays in
		bad, bad, // down: out
		ok, ok, bad, ok, ok, bad, // flapping slower, still under rise: stays out
		ok, ok, ok, // up: in
	}
	rs1, rs2 := newBackendServer(t), newBackendServer(t)
	rs1.script = slices.Clone(script)
	le := newLiveEngine(t, cfg, map[BackendKey]*backendServer{{"web", "rs1"}: rs1, {"web", "rs2"}: rs2})

	// Watch rs1's membership in the lcores' table until its script has played out.
	type change struct {
		in bool
		at time.Time
	}
	var changes []change
	in := false
	for deadline := time.Now().Add(5 * time.Second); rs1.probeCount() < len(script)+2; time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("rs1 answered only %d of %d probes", rs1.probeCount(), len(script))
		}
		if now := le.seen(t, "web").slots["rs1"] > 0; now != in {
			in = now
			changes = append(changes, change{now, time.Now()})
		}
	}
	var got []bool
	for _, c := range changes {
		got = append(got, c.in)
	}
	if want := []bool{true, false, true}; !slices.Equal(got, want) {
		t.Fatalf("rs1 went in/out of the table %v; want %v (in after 3 good answers, out after 2 bad, in after 3 good)", got, want)
	}
	// Between its changes the table held rs1 for at least the probes rise/fall demand.
	hc := le.cfg.Services[0].HealthCheck
	for i, need := range []int{hc.Fall, hc.Rise} {
		if gap := changes[i+1].at.Sub(changes[i].at); gap < time.Duration(need)*hc.Interval-hc.Interval/2 {
			t.Errorf("change %d came %v after the previous, under %d intervals", i+1, gap, need)
		}
	}
	v, _ := le.Service("web")
	if c := v.Backends[0].StateChanges; c != (StateChanges{Up: 2, Down: 1}) {
		t.Errorf("rs1 state changes %+v, want 2 up and 1 down", c)
	}
}

func TestEngineWhenAllBackendsAreDown(t *testing.T) {
	cfg := labPorts + `
x-check: &check {kind: http, path: /health, interval: 20ms, timeout: 15ms, rise: 1, fall: 1, jitter: 0}
services:
  - name: drop
    vip: 198.18.1.10
    port: 80
    mode: nat
    maglev_size: 251
    when_all_down: drop
    health_check: *check
    backends: &backends
      - {name: rs1, address: 198.18.0.11}
      - {name: rs2, address: 198.18.0.12}
  - name: keep
    vip: 198.18.1.11
    port: 80
    mode: nat
    maglev_size: 251
    when_all_down: keep-last
    health_check: *check
    backends: *backends
  - name: sorry
    vip: 198.18.1.12
    port: 80
    mode: nat
    maglev_size: 251
    when_all_down: fallback
    fallback: {name: sorry, address: 198.18.0.99}
    health_check: *check
    backends: *backends
`
	rs1, rs2 := newBackendServer(t), newBackendServer(t)
	servers := map[BackendKey]*backendServer{}
	for _, svc := range []string{"drop", "keep", "sorry"} {
		servers[BackendKey{svc, "rs1"}], servers[BackendKey{svc, "rs2"}] = rs1, rs2
	}
	le := newLiveEngine(t, cfg, servers)
	both := func(s seenService) bool { return s.slots["rs1"] > 0 && s.slots["rs2"] > 0 && len(s.slots) == 2 }
	for _, svc := range []string{"drop", "keep", "sorry"} {
		le.waitSeen(t, svc, svc+" with both backends", both)
	}
	keepBefore := le.seen(t, "keep")

	// Every backend's check fails.
	rs1.setDown(true)
	rs2.setDown(true)
	for _, svc := range []string{"drop", "keep", "sorry"} {
		waitFor(t, svc+" all down", func() bool { v, _ := le.Service(svc); return v.AllDown })
	}
	drop := le.waitSeen(t, "drop", "drop: an empty table", func(s seenService) bool { return len(s.slots) == 0 })
	if drop.flags&shm.SvcAllDownDrop == 0 || len(drop.present) != 0 {
		t.Errorf("drop: flags %#x present %v; want the drop flag and no backend", drop.flags, drop.present)
	}
	sorry := le.waitSeen(t, "sorry", "fallback: the sorry server", func(s seenService) bool { return s.slots["sorry"] == 1 })
	if len(sorry.slots) != 1 || !sorry.present["sorry"] {
		t.Errorf("fallback: %+v; want every new flow to the sorry server", sorry)
	}
	// The checks saw rs1 and rs2 fail one after the other, within one detection window:
	// keep-last keeps both, not only the last survivor.
	keep := le.seen(t, "keep")
	if !maps.Equal(keep.slots, keepBefore.slots) || !keep.present["rs1"] || !keep.present["rs2"] {
		t.Errorf("keep-last: %+v; want the last healthy table %+v", keep, keepBefore)
	}

	// One backend recovers: every policy gives way to it.
	rs2.setDown(false)
	for _, svc := range []string{"drop", "keep", "sorry"} {
		s := le.waitSeen(t, svc, svc+" with rs2 only", func(s seenService) bool { return len(s.slots) == 1 && s.slots["rs2"] == 251 })
		if s.present["sorry"] {
			t.Errorf("%s: the sorry server is still present with rs2 back", svc)
		}
	}
}
