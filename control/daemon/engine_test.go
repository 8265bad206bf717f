package daemon

import (
	"context"
	"errors"
	"log/slog"
	"os"
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

// testParams keep test regions small.
var testParams = shm.Params{Lcores: 2, LUTCapacity: 1 << 18, FlowEntries: 1024}

// fakeProber stands in for health.Monitor: the test decides every state change.
type fakeProber struct {
	mu      sync.Mutex
	onEvent func(health.Event)
	jobs    []health.Job
}

func (f *fakeProber) Update(jobs []health.Job) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.jobs = jobs
	return nil
}
func (f *fakeProber) States() []health.Status { return nil }
func (f *fakeProber) Close()                  {}

// set reports a state change the way the monitor does, from another goroutine.
func (f *fakeProber) set(service, backend string, s health.State) {
	f.mu.Lock()
	var job health.Job
	for _, j := range f.jobs {
		if j.Target.Service == service && j.Target.Backend == backend {
			job = j
		}
	}
	cb := f.onEvent
	f.mu.Unlock()
	go cb(health.Event{Target: job.Target, New: s, Time: time.Now(), Result: health.Result{Load: -1}})
}

type testEngine struct {
	*Engine
	prober *fakeProber
	region string
	cfg    string
}

// newTestEngine starts an engine on a temporary region with the engine.yaml config (or
// the one at cfgPath), its checks driven by the test.
func newTestEngine(t *testing.T, region, cfgPath string) *testEngine {
	t.Helper()
	if region == "" {
		region = filepath.Join(t.TempDir(), "region")
	}
	if cfgPath == "" {
		cfgPath = filepath.Join(t.TempDir(), "tenbin.yaml")
		data, err := os.ReadFile("testdata/engine.yaml")
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(cfgPath, data, 0o644)
	}
	data, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse(cfgPath, data)
	if err != nil {
		t.Fatal(err)
	}
	fp := &fakeProber{}
	e, err := New(Options{
		Config: cfg, ConfigText: data, ConfigPath: cfgPath,
		RegionPath: region, RegionParams: testParams,
		HeartbeatEvery: 10 * time.Millisecond, FeedbackEvery: time.Hour,
		NewProber: func(_ *slog.Logger, onEvent func(health.Event)) Prober {
			fp.onEvent = onEvent
			return fp
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return &testEngine{Engine: e, prober: fp, region: region, cfg: cfgPath}
}

// run runs the engine's loop until the test ends.
func (te *testEngine) run(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { te.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

// waitFor polls cond for up to 2 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// bringUp reports every web backend up and waits until the tables have them.
func (te *testEngine) bringUp(t *testing.T) {
	t.Helper()
	for _, b := range []string{"rs1", "rs2", "rs3"} {
		te.prober.set("web", b, health.StateUp)
	}
	waitFor(t, "web backends up", func() bool {
		s, err := te.Service("web")
		return err == nil && s.LUTSize == 251 && s.Backends[2].Weight > 0 && s.Backends[0].Weight > 0 && s.Backends[1].Weight > 0
	})
}

// tables is the content of the active set with the generation zeroed: what a flow sees.
type tables struct {
	services []shm.Service
	backends []shm.Backend
	lut      []uint16
}

func activeTables(t *testing.T, path string) tables {
	t.Helper()
	r, err := shm.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cs := r.ConfigSet(r.ActiveIndex())
	return tables{
		services: slices.Clone(cs.Services[:cs.NServices]),
		backends: slices.Clone(cs.Backends[:cs.NBackends]),
		lut:      slices.Clone(r.LUT(r.ActiveIndex())[:cs.LUTUsed]),
	}
}

func (a tables) equal(b tables) bool {
	return slices.Equal(a.services, b.services) && slices.Equal(a.backends, b.backends) && slices.Equal(a.lut, b.lut)
}

func TestEngineStartsWithUncheckedBackendsDownAndPublishesHealthAtOnce(t *testing.T) {
	te := newTestEngine(t, "", "")
	te.run(t)
	web, _ := te.Service("web")
	if web.LUTSize != 0 || !web.AllDown {
		t.Fatalf("before any check web has %d slots", web.LUTSize)
	}
	dns, _ := te.Service("dns")
	if dns.LUTSize != config.DefaultMaglev {
		t.Errorf("a backend without checks is up from the start; dns has %d slots", dns.LUTSize)
	}
	te.bringUp(t)
	gen := te.Generation()
	start := time.Now()
	te.prober.set("web", "rs2", health.StateDown)
	waitFor(t, "rs2 out of the table", func() bool { return te.Generation() > gen })
	if took := time.Since(start); took > 500*time.Millisecond {
		t.Errorf("health change took %v to publish", took)
	}
	web, _ = te.Service("web")
	if b := web.Backends[1]; b.Present || b.Weight != 0 || b.Health != "down" {
		t.Errorf("rs2 after going down: %+v", b)
	}
	st := te.Status()
	if st.Publish.Generation != te.Generation() || st.Region.ActiveGeneration != st.Publish.Generation || st.Backends != 5 || st.Up != 4 {
		t.Errorf("status %+v", st)
	}
}

func TestEngineHeartbeat(t *testing.T) {
	te := newTestEngine(t, "", "")
	te.run(t)
	r, err := shm.Open(te.region)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	first := atomic.LoadUint64(&r.Header().ControlHeartbeatMs)
	waitFor(t, "a newer heartbeat", func() bool { return atomic.LoadUint64(&r.Header().ControlHeartbeatMs) > first })
	if pid := r.Header().ControlPID; pid != uint64(os.Getpid()) {
		t.Errorf("control pid %d", pid)
	}
}

func TestEngineRestartPublishesTheSameTables(t *testing.T) {
	te := newTestEngine(t, "", "")
	te.run(t)
	te.bringUp(t)
	te.prober.set("web", "rs3", health.StateDown)
	waitFor(t, "rs3 down", func() bool { s, _ := te.Service("web"); return s.Backends[2].Weight == 0 })
	before := activeTables(t, te.region)
	te.Close()

	again := newTestEngine(t, te.region, te.cfg)
	after := activeTables(t, te.region)
	if !after.equal(before) {
		t.Error("a restart with the same configuration changed the tables")
	}
	if again.Generation() <= te.Generation() {
		t.Errorf("generation went from %d to %d", te.Generation(), again.Generation())
	}
	for _, j := range again.prober.jobs {
		if want := j.Target.Backend != "rs3"; j.Target.Service == "web" && j.Spec.InitialUp != want {
			t.Errorf("%s: initial up %v, want %v", j.Target.Key(), j.Spec.InitialUp, want)
		}
	}
}

func TestEngineAdminChanges(t *testing.T) {
	te := newTestEngine(t, "", "")
	te.run(t)
	te.bringUp(t)
	backend := func(name string) BackendView {
		bs, err := te.Backends("web")
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range bs {
			if b.Name == name {
				return b
			}
		}
		t.Fatalf("no backend %s", name)
		return BackendView{}
	}
	steps := []struct {
		name  string
		op    func() (uint64, error)
		check func(BackendView) bool
	}{
		{"drain", func() (uint64, error) { return te.Drain("web", "rs1") }, func(b BackendView) bool { return b.Present && b.Weight == 0 && b.Drained }},
		{"undrain", func() (uint64, error) { return te.Undrain("web", "rs1") }, func(b BackendView) bool { return b.Weight > 0 && !b.Drained && b.Admin == nil }},
		{"weight", func() (uint64, error) { return te.SetWeight("web", "rs1", 7) }, func(b BackendView) bool { return b.Configured == 7 && b.Admin != nil }},
		{"disable", func() (uint64, error) { return te.Disable("web", "rs1") }, func(b BackendView) bool { return !b.Present && b.Disabled }},
		{"enable", func() (uint64, error) { return te.Enable("web", "rs1") }, func(b BackendView) bool { return b.Present && !b.Disabled && b.Weight > 0 }},
	}
	for _, s := range steps {
		gen, err := s.op()
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if gen != te.Generation() {
			t.Errorf("%s: returned generation %d, engine at %d", s.name, gen, te.Generation())
		}
		if b := backend("rs1"); !s.check(b) {
			t.Errorf("after %s: %+v", s.name, b)
		}
	}
	if _, err := te.Drain("web", "nope"); !errors.Is(err, ErrNoBackend) {
		t.Errorf("unknown backend: %v", err)
	}
	if _, err := te.Drain("nope", "rs1"); !errors.Is(err, ErrNoService) {
		t.Errorf("unknown service: %v", err)
	}
}

func TestEngineApplyValidatesFirstAndKeepsTheRunningConfig(t *testing.T) {
	te := newTestEngine(t, "", "")
	te.run(t)
	te.bringUp(t)
	gen := te.Generation()
	_, err := te.Apply("bad.yaml", []byte("services:\n  - name: web\n    vip: 300.1.1.1\n    bogus: 1\n"))
	var errs config.Errors
	if !errors.As(err, &errs) || len(errs) < 2 {
		t.Fatalf("want every problem of the file, got %v", err)
	}
	if te.Generation() != gen {
		t.Error("an invalid configuration was published")
	}
	if cfg, _ := te.Config(); cfg.Service("dns") == nil {
		t.Error("the running configuration was replaced")
	}
	// SIGHUP with a broken file on disk: the same.
	os.WriteFile(te.cfg, []byte("services: [\n"), 0o644)
	if _, err := te.Reload(); !errors.Is(err, config.ErrInvalid) {
		t.Errorf("reload of a broken file: %v", err)
	}
	if te.Generation() != gen {
		t.Error("a broken file was published on reload")
	}

	// A valid change: rs3 leaves, rs1's weight changes; the file is saved.
	data, _ := os.ReadFile("testdata/engine.yaml")
	next := []byte(replaceOnce(t, replaceOnce(t, string(data), "      - {name: rs3, address: 198.18.0.13}\n", ""),
		"{name: rs1, address: 198.18.0.11}", "{name: rs1, address: 198.18.0.11, weight: 50}"))
	res, err := te.Apply("new.yaml", next)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"~ backend web/rs1: weight 100 → 50", "- backend web/rs3"}
	if !slices.Equal(res.Changes, want) {
		t.Errorf("changes %q, want %q", res.Changes, want)
	}
	if res.Generation <= gen {
		t.Errorf("generation %d after apply", res.Generation)
	}
	if saved, _ := os.ReadFile(te.cfg); string(saved) != string(next) {
		t.Error("applied configuration not saved to the daemon's file")
	}
	web, _ := te.Service("web")
	if len(web.Backends) != 2 || web.Backends[0].Configured != 50 {
		t.Errorf("web after apply: %+v", web.Backends)
	}
}

func replaceOnce(t *testing.T, s, old, new string) string {
	t.Helper()
	i := indexOf(s, old)
	if i < 0 {
		t.Fatalf("%q not in the file", old)
	}
	return s[:i] + new + s[i+len(old):]
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

// fakeLcore behaves like a dataplane lcore (as in control/shm's writer test): once per
// burst it loads active, reports the generation it sees and checks the set it reads is
// not rewritten under it.
func fakeLcore(path string, slot int, stop <-chan struct{}, torn *atomic.Int64) {
	r, err := shm.Open(path)
	if err != nil {
		torn.Add(1 << 32)
		return
	}
	defer r.Close()
	ls := r.LcoreState(slot)
	atomic.StoreUint32(&ls.Online, 1)
	for {
		select {
		case <-stop:
			atomic.StoreUint32(&ls.Online, 0)
			return
		default:
		}
		cs := r.ConfigSet(r.ActiveIndex())
		gen := atomic.LoadUint64(&cs.Generation)
		atomic.StoreUint64(&ls.SeenGeneration, gen)
		atomic.StoreUint64(&ls.HeartbeatMs, shm.NowMs())
		for range 100 {
			if atomic.LoadUint64(&cs.Generation) != gen {
				torn.Add(1)
			}
		}
		time.Sleep(20 * time.Microsecond)
	}
}

func TestEnginePublishesPastLiveLcores(t *testing.T) {
	te := newTestEngine(t, "", "")
	te.run(t)
	te.bringUp(t)
	stop := make(chan struct{})
	var torn atomic.Int64
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Add(1)
		go func() { defer wg.Done(); fakeLcore(te.region, i, stop, &torn) }()
	}
	defer func() { close(stop); wg.Wait() }()
	r, _ := shm.Open(te.region)
	defer r.Close()
	waitFor(t, "lcores online", func() bool {
		return r.LcoreState(0).SeenGeneration == te.Generation() && r.LcoreState(1).SeenGeneration == te.Generation()
	})
	for i := range 40 {
		op := te.Drain
		if i%2 == 1 {
			op = te.Undrain
		}
		gen, err := op("web", "rs2")
		if err != nil {
			t.Fatal(err)
		}
		for l := range 2 {
			if seen := atomic.LoadUint64(&r.LcoreState(l).SeenGeneration); seen < gen {
				t.Fatalf("publish %d returned before lcore %d moved (seen %d)", gen, l, seen)
			}
		}
	}
	if torn.Load() != 0 {
		t.Errorf("an lcore saw its config set rewritten under it (%d)", torn.Load())
	}
}

func TestEngineRepublishesWhenTheDataplaneRecreatesTheRegion(t *testing.T) {
	te := newTestEngine(t, "", "")
	te.run(t)
	te.bringUp(t)
	want := activeTables(t, te.region)
	// The dataplane restarts with a fresh region: a new file at the same path.
	os.Remove(te.region)
	r, err := shm.OpenOrCreate(te.region, testParams)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	waitFor(t, "a publish into the new region", func() bool {
		return atomic.LoadUint64(&r.Header().PublishedGeneration) > 0 && atomic.LoadUint64(&r.Header().ControlHeartbeatMs) > 0
	})
	got := activeTables(t, te.region)
	if len(got.lut) != len(want.lut) || len(got.services) != 2 {
		t.Errorf("new region has %d services, %d lut entries; want 2, %d", len(got.services), len(got.lut), len(want.lut))
	}
}

func TestEngineFeedbackRepublishesOnlyWhenWeightsMove(t *testing.T) {
	te := newTestEngine(t, "", "")
	gen := te.Generation()
	te.feedbackTick()
	if te.Generation() != gen {
		t.Fatal("a feedback tick with nothing new published")
	}
	// d1 now holds many flows: least-conn shifts weight to d2.
	r, _ := shm.Open(te.region)
	defer r.Close()
	slot := te.reg.slots.Load().backends[BackendKey{"dns", "d1"}]
	r.Counters(0).Backend[slot][shm.ObjActiveFlows] = 5000
	te.feedbackTick()
	if te.Generation() == gen {
		t.Fatal("moved weights were not published")
	}
	dns, _ := te.Service("dns")
	if dns.Backends[0].Weight >= dns.Backends[1].Weight || dns.Backends[0].ActiveFlows != 5000 {
		t.Errorf("dns backends %+v", dns.Backends)
	}
}

// Drain, as the dataplane needs it: the backend stays present (its flows are kept) with
// weight 0 (no new flow), and its active flows show when it has become idle.
func TestEngineDrainKeepsTheBackendPresentUntilIdle(t *testing.T) {
	te := newTestEngine(t, "", "")
	te.run(t)
	te.bringUp(t)
	le := &liveEngine{Engine: te.Engine}
	r, err := shm.Open(te.region)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	le.region = r
	flows := le.counters(t, BackendKey{"web", "rs1"})
	atomic.StoreUint64(&flows[shm.ObjActiveFlows], 7)

	if _, err := te.Drain("web", "rs1"); err != nil {
		t.Fatal(err)
	}
	s := le.seen(t, "web")
	if !s.present["rs1"] || s.slots["rs1"] != 0 || s.slots["rs2"]+s.slots["rs3"] != 251 {
		t.Errorf("lcores see %+v after the drain: want rs1 present (its flows kept) and in no slot", s)
	}
	bs, _ := te.Backends("web")
	if b := bs[0]; !b.Drained || !b.Present || b.Weight != 0 || b.ActiveFlows != 7 {
		t.Errorf("drained rs1 with 7 flows: %+v", b)
	}
	// The flows end; the backend is still present, now idle.
	atomic.StoreUint64(&flows[shm.ObjActiveFlows], 0)
	bs, _ = te.Backends("web")
	if b := bs[0]; !b.Drained || !b.Present || b.ActiveFlows != 0 {
		t.Errorf("drained rs1 once idle: %+v", b)
	}
	// A backend whose agent asks for drain is kept the same way.
	te.prober.set("web", "rs2", health.StateDrain)
	waitFor(t, "rs2 draining", func() bool { s, _ := te.Service("web"); return s.Backends[1].Health == "drain" })
	if s := le.seen(t, "web"); !s.present["rs2"] || s.slots["rs2"] != 0 || s.slots["rs3"] != 251 {
		t.Errorf("lcores see %+v with rs2's agent draining: want rs2 present, only rs3 in the table", s)
	}
}
