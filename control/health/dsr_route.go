//go:build linux

package health

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
)

// dsrRoute is how one DSR-path probe leaves this host. It is looked up
// before every probe, from the namespace the control plane runs in, so it
// follows route, address and neighbour changes without a restart.
type dsrRoute struct {
	src    netip.Addr       // the SYN's source address
	ifc    *net.Interface   // l2dsr: the interface on the backends' segment
	dstMAC net.HardwareAddr // l2dsr: the real server's MAC
}

var (
	errNotOnLink   = errors.New("backend is not on a directly connected network")
	errNoNeighbour = errors.New("backend's MAC is not known")
)

// route finds the source address and, for l2dsr, the interface toward the
// backend (the one `ip route get BACKEND` names) and the backend's MAC (the
// configured one, else the neighbour entry the plain check's connection just
// refreshed). Target.Iface, if set, names the l2dsr interface instead.
func (c *dsrChecker) route() (dsrRoute, error) {
	t := &c.target
	var rt dsrRoute
	var routeSrc netip.Addr
	switch {
	case t.Mode == ModeL2DSR && t.Iface != "":
		ifc, err := net.InterfaceByName(t.Iface)
		if err != nil {
			return rt, fmt.Errorf("interface %s: %w", t.Iface, err)
		}
		rt.ifc = ifc
	default:
		routes, err := netlink.RouteGet(t.Addr.AsSlice())
		if err != nil || len(routes) == 0 {
			return rt, fmt.Errorf("route to %s: %w", t.Addr, errors.Join(err, errNoRoute(len(routes))))
		}
		r := routes[0]
		routeSrc, _ = netip.AddrFromSlice(r.Src)
		routeSrc = routeSrc.Unmap()
		if c.target.Mode == ModeL2DSR {
			ifc, err := net.InterfaceByIndex(r.LinkIndex)
			if err != nil {
				return rt, fmt.Errorf("route to %s: interface %d: %w", t.Addr, r.LinkIndex, err)
			}
			if r.Gw != nil {
				return rt, &dsrHint{errNotOnLink, fmt.Sprintf("backend %s is reached via gateway %s on %s, not on a directly connected segment: an l2dsr DSR path needs the backends' L2 segment",
					t.Addr, r.Gw, ifc.Name)}
			}
			rt.ifc = ifc
		}
	}
	switch {
	case c.source.IsValid():
		rt.src = c.source
	case routeSrc.IsValid():
		rt.src = routeSrc
	case rt.ifc != nil:
		src, err := ifaceAddr(rt.ifc, t.Addr.Is6())
		if err != nil {
			return rt, err
		}
		rt.src = src
	default:
		return rt, fmt.Errorf("route to %s: no source address", t.Addr)
	}
	if c.target.Mode != ModeL2DSR {
		return rt, nil
	}
	if len(t.MAC) == 6 {
		rt.dstMAC = t.MAC
		return rt, nil
	}
	mac, err := neighbourMAC(rt.ifc, t.Addr)
	if err != nil {
		return rt, err
	}
	rt.dstMAC = mac
	return rt, nil
}

func errNoRoute(n int) error {
	if n == 0 {
		return errors.New("no route")
	}
	return nil
}

// ifaceAddr is an address of the family on ifc to probe from; a global one
// before a link-local one.
func ifaceAddr(ifc *net.Interface, v6 bool) (netip.Addr, error) {
	addrs, err := ifc.Addrs()
	if err != nil {
		return netip.Addr{}, fmt.Errorf("interface %s: %w", ifc.Name, err)
	}
	var linkLocal netip.Addr
	for _, a := range addrs {
		p, err := netip.ParsePrefix(a.String())
		if err != nil || p.Addr().Is6() != v6 {
			continue
		}
		if !p.Addr().IsLinkLocalUnicast() {
			return p.Addr(), nil
		}
		linkLocal = p.Addr()
	}
	if linkLocal.IsValid() {
		return linkLocal, nil
	}
	return netip.Addr{}, fmt.Errorf("interface %s has no %s address to probe from", ifc.Name, familyName(v6))
}

// neighbourMAC is addr's MAC in the kernel's ARP/NDP table on ifc.
func neighbourMAC(ifc *net.Interface, addr netip.Addr) (net.HardwareAddr, error) {
	family := netlink.FAMILY_V4
	if addr.Is6() {
		family = netlink.FAMILY_V6
	}
	neighs, err := netlink.NeighList(ifc.Index, family)
	if err != nil {
		return nil, fmt.Errorf("neighbours on %s: %w", ifc.Name, err)
	}
	for _, n := range neighs {
		ip, ok := netip.AddrFromSlice(n.IP)
		if !ok || ip.Unmap() != addr || len(n.HardwareAddr) != 6 || n.State&(netlink.NUD_INCOMPLETE|netlink.NUD_FAILED) != 0 {
			continue
		}
		return n.HardwareAddr, nil
	}
	return nil, &dsrHint{errNoNeighbour, fmt.Sprintf("no ARP/NDP entry for %s on %s — give the backend a mac: in the configuration",
		addr, ifc.Name)}
}

func familyName(v6 bool) string {
	if v6 {
		return "IPv6"
	}
	return "IPv4"
}
