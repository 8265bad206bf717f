package config

import "time"

// Every default lives in this file, and configs/tenbin.yaml documents each one. Defaults that
// depend on other fields (a backend's port follows its service's, ...) are in the derive
// functions at the end, so the whole story is in one place.

// Default values that are not fields of a Default* struct below.
const (
	DefaultAPISocket = "/run/tenbin/tenbin.sock"
	DefaultDSCP      = 0x22 // 34, the DSCP the L3DSR lab rule and real-server helper use
	DefaultWeight    = 100
	MinMaglevSize    = 251
	MaxMaglevSize    = 655373
	DefaultMaglev    = 65537
	MinTimeout       = time.Second    // flow idle timeouts
	MaxTimeout       = 24 * time.Hour // flow idle timeouts
	MaxSlowStart     = time.Hour
	// DefaultFNATPortMin..Max are the full-NAT source ports, shared out between lcores.
	DefaultFNATPortMin = 1024
	DefaultFNATPortMax = 65535
	MaxHalfOpenLimit   = 1 << 24               // max_half_open: far above any flow table's size
	MinCheckInterval   = 10 * time.Millisecond // interval and timeout
	MaxCheckInterval   = time.Hour             // interval and timeout
	MaxRiseFall        = 100
)

// DefaultConfig is a configuration with no ports, pools or services.
func DefaultConfig() Config {
	return Config{
		Dataplane: Dataplane{SHM: ""}, // the caller chooses: hugetlbfs when mounted, else /dev/shm
		API:       API{Socket: DefaultAPISocket},
		Metrics:   Metrics{Listen: ""}, // off
	}
}

// DefaultPort is a port before its keys are applied.
func DefaultPort() Port { return Port{VLAN: 0} }

// DefaultTimeouts are the flow idle timeouts (as IPVS: 900s established, 120s fin, 300s udp).
func DefaultTimeouts() Timeouts {
	return Timeouts{
		TCPEstablished: 900 * time.Second,
		TCPSyn:         60 * time.Second,
		TCPFin:         120 * time.Second,
		UDP:            300 * time.Second,
	}
}

// DefaultHealthCheck is the check every service starts from.
func DefaultHealthCheck() HealthCheck {
	return HealthCheck{
		Kind:         CheckTCP,
		Interval:     2 * time.Second,
		Timeout:      time.Second,
		Rise:         2,
		Fall:         3,
		Jitter:       0.1,
		Port:         0, // the backend's port
		Method:       "GET",
		Path:         "/",
		ExpectStatus: StatusRanges{{200, 399}},
	}
}

// DefaultService is a service before its keys are applied. Name, vip, port and mode have no
// default: they must be written.
func DefaultService() Service {
	return Service{
		Protocol:    ProtoTCP,
		DSCP:        0, // DefaultDSCP for l3dsr, see deriveService
		Scheduler:   SchedMaglev,
		HashFields:  0, // by scheduler, see deriveService
		HashSeed:    0,
		MaglevSize:  DefaultMaglev,
		Timeouts:    DefaultTimeouts(),
		ICMPEcho:    true,
		WhenAllDown: AllDownDrop,
		SlowStart:   0,
		FNATPortMin: DefaultFNATPortMin,
		FNATPortMax: DefaultFNATPortMax,
		ClientAddr:  ClientAddrNone,
		HealthCheck: DefaultHealthCheck(),
	}
}

// DefaultBackend is a backend before its keys are applied; the rest follows its service (see
// deriveBackend).
func DefaultBackend() Backend {
	return Backend{Weight: DefaultWeight}
}

// deriveService fills the defaults that depend on other keys of the service. set says which
// keys the file wrote. ports is the configured dataplane ports.
func deriveService(s *Service, set map[string]bool, ports []Port) {
	if !set["dscp"] && s.Mode == ModeL3DSR {
		s.DSCP = DefaultDSCP
	}
	if !set["hash_fields"] {
		switch s.Scheduler {
		case SchedHash:
			s.HashFields = HashSrcIP // client affinity
		case SchedMaglev:
			s.HashFields = HashAll
		}
	}
	if !set["ingress_port"] && len(ports) > 0 {
		s.IngressPort = PortRef{Name: ports[0].Name, Index: 0}
	}
	if !set["egress_port"] {
		s.EgressPort = s.IngressPort
	}
	if !set["egress_vlan"] && s.EgressPort.Name != "" {
		s.EgressVLAN = ports[s.EgressPort.Index].VLAN
	}
}

// deriveBackend fills the defaults that depend on the service or on other keys of the backend.
func deriveBackend(b *Backend, set map[string]bool, s *Service, ports []Port) {
	if !set["port"] {
		b.Port = s.Port
	}
	if !set["egress_port"] {
		b.EgressPort = s.EgressPort
	}
	if !set["vlan"] {
		// The VLAN follows the port chosen at the same level.
		if set["egress_port"] && b.EgressPort.Name != "" {
			b.VLAN = ports[b.EgressPort.Index].VLAN
		} else {
			b.VLAN = s.EgressVLAN
		}
	}
	if b.HealthCheck.Port == 0 {
		b.HealthCheck.Port = b.Port
	}
}
