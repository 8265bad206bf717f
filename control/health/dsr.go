//go:build linux

package health

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"golang.org/x/sys/unix"
)

// dsrChecker runs the plain check and then sends a TCP SYN the way the
// dataplane forwards data: to the real server's IP with the service's DSCP
// (l3dsr), or to the VIP in a frame addressed to the real server's MAC
// (l2dsr). A real server that is set up right answers from the VIP, straight
// back to us; our kernel has no socket for that answer and resets it, which
// also tidies up the server's half-open connection.
//
// The SYN is written whole on a raw socket and the answer is read from a raw
// IPPROTO_TCP socket, which sees a copy of every TCP packet the host
// receives; both need CAP_NET_RAW. IPv4 only for now.
type dsrChecker struct {
	plain  Checker
	target Target
	source netip.Addr
	port   uint16 // VIP port; DSR never rewrites ports
}

// dsrReplyTimeout bounds the wait for the SYN-ACK when ctx has no deadline.
const dsrReplyTimeout = time.Second

func newDSRChecker(plain Checker, spec Spec, t Target) (Checker, error) {
	if !t.VIP.Is4() || !t.Addr.Is4() || (spec.Source.IsValid() && !spec.Source.Is4()) {
		return nil, fmt.Errorf("%s: %w for IPv6 yet", t.Key(), ErrDSRUnsupported)
	}
	switch t.Mode {
	case ModeL3DSR:
		if t.DSCP > 63 {
			return nil, fmt.Errorf("%s: %w: DSCP %d is over 63", t.Key(), ErrInvalidSpec, t.DSCP)
		}
	case ModeL2DSR:
		if len(t.MAC) != 6 || t.Iface == "" {
			return nil, fmt.Errorf("%s: %w: l2dsr needs the backend's MAC and the interface to reach it", t.Key(), ErrInvalidSpec)
		}
	}
	port := t.VIPPort
	if port == 0 {
		port = t.Port
	}
	return &dsrChecker{plain: plain, target: t, source: spec.Source, port: port}, nil
}

func (c *dsrChecker) Check(ctx context.Context) Result {
	res := c.plain.Check(ctx)
	if !res.Up {
		res.Detail = "plain check failed: " + res.Detail
		return res
	}
	start := time.Now()
	if err := c.probe(ctx); err != nil {
		var hint *dsrHint
		detail := err.Error()
		if errors.As(err, &hint) {
			detail = hint.detail
		}
		return failed(res.RTT, fmt.Errorf("%s: %w: %w", c.target.Key(), ErrDSRPath, err),
			"plain check passed, DSR path failed: "+detail)
	}
	res.Detail += fmt.Sprintf("; DSR path ok (SYN-ACK from VIP in %v)", time.Since(start).Round(time.Microsecond))
	return res
}

// dsrHint is a DSR-path failure with what the operator should look at.
type dsrHint struct {
	err    error
	detail string
}

func (h *dsrHint) Error() string { return h.err.Error() }
func (h *dsrHint) Unwrap() error { return h.err }

var (
	errNoSynAck  = errors.New("no SYN-ACK from the VIP")
	errWrongAddr = errors.New("answer came from the real server's own address")
	errRefused   = errors.New("VIP refused the connection")
)

func (c *dsrChecker) probe(ctx context.Context) error {
	src, err := c.sourceAddr()
	if err != nil {
		return err
	}
	// Hold the source port for the probe's lifetime so no real
	// connection can be given it; a bound socket that does not listen
	// still makes the kernel answer the SYN-ACK with a reset.
	hold, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("reserve port: %w", err)
	}
	defer unix.Close(hold)
	if err := unix.Bind(hold, &unix.SockaddrInet4{Addr: src.As4()}); err != nil {
		return fmt.Errorf("reserve port: %w", err)
	}
	sa, err := unix.Getsockname(hold)
	if err != nil {
		return fmt.Errorf("reserve port: %w", err)
	}
	sport := uint16(sa.(*unix.SockaddrInet4).Port)

	rx, err := unix.Socket(unix.AF_INET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_TCP)
	if err != nil {
		return fmt.Errorf("raw tcp socket: %w", err)
	}
	defer unix.Close(rx)

	seq := rand.Uint32()
	if err := c.sendSyn(src, sport, seq); err != nil {
		return err
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(dsrReplyTimeout)
	}
	return c.awaitSynAck(rx, sport, seq, deadline)
}

// sourceAddr is the address the SYN leaves from: the spec's, else the one
// the kernel would use toward the backend (l3dsr) or the interface's (l2dsr).
func (c *dsrChecker) sourceAddr() (netip.Addr, error) {
	if c.source.IsValid() {
		return c.source, nil
	}
	if c.target.Mode == ModeL2DSR {
		ifc, err := net.InterfaceByName(c.target.Iface)
		if err != nil {
			return netip.Addr{}, fmt.Errorf("interface %s: %w", c.target.Iface, err)
		}
		addrs, err := ifc.Addrs()
		if err != nil {
			return netip.Addr{}, fmt.Errorf("interface %s: %w", c.target.Iface, err)
		}
		for _, a := range addrs {
			if p, err := netip.ParsePrefix(a.String()); err == nil && p.Addr().Is4() {
				return p.Addr(), nil
			}
		}
		return netip.Addr{}, fmt.Errorf("interface %s has no IPv4 address to probe from", c.target.Iface)
	}
	// Connecting a UDP socket sends nothing; it only asks for the route.
	conn, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(c.target.Addr, c.port)))
	if err != nil {
		return netip.Addr{}, fmt.Errorf("route to %s: %w", c.target.Addr, err)
	}
	defer conn.Close()
	return conn.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap(), nil
}

func (c *dsrChecker) sendSyn(src netip.Addr, sport uint16, seq uint32) error {
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: src.AsSlice(), Id: uint16(seq)}
	tcp := &layers.TCP{SrcPort: layers.TCPPort(sport), DstPort: layers.TCPPort(c.port), Seq: seq, SYN: true, Window: 65535,
		Options: []layers.TCPOption{{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: []byte{0x05, 0xb4}}}}
	if c.target.Mode == ModeL3DSR {
		ip.DstIP = c.target.Addr.AsSlice()
		ip.TOS = c.target.DSCP << 2
	} else {
		ip.DstIP = c.target.VIP.AsSlice()
	}
	if err := tcp.SetNetworkLayerForChecksum(ip); err != nil {
		return fmt.Errorf("build SYN: %w", err)
	}
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	buf := gopacket.NewSerializeBuffer()

	if c.target.Mode == ModeL3DSR {
		if err := gopacket.SerializeLayers(buf, opts, ip, tcp); err != nil {
			return fmt.Errorf("build SYN: %w", err)
		}
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_RAW)
		if err != nil {
			return fmt.Errorf("raw ip socket: %w", err)
		}
		defer unix.Close(fd)
		if err := unix.Sendto(fd, buf.Bytes(), 0, &unix.SockaddrInet4{Addr: c.target.Addr.As4()}); err != nil {
			return fmt.Errorf("send SYN to %s: %w", c.target.Addr, err)
		}
		return nil
	}

	ifc, err := net.InterfaceByName(c.target.Iface)
	if err != nil {
		return fmt.Errorf("interface %s: %w", c.target.Iface, err)
	}
	eth := &layers.Ethernet{SrcMAC: ifc.HardwareAddr, DstMAC: c.target.MAC, EthernetType: layers.EthernetTypeIPv4}
	if err := gopacket.SerializeLayers(buf, opts, eth, ip, tcp); err != nil {
		return fmt.Errorf("build SYN: %w", err)
	}
	// Protocol 0: this socket only sends.
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("packet socket: %w", err)
	}
	defer unix.Close(fd)
	ll := &unix.SockaddrLinklayer{Ifindex: ifc.Index, Protocol: htons(unix.ETH_P_IP), Halen: 6}
	copy(ll.Addr[:], c.target.MAC)
	if err := unix.Sendto(fd, buf.Bytes(), 0, ll); err != nil {
		return fmt.Errorf("send SYN to %s on %s: %w", c.target.MAC, c.target.Iface, err)
	}
	return nil
}

func htons(v uint16) uint16 {
	var b [2]byte
	binary.BigEndian.PutUint16(b[:], v)
	return binary.NativeEndian.Uint16(b[:])
}

// awaitSynAck reads TCP packets until the VIP's SYN-ACK to our port, a
// reset, or the deadline.
func (c *dsrChecker) awaitSynAck(fd int, sport uint16, seq uint32, deadline time.Time) error {
	var (
		ip      layers.IPv4
		tcp     layers.TCP
		decoded []gopacket.LayerType
		buf     = make([]byte, 65536)
		wrong   netip.Addr
	)
	parser := gopacket.NewDecodingLayerParser(layers.LayerTypeIPv4, &ip, &tcp)
	parser.IgnoreUnsupported = true
	vip := c.target.VIP.As4()
	for {
		wait := time.Until(deadline)
		if wait <= 0 {
			return c.noAnswer(wrong)
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
		m, _, err := unix.Recvfrom(fd, buf, unix.MSG_DONTWAIT)
		if err != nil {
			if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
				continue
			}
			return fmt.Errorf("read: %w", err)
		}
		if err := parser.DecodeLayers(buf[:m], &decoded); err != nil || len(decoded) < 2 {
			continue
		}
		if uint16(tcp.DstPort) != sport || uint16(tcp.SrcPort) != c.port || tcp.Ack != seq+1 {
			continue
		}
		from, _ := netip.AddrFromSlice(ip.SrcIP)
		if from.As4() != vip {
			// Probably the server answering from its own address:
			// keep waiting in case the VIP's answer follows.
			wrong = from
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

func (c *dsrChecker) noAnswer(wrong netip.Addr) error {
	vip := netip.AddrPortFrom(c.target.VIP, c.port)
	if c.target.Mode == ModeL3DSR {
		if wrong.IsValid() {
			return &dsrHint{errWrongAddr, fmt.Sprintf("answer to DSCP %d came from %s, not from VIP %s — the real server does not map DSCP %d to the VIP: is the DSCP rule installed on the real server?",
				c.target.DSCP, wrong, vip, c.target.DSCP)}
		}
		return &dsrHint{errNoSynAck, fmt.Sprintf("no SYN-ACK from VIP %s via DSCP %d — is the DSCP rule installed on the real server?",
			vip, c.target.DSCP)}
	}
	if wrong.IsValid() {
		return &dsrHint{errWrongAddr, fmt.Sprintf("answer to VIP %s came from %s — does the real server hold the VIP on its loopback?", vip, wrong)}
	}
	return &dsrHint{errNoSynAck, fmt.Sprintf("no SYN-ACK from VIP %s sent to MAC %s on %s — is the VIP on the real server's loopback (and arp_ignore/rp_filter set)?",
		vip, c.target.MAC, c.target.Iface)}
}
