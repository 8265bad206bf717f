package dataplane

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"slices"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"tenbin/control/shm"
)

// Drop reasons no packet through tenbin_process can produce, and where they come from.
var dropsNotFromProcess = map[string]string{
	"tx_full":     "the mbuf adapter, when a port refuses a burst",
	"nat_no_port": "the NAT issue's port allocator",
	"mtu":         "an adapter that leaves less headroom than TENBIN_MIN_HEADROOM",
}

// l3 is the offset of the IP header of an untagged frame.
const l3 = 14

func fixIPv4Csum(f []byte) []byte {
	ihl := int(f[l3]&0xf) * 4
	f[l3+10], f[l3+11] = 0, 0
	binary.BigEndian.PutUint16(f[l3+10:], ^ipv4HeaderSum(f[l3:l3+ihl]))
	return f
}

func mutate(f []byte, fn func([]byte)) []byte { fn(f); return f }

// badCsum breaks an untagged IPv4 frame's header checksum.
func badCsum(f []byte) { f[l3+10] ^= 0xff }

func dropFixtures() []fixture {
	synL2 := func() []byte {
		return build(ether(macClient, macPort0), ip4(client4, vipL2v4), tcp(41000, 80, "S"))
	}
	echoL2 := func() []byte {
		return build(ether(macClient, macPort0), ip4(client4, vipL2v4),
			&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(8, 0), Id: 1, Seq: 1}, payload("ping"))
	}
	withProto := func(ip *layers.IPv4, p layers.IPProtocol) *layers.IPv4 { ip.Protocol = p; return ip }
	lldp := ether(macClient, macPort0)
	lldp[0].(*layers.Ethernet).EthernetType = layers.EthernetTypeLinkLayerDiscovery
	ttl1 := withTOS(ip4(client4, vipL3v4), 0, 1)
	laterFrag := ip4(client4, vipL2v4)
	laterFrag.Protocol, laterFrag.FragOffset = layers.IPProtocolTCP, 3
	unreach := build(ether(macRouter, macPort0), ip4(router4, vipL2v4),
		&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(3, 4)},
		gopacket.Payload(build(ether(macRS1, macClient), ip4(vipL2v4, client4), tcp(80, 49999, "SA"))[14:14+28]))

	return []fixture{
		{name: "bad_eth", in: []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, drop: "bad_eth"},
		{name: "bad_vlan", in: build(ether(macClient, macPort0, 1, 2, 3), ip4(client4, vipL2v4), tcp(1, 80, "S")), drop: "bad_vlan"},
		{name: "bad_arp", in: mutate(arpRequest(client4, macClient, vipL2v4), func(f []byte) { f[l3+5] = 6 }), drop: "bad_arp"},
		{name: "bad_ip_len/v4", in: mutate(synL2(), func(f []byte) { binary.BigEndian.PutUint16(f[l3+2:], 1000) }), drop: "bad_ip_len"},
		{name: "bad_ip_len/v6", in: mutate(build(ether(macClient, macPort0), ip6(client6, vipL2v6), tcp(1, 80, "S")),
			func(f []byte) { binary.BigEndian.PutUint16(f[l3+4:], 1000) }), drop: "bad_ip_len"},
		{name: "bad_ip_version", in: mutate(synL2(), func(f []byte) { f[l3] = 0x55 }), drop: "bad_ip_version"},
		// verified only where the dataplane answers or keeps NAT state (TestDSRForwardsBadIPv4Checksum)
		{name: "bad_ip_csum/echo", in: mutate(echoL2(), badCsum), drop: "bad_ip_csum"},
		{name: "bad_ip_csum/nat", in: mutate(build(ether(macClient, macPort0), ip4(client4, vipNATv4), tcp(1, 80, "S")), badCsum),
			drop: "bad_ip_csum"},
		{name: "bad_ip_options", in: fixIPv4Csum(mutate(build(ether(macClient, macPort0), func() *layers.IPv4 {
			ip := ip4(client4, vipL2v4)
			ip.Options = []layers.IPv4Option{{OptionType: 148, OptionLength: 4, OptionData: []byte{0, 0}}}
			return ip
		}(), tcp(1, 80, "S")), func(f []byte) { f[l3+21] = 8 })), drop: "bad_ip_options"},
		{name: "bad_ipv6_ext", in: build(ether(macClient, macPort0), ip6(client6, vipL2v6),
			&rawExt{proto: layers.IPProtocolIPv6Destination, b: []byte{0, 0, 1, 4, 0, 0, 0, 0}},
			&rawExt{proto: layers.IPProtocolIPv6HopByHop, b: []byte{6, 0, 1, 4, 0, 0, 0, 0}}, tcp(1, 80, "S")), drop: "bad_ipv6_ext"},
		{name: "bad_l4", in: mutate(synL2(), func(f []byte) { f[l3+20+12] = 0x40 }), drop: "bad_l4"},
		{name: "bad_icmp", in: build(ether(macClient, macPort0), withProto(ip4(client4, vipL2v4), layers.IPProtocolICMPv4), payload("abcd")), drop: "bad_icmp"},
		{name: "unsupported_proto", in: build(ether(macClient, macPort0), withProto(ip4(client4, vipL2v4), layers.IPProtocolGRE), payload("gre!")), drop: "unsupported_proto"},
		{name: "non_ip", in: build(lldp, payload("lldp frame")), drop: "non_ip"},
		{name: "no_vip", in: build(ether(macClient, macPort0), ip4(client4, port0v4), tcp(1, 22, "S")), drop: "no_vip"},
		{name: "no_vip/port", in: build(ether(macClient, macPort0), ip4(client4, vipL2v4), tcp(1, 443, "S")), drop: "no_vip"},
		{name: "no_backend", in: build(ether(macClient, macPort0), ip4(client4, vipEmptyv4), tcp(1, 80, "S")), drop: "no_backend"},
		{name: "no_neigh", in: build(ether(macClient, macPort0), ip4(client4, vipUnresv4), tcp(1, 80, "S")), drop: "no_neigh",
			counters: map[string]uint64{"flow_new": 1}},
		{name: "ttl_exceeded", in: build(ether(macClient, macPort0), ttl1, tcp(2, 80, "S")), drop: "ttl_exceeded",
			setup: func(e *env) { e.h.SetICMPTokens(0) }},
		{name: "fragment", in: build(ether(macClient, macPort0), laterFrag, payload("later fragment bytes")), drop: "fragment"},
		// only a SYN opens a nat connection: an ACK without one has no state
		{name: "nat_no_state", in: build(ether(macClient, macPort0), ip4(client4, vipNATv4), tcp(1, 80, "A")), drop: "nat_no_state"},
		{name: "icmp_err_no_flow", in: unreach, drop: "icmp_err_no_flow"},
		{name: "not_for_us/arp", in: arpRequest(client4, macClient, mustAddr("198.18.0.77")), drop: "not_for_us"},
		{name: "not_for_us/arp-wrong-port", in: arpRequest(client4, macClient, vipL2v4), inPort: 1, drop: "not_for_us"},
		{name: "not_for_us/ns", in: nsFrame(client6, macClient, mustAddr("2001:db8::77")), drop: "not_for_us"},
		{name: "not_for_us/echo-not-answered", in: build(ether(macClient, macPort0), ip4(client4, vipEmptyv4),
			&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(8, 0), Id: 1, Seq: 1}, payload("ping")), drop: "not_for_us"},
		// last: its setup publishes a SYN guard on nat4 (a share of 1 per lcore) and fills it
		{name: "syn_guard", in: build(ether(macClient, macPort0), ip4(client4, vipNATv4), tcp(8, 80, "S")), drop: "syn_guard",
			counters: map[string]uint64{"syn_guard": 1}, setup: func(e *env) {
				e.publish(withHalfOpenCap(topology(), "nat4", 2))
				e.process(build(ether(macClient, macPort0), ip4(client4, vipNATv4), tcp(7, 80, "S")), 0)
			}},
	}
}

func TestDrops(t *testing.T) {
	e := newEnv(t, topology())
	runFixtures(t, e, dropFixtures())
	t.Run("no_config", func(t *testing.T) {
		runFixture(t, newEnv(t, nil), fixture{in: build(ether(macClient, macPort0), ip4(client4, vipL2v4), tcp(1, 80, "S")), drop: "no_config"})
	})
}

// TestDSRForwardsBadIPv4Checksum: l2dsr and l3dsr pass TCP/UDP on without verifying the
// IPv4 header checksum; the real server's stack verifies it, and l3dsr's incremental update
// keeps a bad checksum bad, so the server still drops what was corrupted.
func TestDSRForwardsBadIPv4Checksum(t *testing.T) {
	e := newEnv(t, topology())
	for _, tc := range []struct {
		name string
		vip  netip.Addr
	}{{"l2dsr", vipL2v4}, {"l3dsr", vipL3v4}} {
		t.Run(tc.name, func(t *testing.T) {
			in := mutate(build(ether(macClient, macPort0), ip4(client4, tc.vip), tcp(41001, 80, "S")), badCsum)
			got := e.process(slices.Clone(in), 0)
			if got.Verdict != VerdictTX {
				t.Fatalf("verdict %v %q, want tx", got.Verdict, got.Drop)
			}
			if ip := got.Out[l3 : l3+20]; ipv4HeaderSum(ip) == 0xffff {
				t.Errorf("IPv4 header checksum holds after forwarding a corrupted one: % x", ip)
			}
			if tc.name == "l2dsr" && !bytes.Equal(got.Out[l3:], in[l3:]) {
				t.Errorf("l2dsr changed the IP packet:\n in % x\nout % x", in[l3:], got.Out[l3:])
			}
		})
	}
}

// ipv4HeaderSum is the ones' complement sum of an IPv4 header: 0xffff when its checksum holds.
func ipv4HeaderSum(ip []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(ip); i += 2 {
		s += uint32(binary.BigEndian.Uint16(ip[i:]))
	}
	for s > 0xffff {
		s = s&0xffff + s>>16
	}
	return uint16(s)
}

// TestEveryDropReasonHasAFixture keeps the table complete as reasons are added.
func TestEveryDropReasonHasAFixture(t *testing.T) {
	covered := map[string]bool{"no_config": true}
	for _, f := range dropFixtures() {
		covered[f.drop] = true
	}
	for _, name := range shm.DropReasonNames {
		if !covered[name] && dropsNotFromProcess[name] == "" {
			t.Errorf("drop reason %q has no fixture", name)
		}
	}
}

func TestDropNamesMatchShm(t *testing.T) {
	if got := DropNames(); !slices.Equal(got, shm.DropReasonNames) {
		t.Errorf("C tenbin_drop_names = %q\nshm.DropReasonNames = %q", got, shm.DropReasonNames)
	}
}
