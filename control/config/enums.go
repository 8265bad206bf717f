package config

import (
	"fmt"
	"strings"
)

// Each enum starts at 1 so that a zero value means "not set" and can never pass for a choice.
// Names are the YAML spellings; String and MarshalText return them, so JSON output and the
// configuration file use the same words.

// Mode is how a service forwards packets to its backends.
type Mode uint8

const (
	ModeL2DSR Mode = iota + 1 // rewrite the destination MAC only
	ModeL3DSR                 // rewrite the destination IP, mark the VIP with a DSCP
	ModeNAT                   // DNAT to the backend, reverse on the way back
	ModeFNAT                  // NAT plus source NAT from a local pool
)

var modeNames = []string{ModeL2DSR: "l2dsr", ModeL3DSR: "l3dsr", ModeNAT: "nat", ModeFNAT: "fnat"}

// DSR reports whether replies bypass the balancer (l2dsr, l3dsr).
func (m Mode) DSR() bool { return m == ModeL2DSR || m == ModeL3DSR }

func (m Mode) String() string                { return enumString(modeNames, m) }
func (m Mode) MarshalText() ([]byte, error)  { return []byte(m.String()), nil }
func (m *Mode) UnmarshalText(b []byte) error { return enumUnmarshal(modeNames, m, b) }

// Protocol is the service's transport protocol; its value is the IANA protocol number.
type Protocol uint8

const (
	ProtoTCP Protocol = 6
	ProtoUDP Protocol = 17
)

var protocolNames = []string{ProtoTCP: "tcp", ProtoUDP: "udp"}

func (p Protocol) String() string                { return enumString(protocolNames, p) }
func (p Protocol) MarshalText() ([]byte, error)  { return []byte(p.String()), nil }
func (p *Protocol) UnmarshalText(b []byte) error { return enumUnmarshal(protocolNames, p, b) }

// Scheduler chooses a backend for each new flow.
type Scheduler uint8

const (
	SchedMaglev Scheduler = iota + 1
	SchedHash
	SchedRR
	SchedWRR
	SchedLeastConn
	SchedLeastTraffic
	SchedLeastLoad
	SchedFastest
)

var schedulerNames = []string{
	SchedMaglev: "maglev", SchedHash: "hash", SchedRR: "rr", SchedWRR: "wrr",
	SchedLeastConn: "least-conn", SchedLeastTraffic: "least-traffic",
	SchedLeastLoad: "least-load", SchedFastest: "fastest",
}

// Hashing reports whether the scheduler selects through a Maglev table over hash fields (and so
// uses hash_fields, hash_seed and maglev_size).
func (s Scheduler) Hashing() bool { return s == SchedMaglev || s == SchedHash }

func (s Scheduler) String() string                { return enumString(schedulerNames, s) }
func (s Scheduler) MarshalText() ([]byte, error)  { return []byte(s.String()), nil }
func (s *Scheduler) UnmarshalText(b []byte) error { return enumUnmarshal(schedulerNames, s, b) }

// WhenAllDown is what a service does when no backend is healthy.
type WhenAllDown uint8

const (
	AllDownKeepLast WhenAllDown = iota + 1 // keep the last healthy set (better a maybe than a no)
	AllDownDrop                            // drop new flows
	AllDownFallback                        // send everything to the service's fallback backend
)

var whenAllDownNames = []string{AllDownKeepLast: "keep-last", AllDownDrop: "drop", AllDownFallback: "fallback"}

func (w WhenAllDown) String() string                { return enumString(whenAllDownNames, w) }
func (w WhenAllDown) MarshalText() ([]byte, error)  { return []byte(w.String()), nil }
func (w *WhenAllDown) UnmarshalText(b []byte) error { return enumUnmarshal(whenAllDownNames, w, b) }

// ClientAddress is how an fnat service tells the backend the client's address.
type ClientAddress uint8

const (
	ClientAddrNone    ClientAddress = iota + 1
	ClientAddrTOA                   // TCP option address (as in DPVS/IPVS FNAT)
	ClientAddrProxyV2               // PROXY protocol v2 header
)

var clientAddressNames = []string{ClientAddrNone: "none", ClientAddrTOA: "toa", ClientAddrProxyV2: "proxy-v2"}

func (c ClientAddress) String() string                { return enumString(clientAddressNames, c) }
func (c ClientAddress) MarshalText() ([]byte, error)  { return []byte(c.String()), nil }
func (c *ClientAddress) UnmarshalText(b []byte) error { return enumUnmarshal(clientAddressNames, c, b) }

// CheckKind is the kind of a backend health check.
type CheckKind uint8

const (
	CheckTCP CheckKind = iota + 1
	CheckHTTP
	CheckHTTPS
	CheckUDP
	CheckAgent
	CheckNone
)

var checkKindNames = []string{
	CheckTCP: "tcp", CheckHTTP: "http", CheckHTTPS: "https", CheckUDP: "udp", CheckAgent: "agent", CheckNone: "none",
}

func (k CheckKind) String() string                { return enumString(checkKindNames, k) }
func (k CheckKind) MarshalText() ([]byte, error)  { return []byte(k.String()), nil }
func (k *CheckKind) UnmarshalText(b []byte) error { return enumUnmarshal(checkKindNames, k, b) }

// HashField is a bitmask of the packet fields a hashing scheduler hashes. The bit values are
// the dataplane's (enum tenbin_hash_field).
type HashField uint8

const (
	HashSrcIP HashField = 1 << iota
	HashSrcPort
	HashDstIP
	HashDstPort
	HashProto

	HashAll = HashSrcIP | HashSrcPort | HashDstIP | HashDstPort | HashProto
)

var hashFieldNames = []string{"src_ip", "src_port", "dst_ip", "dst_port", "proto"}

// String lists the fields, comma separated, in a fixed order: "src_ip,dst_port".
func (h HashField) String() string {
	var names []string
	for i, name := range hashFieldNames {
		if h&(1<<i) != 0 {
			names = append(names, name)
		}
	}
	if rest := h &^ HashAll; rest != 0 {
		names = append(names, fmt.Sprintf("0x%x", uint8(rest)))
	}
	return strings.Join(names, ",")
}

func (h HashField) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

func (h *HashField) UnmarshalText(b []byte) error {
	var out HashField
	for name := range strings.SplitSeq(string(b), ",") {
		f, ok := parseHashField(strings.TrimSpace(name))
		if !ok {
			return fmt.Errorf("%w: unknown hash field %q", ErrInvalid, name)
		}
		out |= f
	}
	*h = out
	return nil
}

func parseHashField(name string) (HashField, bool) {
	for i, n := range hashFieldNames {
		if n == name {
			return 1 << i, true
		}
	}
	return 0, false
}

type enum interface{ ~uint8 }

func enumString[T enum](names []string, v T) string {
	if int(v) < len(names) && names[v] != "" {
		return names[v]
	}
	return fmt.Sprintf("%T(%d)", v, uint8(v))
}

func enumParse[T enum](names []string, s string) (T, bool) {
	for i, n := range names {
		if n != "" && n == s {
			return T(i), true
		}
	}
	return 0, false
}

func enumUnmarshal[T enum](names []string, v *T, b []byte) error {
	parsed, ok := enumParse[T](names, string(b))
	if !ok {
		return fmt.Errorf("%w: %q is not one of %s", ErrInvalid, b, enumChoices(names))
	}
	*v = parsed
	return nil
}

// enumChoices renders the valid names for messages: "tcp|udp".
func enumChoices(names []string) string {
	var out []string
	for _, n := range names {
		if n != "" {
			out = append(out, n)
		}
	}
	return strings.Join(out, "|")
}
