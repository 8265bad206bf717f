package dataplane

import (
	"net"
	"net/netip"

	"github.com/google/gopacket/layers"
)

// Frames of the L2/L3 duties (ARP, NDP), shared by fixtures and the environment.

func arp(op uint16, srcMAC net.HardwareAddr, srcIP netip.Addr, dstMAC net.HardwareAddr, dstIP netip.Addr) *layers.ARP {
	return &layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6,
		ProtAddressSize: 4, Operation: op, SourceHwAddress: srcMAC, SourceProtAddress: srcIP.AsSlice(),
		DstHwAddress: dstMAC, DstProtAddress: dstIP.AsSlice()}
}

var (
	bcastMAC = mustMAC("ff:ff:ff:ff:ff:ff")
	zeroMAC  = mustMAC("00:00:00:00:00:00")
)

func arpRequest(from netip.Addr, fromMAC net.HardwareAddr, target netip.Addr, tags ...uint16) []byte {
	return build(ether(fromMAC, bcastMAC, tags...), arp(layers.ARPRequest, fromMAC, from, zeroMAC, target))
}

func arpReply(from netip.Addr, fromMAC net.HardwareAddr, to netip.Addr, toMAC net.HardwareAddr) []byte {
	return build(ether(fromMAC, toMAC), arp(layers.ARPReply, fromMAC, from, toMAC, to))
}

// solicitedNode is the multicast group and MAC a neighbour solicitation for a goes to.
func solicitedNode(a netip.Addr) (netip.Addr, net.HardwareAddr) {
	b := a.As16()
	g := netip.AddrFrom16([16]byte{0xff, 0x02, 11: 1, 12: 0xff, 13: b[13], 14: b[14], 15: b[15]})
	return g, net.HardwareAddr{0x33, 0x33, 0xff, b[13], b[14], b[15]}
}

func ndOpt(typ layers.ICMPv6Opt, mac net.HardwareAddr) layers.ICMPv6Options {
	return layers.ICMPv6Options{{Type: typ, Data: mac}}
}

func nsFrame(from netip.Addr, fromMAC net.HardwareAddr, target netip.Addr, tags ...uint16) []byte {
	g, gm := solicitedNode(target)
	ip := ip6(from, g)
	ip.HopLimit = 255
	ip.FlowLabel = 0
	return build(ether(fromMAC, gm, tags...), ip,
		&layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(layers.ICMPv6TypeNeighborSolicitation, 0)},
		&layers.ICMPv6NeighborSolicitation{TargetAddress: target.AsSlice(),
			Options: ndOpt(layers.ICMPv6OptSourceAddress, fromMAC)})
}

func naFrame(from netip.Addr, fromMAC net.HardwareAddr, to netip.Addr, toMAC net.HardwareAddr) []byte {
	ip := ip6(from, to)
	ip.HopLimit = 255
	ip.FlowLabel = 0
	return build(ether(fromMAC, toMAC), ip,
		&layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(layers.ICMPv6TypeNeighborAdvertisement, 0)},
		&layers.ICMPv6NeighborAdvertisement{Flags: 0x60, TargetAddress: from.AsSlice(),
			Options: ndOpt(layers.ICMPv6OptTargetAddress, fromMAC)})
}

// naReply is the advertisement the dataplane must answer a solicitation for target with.
func naReply(target netip.Addr, ourMAC net.HardwareAddr, to netip.Addr, toMAC net.HardwareAddr, tags ...uint16) []byte {
	ip := ip6(target, to)
	ip.HopLimit = 255
	ip.FlowLabel = 0
	return build(ether(ourMAC, toMAC, tags...), ip,
		&layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(layers.ICMPv6TypeNeighborAdvertisement, 0)},
		&layers.ICMPv6NeighborAdvertisement{Flags: 0x60, TargetAddress: target.AsSlice(),
			Options: ndOpt(layers.ICMPv6OptTargetAddress, ourMAC)})
}
