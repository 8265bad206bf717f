package daemon

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"tenbin/control/config"
	"tenbin/control/health"
	"tenbin/control/shm"
)

func loadConfig(t testing.TB, path string) *config.Config {
	t.Helper()
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// allUp reports every backend of cfg up since long ago.
func allUp(cfg *config.Config) map[BackendKey]Health {
	h := map[BackendKey]Health{}
	for _, s := range cfg.Services {
		for _, b := range s.Backends {
			h[BackendKey{s.Name, b.Name}] = Health{State: health.StateUp, Load: -1}
		}
	}
	return h
}

func build(t *testing.T, b *Builder, in Inputs) *Result {
	t.Helper()
	if in.Now.IsZero() {
		in.Now = time.Unix(1_000_000, 0)
	}
	res, err := b.Build(in)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func spec(t *testing.T, res *Result, name string) (shm.ServiceSpec, ServicePlan) {
	t.Helper()
	for i, s := range res.Desired.Services {
		if s.Name == name {
			return s, res.Services[i]
		}
	}
	t.Fatalf("no service %s", name)
	return shm.ServiceSpec{}, ServicePlan{}
}

// share counts each backend's slots by name.
func share(s shm.ServiceSpec) map[string]int {
	out := map[string]int{}
	for _, e := range s.LUT {
		if e < 0 {
			out[""]++
			continue
		}
		out[s.Backends[e].Addr.String()]++
	}
	return out
}

func TestBuildMaglevServiceHonoursWeightsAndHashesAllFields(t *testing.T) {
	cfg := loadConfig(t, "testdata/builder.yaml")
	res := build(t, NewBuilder(), Inputs{Config: cfg, Health: allUp(cfg)})
	web, plan := spec(t, res, "web")
	if web.LUTKind != shm.LUTHash || web.HashFields != shm.HashAll || len(web.LUT) != 251 {
		t.Fatalf("kind %d fields %#x size %d", web.LUTKind, web.HashFields, len(web.LUT))
	}
	got := share(web)
	if got[""] != 0 {
		t.Errorf("%d empty slots", got[""])
	}
	// rs3 has half the weight of rs1 and rs2: 2:2:1 of 251 slots, within a few slots.
	if r := got["198.18.0.13"]; r < 45 || r > 56 || got["198.18.0.11"] < 95 {
		t.Errorf("shares %v, want about 100:100:50", got)
	}
	if web.Mode != shm.ModeL2DSR || web.Flags&shm.SvcICMPEcho == 0 || web.TimeoutS[shm.TimeoutTCPEst] != 900 {
		t.Errorf("service fields %+v", web)
	}
	for _, b := range plan.Backends {
		if !b.Present || b.Weight == 0 || b.Health != "up" {
			t.Errorf("backend %+v should be up and weighted", b)
		}
	}
}

func TestBuildHashUsesTheServiceFieldsAndFnatPool(t *testing.T) {
	cfg := loadConfig(t, "testdata/builder.yaml")
	res := build(t, NewBuilder(), Inputs{Config: cfg, Health: allUp(cfg)})
	app, _ := spec(t, res, "app")
	if app.HashFields != shm.HashSrcIP {
		t.Errorf("hash default fields %#x, want src_ip", app.HashFields)
	}
	if len(app.LocalAddrs) != 1 || app.LocalAddrs[0] != netip.MustParseAddr("198.18.3.1") || app.ClientAddr != 1 {
		t.Errorf("fnat pool %v client_addr %d: want the IPv4 pool address and toa (1)", app.LocalAddrs, app.ClientAddr)
	}
	if app.MSSMax != 1400 || app.NATPortLo != 20000 || app.NATPortHi != 65535 {
		t.Errorf("mss %d ports %d-%d: want the configured clamp and range", app.MSSMax, app.NATPortLo, app.NATPortHi)
	}
	if app.MaxHalfOpen != 5000 {
		t.Errorf("max_half_open %d: want the configured 5000", app.MaxHalfOpen)
	}
	if app.Backends[0].EgressPort != 1 || app.Backends[0].VLAN != 20 || app.Backends[0].Port != 9443 {
		t.Errorf("backend %+v: want dmz port 1, vlan 20, port 9443", app.Backends[0])
	}

	cfg.Services[3].HashFields = config.HashSrcIP | config.HashDstPort
	res = build(t, NewBuilder(), Inputs{Config: cfg, Health: allUp(cfg)})
	if app, _ := spec(t, res, "app"); app.HashFields != shm.HashSrcIP|shm.HashDstPort {
		t.Errorf("hash fields %#x, want src_ip|dst_port", app.HashFields)
	}
}

func TestBuildRoundRobinUsesACursorTable(t *testing.T) {
	cfg := loadConfig(t, "testdata/builder.yaml")
	res := build(t, NewBuilder(), Inputs{Config: cfg, Health: allUp(cfg)})
	rr, _ := spec(t, res, "rr")
	if rr.LUTKind != shm.LUTCursor || len(rr.LUT) != 2 {
		t.Errorf("rr: kind %d lut %v, want a cursor table with one slot each (weights ignored)", rr.LUTKind, rr.LUT)
	}
	wrr, _ := spec(t, res, "wrr")
	if got := share(wrr); wrr.LUTKind != shm.LUTCursor || got["198.18.0.21"] != 1 || got["198.18.0.22"] != 3 {
		t.Errorf("wrr: kind %d shares %v, want 1:3", wrr.LUTKind, got)
	}
}

func TestBuildNextHopOnLinkOrGateway(t *testing.T) {
	cfg := loadConfig(t, "testdata/builder.yaml")
	res := build(t, NewBuilder(), Inputs{Config: cfg, Health: allUp(cfg)})
	for _, c := range []struct{ service, addr, hop string }{
		{"web", "198.18.0.11", "198.18.0.11"},  // on lan's subnet
		{"api", "198.18.2.11", "198.18.0.254"}, // behind the gateway
		{"api6", "2001:db8::11", "2001:db8::11"},
		{"api6", "2001:db8:2::12", "2001:db8::fe"},
		{"app", "198.18.4.11", "198.18.4.11"}, // on dmz
	} {
		s, _ := spec(t, res, c.service)
		found := false
		for _, b := range s.Backends {
			if b.Addr.String() == c.addr {
				found = true
				if b.NextHop.String() != c.hop {
					t.Errorf("%s %s: next hop %s, want %s", c.service, c.addr, b.NextHop, c.hop)
				}
			}
		}
		if !found {
			t.Errorf("%s: no backend %s", c.service, c.addr)
		}
	}
}

func TestBuildDownDrainedAndDisabledBackends(t *testing.T) {
	cfg := loadConfig(t, "testdata/builder.yaml")
	h := allUp(cfg)
	h[BackendKey{"web", "rs1"}] = Health{State: health.StateDown, Load: -1}
	yes := true
	five := uint16(5)
	admin := map[BackendKey]Admin{
		{"web", "rs2"}: {Drained: true},
		{"web", "rs3"}: {Weight: &five},
		{"api", "rs1"}: {Disabled: &yes},
	}
	res := build(t, NewBuilder(), Inputs{Config: cfg, Health: h, Admin: admin})
	web, plan := spec(t, res, "web")
	want := []struct {
		present bool
		weight  bool
	}{{false, false}, {true, false}, {true, true}}
	for i, w := range want {
		if web.Backends[i].Present != w.present || (web.Backends[i].Weight > 0) != w.weight {
			t.Errorf("web backend %d: present %v weight %d, want present %v weighted %v",
				i, web.Backends[i].Present, web.Backends[i].Weight, w.present, w.weight)
		}
	}
	if got := share(web); got["198.18.0.13"] != 251 {
		t.Errorf("only rs3 takes new flows, shares %v", got)
	}
	if plan.Backends[2].Configured != 5 || plan.Backends[2].Admin == nil {
		t.Errorf("weight override not shown: %+v", plan.Backends[2])
	}
	api, _ := spec(t, res, "api")
	if api.Backends[0].Present || share(api)["198.18.2.12"] != 251 {
		t.Errorf("disabled backend still present or in the table: %+v %v", api.Backends[0], share(api))
	}
}

func TestBuildWhenAllDown(t *testing.T) {
	cfg := loadConfig(t, "testdata/builder.yaml")
	b := NewBuilder()
	up := build(t, b, Inputs{Config: cfg, Health: allUp(cfg)})
	down := map[BackendKey]Health{} // nobody up
	res := build(t, b, Inputs{Config: cfg, Health: down, Prev: up.Weights, LastUp: up.LastUp})

	web, plan := spec(t, res, "web") // drop
	if len(web.LUT) != 0 || !plan.AllDown || web.Flags&shm.SvcAllDownDrop == 0 {
		t.Errorf("drop: lut %d slots, all_down %v", len(web.LUT), plan.AllDown)
	}
	api, plan := spec(t, res, "api") // fallback
	if len(api.LUT) != 1 || api.Backends[api.LUT[0]].Addr.String() != "198.18.0.99" || !api.Backends[api.LUT[0]].Present {
		t.Errorf("fallback: lut %v backends %+v", api.LUT, api.Backends)
	}
	if !plan.Backends[len(plan.Backends)-1].Fallback {
		t.Error("fallback backend not marked in the plan")
	}
	api6, _ := spec(t, res, "api6") // keep-last
	upSpec, _ := spec(t, up, "api6")
	if len(api6.LUT) != 251 || share(api6)[""] != 0 || !api6.Backends[0].Present {
		t.Errorf("keep-last: lut %v, backends %+v", share(api6), api6.Backends)
	}
	for i := range api6.LUT {
		if api6.LUT[i] != upSpec.LUT[i] {
			t.Fatal("keep-last changed the table")
		}
	}
	// keep-last still remembers after several all-down builds; the fallback leaves once a
	// backend is back.
	res = build(t, b, Inputs{Config: cfg, Health: down, Prev: res.Weights, LastUp: res.LastUp})
	if s, _ := spec(t, res, "api6"); len(s.LUT) != 251 {
		t.Error("keep-last forgot the last healthy set")
	}
	res = build(t, b, Inputs{Config: cfg, Health: allUp(cfg), Prev: res.Weights, LastUp: res.LastUp})
	if api, _ := spec(t, res, "api"); len(api.Backends) != 2 || len(api.LUT) != 251 {
		t.Errorf("fallback still in use with backends up: %d backends, lut %d", len(api.Backends), len(api.LUT))
	}
}

func TestBuildLeastConnFollowsActiveFlows(t *testing.T) {
	cfg := loadConfig(t, "testdata/builder.yaml")
	fb := map[BackendKey]Feedback{{"lc", "a"}: {ActiveFlows: 1000}, {"lc", "b"}: {ActiveFlows: 10}}
	res := build(t, NewBuilder(), Inputs{Config: cfg, Health: allUp(cfg), Feedback: fb})
	lc, _ := spec(t, res, "lc")
	if lc.LUTKind != shm.LUTHash || len(lc.LUT) != config.DefaultMaglev {
		t.Fatalf("least-conn: kind %d size %d", lc.LUTKind, len(lc.LUT))
	}
	got := share(lc)
	if got["198.18.0.21"] >= got["198.18.0.22"]/4 {
		t.Errorf("busy backend keeps too many slots: %v", got)
	}
}

func TestBuildRebuildsOnlyChangedServices(t *testing.T) {
	cfg := loadConfig(t, "testdata/builder.yaml")
	b := NewBuilder()
	first := build(t, b, Inputs{Config: cfg, Health: allUp(cfg)})
	for _, p := range first.Services {
		if !p.Rebuilt {
			t.Errorf("%s: first build must compute its table", p.Name)
		}
	}
	h := allUp(cfg)
	second := build(t, b, Inputs{Config: cfg, Health: h, Prev: first.Weights, LastUp: first.LastUp})
	for i, p := range second.Services {
		if p.Rebuilt {
			t.Errorf("%s rebuilt with unchanged inputs", p.Name)
		}
		if len(p.Backends) > 0 && len(second.Desired.Services[i].LUT) > 0 &&
			&second.Desired.Services[i].LUT[0] != &first.Desired.Services[i].LUT[0] {
			t.Errorf("%s: table not reused from the cache", p.Name)
		}
	}
	h[BackendKey{"web", "rs2"}] = Health{State: health.StateDown}
	third := build(t, b, Inputs{Config: cfg, Health: h, Prev: second.Weights, LastUp: second.LastUp})
	for _, p := range third.Services {
		if p.Rebuilt != (p.Name == "web") {
			t.Errorf("%s: rebuilt %v after a change to web only", p.Name, p.Rebuilt)
		}
	}
	// Maglev's promise: rs2's slots move, the others' stay (but for a small reshuffle).
	w1, _ := spec(t, second, "web")
	w3, _ := spec(t, third, "web")
	moved := 0
	for i := range w1.LUT {
		if w1.LUT[i] != 1 && w3.LUT[i] != w1.LUT[i] {
			moved++
		}
	}
	if moved > len(w1.LUT)/10 {
		t.Errorf("%d slots of the backends that stayed moved", moved)
	}
}

func TestBuildIsDeterministic(t *testing.T) {
	cfg := loadConfig(t, "testdata/builder.yaml")
	a := build(t, NewBuilder(), Inputs{Config: cfg, Health: allUp(cfg)})
	b := build(t, NewBuilder(), Inputs{Config: cfg, Health: allUp(cfg)})
	for i := range a.Desired.Services {
		sa, sb := a.Desired.Services[i], b.Desired.Services[i]
		if len(sa.LUT) != len(sb.LUT) {
			t.Fatalf("%s: sizes differ", sa.Name)
		}
		for j := range sa.LUT {
			if sa.LUT[j] != sb.LUT[j] {
				t.Fatalf("%s: slot %d differs", sa.Name, j)
			}
		}
	}
}

// keep-last keeps the backends that failed together with the last one (within one
// detection window), not only the last survivor; one that failed long before stays out.
func TestBuildKeepLastKeepsTheBackendsThatFailedTogether(t *testing.T) {
	cfg := loadConfig(t, "testdata/builder.yaml")
	b := NewBuilder()
	t0 := time.Unix(1_000_000, 0)
	window := detectionWindow(cfg.Service("api6").Backends[0].HealthCheck)
	h := allUp(cfg)
	res := build(t, b, Inputs{Config: cfg, Health: h, Now: t0})
	full, _ := spec(t, res, "api6")
	down := func(name string, at time.Time) {
		h[BackendKey{"api6", name}] = Health{State: health.StateDown, Since: at, Load: -1}
		res = build(t, b, Inputs{Config: cfg, Health: h, Prev: res.Weights, LastUp: res.LastUp, Now: at})
	}

	// rs1 fails, then rs2 half a window later: the table before both is kept.
	down("rs1", t0.Add(time.Minute))
	if s, _ := spec(t, res, "api6"); share(s)["2001:db8::11"] != 0 {
		t.Fatal("rs1 still in the table while rs2 is up")
	}
	down("rs2", t0.Add(time.Minute+window/2))
	s, plan := spec(t, res, "api6")
	if !plan.AllDown || !slices.Equal(s.LUT, full.LUT) || !s.Backends[0].Present || !s.Backends[1].Present {
		t.Errorf("cascade within the window: shares %v, want the full table %v", share(s), share(full))
	}

	// rs1 failed long before rs2: only rs2 is kept.
	h = allUp(cfg)
	res = build(t, b, Inputs{Config: cfg, Health: h, Now: t0})
	down("rs1", t0.Add(time.Minute))
	down("rs2", t0.Add(time.Hour))
	s, _ = spec(t, res, "api6")
	if got := share(s); got["2001:db8::11"] != 0 || got["2001:db8:2::12"] != 251 || s.Backends[0].Present {
		t.Errorf("rs1 down an hour before rs2: shares %v, want rs2 alone", got)
	}
	// A later build (a feedback tick) keeps the same choice.
	res = build(t, b, Inputs{Config: cfg, Health: h, Prev: res.Weights, LastUp: res.LastUp, Now: t0.Add(2 * time.Hour)})
	if again, _ := spec(t, res, "api6"); !slices.Equal(again.LUT, s.LUT) {
		t.Error("keep-last changed its table on a later build")
	}
}
