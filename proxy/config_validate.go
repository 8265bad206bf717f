package proxy

import (
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"strconv"
	"strings"

	"tenbin/control/maglev"
)

// validate checks every value of a decoded, defaulted config and returns all problems.
func (c *Config) validate() []error {
	v := validator{file: c.file}
	if len(c.Listeners) == 0 {
		v.add(c.Pos, "no listeners")
	}
	pools := map[string]bool{}
	for i := range c.Pools {
		v.pool(&c.Pools[i], pools)
	}
	names := map[string]bool{}
	for i := range c.Listeners {
		v.listener(&c.Listeners[i], names, pools)
	}
	routes := map[string]bool{}
	for i := range c.Routes {
		r := &c.Routes[i]
		if r.Name == "" {
			r.Name = "route" + strconv.Itoa(i+1)
		}
		if routes[r.Name] {
			v.add(r.Pos, "duplicate route name %q", r.Name)
		}
		routes[r.Name] = true
		if !pools[r.Pool] {
			v.add(r.Pos, "route %q: unknown pool %q", r.Name, r.Pool)
		}
		v.match(&r.Match)
	}
	if c.DefaultPool != "" && !pools[c.DefaultPool] {
		v.add(c.Pos, "default_pool: unknown pool %q", c.DefaultPool)
	}
	switch c.AccessLog.Format {
	case "text", "json":
	default:
		v.add(c.Pos, "access_log.format %q: want text or json", c.AccessLog.Format)
	}
	if c.MetricsAddress != "" {
		v.hostPort(c.Pos, "metrics_address", c.MetricsAddress)
	}
	if c.ShutdownGrace < 0 || c.CertReloadInterval < 0 {
		v.add(c.Pos, "durations must not be negative")
	}
	return v.errs
}

type validator struct {
	file string
	errs []error
}

func (v *validator) add(p Position, format string, a ...any) {
	v.errs = append(v.errs, fmt.Errorf("%s:%d:%d: %s", v.file, p.Line, p.Col, fmt.Sprintf(format, a...)))
}

func (v *validator) hostPort(p Position, what, addr string) {
	if _, port, err := net.SplitHostPort(addr); err != nil {
		v.add(p, "%s %q: %v", what, addr, err)
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		v.add(p, "%s %q: bad port", what, addr)
	}
}

func (v *validator) listener(l *ListenerConfig, names, pools map[string]bool) {
	if l.Name == "" {
		v.add(l.Pos, "listener without a name")
	} else if names[l.Name] {
		v.add(l.Pos, "duplicate listener name %q", l.Name)
	}
	names[l.Name] = true
	v.hostPort(l.Pos, "listener "+l.Name+": address", l.Address)
	tlsKind := l.Kind == KindHTTPS || l.Kind == KindTCPTLS
	switch l.Kind {
	case KindHTTP, KindHTTPS, KindTCPTLS:
	default:
		v.add(l.Pos, "listener %q: kind %q: want tcp+tls, http or https", l.Name, l.Kind)
	}
	if tlsKind && len(l.Certificates) == 0 {
		v.add(l.Pos, "listener %q: %s needs certificates", l.Name, l.Kind)
	}
	if !tlsKind && len(l.Certificates) > 0 {
		v.add(l.Pos, "listener %q: certificates on a plain %s listener", l.Name, l.Kind)
	}
	for _, c := range l.Certificates {
		if c.Cert == "" || c.Key == "" {
			v.add(c.Pos, "certificate needs both cert and key")
		}
		for _, n := range c.Names {
			if !validHostPattern(n) {
				v.add(c.Pos, "certificate name %q: want a host name or *.domain", n)
			}
		}
	}
	if l.AcceptTOA && l.AcceptProxyProtocol {
		v.add(l.Pos, "listener %q: accept_toa and accept_proxy_protocol both name the client: pick the one the balancer sends", l.Name)
	}
	if l.H2C && l.Kind != KindHTTP {
		v.add(l.Pos, "listener %q: h2c is for http listeners", l.Name)
	}
	if l.Kind == KindTCPTLS {
		if !pools[l.Pool] {
			v.add(l.Pos, "listener %q: unknown pool %q", l.Name, l.Pool)
		}
	} else {
		if l.Pool != "" {
			v.add(l.Pos, "listener %q: pool is for tcp+tls listeners; http uses routes", l.Name)
		}
		if l.ProxyProtocolToBackend {
			v.add(l.Pos, "listener %q: proxy_protocol_to_backend is for tcp+tls listeners", l.Name)
		}
	}
	if l.MaxHeaderBytes < 0 {
		v.add(l.Pos, "listener %q: max_header_bytes must be positive", l.Name)
	}
	t := l.Timeouts
	if t.Handshake < 0 || t.ReadHeader < 0 || t.Read < 0 || t.Write < 0 || t.Idle < 0 {
		v.add(l.Pos, "listener %q: timeouts must not be negative", l.Name)
	}
}

func (v *validator) match(m *MatchConfig) {
	for _, h := range m.Hosts {
		if !validHostPattern(h) {
			v.add(m.Pos, "host %q: want a host name or *.domain", h)
		}
	}
	if m.PathPrefix != "" && !strings.HasPrefix(m.PathPrefix, "/") {
		v.add(m.Pos, "path_prefix %q must start with /", m.PathPrefix)
	}
	if m.PathRegex != "" {
		if _, err := regexp.Compile(m.PathRegex); err != nil {
			v.add(m.Pos, "path_regex: %v", err)
		}
	}
	for _, list := range [][]ValueMatchConfig{m.Headers, m.Cookies, m.Query} {
		for _, vm := range list {
			if vm.Name == "" {
				v.add(vm.Pos, "match without a name")
			}
			if vm.Value != "" && vm.Regex != "" {
				v.add(vm.Pos, "%q: give value or regex, not both", vm.Name)
			}
			if vm.Regex != "" {
				if _, err := regexp.Compile(vm.Regex); err != nil {
					v.add(vm.Pos, "%q: regex: %v", vm.Name, err)
				}
			}
		}
	}
	for _, s := range m.Sources {
		if _, err := parseSource(s); err != nil {
			v.add(m.Pos, "source %q: %v", s, err)
		}
	}
}

func (v *validator) pool(p *PoolConfig, pools map[string]bool) {
	if p.Name == "" {
		v.add(p.Pos, "pool without a name")
	} else if pools[p.Name] {
		v.add(p.Pos, "duplicate pool name %q", p.Name)
	}
	pools[p.Name] = true
	switch p.Scheduler {
	case SchedMaglev, SchedHash, SchedRR, SchedWRR, SchedLeastConn, SchedFastest:
	default:
		v.add(p.Pos, "pool %q: scheduler %q: want maglev, hash, rr, wrr, least-conn or fastest", p.Name, p.Scheduler)
	}
	if _, err := parseHashKey(p.HashKey); err != nil {
		v.add(p.Pos, "pool %q: %v", p.Name, err)
	}
	if s := p.MaglevTableSize; s != 0 && (s < maglev.MinSize || s > maglev.MaxSize || !maglev.IsPrime(s)) {
		v.add(p.Pos, "pool %q: maglev_table_size %d: want a prime in %d..%d", p.Name, s, maglev.MinSize, maglev.MaxSize)
	}
	if *p.Retries < 0 {
		v.add(p.Pos, "pool %q: retries must not be negative", p.Name)
	}
	if p.Sticky != nil && !validToken(p.Sticky.Cookie) {
		v.add(p.Pos, "pool %q: sticky cookie name %q is not a token", p.Name, p.Sticky.Cookie)
	}
	if h := p.HealthCheck; h != nil {
		if h.Kind != "tcp" && h.Kind != "http" {
			v.add(p.Pos, "pool %q: health_check.kind %q: want tcp or http", p.Name, h.Kind)
		}
		if h.Kind == "http" && !strings.HasPrefix(h.Path, "/") {
			v.add(p.Pos, "pool %q: health_check.path must start with /", p.Name)
		}
		if h.Rise < 1 || h.Fall < 1 || h.Interval < 0 || h.Timeout < 0 {
			v.add(p.Pos, "pool %q: health_check rise and fall must be >= 1, durations positive", p.Name)
		}
	}
	if len(p.Backends) == 0 {
		v.add(p.Pos, "pool %q: no backends", p.Name)
	}
	seen := map[string]bool{}
	for _, b := range p.Backends {
		if b.Name == "" {
			v.add(b.Pos, "pool %q: backend without a name", p.Name)
		} else if seen[b.Name] {
			v.add(b.Pos, "pool %q: duplicate backend name %q", p.Name, b.Name)
		}
		seen[b.Name] = true
		v.hostPort(b.Pos, "backend "+b.Name+": address", b.Address)
		if *b.Weight < 0 || *b.Weight > 65535 {
			v.add(b.Pos, "backend %q: weight %d: want 0..65535", b.Name, *b.Weight)
		}
	}
}

// validHostPattern accepts "example.com" and "*.example.com".
func validHostPattern(h string) bool {
	h = strings.TrimPrefix(h, "*.")
	if h == "" || strings.ContainsAny(h, "*/: ") {
		return false
	}
	return true
}

// validToken reports whether s is an RFC 7230 token (a valid cookie name).
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r <= ' ' || r >= 0x7f || strings.ContainsRune(`()<>@,;:\"/[]?={}`, r) {
			return false
		}
	}
	return true
}

// parseSource accepts a CIDR or a single address.
func parseSource(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}
