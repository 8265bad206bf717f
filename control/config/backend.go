package config

import "gopkg.in/yaml.v3"

var backendKeys = []string{
	"name", "address", "mac", "port", "weight", "egress_port", "vlan", "disabled", "health_check",
}

// backend reads one backend of s (also its fallback); sfs are the service's keys. Its health
// check starts from the service's, so s.HealthCheck must be final.
func (p *parser) backend(n *yaml.Node, s *Service, sfs fields, ports []Port) (Backend, fields) {
	b := DefaultBackend()
	b.HealthCheck = s.HealthCheck
	fs := p.mapping(n, "backend", backendKeys...)
	if fs == nil {
		return b, fs
	}
	if p.required(fs, n, "backend", "name") {
		b.Name, _ = p.name(fs.value("name"), "name", serviceNameRE)
	}
	if p.required(fs, n, "backend", "address") {
		b.Address, _ = p.addr(fs.value("address"), "address")
	}
	if f, ok := fs["mac"]; ok {
		b.MAC, _ = p.mac(f.value, "mac")
	}
	if v, ok := p.intKey(fs, "port", 0, 65535); ok {
		b.Port = uint16(v)
	}
	if v, ok := p.intKey(fs, "weight", 0, 65535); ok {
		b.Weight = uint16(v)
	}
	if f, ok := fs["egress_port"]; ok {
		b.EgressPort, _ = p.portRef(f.value, "egress_port", ports)
	}
	if v, ok := p.intKey(fs, "vlan", 0, 4094); ok {
		b.VLAN = uint16(v)
	}
	if v, ok := p.boolKey(fs, "disabled"); ok {
		b.Disabled = v
	}
	checkFields := p.healthCheck(fs.value("health_check"), &b.HealthCheck)

	deriveBackend(&b, fs.set(), s, ports)

	p.backendRelations(&b, fs, s, sfs, ports)
	checkNode := fs.keyOr("health_check", n)
	p.checkRelations(&b.HealthCheck, checkFields, checkNode, s.Mode, true)
	if src := b.HealthCheck.Source; src.IsValid() && b.Address.IsValid() && checkFields.has("source") && src.Is4() != b.Address.Is4() {
		p.errorf(resolve(checkFields.value("source")), "source %s is not of the backend's family (%s)", src, b.Address)
	}
	if b.HealthCheck.Port == 0 && needsPort(b.HealthCheck.Kind) && checkFields.has("kind") {
		p.conflictf(resolve(checkFields.value("kind")), "%s checks need a port on an all-ports service", b.HealthCheck.Kind)
	}
	return b, fs
}

func (p *parser) backendRelations(b *Backend, fs fields, s *Service, sfs fields, ports []Port) {
	addrNode := resolve(fs.value("address"))
	if b.Address.IsValid() && s.VIP.IsValid() {
		switch {
		case b.Address.Is4() != s.VIP.Is4():
			p.conflictf(addrNode, "address %s is %s but the vip %s is %s", b.Address, family(b.Address), s.VIP, family(s.VIP))
		case b.Address == s.VIP:
			p.conflictf(addrNode, "address %s is the vip itself", b.Address)
		}
	}
	if f, ok := fs["port"]; ok && p.good(fs, "port") && p.good(sfs, "port") {
		v := resolve(f.value)
		switch {
		case s.AllPorts() && b.Port != 0:
			p.conflictf(v, "port %d on an all-ports service; its backends keep the client's destination port (leave port out)", b.Port)
		case !s.AllPorts() && b.Port == 0:
			p.conflictf(v, "port 0 (the client's port) is only for all-ports services; leave port out for the service port %d", s.Port)
		case s.Mode.DSR() && b.Port != s.Port:
			p.conflictf(v, "port %d differs from the service port %d; %s does not rewrite ports (leave port out)", b.Port, s.Port, s.Mode)
		}
	}
	if b.Address.IsValid() && !fs.has("mac") && b.EgressPort.Name != "" && s.Mode != 0 {
		p.nextHop(addrNode, b, s.Mode, &ports[b.EgressPort.Index])
	}
}

// nextHop checks that the dataplane can resolve where to send packets for b: the backend
// itself when it is on the egress port's link, else that port's gateway (not for l2dsr, which
// only rewrites the MAC and so needs the backend on the link).
func (p *parser) nextHop(n *yaml.Node, b *Backend, mode Mode, port *Port) {
	pfx := port.Prefix(b.Address)
	key := "ipv6"
	if b.Address.Is4() {
		key = "ipv4"
	}
	switch {
	case !pfx.IsValid():
		p.conflictf(n, "port %s has no %s address to resolve backend %s from; give the port one or the backend a mac", port.Name, key, b.Address)
	case pfx.Contains(b.Address):
	case mode == ModeL2DSR:
		p.conflictf(n, "l2dsr backend %s is outside port %s's subnet %s; l2dsr needs backends on the link (or a mac)", b.Address, port.Name, pfx.Masked())
	case !port.Gateway(b.Address).IsValid():
		p.conflictf(n, "backend %s is outside port %s's subnet %s and the port has no gateway%s", b.Address, port.Name, pfx.Masked(), key[len(key)-1:])
	}
}
