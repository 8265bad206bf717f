package daemon

import (
	"fmt"
	"net/netip"
	"slices"
	"time"

	"tenbin/control/config"
	"tenbin/control/health"
	"tenbin/control/maglev"
	"tenbin/control/sched"
	"tenbin/control/shm"
)

// maxCursorTable bounds an rr/wrr table; RRTable scales weights down to fit.
const maxCursorTable = 65536

// Inputs are everything a config set depends on. Maps may be nil.
type Inputs struct {
	Config   *config.Config
	Health   map[BackendKey]Health
	Admin    map[BackendKey]Admin
	Feedback map[BackendKey]Feedback
	// Prev is the weight each backend was last published with, by service and backend
	// name: the feedback schedulers damp from it.
	Prev map[string]map[string]uint32
	// LastUp is, per service and backend, the last non-zero weight (when_all_down:
	// keep-last).
	LastUp map[string]map[string]uint32
	Now    time.Time
}

// BackendPlan is what one backend was published as, and why.
type BackendPlan struct {
	Name       string     `json:"name"`
	Address    netip.Addr `json:"address"`
	Port       uint16     `json:"port"`
	NextHop    netip.Addr `json:"next_hop"`
	Configured uint16     `json:"configured_weight"`
	Weight     uint32     `json:"weight"` // as published (scaled: see Effective)
	// Effective is Weight in the configuration's units: Configured when the backend gets
	// its full share, less while draining, ramping up or steered by feedback.
	Effective uint32 `json:"effective_weight"`
	Present   bool   `json:"present"`
	Health    string `json:"health"` // up, down or drain, as the checks say
	Disabled  bool   `json:"disabled"`
	Drained   bool   `json:"drained"`
	Fallback  bool   `json:"fallback,omitempty"`
	Admin     *Admin `json:"admin,omitempty"`
	state     health.State
}

// ServicePlan is what one service was published as.
type ServicePlan struct {
	Name      string           `json:"name"`
	Key       string           `json:"key"` // "198.18.1.10 tcp/80"
	Mode      config.Mode      `json:"mode"`
	Scheduler config.Scheduler `json:"scheduler"`
	// AllDown: no backend is alive; Policy then says what the table holds.
	AllDown  bool               `json:"all_down"`
	Policy   config.WhenAllDown `json:"when_all_down"`
	LUTSize  int                `json:"lut_size"`
	Rebuilt  bool               `json:"-"` // the lookup table was computed, not taken from the cache
	Backends []BackendPlan      `json:"backends"`
}

// Result is one Build's output: the tables, and the state the next Build needs.
type Result struct {
	Desired  *shm.Desired
	Services []ServicePlan
	Weights  map[string]map[string]uint32 // the next Inputs.Prev
	LastUp   map[string]map[string]uint32 // the next Inputs.LastUp
}

// Builder computes config sets. Its only state is a cache of lookup tables keyed by their
// inputs, so the output depends on the Inputs alone. Not safe for concurrent use.
type Builder struct {
	cache map[string]lutEntry
}

type lutEntry struct {
	kind     uint8
	size     uint32
	seed     uint64
	backends []maglev.Backend
	lut      []int32
}

func (e lutEntry) same(o lutEntry) bool {
	return e.kind == o.kind && e.size == o.size && e.seed == o.seed && slices.Equal(e.backends, o.backends)
}

// NewBuilder returns a builder with an empty cache.
func NewBuilder() *Builder { return &Builder{cache: map[string]lutEntry{}} }

// Build turns in into a config set. It fails only on inputs the dataplane cannot represent
// (a Maglev size that is not prime, ...), which a validated configuration never has.
func (b *Builder) Build(in Inputs) (*Result, error) {
	cfg := in.Config
	res := &Result{
		Desired: &shm.Desired{},
		Weights: map[string]map[string]uint32{},
		LastUp:  map[string]map[string]uint32{},
	}
	for _, p := range cfg.Dataplane.Ports {
		res.Desired.Ports = append(res.Desired.Ports, shm.PortSpec{IPv4: p.IPv4, IPv6: p.IPv6, VLAN: p.VLAN})
	}
	cache := make(map[string]lutEntry, len(cfg.Services))
	for i := range cfg.Services {
		spec, plan, err := b.service(cfg, &cfg.Services[i], in, res, cache)
		if err != nil {
			return nil, fmt.Errorf("service %s: %w", cfg.Services[i].Name, err)
		}
		res.Desired.Services = append(res.Desired.Services, spec)
		res.Services = append(res.Services, plan)
	}
	b.cache = cache // services that left the configuration leave the cache
	return res, nil
}

func (b *Builder) service(cfg *config.Config, s *config.Service, in Inputs, res *Result, cache map[string]lutEntry) (shm.ServiceSpec, ServicePlan, error) {
	spec := serviceSpec(cfg, s)
	plan := ServicePlan{Name: s.Name, Key: s.Key(), Mode: s.Mode, Scheduler: s.Scheduler, Policy: s.WhenAllDown}
	kind := sched.Kind(s.Scheduler.String())

	inputs := make([]sched.Input, len(s.Backends))
	var prev []uint32
	alive := false
	for i := range s.Backends {
		be := &s.Backends[i]
		key := BackendKey{s.Name, be.Name}
		h, checked := in.Health[key]
		if !checked {
			h.Load = -1 // no check has reported: unknown, not idle
		}
		bp := backendPlan(cfg, s, be, h, in.Admin[key])
		inputs[i] = sched.Input{
			Name:        be.Name,
			Weight:      uint32(bp.Configured),
			Up:          !bp.Disabled && bp.state != health.StateDown,
			Drain:       bp.Drained || bp.state == health.StateDrain,
			ActiveConns: in.Feedback[key].ActiveFlows,
			ByteRate:    in.Feedback[key].ByteRate,
			Load:        h.Load,
			RTT:         h.RTT,
		}
		if h.State == health.StateUp {
			inputs[i].Since = h.Since
		}
		alive = alive || inputs[i].Up
		if p, ok := in.Prev[s.Name][be.Name]; ok {
			if prev == nil {
				prev = make([]uint32, len(s.Backends))
			}
			prev[i] = p
		}
		plan.Backends = append(plan.Backends, bp)
	}
	weights := sched.EffectiveWeights(kind, inputs, prev, in.Now, s.SlowStart)
	full := fullWeights(kind, inputs, in.Now)

	// when_all_down decides what a service with no live backend holds.
	var fallback *BackendPlan
	plan.AllDown = !alive
	switch {
	case alive:
	case s.WhenAllDown == config.AllDownKeepLast:
		keepLast(s, in, plan.Backends, weights)
	case s.WhenAllDown == config.AllDownFallback && s.Fallback != nil:
		fp := backendPlan(cfg, s, s.Fallback, Health{State: health.StateUp}, Admin{})
		fp.Fallback = true
		fallback = &fp
	}

	res.Weights[s.Name] = namedWeights(s.Backends, weights)
	res.LastUp[s.Name] = lastWeights(s.Backends, in.LastUp[s.Name], weights)
	for i := range plan.Backends {
		bp := &plan.Backends[i]
		bp.Weight = weights[i]
		if full[i] > 0 {
			bp.Effective = uint32((uint64(weights[i])*uint64(bp.Configured) + uint64(full[i])/2) / uint64(full[i]))
		}
		// A drained backend keeps its flows (present, weight 0); a down or disabled one
		// loses them, except while keep-last deliberately sends traffic to it anyway.
		bp.Present = !bp.Disabled && (bp.state != health.StateDown || weights[i] > 0)
		spec.Backends = append(spec.Backends, backendSpec(bp, s.Backends[i].MAC, s.Backends[i].EgressPort.Index, s.Backends[i].VLAN))
	}

	var lut []int32
	var err error
	switch {
	case fallback != nil:
		lut = []int32{b.addFallback(&spec, &plan, *fallback, s)}
		plan.Rebuilt = true
	case anyNonZero(weights):
		lut, plan.Rebuilt, err = b.table(s, kind, weights, cache)
		if err != nil {
			return spec, plan, err
		}
	}
	spec.LUT = lut
	if kind.UsesTable() {
		spec.LUTKind = shm.LUTCursor
	}
	plan.LUTSize = len(lut)
	return spec, plan, nil
}

// keepLast gives a service whose backends are all down the weights they last had, to the
// backends that went down together with the last one: within one detection window of it.
// Checks that fail one after another within that window cannot tell a real outage from a
// problem of their own (the checker's link, a firewall change), and keeping only the last
// survivor would pile every new flow on it. A backend down for longer failed on its own
// and stays out, as do drained and disabled ones.
func keepLast(s *config.Service, in Inputs, plans []BackendPlan, weights []uint32) {
	last := in.LastUp[s.Name]
	var latest time.Time
	for i := range s.Backends {
		if h := in.Health[BackendKey{s.Name, s.Backends[i].Name}]; h.State == health.StateDown && h.Since.After(latest) {
			latest = h.Since
		}
	}
	for i := range s.Backends {
		b := &s.Backends[i]
		if plans[i].Disabled || plans[i].Drained || last[b.Name] == 0 {
			continue
		}
		if in.Health[BackendKey{s.Name, b.Name}].Since.Before(latest.Add(-detectionWindow(b.HealthCheck))) {
			continue
		}
		weights[i] = last[b.Name]
	}
}

// detectionWindow is the longest a check takes to notice a failure: fall probes, each up
// to interval × (1 + jitter) apart, the last one taking up to the timeout.
func detectionWindow(hc config.HealthCheck) time.Duration {
	return time.Duration(float64(time.Duration(hc.Fall)*hc.Interval)*(1+hc.Jitter)) + hc.Timeout
}

// lastWeights is each backend's last non-zero weight, for keep-last.
func lastWeights(bs []config.Backend, prev map[string]uint32, weights []uint32) map[string]uint32 {
	out := make(map[string]uint32, len(bs))
	for i := range bs {
		if weights[i] > 0 {
			out[bs[i].Name] = weights[i]
		} else if w, ok := prev[bs[i].Name]; ok {
			out[bs[i].Name] = w
		}
	}
	return out
}

// table returns the service's lookup table for these weights, from the cache when the
// inputs are the ones it was last built from.
func (b *Builder) table(s *config.Service, kind sched.Kind, weights []uint32, cache map[string]lutEntry) ([]int32, bool, error) {
	want := lutEntry{kind: shm.LUTHash, size: s.MaglevSize, seed: uint64(s.HashSeed)}
	if kind.UsesTable() {
		want = lutEntry{kind: shm.LUTCursor, size: maxCursorTable}
	}
	for i := range s.Backends {
		want.backends = append(want.backends, maglev.Backend{Name: s.Backends[i].Name, Weight: weights[i]})
	}
	if old, ok := b.cache[s.Name]; ok && old.same(want) {
		cache[s.Name] = old
		return old.lut, false, nil
	}
	if kind.UsesTable() {
		want.lut = sched.RRTable(weights, maxCursorTable)
	} else {
		lut, err := maglev.Build(want.backends, want.size, want.seed)
		if err != nil {
			return nil, false, err
		}
		want.lut = lut
	}
	cache[s.Name] = want
	return want.lut, true, nil
}

// addFallback adds the fallback backend to the spec (unless it is also a regular backend)
// and returns its index. Its table has one slot: every new flow goes to it.
func (b *Builder) addFallback(spec *shm.ServiceSpec, plan *ServicePlan, fp BackendPlan, s *config.Service) int32 {
	for i, be := range spec.Backends {
		if be.Addr == fp.Address && be.Port == fp.Port {
			spec.Backends[i].Present = true
			spec.Backends[i].Weight = 1
			pb := &plan.Backends[i]
			pb.Present, pb.Weight, pb.Effective, pb.Fallback = true, 1, uint32(pb.Configured), true
			return int32(i)
		}
	}
	fp.Weight, fp.Effective, fp.Present = 1, uint32(fp.Configured), true
	spec.Backends = append(spec.Backends, backendSpec(&fp, s.Fallback.MAC, s.Fallback.EgressPort.Index, s.Fallback.VLAN))
	plan.Backends = append(plan.Backends, fp)
	return int32(len(spec.Backends) - 1)
}

// fullWeights are the weights every backend would have if it were up, undrained and past
// slow start: the scale between configured and published weights.
func fullWeights(kind sched.Kind, inputs []sched.Input, now time.Time) []uint32 {
	all := slices.Clone(inputs)
	for i := range all {
		all[i].Up, all[i].Drain, all[i].Since = true, false, time.Time{}
	}
	if kind.Feedback() {
		kind = sched.WRR // the configured weights, without the measurements
	}
	return sched.EffectiveWeights(kind, all, nil, now, 0)
}

func serviceSpec(cfg *config.Config, s *config.Service) shm.ServiceSpec {
	spec := shm.ServiceSpec{
		Name:        s.Name,
		VIP:         s.VIP,
		Proto:       uint8(s.Protocol),
		Port:        s.Port,
		Mode:        shmMode(s.Mode),
		DSCP:        s.DSCP,
		HashFields:  uint8(config.HashAll),
		HashSeed:    s.HashSeed,
		LUTKind:     shm.LUTHash,
		IngressPort: uint8(s.IngressPort.Index),
	}
	// hash is client affinity on the fields the operator chose; every other scheduler
	// spreads flows, so it hashes the whole 5-tuple.
	if s.Scheduler == config.SchedHash && s.HashFields != 0 {
		spec.HashFields = uint8(s.HashFields)
	} else if s.Scheduler == config.SchedHash {
		spec.HashFields = uint8(config.HashSrcIP)
	}
	spec.TimeoutS[shm.TimeoutTCPSyn] = seconds(s.Timeouts.TCPSyn)
	spec.TimeoutS[shm.TimeoutTCPEst] = seconds(s.Timeouts.TCPEstablished)
	spec.TimeoutS[shm.TimeoutTCPFin] = seconds(s.Timeouts.TCPFin)
	spec.TimeoutS[shm.TimeoutUDP] = seconds(s.Timeouts.UDP)
	if s.ICMPEcho {
		spec.Flags |= shm.SvcICMPEcho
	}
	if s.WhenAllDown == config.AllDownDrop {
		spec.Flags |= shm.SvcAllDownDrop
	}
	spec.MSSMax = s.MSSClamp
	spec.MaxHalfOpen = s.MaxHalfOpen
	if s.Mode == config.ModeFNAT {
		spec.NATPortLo, spec.NATPortHi = s.FNATPortMin, s.FNATPortMax
		if s.ClientAddr > 0 {
			spec.ClientAddr = uint8(s.ClientAddr - config.ClientAddrNone) // 0 none, 1 toa, 2 proxy-v2
		}
		if pool := cfg.LocalPool(s.LocalPool); pool != nil {
			for _, a := range pool.Addresses {
				if a.Is4() == s.VIP.Is4() { // the dataplane rewrites within one family
					spec.LocalAddrs = append(spec.LocalAddrs, a)
				}
			}
		}
	}
	return spec
}

// backendPlan applies the operator's overrides to a configured backend.
func backendPlan(cfg *config.Config, s *config.Service, be *config.Backend, h Health, a Admin) BackendPlan {
	bp := BackendPlan{
		Name:       be.Name,
		Address:    be.Address,
		Port:       be.Port,
		NextHop:    nextHop(cfg, be),
		Configured: be.Weight,
		state:      h.State,
		Disabled:   be.Disabled,
		Drained:    a.Drained,
	}
	if be.HealthCheck.Kind == config.CheckNone {
		bp.state = health.StateUp // the operator vouches for it
	}
	bp.Health = bp.state.String()
	if a.Weight != nil {
		bp.Configured = *a.Weight
	}
	if a.Disabled != nil {
		bp.Disabled = *a.Disabled
	}
	if !a.zero() {
		bp.Admin = &a
	}
	return bp
}

func backendSpec(bp *BackendPlan, mac []byte, egress int, vlan uint16) shm.BackendSpec {
	return shm.BackendSpec{
		Addr:       bp.Address,
		Port:       bp.Port,
		MAC:        mac,
		NextHop:    bp.NextHop,
		EgressPort: uint8(egress),
		VLAN:       vlan,
		Weight:     uint16(min(bp.Weight, 65535)),
		Present:    bp.Present,
	}
}

// nextHop is where a backend's frames go: the backend itself when it is on the egress
// port's subnet (or the port has no subnet or gateway of its family), else the gateway.
func nextHop(cfg *config.Config, be *config.Backend) netip.Addr {
	if be.EgressPort.Name == "" || be.EgressPort.Index >= len(cfg.Dataplane.Ports) {
		return be.Address
	}
	port := &cfg.Dataplane.Ports[be.EgressPort.Index]
	if pfx := port.Prefix(be.Address); pfx.IsValid() && pfx.Contains(be.Address) {
		return be.Address
	}
	if gw := port.Gateway(be.Address); gw.IsValid() {
		return gw
	}
	return be.Address
}

func shmMode(m config.Mode) shm.Mode {
	switch m {
	case config.ModeL2DSR:
		return shm.ModeL2DSR
	case config.ModeL3DSR:
		return shm.ModeL3DSR
	case config.ModeNAT:
		return shm.ModeNAT
	case config.ModeFNAT:
		return shm.ModeFNAT
	}
	return shm.ModeNone
}

func seconds(d time.Duration) uint32 { return uint32(d / time.Second) }

func anyNonZero(w []uint32) bool { return slices.ContainsFunc(w, func(x uint32) bool { return x > 0 }) }

func namedWeights(bs []config.Backend, w []uint32) map[string]uint32 {
	out := make(map[string]uint32, len(bs))
	for i := range bs {
		out[bs[i].Name] = w[i]
	}
	return out
}
