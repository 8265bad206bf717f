package dataplane

import (
	"testing"

	"github.com/google/gopacket/layers"
)

func icmp4(typ, code uint8, mtu uint16) *layers.ICMPv4 {
	return &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(typ, code), Seq: mtu}
}

func icmp6(typ, code uint8) *layers.ICMPv6 {
	return &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(typ, code)}
}

// quote4 is what an ICMPv4 error quotes of frame: the IP header and 8 bytes.
func quote4(frame []byte) string { return string(frame[14 : 14+20+8]) }

// quote6 is a whole IPv6 packet after the ICMPv6 error's 4 unused bytes.
func quote6(frame []byte) string { return "\x00\x00\x00\x00" + string(frame[14:]) }

// TestNATICMPTranslation: errors about a connection are rewritten inside (the quoted
// header) and outside (addresses, TTL), in both directions, so that whoever receives one
// recognises a packet it sent.
func TestNATICMPTranslation(t *testing.T) {
	e := newEnv(t, natTopology())
	for _, syn := range [][]byte{
		toVIP(client4, vipNAT4, tcp(44000, 80, "S")),
		toVIP(client4, vipNAT4, udp(44001, 53), payload("query")),
		toVIP(client6, vipFNAT6, tcp(44002, 80, "S")),
	} {
		if r := e.process(syn, 0); r.Verdict != VerdictTX {
			t.Fatalf("opening: %v %s", r.Verdict, r.Drop)
		}
	}
	// What each side sent, as the other side's error quotes it. The quote keeps the TTL it
	// was quoted with: only addresses and ports go back.
	replyAsClientSaw := build(ether(macPort0, macClient), ipFor(vipNAT4, client4, 63), tcp(80, 44000, "SA"))
	replyAsServerSent := build(ether(macRS1, macPort0), ipFor(rs1v4, client4, 63), tcp(rsPort, 44000, "SA"))
	synAsServerGot := build(ether(macPort0, macRS1), ipFor(client4, rs1v4, 63), tcp(44000, rsPort, "S"))
	synAsClientSent := build(ether(macClient, macPort0), ipFor(client4, vipNAT4, 63), tcp(44000, 80, "S"))
	udpAsServerGot := build(ether(macPort0, macRS1), ipFor(client4, rs1v4, 63), udp(44001, rsPort), payload("query"))
	udpAsClientSent := build(ether(macClient, macPort0), ipFor(client4, vipNAT4, 63), udp(44001, 53), payload("query"))
	syn6AsServerGot := build(ether(macPort0, macRS2), ipFor(local6, rs2v6, 63), tcp(firstPort, rsPort, "S"))
	syn6AsClientSent := build(ether(macClient, macPort0), ipFor(client6, vipFNAT6, 63), tcp(44002, 80, "S"))

	runFixtures(t, e, []fixture{{
		name:     "v4/client-side-frag-needed-to-the-backend",
		in:       build(ether(macClient, macPort0), ipFor(client4, vipNAT4, 64), icmp4(3, 4, 1400), payload(quote4(replyAsClientSaw))),
		want:     build(ether(macPort0, macRS1), ipFor(client4, rs1v4, 63), icmp4(3, 4, 1400), payload(quote4(replyAsServerSent))),
		counters: map[string]uint64{"nat_icmp_translated": 1},
	}, {
		name:     "v4/server-side-unreachable-to-the-client",
		in:       build(ether(macRS1, macPort0), ipFor(rs1v4, client4, 64), icmp4(3, 3, 0), payload(quote4(synAsServerGot))),
		want:     build(ether(macPort0, macClient), ipFor(vipNAT4, client4, 63), icmp4(3, 3, 0), payload(quote4(synAsClientSent))),
		counters: map[string]uint64{"nat_icmp_translated": 1},
	}, {
		name: "v4/udp-quote-checksum-follows",
		in:   build(ether(macRS1, macPort0), ipFor(rs1v4, client4, 64), icmp4(3, 3, 0), payload(quote4(udpAsServerGot))),
		want: build(ether(macPort0, macClient), ipFor(vipNAT4, client4, 63), icmp4(3, 3, 0), payload(quote4(udpAsClientSent))),
	}, {
		name:     "v6/fnat-server-side-packet-too-big-to-the-client",
		in:       build(ether(macRS2, macPort0), ipFor(rs2v6, local6, 64), icmp6(2, 0), payload(quote6(syn6AsServerGot))),
		want:     build(ether(macPort0, macClient), ipFor(vipFNAT6, client6, 63), icmp6(2, 0), payload(quote6(syn6AsClientSent))),
		counters: map[string]uint64{"nat_icmp_translated": 1},
	}, {
		name: "v4/error-about-no-connection",
		in:   build(ether(macRS1, macPort0), ipFor(rs1v4, client4, 64), icmp4(3, 3, 0), payload(quote4(build(ether(macPort0, macRS1), ipFor(client4, rs1v4, 63), tcp(44999, rsPort, "S"))))),
		drop: "no_vip",
	}})
}
