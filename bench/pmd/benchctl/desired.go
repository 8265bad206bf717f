package main

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"tenbin/control/maglev"
	"tenbin/control/shm"
)

// ServiceOpts describe the one service the benchmarks publish: a VIP matching flowgen's
// capture, n backends with static MACs behind the egress port; for fnat, a pool of local
// addresses and source ports that must hold every flow of the capture.
type ServiceOpts struct {
	Mode     string
	VIP      string
	Port     uint16
	Proto    uint8
	Backends int
	Egress   uint8
	Ports    int
	// fnat only.
	LocalAddrs int    // 198.19.1.1 onwards (IPv6: 2001:db8:3::1 onwards), apart from clients and backends
	NATPortLo  uint16 // the pool's source ports, inclusive; 0 = the dataplane's 1024
	NATPortHi  uint16 // 0 = 65535
	Flows      int    // distinct flows the replayed capture offers; 0 = not checked
}

var modes = map[string]shm.Mode{"l2dsr": shm.ModeL2DSR, "l3dsr": shm.ModeL3DSR, "nat": shm.ModeNAT, "fnat": shm.ModeFNAT}

// ErrPoolTooSmall means the fnat pool holds fewer source ports per lcore than the capture
// has flows: the run would measure pool exhaustion (nat_no_port drops), not forwarding.
var ErrPoolTooSmall = errors.New("fnat pool smaller than the flow mix")

// The dataplane's default fnat source ports (dataplane/nat.h TENBIN_NAT_PORT_MIN/MAX).
const natPortMin, natPortMax = 1024, 65535

// PoolPerLcore is how many connections one lcore can hold open through the fnat pool: the
// dataplane splits the source ports between the region's lcore slots (port % slots ==
// slot, dataplane/natport.c) and every connection of an lcore holds one port of one local
// address, whichever backend it goes to. All flows of the mix may land on one lcore.
func (o ServiceOpts) PoolPerLcore(slots int) int {
	lo, hi := int(o.NATPortLo), int(o.NATPortHi)
	if lo == 0 {
		lo = natPortMin
	}
	if hi == 0 {
		hi = natPortMax
	}
	if hi < lo || slots < 1 {
		return 0
	}
	return o.LocalAddrs * ((hi - lo + 1) / slots) // the slot with the fewest ports
}

// CheckPool fails with ErrPoolTooSmall when an fnat service's pool cannot give every flow
// of the mix its own source port on one of slots lcores.
func (o ServiceOpts) CheckPool(slots int) error {
	if o.Mode != "fnat" || o.Flows == 0 {
		return nil
	}
	if n := o.PoolPerLcore(slots); n < o.Flows {
		return fmt.Errorf("%w: %d local address(es) × ports %d-%d over %d lcore slots = %d ports per lcore for %d flows",
			ErrPoolTooSmall, o.LocalAddrs, o.NATPortLo, o.NATPortHi, slots, n, o.Flows)
	}
	return nil
}

// Desired builds the config set for o; extra adds one more backend, which moves about
// 1/(n+1) of the lookup table (the change the publish-under-load step alternates).
func (o ServiceOpts) Desired(extra int) (*shm.Desired, error) {
	mode, ok := modes[o.Mode]
	if !ok {
		return nil, fmt.Errorf("%w: mode %q (want l2dsr, l3dsr, nat or fnat)", errUsage, o.Mode)
	}
	vip, err := netip.ParseAddr(o.VIP)
	if err != nil {
		return nil, fmt.Errorf("%w: vip: %v", errUsage, err)
	}
	n := o.Backends + extra
	if n < 1 || n > 250 {
		return nil, fmt.Errorf("%w: %d backends, want 1..250", errUsage, n)
	}
	bes := make([]shm.BackendSpec, n)
	names := make([]maglev.Backend, n)
	for i := range bes {
		addr := netip.AddrFrom4([4]byte{198, 19, 0, byte(i + 1)})
		if vip.Is6() {
			addr = netip.MustParseAddr(fmt.Sprintf("2001:db8:2::%x", i+1))
		}
		bes[i] = shm.BackendSpec{Addr: addr, MAC: net.HardwareAddr{0x02, 0, 0, 0, 1, byte(i + 1)},
			EgressPort: o.Egress, Weight: 1, Present: true}
		names[i] = maglev.Backend{Name: addr.String(), Weight: 1}
	}
	lut, err := maglev.Build(names, maglev.DefaultSize, 0)
	if err != nil {
		return nil, fmt.Errorf("maglev: %w", err)
	}
	s := shm.ServiceSpec{
		Name: "bench", VIP: vip, Proto: o.Proto, Port: o.Port, Mode: mode, DSCP: 34,
		HashFields: shm.HashAll, TimeoutS: [shm.TimeoutMax]uint32{60, 900, 120, 300},
		Backends: bes, LUT: lut,
	}
	if mode == shm.ModeFNAT {
		if o.LocalAddrs < 1 || o.LocalAddrs > shm.MaxLocalAddrs {
			return nil, fmt.Errorf("%w: %d local addresses, want 1..%d", errUsage, o.LocalAddrs, shm.MaxLocalAddrs)
		}
		for i := range o.LocalAddrs {
			a := netip.AddrFrom4([4]byte{198, 19, 1, byte(i + 1)})
			if vip.Is6() {
				a = netip.MustParseAddr(fmt.Sprintf("2001:db8:3::%x", i+1))
			}
			s.LocalAddrs = append(s.LocalAddrs, a)
		}
		s.NATPortLo, s.NATPortHi = o.NATPortLo, o.NATPortHi
	}
	return &shm.Desired{Ports: make([]shm.PortSpec, max(o.Ports, int(o.Egress)+1)), Services: []shm.ServiceSpec{s}}, nil
}
