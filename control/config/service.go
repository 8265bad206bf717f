package config

import (
	"fmt"
	"math"
	"net/netip"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

var serviceKeys = []string{
	"name", "vip", "protocol", "port", "mode", "dscp", "scheduler", "hash_fields", "hash_seed",
	"maglev_size", "timeouts", "ingress_port", "egress_port", "egress_vlan", "icmp_echo",
	"when_all_down", "fallback", "slow_start", "local_pool", "client_address", "mss_clamp", "fnat_port_min", "fnat_port_max", "max_half_open", "health_check",
	"backends",
}

// serviceAt remembers where a service was written, for the checks across services.
type serviceAt struct {
	node     *yaml.Node
	fs       fields
	backends []*yaml.Node // every backend's node, the fallback last
}

func (p *parser) services(f field, ports []Port, pools pools) []Service {
	items := p.sequence(f.value, "services")
	if len(items) > 0 && len(ports) == 0 {
		p.conflictf(f.key, "services need at least one dataplane port, and dataplane.ports is empty")
	}
	if len(items) > MaxServices {
		p.conflictf(items[MaxServices], "more than %d services (the dataplane's limit)", MaxServices)
	}
	out := make([]Service, 0, len(items))
	at := make([]serviceAt, 0, len(items))
	backends, localSlots := 0, 0
	for _, item := range items {
		s, where := p.service(item, ports, pools)
		for _, b := range where.backends {
			backends++
			if backends == MaxBackends+1 {
				p.conflictf(b, "more than %d backends in all services, fallbacks included (the dataplane's limit)", MaxBackends)
			}
		}
		// The dataplane gives each fnat service its own run of local-address slots: the
		// pool's addresses of the VIP's family (control/shm/localaddrs.go).
		if n := localSlotsOf(s, pools); n > 0 && localSlots <= MaxLocalAddresses {
			if localSlots += n; localSlots > MaxLocalAddresses {
				p.conflictf(resolve(where.fs.value("local_pool")), "fnat services need more than %d local-address slots "+
					"in all: each takes its pool's addresses of its VIP's family (the dataplane's limit)", MaxLocalAddresses)
			}
		}
		out = append(out, s)
		at = append(at, where)
	}
	p.acrossServices(out, at)
	return out
}

// localSlotsOf is how many local-address slots fnat service s takes in the dataplane.
func localSlotsOf(s Service, pools pools) int {
	if s.Mode != ModeFNAT || s.LocalPool == "" || !s.VIP.IsValid() {
		return 0
	}
	n := 0
	for _, pool := range pools.pools {
		if pool.Name == s.LocalPool {
			for _, a := range pool.Addresses {
				if a.Is4() == s.VIP.Is4() {
					n++
				}
			}
		}
	}
	return n
}

// acrossServices checks what no single service can: unique names and VIP keys, and that
// services sharing a VIP agree on what belongs to the address as a whole.
func (p *parser) acrossServices(svcs []Service, at []serviceAt) {
	type vipKey struct {
		addr  netip.Addr
		proto Protocol
		port  uint16
	}
	names := map[string]*yaml.Node{}
	keys := map[vipKey]*yaml.Node{}
	echo := map[netip.Addr]int{} // VIP → first service index with it
	for i := range svcs {
		s := &svcs[i]
		if s.Name != "" {
			n := resolve(at[i].fs.value("name"))
			if prev, dup := names[s.Name]; dup {
				p.conflictf(n, "duplicate service name %q (also at %s)", s.Name, p.at(prev))
			} else {
				names[s.Name] = n
			}
		}
		if !s.VIP.IsValid() || !p.good(at[i].fs, "port") {
			continue
		}
		vipNode := resolve(at[i].fs.value("vip"))
		k := vipKey{s.VIP, s.Protocol, s.Port}
		if prev, dup := keys[k]; dup {
			p.conflictf(vipNode, "duplicate VIP %s (also at %s)", s.Key(), p.at(prev))
		} else {
			keys[k] = vipNode
		}
		if j, seen := echo[s.VIP]; !seen {
			echo[s.VIP] = i
		} else if svcs[j].ICMPEcho != s.ICMPEcho {
			p.conflictf(at[i].fs.keyOr("icmp_echo", vipNode),
				"icmp_echo %t differs from service %q on the same vip %s (at %s); the address answers ping or not as a whole",
				s.ICMPEcho, svcs[j].Name, s.VIP, p.at(at[j].fs.keyOr("icmp_echo", resolve(at[j].fs.value("vip")))))
		}
	}
}

func (p *parser) service(n *yaml.Node, ports []Port, pools pools) (Service, serviceAt) {
	s := DefaultService()
	fs := p.mapping(n, "service", serviceKeys...)
	at := serviceAt{node: n, fs: fs}
	if fs == nil {
		return s, at
	}
	if p.required(fs, n, "service", "name") {
		s.Name, _ = p.name(fs.value("name"), "name", serviceNameRE)
	}
	if p.required(fs, n, "service", "vip") {
		s.VIP, _ = p.addr(fs.value("vip"), "vip")
	}
	enumKey(p, fs, "protocol", protocolNames, &s.Protocol)
	if p.required(fs, n, "service", "port") {
		if v, ok := p.intKey(fs, "port", 0, 65535); ok {
			s.Port = uint16(v)
		}
	}
	if p.required(fs, n, "service", "mode") {
		enumKey(p, fs, "mode", modeNames, &s.Mode)
	}
	if v, ok := p.intKey(fs, "dscp", 0, 63); ok {
		s.DSCP = uint8(v)
	}
	enumKey(p, fs, "scheduler", schedulerNames, &s.Scheduler)
	if f, ok := fs["hash_fields"]; ok {
		if h, ok := p.hashFields(f.value); ok {
			s.HashFields = h
		}
	}
	if v, ok := p.intKey(fs, "hash_seed", 0, math.MaxUint32); ok {
		s.HashSeed = uint32(v)
	}
	if v, ok := p.intKey(fs, "maglev_size", MinMaglevSize, MaxMaglevSize); ok {
		if isPrime(uint32(v)) {
			s.MaglevSize = uint32(v)
		} else {
			below, above := nearestPrimes(uint32(v))
			p.conflictf(resolve(fs.value("maglev_size")), "maglev_size %d is not prime (nearest primes: %s)", v, primeChoices(below, above))
		}
	}
	if f, ok := fs["timeouts"]; ok {
		p.timeouts(f.value, &s.Timeouts)
	}
	if f, ok := fs["ingress_port"]; ok {
		s.IngressPort, _ = p.portRef(f.value, "ingress_port", ports)
	}
	if f, ok := fs["egress_port"]; ok {
		s.EgressPort, _ = p.portRef(f.value, "egress_port", ports)
	}
	if v, ok := p.intKey(fs, "egress_vlan", 0, 4094); ok {
		s.EgressVLAN = uint16(v)
	}
	if b, ok := p.boolKey(fs, "icmp_echo"); ok {
		s.ICMPEcho = b
	}
	enumKey(p, fs, "when_all_down", whenAllDownNames, &s.WhenAllDown)
	if d, ok := p.durationKey(fs, "slow_start", 0, MaxSlowStart); ok {
		s.SlowStart = d
	}
	if f, ok := fs["local_pool"]; ok {
		s.LocalPool, _ = p.poolRef(f.value, pools)
	}
	enumKey(p, fs, "client_address", clientAddressNames, &s.ClientAddr)
	if v, ok := p.intKey(fs, "mss_clamp", 536, 65535); ok {
		s.MSSClamp = uint16(v)
	}
	if v, ok := p.intKey(fs, "fnat_port_min", 1024, 65535); ok {
		s.FNATPortMin = uint16(v)
	}
	if v, ok := p.intKey(fs, "fnat_port_max", 1024, 65535); ok {
		s.FNATPortMax = uint16(v)
	}
	if v, ok := p.intKey(fs, "max_half_open", 0, MaxHalfOpenLimit); ok {
		s.MaxHalfOpen = uint32(v)
	}
	checkFields := p.healthCheck(fs.value("health_check"), &s.HealthCheck)

	deriveService(&s, fs.set(), ports)

	p.serviceRelations(&s, fs, n, ports, pools)
	p.checkRelations(&s.HealthCheck, checkFields, fs.keyOr("health_check", n), s.Mode, false)
	if src := s.HealthCheck.Source; src.IsValid() && s.VIP.IsValid() && src.Is4() != s.VIP.Is4() {
		p.conflictf(resolve(checkFields.value("source")), "source %s is not of the vip's family (%s)", src, s.VIP)
	}
	if p.good(fs, "port") && s.AllPorts() && s.HealthCheck.Port == 0 && needsPort(s.HealthCheck.Kind) && p.notBad(checkFields, "kind", "port") {
		p.conflictf(fs.keyOr("health_check", resolve(fs.value("port"))),
			"an all-ports service needs a health_check port for %s checks", s.HealthCheck.Kind)
	}

	p.serviceBackends(&s, fs, &at, ports)
	return s, at
}

func needsPort(k CheckKind) bool {
	return k == CheckTCP || k == CheckHTTP || k == CheckHTTPS || k == CheckUDP
}

func primeChoices(below, above uint32) string {
	var ps []string
	for _, v := range []uint32{below, above} {
		if v != 0 {
			ps = append(ps, fmt.Sprint(v))
		}
	}
	return strings.Join(ps, " and ")
}

// serviceRelations checks the keys of a service against each other and against the ports and
// pools. Keys that are wrong on their own were reported already and left at their zero value,
// which the checks here skip.
func (p *parser) serviceRelations(s *Service, fs fields, n *yaml.Node, ports []Port, pools pools) {
	if s.Mode != 0 {
		modeNode := resolve(fs.value("mode"))
		if fs.has("dscp") && s.Mode != ModeL3DSR {
			p.conflictf(fs["dscp"].key, "dscp applies only to l3dsr services (this one is %s)", s.Mode)
		}
		if fs.has("mss_clamp") && s.Mode != ModeNAT && s.Mode != ModeFNAT {
			p.conflictf(fs["mss_clamp"].key, "mss_clamp applies only to nat and fnat services (this one is %s)", s.Mode)
		}
		for _, key := range []string{"local_pool", "client_address", "fnat_port_min", "fnat_port_max"} {
			if fs.has(key) && s.Mode != ModeFNAT {
				p.conflictf(fs[key].key, "%s applies only to fnat services (this one is %s)", key, s.Mode)
			}
		}
		if s.Mode == ModeFNAT && !fs.has("local_pool") {
			p.conflictf(modeNode, "mode fnat needs local_pool (the source addresses it translates to)")
		}
	}
	if s.ClientAddr == ClientAddrProxyV2 {
		p.conflictf(resolve(fs.value("client_address")), "client_address proxy-v2 is not supported by the dataplane yet (it would shift sequence numbers for the connection's life); use toa")
	}
	if fs.has("max_half_open") && s.Protocol == ProtoUDP {
		p.conflictf(fs["max_half_open"].key, "max_half_open applies only to tcp services (a half-open flow is a TCP handshake)")
	}
	if s.FNATPortMin > s.FNATPortMax {
		p.conflictf(fs["fnat_port_min"].key, "fnat_port_min %d is above fnat_port_max %d", s.FNATPortMin, s.FNATPortMax)
	}
	if s.Mode == ModeFNAT && s.LocalPool != "" && s.VIP.IsValid() {
		for _, pool := range pools.pools {
			if pool.Name == s.LocalPool && !pool.HasFamilyOf(s.VIP) {
				p.conflictf(resolve(fs.value("local_pool")), "local pool %q has no %s address for vip %s", s.LocalPool, family(s.VIP), s.VIP)
			}
		}
	}
	if !s.Scheduler.Hashing() {
		for _, key := range []string{"hash_fields", "hash_seed", "maglev_size"} {
			if fs.has(key) {
				p.conflictf(fs[key].key, "%s applies only to the maglev and hash schedulers (scheduler is %s)", key, s.Scheduler)
			}
		}
	}
	if s.WhenAllDown == AllDownFallback && !fs.has("fallback") {
		p.conflictf(resolve(fs.value("when_all_down")), "when_all_down fallback needs a fallback backend")
	}
	if fs.has("fallback") && s.WhenAllDown != AllDownFallback {
		p.conflictf(fs["fallback"].key, "fallback is used only with when_all_down: fallback (this service has %s)", s.WhenAllDown)
	}
	if s.VIP.IsValid() {
		vipNode := resolve(fs.value("vip"))
		for _, port := range ports {
			if port.IPv4.Addr() == s.VIP || port.IPv6.Addr() == s.VIP {
				p.conflictf(vipNode, "vip %s is the address of port %s", s.VIP, port.Name)
			}
		}
		for _, pool := range pools.pools {
			for _, a := range pool.Addresses {
				if a == s.VIP {
					p.conflictf(vipNode, "vip %s is also in local pool %q", s.VIP, pool.Name)
				}
			}
		}
	}
}

func (p *parser) serviceBackends(s *Service, fs fields, at *serviceAt, ports []Port) {
	names := map[string]*yaml.Node{}
	targets := map[netip.AddrPort]*yaml.Node{}
	add := func(b Backend, n *yaml.Node, bfs fields) {
		at.backends = append(at.backends, n)
		if b.Name != "" {
			nameNode := resolve(bfs.value("name"))
			if prev, dup := names[b.Name]; dup {
				p.conflictf(nameNode, "duplicate backend name %q in service %q (also at %s)", b.Name, s.Name, p.at(prev))
			}
			names[b.Name] = nameNode
		}
		if b.Address.IsValid() {
			addrNode := resolve(bfs.value("address"))
			t := netip.AddrPortFrom(b.Address, b.Port)
			if prev, dup := targets[t]; dup {
				p.conflictf(addrNode, "duplicate backend %s in service %q (also at %s)", target(t), s.Name, p.at(prev))
			}
			targets[t] = addrNode
		}
	}
	for _, item := range p.sequence(fs.value("backends"), "backends") {
		b, bfs := p.backend(item, s, fs, ports)
		s.Backends = append(s.Backends, b)
		add(b, item, bfs)
	}
	if f, ok := fs["fallback"]; ok {
		n := resolve(f.value)
		b, bfs := p.backend(n, s, fs, ports)
		if s.WhenAllDown == AllDownFallback {
			s.Fallback = &b
		}
		add(b, n, bfs)
	}

	schedNode := fs.keyOr("scheduler", resolve(fs.value("mode")))
	for _, b := range s.Backends {
		if s.Scheduler == SchedLeastLoad && b.HealthCheck.Kind != CheckAgent {
			p.conflictf(schedNode, "scheduler least-load needs agent health checks (the agent reports the load); backend %q has %s", b.Name, b.HealthCheck.Kind)
			break
		}
		if s.Scheduler == SchedFastest && b.HealthCheck.Kind == CheckNone {
			p.conflictf(schedNode, "scheduler fastest needs health checks (they measure response time); backend %q has none", b.Name)
			break
		}
	}
	if fs.has("maglev_size") && s.MaglevSize != 0 && len(s.Backends) >= int(s.MaglevSize) {
		p.conflictf(resolve(fs.value("maglev_size")), "maglev_size %d is too small for %d backends; use a prime of 100 times the backend count or more", s.MaglevSize, len(s.Backends))
	}
}

// target writes a backend's address and port; port 0 is "the client's port".
func target(t netip.AddrPort) string {
	if t.Port() == 0 {
		return t.Addr().String()
	}
	return t.String()
}

func family(a netip.Addr) string {
	if a.Is4() {
		return "IPv4"
	}
	return "IPv6"
}

// timeouts applies the keys of a timeouts mapping.
func (p *parser) timeouts(n *yaml.Node, t *Timeouts) {
	fs := p.mapping(n, "timeouts", "tcp_established", "tcp_syn", "tcp_fin", "udp")
	for key, dst := range map[string]*time.Duration{
		"tcp_established": &t.TCPEstablished, "tcp_syn": &t.TCPSyn, "tcp_fin": &t.TCPFin, "udp": &t.UDP,
	} {
		if d, ok := p.durationKey(fs, key, MinTimeout, MaxTimeout); ok {
			*dst = d
		}
	}
}

// hashFields reads a non-empty list of distinct hash field names.
func (p *parser) hashFields(n *yaml.Node) (HashField, bool) {
	items := p.sequence(n, "hash_fields")
	if len(items) == 0 {
		if resolve(n).Kind == yaml.SequenceNode || isNull(resolve(n)) {
			p.errorf(resolve(n), "hash_fields must name at least one of %s", strings.Join(hashFieldNames, ", "))
		}
		return 0, false
	}
	var out HashField
	ok := true
	for _, item := range items {
		s, good := p.str(item, "hash field")
		if !good {
			ok = false
			continue
		}
		f, good := parseHashField(s)
		switch {
		case !good:
			p.errorf(item, "hash field %q is not one of %s%s", s, strings.Join(hashFieldNames, ", "), didYouMean(s, hashFieldNames))
			ok = false
		case out&f != 0:
			p.errorf(item, "hash field %q is listed twice", s)
			ok = false
		}
		out |= f
	}
	return out, ok
}

// portRef resolves a dataplane port name.
func (p *parser) portRef(n *yaml.Node, key string, ports []Port) (PortRef, bool) {
	s, ok := p.str(n, key)
	if !ok {
		return PortRef{}, false
	}
	names := make([]string, len(ports))
	for i, port := range ports {
		if port.Name == s {
			return PortRef{Name: s, Index: i}, true
		}
		names[i] = port.Name
	}
	p.errorf(resolve(n), "%s %q is not a dataplane port%s", key, s, orChoices(s, names))
	return PortRef{}, false
}

// poolRef resolves a local pool name.
func (p *parser) poolRef(n *yaml.Node, pools pools) (string, bool) {
	s, ok := p.str(n, "local_pool")
	if !ok {
		return "", false
	}
	if _, ok := pools.nodes[s]; ok {
		return s, true
	}
	names := make([]string, len(pools.pools))
	for i, pool := range pools.pools {
		names[i] = pool.Name
	}
	p.errorf(resolve(n), "local_pool %q is not defined in local_pools%s", s, orChoices(s, names))
	return "", false
}

// orChoices suggests the closest name, or lists them all when none is close.
func orChoices(got string, names []string) string {
	if s := didYouMean(got, names); s != "" {
		return s
	}
	if len(names) == 0 {
		return " (there are none)"
	}
	return " (defined: " + strings.Join(names, ", ") + ")"
}
