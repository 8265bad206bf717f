package health

import (
	"fmt"
	"net"
	"net/netip"
)

// Mode values of Target.Mode that have a DSR path to probe.
const (
	ModeL2DSR = "l2dsr"
	ModeL3DSR = "l3dsr"
)

// Target is one backend of one service, as the checks need to know it.
type Target struct {
	Service, Backend string
	Addr             netip.Addr
	Port             uint16
	VIP              netip.Addr
	VIPPort          uint16
	Mode             string // l2dsr, l3dsr, nat, fnat
	DSCP             uint8  // l3dsr: the DSCP that names the VIP
	// l2dsr: the backend's MAC; nil: the kernel's neighbour entry for Addr.
	MAC net.HardwareAddr
	// l2dsr: the interface on the backends' L2 segment; "": the interface of
	// the route to Addr, looked up before each probe.
	Iface string
}

// Key names the target across Monitor.Update calls: the same key keeps its
// state; a new address under the same name is a new target.
func (t *Target) Key() string {
	return fmt.Sprintf("%s/%s/%s", t.Service, t.Backend, netip.AddrPortFrom(t.Addr, t.Port))
}

func (t *Target) String() string { return t.Key() }
