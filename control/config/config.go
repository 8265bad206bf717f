package config

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Dataplane limits (dataplane/include/tenbin_shm.h). A configuration beyond them is refused
// here, with a position, rather than failing later in the publisher.
const (
	MaxServices       = 256  // TENBIN_MAX_SERVICES
	MaxBackends       = 4095 // TENBIN_MAX_BACKENDS minus slot 0, which means "empty"; fallbacks count
	MaxPorts          = 8    // TENBIN_MAX_PORTS
	MaxLocalAddresses = 64   // TENBIN_MAX_LOCAL_ADDRS, over all local pools
)

// Config is a complete, validated configuration. The file's keys are in the yaml tags (they
// are not used for decoding; Parse walks the YAML nodes itself to report positions).
type Config struct {
	File       string      `yaml:"-"` // the name given to Parse or Load, for messages
	Dataplane  Dataplane   `yaml:"dataplane"`
	API        API         `yaml:"api"`
	Metrics    Metrics     `yaml:"metrics"`
	LocalPools []LocalPool `yaml:"local_pools"`
	Services   []Service   `yaml:"services"`
	// Proxy is the proxy tier's section, untouched: the proxy package decodes and validates
	// it. Nil when the file has no proxy key.
	Proxy *yaml.Node `yaml:"proxy"`
}

// Dataplane describes the shared-memory region and the dataplane's ports.
type Dataplane struct {
	// SHM is the region's path; "" lets the caller choose (hugetlbfs when mounted, else
	// /dev/shm).
	SHM   string `yaml:"shm"`
	Ports []Port `yaml:"ports"`
}

// Port is one dataplane port. Index is its position in the list, which is the order of
// tenbin-dataplane's --port flags.
type Port struct {
	Index    int          `yaml:"-"`
	Name     string       `yaml:"name"`
	IPv4     netip.Prefix `yaml:"ipv4"` // our address and on-link subnet; invalid (zero) = none
	IPv6     netip.Prefix `yaml:"ipv6"`
	Gateway4 netip.Addr   `yaml:"gateway4"` // zero = none
	Gateway6 netip.Addr   `yaml:"gateway6"`
	VLAN     uint16       `yaml:"vlan"` // 0 = untagged
}

// Prefix returns the port's on-link prefix of addr's family (invalid when it has none).
func (p *Port) Prefix(addr netip.Addr) netip.Prefix {
	if addr.Is4() {
		return p.IPv4
	}
	return p.IPv6
}

// Gateway returns the port's gateway of addr's family (zero when it has none).
func (p *Port) Gateway(addr netip.Addr) netip.Addr {
	if addr.Is4() {
		return p.Gateway4
	}
	return p.Gateway6
}

// PortRef names a dataplane port and carries its index, resolved by Parse.
type PortRef struct {
	Name  string
	Index int
}

func (r PortRef) String() string { return r.Name }

// API is the control daemon's unix socket.
type API struct {
	Socket string `yaml:"socket"`
}

// Metrics is the Prometheus endpoint.
type Metrics struct {
	Listen string `yaml:"listen"` // host:port; "" = off
}

// LocalPool is a set of our own addresses that fnat services use as source addresses.
type LocalPool struct {
	Name      string       `yaml:"name"`
	Addresses []netip.Addr `yaml:"addresses"`
}

// HasFamilyOf reports whether the pool holds an address of the same family as a.
func (p *LocalPool) HasFamilyOf(a netip.Addr) bool {
	for _, addr := range p.Addresses {
		if addr.Is4() == a.Is4() {
			return true
		}
	}
	return false
}

// Timeouts are the flow table's idle timeouts for one service.
type Timeouts struct {
	TCPEstablished time.Duration `yaml:"tcp_established"`
	TCPSyn         time.Duration `yaml:"tcp_syn"`
	TCPFin         time.Duration `yaml:"tcp_fin"`
	UDP            time.Duration `yaml:"udp"`
}

// Service is a virtual service: a VIP, protocol and port, and the backends behind it.
type Service struct {
	Name        string        `yaml:"name"`
	VIP         netip.Addr    `yaml:"vip"`
	Protocol    Protocol      `yaml:"protocol"`
	Port        uint16        `yaml:"port"` // 0 = every port of the protocol
	Mode        Mode          `yaml:"mode"`
	DSCP        uint8         `yaml:"dscp"` // l3dsr only
	Scheduler   Scheduler     `yaml:"scheduler"`
	HashFields  HashField     `yaml:"hash_fields"`
	HashSeed    uint32        `yaml:"hash_seed"`
	MaglevSize  uint32        `yaml:"maglev_size"`
	Timeouts    Timeouts      `yaml:"timeouts"`
	IngressPort PortRef       `yaml:"ingress_port"`
	EgressPort  PortRef       `yaml:"egress_port"`
	EgressVLAN  uint16        `yaml:"egress_vlan"`
	ICMPEcho    bool          `yaml:"icmp_echo"`
	WhenAllDown WhenAllDown   `yaml:"when_all_down"`
	Fallback    *Backend      `yaml:"fallback"` // set exactly when WhenAllDown is AllDownFallback
	SlowStart   time.Duration `yaml:"slow_start"`
	LocalPool   string        `yaml:"local_pool"`     // fnat only
	ClientAddr  ClientAddress `yaml:"client_address"` // fnat only
	MSSClamp    uint16        `yaml:"mss_clamp"`      // nat/fnat: clamp the SYNs' MSS both ways; 0 = off
	FNATPortMin uint16        `yaml:"fnat_port_min"`  // fnat source ports (each lcore takes its share)
	FNATPortMax uint16        `yaml:"fnat_port_max"`
	// MaxHalfOpen is the SYN guard: TCP flows the service may hold before the handshake
	// completes, shared out between lcores; a SYN beyond it opens no flow (dsr forwards it
	// statelessly, nat/fnat drop it). 0 = no cap.
	MaxHalfOpen uint32 `yaml:"max_half_open"`
	// HealthCheck is the service's default check. Its Port 0 means "the backend's port";
	// each Backend carries its effective, fully resolved check.
	HealthCheck HealthCheck `yaml:"health_check"`
	Backends    []Backend   `yaml:"backends"`
}

// AllPorts reports whether the service covers every port of its protocol.
func (s *Service) AllPorts() bool { return s.Port == 0 }

// Key is the service's VIP, protocol and port as an operator writes it: "198.18.1.10 tcp/80",
// "2001:db8::10 udp/*".
func (s *Service) Key() string {
	port := "*"
	if !s.AllPorts() {
		port = fmt.Sprint(s.Port)
	}
	return fmt.Sprintf("%s %s/%s", s.VIP, s.Protocol, port)
}

// Backend returns the backend with that name, or nil.
func (s *Service) Backend(name string) *Backend {
	for i := range s.Backends {
		if s.Backends[i].Name == name {
			return &s.Backends[i]
		}
	}
	return nil
}

// Backend is a real server behind a service.
type Backend struct {
	Name       string           `yaml:"name"`
	Address    netip.Addr       `yaml:"address"`
	MAC        net.HardwareAddr `yaml:"mac"`  // static next-hop MAC; nil = resolve by ARP/NDP
	Port       uint16           `yaml:"port"` // 0 = the packet's own destination port (all-ports services)
	Weight     uint16           `yaml:"weight"`
	EgressPort PortRef          `yaml:"egress_port"`
	VLAN       uint16           `yaml:"vlan"`
	Disabled   bool             `yaml:"disabled"`
	// HealthCheck is the effective check: the service's with this backend's overrides, and
	// Port resolved.
	HealthCheck HealthCheck `yaml:"health_check"`
}

// HealthCheck is how a backend's health is probed.
type HealthCheck struct {
	Kind     CheckKind     `yaml:"kind"`
	Interval time.Duration `yaml:"interval"`
	Timeout  time.Duration `yaml:"timeout"`
	Rise     int           `yaml:"rise"`
	Fall     int           `yaml:"fall"`
	Jitter   float64       `yaml:"jitter"` // fraction of Interval
	Source   netip.Addr    `yaml:"source"` // zero = let the kernel choose
	Port     uint16        `yaml:"port"`
	// http and https
	Method       string       `yaml:"method"`
	Path         string       `yaml:"path"`
	Host         string       `yaml:"host"`
	ExpectStatus StatusRanges `yaml:"expect_status"`
	ExpectBody   string       `yaml:"expect_body"`
	// https
	SNI                string `yaml:"sni"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
	// udp
	Payload string `yaml:"payload"`
	// agent
	AgentPort uint16 `yaml:"agent_port"`
	// DSRPath also probes the way data reaches the backend (l2dsr, l3dsr).
	DSRPath bool `yaml:"dsr_path"`
}

// StatusRange is an inclusive range of HTTP status codes.
type StatusRange struct{ Lo, Hi int }

// StatusRanges is the set of HTTP status codes a check accepts.
type StatusRanges []StatusRange

// Contains reports whether code is accepted.
func (rs StatusRanges) Contains(code int) bool {
	for _, r := range rs {
		if r.Lo <= code && code <= r.Hi {
			return true
		}
	}
	return false
}

func (rs StatusRanges) String() string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		if r.Lo == r.Hi {
			parts[i] = fmt.Sprint(r.Lo)
		} else {
			parts[i] = fmt.Sprintf("%d-%d", r.Lo, r.Hi)
		}
	}
	return strings.Join(parts, ",")
}

// Port returns the dataplane port with that name, or nil.
func (c *Config) Port(name string) *Port {
	for i := range c.Dataplane.Ports {
		if c.Dataplane.Ports[i].Name == name {
			return &c.Dataplane.Ports[i]
		}
	}
	return nil
}

// LocalPool returns the local pool with that name, or nil.
func (c *Config) LocalPool(name string) *LocalPool {
	for i := range c.LocalPools {
		if c.LocalPools[i].Name == name {
			return &c.LocalPools[i]
		}
	}
	return nil
}

// Service returns the service with that name, or nil.
func (c *Config) Service(name string) *Service {
	for i := range c.Services {
		if c.Services[i].Name == name {
			return &c.Services[i]
		}
	}
	return nil
}
