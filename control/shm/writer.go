package shm

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync/atomic"
	"time"
)

// Errors from Publish.
var (
	ErrTooManyServices = errors.New("too many services for the region")
	ErrTooManyBackends = errors.New("too many backends for the region")
	ErrTooManyNeigh    = errors.New("too many next hops for the region")
	ErrLUTFull         = errors.New("lookup tables exceed the region's lut capacity")
	ErrBadSpec         = errors.New("invalid table spec")
)

// PortSpec is what the dataplane needs to know of one of its ports.
type PortSpec struct {
	IPv4 netip.Prefix // our address and on-link subnet; zero = none
	IPv6 netip.Prefix
	VLAN uint16
}

// BackendSpec is one real server of a service, as the dataplane sees it.
type BackendSpec struct {
	Addr       netip.Addr
	Port       uint16 // nat/fnat target port; 0 = the packet's destination port
	MAC        net.HardwareAddr
	NextHop    netip.Addr // where frames go (Addr when on-link, else a gateway); zero = Addr
	EgressPort uint8
	VLAN       uint16
	Weight     uint16
	// Present lets existing flows keep this backend (true for up and draining backends,
	// false for down or disabled ones, whose flows are re-selected).
	Present bool
}

// ServiceSpec is one VIP:proto:port with its backends and lookup table.
type ServiceSpec struct {
	Name        string
	VIP         netip.Addr
	Proto       uint8  // 6 or 17
	Port        uint16 // 0 = all ports
	Mode        Mode
	DSCP        uint8
	HashFields  uint8
	HashSeed    uint32
	LUTKind     uint8
	TimeoutS    [TimeoutMax]uint32
	Flags       uint16
	IngressPort uint8
	LocalAddrs  []netip.Addr // fnat pool
	ClientAddr  uint8
	MSSMax      uint16 // nat/fnat: clamp SYNs' MSS option both ways; 0 = off
	NATPortLo   uint16 // fnat source ports, inclusive; 0 = 1024
	NATPortHi   uint16 // 0 = 65535
	MaxHalfOpen uint32 // SYN guard: half-open flows the service may hold (all lcores); 0 = no cap
	Backends    []BackendSpec
	// LUT holds, per slot, an index into Backends or -1 for none (maglev.Build's output,
	// or a weighted round-robin sequence for LUTCursor).
	LUT []int32
}

// Desired is everything one config set holds.
type Desired struct {
	Ports          []PortSpec
	Services       []ServiceSpec
	NeighRefreshMs uint32 // default 30 s
	NeighExpireMs  uint32 // default 5 min
}

// backendKey names "the same server" across publishes: a flow keeps its backend while a
// slot keeps its key, and a slot given to another key gets a new incarnation.
type backendKey struct {
	service string
	addr    netip.Addr
	port    uint16
}

type neighKey struct {
	addr netip.Addr
	port uint8
	vlan uint16
}

type slot struct {
	index uint16
	tag   uint32 // incarnation for backends, tag for neighbours
}

// Writer fills the inactive config set and publishes it. It keeps backend and neighbour
// slots stable across publishes so established flows stay where they are. One Writer per
// region; not safe for concurrent Publish calls.
type Writer struct {
	r               *Region
	services        map[string]uint16
	backends        map[backendKey]slot
	neigh           map[neighKey]slot
	locals          localSlots // fnat local-address slots of the active set (localaddrs.go)
	nextIncarnation uint32
	nextTag         uint32
	// DeadAfter: an lcore whose heartbeat is older than this does not hold up a publish.
	DeadAfter time.Duration
	// QuiesceTimeout bounds the wait for live lcores; past it Publish returns ErrQuiesce.
	QuiesceTimeout time.Duration
}

// ErrQuiesce means a live lcore did not report the new generation in time.
var ErrQuiesce = errors.New("lcores did not reach the new generation in time")

// NewWriter attaches a writer to r and adopts the slots of the active config set, so a
// restarted control plane republishes the same tables without moving any flow.
func NewWriter(r *Region) *Writer {
	w := &Writer{
		r:               r,
		services:        map[string]uint16{},
		backends:        map[backendKey]slot{},
		neigh:           map[neighKey]slot{},
		locals:          localSlots{pools: map[string]localPool{}},
		nextIncarnation: 1,
		nextTag:         1,
		DeadAfter:       500 * time.Millisecond,
		QuiesceTimeout:  2 * time.Second,
	}
	cs := r.ConfigSet(r.ActiveIndex())
	if cs.Generation == 0 {
		return w
	}
	for i := 0; i < int(cs.NServices) && i < MaxServices; i++ {
		if s := &cs.Services[i]; s.Family != 0 {
			w.services[CString(s.Name[:])] = uint16(i)
		}
	}
	w.locals = adoptLocalSlots(cs)
	for i := 1; i < int(cs.NBackends) && i < MaxBackends; i++ {
		b := &cs.Backends[i]
		if b.Family == 0 || int(b.Service) >= MaxServices {
			continue
		}
		k := backendKey{CString(cs.Services[b.Service].Name[:]), addrFrom(b.Addr, b.Family), b.Port}
		w.backends[k] = slot{uint16(i), b.Incarnation}
		w.nextIncarnation = max(w.nextIncarnation, b.Incarnation+1)
	}
	for i := 1; i < int(cs.NNeigh) && i < MaxNeigh; i++ {
		n := &cs.Neigh[i]
		if n.Family == 0 {
			continue
		}
		w.neigh[neighKey{addrFrom(n.Addr, n.Family), n.Port, n.VLAN}] = slot{uint16(i), uint32(n.Tag)}
		w.nextTag = max(w.nextTag, uint32(n.Tag)+1)
	}
	return w
}

// Publish fills the inactive config set from d, flips `active` to it and waits until every
// live lcore has moved to it, so the set it replaced may be rewritten by the next Publish.
// It returns the new generation. On a validation error nothing is published.
func (w *Writer) Publish(ctx context.Context, d *Desired) (uint64, error) {
	h := w.r.hdr
	// The inactive set may still be read by an lcore that has not moved past the last
	// flip (a previous control process may have died mid-publish): wait before writing.
	cur := w.r.ConfigSet(w.r.ActiveIndex())
	if err := w.WaitQuiescent(ctx, cur.Generation); err != nil && !errors.Is(err, ErrQuiesce) {
		return 0, err
	}
	next := 1 - w.r.ActiveIndex()
	plan, err := w.plan(d)
	if err != nil {
		return 0, err
	}
	cs := w.r.ConfigSet(next)
	lut := w.r.LUT(next)
	if err := w.fill(cs, lut, d, plan); err != nil {
		return 0, err
	}
	w.commit(plan)
	gen := max(h.PublishedGeneration, cur.Generation) + 1
	// Go's atomics are sequentially consistent: the generation store and every plain store
	// that filled the set happen before the flip, which is the release the lcores' acquire
	// load of `active` pairs with.
	atomic.StoreUint64(&cs.Generation, gen)
	atomic.StoreUint64(&h.Active, uint64(next))
	atomic.StoreUint64(&h.PublishedGeneration, gen)
	if err := w.WaitQuiescent(ctx, gen); err != nil {
		return gen, err
	}
	return gen, nil
}

// WaitQuiescent waits until every live lcore reports a generation >= gen. Lcores that are
// offline or whose heartbeat is older than DeadAfter do not count.
func (w *Writer) WaitQuiescent(ctx context.Context, gen uint64) error {
	deadline := time.Now().Add(w.QuiesceTimeout)
	for {
		behind := -1
		for i := 0; i < MaxLcores; i++ {
			ls := w.r.LcoreState(i)
			if atomic.LoadUint32(&ls.Online) == 0 || HeartbeatAge(atomic.LoadUint64(&ls.HeartbeatMs)) > w.DeadAfter {
				continue
			}
			if atomic.LoadUint64(&ls.SeenGeneration) < gen {
				behind = i
				break
			}
		}
		if behind < 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: lcore slot %d still at generation %d, want %d", ErrQuiesce, behind,
				atomic.LoadUint64(&w.r.LcoreState(behind).SeenGeneration), gen)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Microsecond):
		}
	}
}

// plan is the slot assignment of one publish, committed to the writer only on success.
type plan struct {
	services map[string]uint16
	backends map[backendKey]slot
	neigh    map[neighKey]slot
	locals   localSlots
	nextInc  uint32
	nextTag  uint32
}

func (w *Writer) plan(d *Desired) (p *plan, err error) {
	p = &plan{services: map[string]uint16{}, backends: map[backendKey]slot{}, neigh: map[neighKey]slot{},
		nextInc: w.nextIncarnation, nextTag: w.nextTag}
	if len(d.Services) > MaxServices {
		return nil, fmt.Errorf("%w: %d > %d", ErrTooManyServices, len(d.Services), MaxServices)
	}
	if len(d.Ports) > MaxPorts {
		return nil, fmt.Errorf("%w: %d ports > %d", ErrBadSpec, len(d.Ports), MaxPorts)
	}
	// Keep the indexes of services, backends and neighbours that stay; give new ones the
	// lowest free index, so the tables stay dense.
	usedSvc := map[uint16]bool{}
	for _, s := range d.Services {
		if _, dup := p.services[s.Name]; dup || s.Name == "" {
			return nil, fmt.Errorf("%w: service name %q empty or repeated", ErrBadSpec, s.Name)
		}
		if i, ok := w.services[s.Name]; ok {
			p.services[s.Name] = i
			usedSvc[i] = true
		} else {
			p.services[s.Name] = 0xffff
		}
	}
	free := uint16(0)
	for _, s := range d.Services {
		if p.services[s.Name] != 0xffff {
			continue
		}
		for usedSvc[free] {
			free++
		}
		p.services[s.Name] = free
		usedSvc[free] = true
	}
	usedBe := map[uint16]bool{0: true}
	usedNe := map[uint16]bool{0: true}
	for _, s := range d.Services {
		for _, b := range s.Backends {
			k := backendKey{s.Name, b.Addr.Unmap(), b.Port}
			if _, dup := p.backends[k]; dup {
				return nil, fmt.Errorf("%w: service %s lists %s port %d twice", ErrBadSpec, s.Name, k.addr, k.port)
			}
			if sl, ok := w.backends[k]; ok {
				p.backends[k] = sl
				usedBe[sl.index] = true
			} else {
				p.backends[k] = slot{}
			}
			if nk, ok := neighOf(b); ok {
				if sl, ok := w.neigh[nk]; ok {
					p.neigh[nk] = sl
					usedNe[sl.index] = true
				} else if _, seen := p.neigh[nk]; !seen {
					p.neigh[nk] = slot{}
				}
			}
		}
	}
	nextBe, nextNe := uint16(1), uint16(1)
	for _, s := range d.Services {
		for _, b := range s.Backends {
			k := backendKey{s.Name, b.Addr.Unmap(), b.Port}
			if p.backends[k].index == 0 {
				for usedBe[nextBe] {
					nextBe++
				}
				if int(nextBe) >= MaxBackends {
					return nil, fmt.Errorf("%w: more than %d", ErrTooManyBackends, MaxBackends-1)
				}
				p.backends[k] = slot{nextBe, p.nextInc}
				usedBe[nextBe] = true
				p.nextInc++
			}
			if nk, ok := neighOf(b); ok && p.neigh[nk].index == 0 {
				for usedNe[nextNe] {
					nextNe++
				}
				if int(nextNe) >= MaxNeigh {
					return nil, fmt.Errorf("%w: more than %d", ErrTooManyNeigh, MaxNeigh-1)
				}
				tag := p.nextTag & 0xffff
				if tag == 0 { // a tag of 0 would match an unresolved state word
					p.nextTag++
					tag = 1
				}
				p.neigh[nk] = slot{nextNe, tag}
				usedNe[nextNe] = true
				p.nextTag++
			}
		}
	}
	if p.locals, err = w.planLocalSlots(d); err != nil {
		return nil, err
	}
	return p, nil
}

// neighOf is the neighbour a backend's frames need resolved, unless its MAC is static.
func neighOf(b BackendSpec) (neighKey, bool) {
	if len(b.MAC) == 6 {
		return neighKey{}, false
	}
	hop := b.NextHop
	if !hop.IsValid() {
		hop = b.Addr
	}
	return neighKey{hop.Unmap(), b.EgressPort, b.VLAN}, true
}

func (w *Writer) commit(p *plan) {
	w.services, w.backends, w.neigh, w.locals = p.services, p.backends, p.neigh, p.locals
	w.nextIncarnation, w.nextTag = p.nextInc, p.nextTag
}

func (w *Writer) fill(cs *ConfigSet, lut []uint16, d *Desired, p *plan) error {
	capacity := cs.LUTCapacity
	gen := cs.Generation
	*cs = ConfigSet{Generation: gen, LUTCapacity: capacity}
	cs.NeighRefreshMs, cs.NeighExpireMs = d.NeighRefreshMs, d.NeighExpireMs
	if cs.NeighRefreshMs == 0 {
		cs.NeighRefreshMs = 30_000
	}
	if cs.NeighExpireMs == 0 {
		cs.NeighExpireMs = 300_000
	}
	cs.NPorts = uint32(len(d.Ports))
	for i, ps := range d.Ports {
		pc := &cs.Ports[i]
		if ps.IPv4.IsValid() {
			pc.IPv4 = ps.IPv4.Addr().As4()
			pc.IPv4Plen = uint8(ps.IPv4.Bits())
		}
		if ps.IPv6.IsValid() {
			pc.IPv6 = ps.IPv6.Addr().As16()
			pc.IPv6Plen = uint8(ps.IPv6.Bits())
		}
		pc.VLAN = ps.VLAN
	}
	for k, sl := range p.neigh {
		n := &cs.Neigh[sl.index]
		n.Addr, n.Family = addrBytes(k.addr)
		n.Port, n.VLAN, n.Tag = k.port, k.vlan, uint16(sl.tag)
		cs.NNeigh = max(cs.NNeigh, uint32(sl.index)+1)
	}
	lutUsed := uint32(0)
	vips := vipTable{}
	for _, s := range d.Services {
		si := p.services[s.Name]
		sv := &cs.Services[si]
		if !s.VIP.IsValid() {
			return fmt.Errorf("%w: service %s has no VIP", ErrBadSpec, s.Name)
		}
		sv.VIP, sv.Family = addrBytes(s.VIP.Unmap())
		sv.Proto, sv.Port, sv.Mode, sv.LUTKind = s.Proto, s.Port, s.Mode, s.LUTKind
		sv.DSCP, sv.HashFields, sv.HashSeed = s.DSCP, s.HashFields, s.HashSeed
		sv.TimeoutS, sv.Flags, sv.IngressPort, sv.ClientAddr = s.TimeoutS, s.Flags, s.IngressPort, s.ClientAddr
		sv.MSSMax, sv.NATPortLo, sv.NATPortHi = s.MSSMax, s.NATPortLo, s.NATPortHi
		sv.MaxHalfOpen = s.MaxHalfOpen
		SetName(sv.Name[:], s.Name)
		cs.NServices = max(cs.NServices, uint32(si)+1)
		global := make([]uint16, len(s.Backends))
		for j, b := range s.Backends {
			sl := p.backends[backendKey{s.Name, b.Addr.Unmap(), b.Port}]
			global[j] = sl.index
			be := &cs.Backends[sl.index]
			be.Addr, be.Family = addrBytes(b.Addr.Unmap())
			be.Port, be.Incarnation, be.Service = b.Port, sl.tag, si
			be.EgressPort, be.VLAN, be.Weight = b.EgressPort, b.VLAN, b.Weight
			if b.Present {
				be.Flags |= BackendPresent
			}
			if len(b.MAC) == 6 {
				be.Flags |= BackendStaticMAC
				copy(be.MAC[:], b.MAC)
			} else if nk, ok := neighOf(b); ok {
				be.Neigh = p.neigh[nk].index
			}
			cs.NBackends = max(cs.NBackends, uint32(sl.index)+1)
		}
		if uint64(lutUsed)+uint64(len(s.LUT)) > uint64(capacity) {
			return fmt.Errorf("%w: need more than %d entries", ErrLUTFull, capacity)
		}
		sv.LUTOffset, sv.LUTSize = lutUsed, uint32(len(s.LUT))
		for j, e := range s.LUT {
			var v uint16
			if e >= 0 {
				if int(e) >= len(global) {
					return fmt.Errorf("%w: service %s lut names backend %d of %d", ErrBadSpec, s.Name, e, len(global))
				}
				v = global[e]
			}
			lut[lutUsed+uint32(j)] = v
		}
		lutUsed += uint32(len(s.LUT))
		if err := vips.add(s.VIP.Unmap(), s.Proto, s.Port, si); err != nil {
			return fmt.Errorf("service %s: %w", s.Name, err)
		}
		if !vips.has(s.VIP.Unmap(), 0, 0) {
			if err := vips.add(s.VIP.Unmap(), 0, 0, si); err != nil {
				return fmt.Errorf("service %s: %w", s.Name, err)
			}
		}
	}
	cs.LUTUsed = lutUsed
	cs.VIPs = vips.slots
	fillLocalSlots(cs, d, p.services, p.locals)
	return nil
}

// vipTable is the open-addressing VIP hash the dataplane probes linearly.
type vipTable struct {
	slots [VIPSlots]VIPSlot
	n     int
}

func (t *vipTable) find(a netip.Addr, proto uint8, port uint16) (int, bool) {
	addr, fam := addrBytes(a)
	i := int(VIPHash(addr, port, proto, fam)) & (VIPSlots - 1)
	for {
		s := &t.slots[i]
		if s.Family == 0 {
			return i, false
		}
		if s.Addr == addr && s.Family == fam && s.Proto == proto && s.Port == port {
			return i, true
		}
		i = (i + 1) & (VIPSlots - 1)
	}
}

func (t *vipTable) has(a netip.Addr, proto uint8, port uint16) bool {
	_, ok := t.find(a, proto, port)
	return ok
}

func (t *vipTable) add(a netip.Addr, proto uint8, port uint16, svc uint16) error {
	if t.n >= VIPSlots/2 {
		return fmt.Errorf("%w: VIP table full", ErrTooManyServices)
	}
	i, ok := t.find(a, proto, port)
	if ok {
		return fmt.Errorf("%w: duplicate VIP %s proto %d port %d", ErrBadSpec, a, proto, port)
	}
	s := &t.slots[i]
	s.Addr, s.Family = addrBytes(a)
	s.Proto, s.Port, s.ServicePlus1 = proto, port, svc+1
	t.n++
	return nil
}

func addrBytes(a netip.Addr) ([16]byte, uint8) {
	var b [16]byte
	if a.Is4() {
		v := a.As4()
		copy(b[:], v[:])
		return b, 4
	}
	return a.As16(), 6
}

func addrFrom(b [16]byte, family uint8) netip.Addr {
	if family == 4 {
		return netip.AddrFrom4([4]byte(b[:4]))
	}
	return netip.AddrFrom16(b)
}
