//go:build linux

package health

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"golang.org/x/sys/unix"
)

// sendSyn writes the probe's SYN: l3dsr to the backend's address with the
// DSCP, l2dsr to the VIP in a frame for the backend's MAC.
func (c *dsrChecker) sendSyn(rt dsrRoute, sport uint16, seq uint32) error {
	v6 := rt.src.Is6()
	dst := c.target.VIP
	var dscp uint8
	if c.target.Mode == ModeL3DSR {
		dst, dscp = c.target.Addr, c.target.DSCP
	}
	var ip gopacket.SerializableLayer
	var ipv6 *layers.IPv6
	tcp := &layers.TCP{SrcPort: layers.TCPPort(sport), DstPort: layers.TCPPort(c.port), Seq: seq, SYN: true, Window: 65535,
		Options: []layers.TCPOption{{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: []byte{0x05, 0xb4}}}}
	var err error
	if v6 {
		ipv6 = &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolTCP, TrafficClass: dscp << 2,
			SrcIP: rt.src.AsSlice(), DstIP: dst.AsSlice()}
		ip, err = ipv6, tcp.SetNetworkLayerForChecksum(ipv6)
	} else {
		ipv4 := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, TOS: dscp << 2, Id: uint16(seq),
			SrcIP: rt.src.AsSlice(), DstIP: dst.AsSlice()}
		ip, err = ipv4, tcp.SetNetworkLayerForChecksum(ipv4)
	}
	if err != nil {
		return fmt.Errorf("build SYN: %w", err)
	}
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	buf := gopacket.NewSerializeBuffer()

	switch {
	case c.target.Mode == ModeL3DSR && v6:
		// A raw IPv6 socket takes no IP header: the kernel writes it, with
		// the DSCP from IPV6_TCLASS and the source the socket is bound to
		// (the one the checksum was computed over).
		if err := gopacket.SerializeLayers(buf, opts, tcp); err != nil {
			return fmt.Errorf("build SYN: %w", err)
		}
		fd, err := unix.Socket(unix.AF_INET6, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_TCP)
		if err != nil {
			return fmt.Errorf("raw ipv6 socket: %w", err)
		}
		defer unix.Close(fd)
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_TCLASS, int(dscp)<<2); err != nil {
			return fmt.Errorf("set traffic class: %w", err)
		}
		if err := unix.Bind(fd, sockaddr(rt.src, 0)); err != nil {
			return fmt.Errorf("bind %s: %w", rt.src, err)
		}
		if err := unix.Sendto(fd, buf.Bytes(), 0, sockaddr(dst, 0)); err != nil {
			return fmt.Errorf("send SYN to %s: %w", dst, err)
		}
		return nil
	case c.target.Mode == ModeL3DSR:
		if err := gopacket.SerializeLayers(buf, opts, ip, tcp); err != nil {
			return fmt.Errorf("build SYN: %w", err)
		}
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_RAW)
		if err != nil {
			return fmt.Errorf("raw ip socket: %w", err)
		}
		defer unix.Close(fd)
		if err := unix.Sendto(fd, buf.Bytes(), 0, sockaddr(dst, 0)); err != nil {
			return fmt.Errorf("send SYN to %s: %w", dst, err)
		}
		return nil
	}

	ethType, proto := layers.EthernetTypeIPv4, uint16(unix.ETH_P_IP)
	if v6 {
		ethType, proto = layers.EthernetTypeIPv6, unix.ETH_P_IPV6
	}
	eth := &layers.Ethernet{SrcMAC: rt.ifc.HardwareAddr, DstMAC: rt.dstMAC, EthernetType: ethType}
	if err := gopacket.SerializeLayers(buf, opts, eth, ip, tcp); err != nil {
		return fmt.Errorf("build SYN: %w", err)
	}
	// Protocol 0: this socket only sends.
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("packet socket: %w", err)
	}
	defer unix.Close(fd)
	ll := &unix.SockaddrLinklayer{Ifindex: rt.ifc.Index, Protocol: htons(proto), Halen: 6}
	copy(ll.Addr[:], rt.dstMAC)
	if err := unix.Sendto(fd, buf.Bytes(), 0, ll); err != nil {
		return fmt.Errorf("send SYN to %s on %s: %w", rt.dstMAC, rt.ifc.Name, err)
	}
	return nil
}

// awaitSynAck reads TCP packets until the VIP's SYN-ACK to our port, a
// reset, or the deadline. An IPv4 raw socket reads whole packets; an IPv6
// one reads the TCP segment, the source coming with recvfrom.
func (c *dsrChecker) awaitSynAck(fd int, rt dsrRoute, sport uint16, seq uint32, deadline time.Time) error {
	var (
		ip      layers.IPv4
		tcp     layers.TCP
		decoded []gopacket.LayerType
		buf     = make([]byte, 65536)
		wrong   netip.Addr
	)
	first := layers.LayerTypeIPv4
	if rt.src.Is6() {
		first = layers.LayerTypeTCP
	}
	parser := gopacket.NewDecodingLayerParser(first, &ip, &tcp)
	parser.IgnoreUnsupported = true
	for {
		wait := time.Until(deadline)
		if wait <= 0 {
			return c.noAnswer(rt, wrong)
		}
		n, err := unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, int(wait.Milliseconds())+1)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return fmt.Errorf("poll: %w", err)
		}
		if n == 0 {
			continue
		}
		m, from, err := unix.Recvfrom(fd, buf, unix.MSG_DONTWAIT)
		if err != nil {
			if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
				continue
			}
			return fmt.Errorf("read: %w", err)
		}
		if err := parser.DecodeLayers(buf[:m], &decoded); err != nil || len(decoded) == 0 || decoded[len(decoded)-1] != layers.LayerTypeTCP {
			continue
		}
		if uint16(tcp.DstPort) != sport || uint16(tcp.SrcPort) != c.port || tcp.Ack != seq+1 {
			continue
		}
		var src netip.Addr
		if sa, ok := from.(*unix.SockaddrInet6); ok && rt.src.Is6() {
			src = netip.AddrFrom16(sa.Addr)
		} else {
			src, _ = netip.AddrFromSlice(ip.SrcIP)
		}
		if src.Unmap() != c.target.VIP.Unmap() {
			// Probably the server answering from its own address:
			// keep waiting in case the VIP's answer follows.
			wrong = src.Unmap()
			continue
		}
		switch {
		case tcp.SYN && tcp.ACK:
			return nil
		case tcp.RST:
			return &dsrHint{errRefused, fmt.Sprintf("VIP %s refused the connection (RST) — is the service listening on the VIP?",
				netip.AddrPortFrom(c.target.VIP, c.port))}
		}
	}
}

func family(v6 bool) int {
	if v6 {
		return unix.AF_INET6
	}
	return unix.AF_INET
}

func sockaddr(a netip.Addr, port int) unix.Sockaddr {
	if a.Is4() || a.Is4In6() {
		return &unix.SockaddrInet4{Addr: a.Unmap().As4(), Port: port}
	}
	return &unix.SockaddrInet6{Addr: a.As16(), Port: port}
}

func sockaddrPort(sa unix.Sockaddr) int {
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		return sa.Port
	case *unix.SockaddrInet6:
		return sa.Port
	}
	return 0
}

func htons(v uint16) uint16 {
	var b [2]byte
	binary.BigEndian.PutUint16(b[:], v)
	return binary.NativeEndian.Uint16(b[:])
}
