package main

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// Errors from Config.validate.
var ErrConfig = errors.New("invalid flow mix")

// Frame sizes are on-the-wire Ethernet lengths including the 4-byte FCS, as RFC 2544 and
// IMIX count them; the capture holds each frame without its FCS (a 64-byte frame is 60
// bytes in the pcap), which is what a NIC hands to DPDK.
const fcsLen = 4

// startTime stamps the first frame: fixed, not the wall clock, so the same flags always
// write the same bytes (replay ignores timestamps).
var startTime = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// imix is the simple IMIX: 64, 594 and 1518-byte frames in the ratio 7:4:1.
var imix = []int{64, 64, 64, 64, 64, 64, 64, 594, 594, 594, 594, 1518}

// Config describes one flow mix.
type Config struct {
	Flows   int        // distinct TCP 4-tuples toward the VIP
	Packets int        // frames in the capture; 0 = one round of every flow and size
	Size    int        // frame size in bytes with FCS; 0 = IMIX
	VIP     netip.Addr // destination address (IPv4 or IPv6 selects the family)
	Port    uint16     // destination port
	DstMAC  net.HardwareAddr
	SrcMAC  net.HardwareAddr
	SYN     bool // every segment a SYN (new flows) instead of ACK (established flows)
	Seed    uint64
}

// DefaultConfig is 1024 flows of 64-byte frames toward 198.18.0.100:80.
func DefaultConfig() Config {
	return Config{
		Flows:  1024,
		Size:   64,
		VIP:    netip.MustParseAddr("198.18.0.100"),
		Port:   80,
		DstMAC: net.HardwareAddr{0x02, 0, 0, 0, 0, 0x02},
		SrcMAC: net.HardwareAddr{0x02, 0, 0, 0, 0, 0x01},
		Seed:   1,
	}
}

// minFrame is the smallest frame (with FCS) that holds Ethernet, IP and TCP headers.
func (c Config) minFrame() int {
	ip := 20
	if c.VIP.Is6() {
		ip = 40
	}
	return max(64, 14+ip+20+fcsLen)
}

func (c Config) validate() error {
	switch {
	case c.Flows < 1 || c.Flows > 1<<24:
		return fmt.Errorf("%w: flows %d not in 1..%d", ErrConfig, c.Flows, 1<<24)
	case c.Packets < 0:
		return fmt.Errorf("%w: packets %d", ErrConfig, c.Packets)
	case c.Size != 0 && (c.Size < 64 || c.Size > 1518):
		return fmt.Errorf("%w: size %d not in 64..1518 (0 = imix)", ErrConfig, c.Size)
	case !c.VIP.IsValid():
		return fmt.Errorf("%w: no VIP", ErrConfig)
	case len(c.DstMAC) != 6 || len(c.SrcMAC) != 6:
		return fmt.Errorf("%w: MAC addresses must have 6 bytes", ErrConfig)
	}
	return nil
}

// sizes is the repeating sequence of frame sizes (with FCS), raised to the family's minimum.
func (c Config) sizes() []int {
	seq := []int{c.Size}
	if c.Size == 0 {
		seq = imix
	}
	out := make([]int, len(seq))
	for i, s := range seq {
		out[i] = max(s, c.minFrame())
	}
	return out
}

// packets is the capture length: by default the smallest count that sends every flow and
// every size of the sequence equally often.
func (c Config) packets() int {
	if c.Packets > 0 {
		return c.Packets
	}
	return lcm(c.Flows, len(c.sizes()))
}

func lcm(a, b int) int {
	x, y := a, b
	for y != 0 {
		x, y = y, x%y
	}
	return a / x * b
}

// flow is one client endpoint; the server side is the VIP.
type flow struct {
	src     netip.Addr
	srcPort uint16
}

// clients draws c.Flows distinct client endpoints from 198.18.1.0–198.18.255.255 (IPv4) or
// 2001:db8:1::/64 (IPv6), never the VIP, deterministically from c.Seed.
func (c Config) clients() []flow {
	rng := rand.New(rand.NewPCG(c.Seed, 0x7465_6e62_696e)) // "tenbin"
	seen := make(map[flow]bool, c.Flows)
	out := make([]flow, 0, c.Flows)
	for len(out) < c.Flows {
		var a netip.Addr
		if c.VIP.Is4() {
			v := uint32(198)<<24 | uint32(18)<<16 | (256 + rng.Uint32N(65536-256))
			a = netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
		} else {
			b := netip.MustParseAddr("2001:db8:1::").As16()
			lo := rng.Uint64()
			for i := range 8 {
				b[8+i] = byte(lo >> (56 - 8*i))
			}
			a = netip.AddrFrom16(b)
		}
		f := flow{a, uint16(1024 + rng.IntN(65536-1024))}
		if a == c.VIP || seen[f] {
			continue
		}
		seen[f] = true
		out = append(out, f)
	}
	return out
}

// Write writes the flow mix as a pcap (Ethernet, microsecond timestamps) to w and returns
// the number of frames written. Packet i belongs to flow i mod Flows and has size
// sizes[i mod len(sizes)], so every flow and every size recur evenly.
func Write(w io.Writer, c Config) (int, error) {
	if err := c.validate(); err != nil {
		return 0, err
	}
	pw := pcapgo.NewWriter(w)
	if err := pw.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		return 0, fmt.Errorf("pcap header: %w", err)
	}
	flows, sizes, n := c.clients(), c.sizes(), c.packets()
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	seq := uint32(c.Seed)
	for i := range n {
		f := flows[i%len(flows)]
		frame := sizes[i%len(sizes)] - fcsLen
		if err := c.frame(buf, opts, f, frame, seq+uint32(i)); err != nil {
			return i, err
		}
		data := buf.Bytes()
		ci := gopacket.CaptureInfo{Timestamp: startTime.Add(time.Duration(i) * time.Microsecond), CaptureLength: len(data), Length: len(data)}
		if err := pw.WritePacket(ci, data); err != nil {
			return i, fmt.Errorf("pcap packet %d: %w", i, err)
		}
	}
	return n, nil
}

// frame serialises one TCP segment of flow f padded to frame bytes (without FCS).
func (c Config) frame(buf gopacket.SerializeBuffer, opts gopacket.SerializeOptions, f flow, frame int, seq uint32) error {
	eth := &layers.Ethernet{SrcMAC: c.SrcMAC, DstMAC: c.DstMAC, EthernetType: layers.EthernetTypeIPv4}
	tcp := &layers.TCP{SrcPort: layers.TCPPort(f.srcPort), DstPort: layers.TCPPort(c.Port), Seq: seq, Window: 65535}
	if c.SYN {
		tcp.SYN = true
	} else {
		tcp.ACK, tcp.Ack = true, 1
	}
	var ip gopacket.SerializableLayer
	hdr := 14 + 20 + 20
	if c.VIP.Is4() {
		v4 := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, Flags: layers.IPv4DontFragment,
			SrcIP: f.src.AsSlice(), DstIP: c.VIP.AsSlice()}
		_ = tcp.SetNetworkLayerForChecksum(v4)
		ip = v4
	} else {
		eth.EthernetType = layers.EthernetTypeIPv6
		v6 := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolTCP, SrcIP: f.src.AsSlice(), DstIP: c.VIP.AsSlice()}
		_ = tcp.SetNetworkLayerForChecksum(v6)
		ip = v6
		hdr += 20
	}
	payload := make(gopacket.Payload, frame-hdr)
	if err := gopacket.SerializeLayers(buf, opts, eth, ip, tcp, payload); err != nil {
		return fmt.Errorf("serialise: %w", err)
	}
	return nil
}
