package main

import (
	"fmt"
	"net"
	"net/netip"

	"tenbin/control/maglev"
	"tenbin/control/shm"
)

// ServiceOpts describe the one service the benchmarks publish: a VIP matching flowgen's
// capture, n backends with static MACs behind the egress port.
type ServiceOpts struct {
	Mode     string
	VIP      string
	Port     uint16
	Proto    uint8
	Backends int
	Egress   uint8
	Ports    int
}

var modes = map[string]shm.Mode{"l2dsr": shm.ModeL2DSR, "l3dsr": shm.ModeL3DSR}

// Desired builds the config set for o; extra adds one more backend, which moves about
// 1/(n+1) of the lookup table (the change the publish-under-load step alternates).
func (o ServiceOpts) Desired(extra int) (*shm.Desired, error) {
	mode, ok := modes[o.Mode]
	if !ok {
		return nil, fmt.Errorf("%w: mode %q (want l2dsr or l3dsr)", errUsage, o.Mode)
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
	return &shm.Desired{
		Ports: make([]shm.PortSpec, max(o.Ports, int(o.Egress)+1)),
		Services: []shm.ServiceSpec{{
			Name: "bench", VIP: vip, Proto: o.Proto, Port: o.Port, Mode: mode, DSCP: 34,
			HashFields: shm.HashAll, TimeoutS: [shm.TimeoutMax]uint32{60, 900, 120, 300},
			Backends: bes, LUT: lut,
		}},
	}, nil
}
