// Package realserver prepares and diagnoses a real server behind tenbin in a direct-server-return
// mode: the VIP on loopback, the ARP sysctls for L2DSR, and for L3DSR the nftables rule that maps
// "DSCP d sent to my address" back to the VIP. The work is split into observing the host
// (Kernel), pure planning and diagnosis on what was observed (PlanSetup, PlanTeardown, Diagnose)
// and applying the plan, so the decisions are testable without touching a host.
package realserver

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Mode is the DSR flavour the balancer uses toward this server.
type Mode string

const (
	ModeL2DSR Mode = "l2dsr" // the balancer rewrites only the destination MAC
	ModeL3DSR Mode = "l3dsr" // the balancer rewrites the destination IP to the RIP and sets a DSCP naming the VIP
)

// DefaultDSCP is the DSCP that names a VIP when the operator gives none (0x22, AF41).
const DefaultDSCP uint8 = 0x22

// DefaultStatePath is where setup records what it changed, for teardown.
const DefaultStatePath = "/run/tenbin/realserver.json"

var (
	ErrInvalidSpec  = errors.New("invalid real-server spec")
	ErrInvalidDSCP  = errors.New("invalid DSCP")
	ErrRIPNotLocal  = errors.New("rip is not an address of this server")
	ErrNftMissing   = errors.New("nft not found (install the nftables package)")
	ErrNoLoopback   = errors.New("no loopback interface")
	ErrStateCorrupt = errors.New("state file unreadable")
)

// VIP is a service address this server answers for directly. DSCP matters only in L3DSR, where
// it is how the balancer tells the server which VIP a packet sent to the RIP was meant for.
type VIP struct {
	Addr netip.Addr
	DSCP uint8
}

// Spec is the desired configuration of this real server.
type Spec struct {
	Mode Mode
	VIPs []VIP
	// RIPs are this server's addresses the balancer sends to in L3DSR, at most one per family.
	RIPs []netip.Addr
}

// ParseMode accepts the names used on the command line and in the config.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(strings.ToLower(s)); m {
	case ModeL2DSR, ModeL3DSR:
		return m, nil
	}
	return "", fmt.Errorf("%w: mode %q (want l2dsr or l3dsr)", ErrInvalidSpec, s)
}

// dscpNames are nft's symbolic DSCP constants (`nft describe ip dscp`), so a value printed by
// nft or typed by an operator who thinks in PHB names is understood.
var dscpNames = map[string]uint8{
	"cs0": 0x00, "cs1": 0x08, "cs2": 0x10, "cs3": 0x18, "cs4": 0x20, "cs5": 0x28, "cs6": 0x30, "cs7": 0x38,
	"df": 0x00, "be": 0x00, "lephb": 0x01,
	"af11": 0x0a, "af12": 0x0c, "af13": 0x0e, "af21": 0x12, "af22": 0x14, "af23": 0x16,
	"af31": 0x1a, "af32": 0x1c, "af33": 0x1e, "af41": 0x22, "af42": 0x24, "af43": 0x26,
	"va": 0x2c, "ef": 0x2e,
}

// ParseDSCP accepts decimal (34), hex (0x22) or an nft PHB name (af41).
func ParseDSCP(s string) (uint8, error) {
	if v, ok := dscpNames[strings.ToLower(s)]; ok {
		return v, nil
	}
	v, err := strconv.ParseUint(s, 0, 8)
	if err != nil || v > 63 {
		return 0, fmt.Errorf("%w: %q (want 0..63, e.g. 34 or 0x22)", ErrInvalidDSCP, s)
	}
	return uint8(v), nil
}

// ParseVIP reads ADDR or ADDR@DSCP; a VIP without its own DSCP gets defaultDSCP.
func ParseVIP(s string, defaultDSCP uint8) (VIP, error) {
	addrText, dscpText, hasDSCP := strings.Cut(s, "@")
	a, err := netip.ParseAddr(addrText)
	if err != nil {
		return VIP{}, fmt.Errorf("%w: vip %q: %v", ErrInvalidSpec, s, err)
	}
	v := VIP{Addr: a.Unmap(), DSCP: defaultDSCP}
	if hasDSCP {
		if v.DSCP, err = ParseDSCP(dscpText); err != nil {
			return VIP{}, fmt.Errorf("vip %q: %w", s, err)
		}
	}
	return v, nil
}

// Validate reports every problem with the spec at once.
func (s Spec) Validate() error {
	var errs []error
	bad := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidSpec}, a...)...))
	}
	if s.Mode != ModeL2DSR && s.Mode != ModeL3DSR {
		bad("mode %q (want l2dsr or l3dsr)", s.Mode)
	}
	if len(s.VIPs) == 0 {
		bad("no VIP given")
	}
	seenVIP := map[netip.Addr]bool{}
	type familyDSCP struct {
		v6   bool
		dscp uint8
	}
	dscpOwner := map[familyDSCP]netip.Addr{}
	for _, v := range s.VIPs {
		if !usableUnicast(v.Addr) {
			bad("vip %s is not a usable unicast address", v.Addr)
		}
		if seenVIP[v.Addr] {
			bad("vip %s given twice", v.Addr)
		}
		seenVIP[v.Addr] = true
		if v.DSCP > 63 {
			bad("vip %s: dscp %d out of range 0..63", v.Addr, v.DSCP)
		}
		if s.Mode != ModeL3DSR {
			continue
		}
		// Two VIPs of one family sharing a DSCP would be indistinguishable once the
		// balancer has rewritten the destination to the RIP.
		k := familyDSCP{v.Addr.Is6(), v.DSCP}
		if other, dup := dscpOwner[k]; dup {
			bad("vips %s and %s both use dscp %#x; give each its own (--vip ADDR@DSCP)", other, v.Addr, v.DSCP)
		}
		dscpOwner[k] = v.Addr
		if _, ok := s.RIPFor(v.Addr); !ok {
			bad("vip %s needs an IPv%d --rip in l3dsr", v.Addr, ipVersion(v.Addr))
		}
	}
	seenFamily := map[bool]bool{}
	for _, r := range s.RIPs {
		if s.Mode != ModeL3DSR {
			bad("--rip applies only to l3dsr")
			break
		}
		if !usableUnicast(r) {
			bad("rip %s is not a usable unicast address", r)
		}
		if seenFamily[r.Is6()] {
			bad("more than one IPv%d rip", ipVersion(r))
		}
		seenFamily[r.Is6()] = true
		if seenVIP[r] {
			bad("rip %s is also a vip", r)
		}
	}
	return errors.Join(errs...)
}

// RIPFor returns the RIP of the VIP's family.
func (s Spec) RIPFor(vip netip.Addr) (netip.Addr, bool) {
	for _, r := range s.RIPs {
		if r.Is6() == vip.Is6() {
			return r, true
		}
	}
	return netip.Addr{}, false
}

func (s Spec) hasIPv4VIP() bool {
	for _, v := range s.VIPs {
		if v.Addr.Is4() {
			return true
		}
	}
	return false
}

func usableUnicast(a netip.Addr) bool {
	return a.IsValid() && !a.IsUnspecified() && !a.IsLoopback() && !a.IsMulticast() && !a.IsLinkLocalUnicast()
}

func ipVersion(a netip.Addr) int {
	if a.Is6() {
		return 6
	}
	return 4
}

// hostPrefix is the VIP as it goes on loopback: /32 or /128, so lo claims only that address.
func hostPrefix(a netip.Addr) netip.Prefix {
	return netip.PrefixFrom(a, a.BitLen())
}
