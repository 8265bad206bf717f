package dataplane

import (
	"net/netip"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"tenbin/control/shm"
)

func TestARPAndNDP(t *testing.T) {
	e := newEnv(t, topology())
	runFixtures(t, e, []fixture{{
		name:     "arp/vip",
		in:       arpRequest(client4, macClient, vipL2v4),
		want:     build(ether(macPort0, macClient), arp(layers.ARPReply, macPort0, vipL2v4, macClient, client4)),
		counters: map[string]uint64{"arp_replies": 1},
	}, {
		name: "arp/port-address",
		in:   arpRequest(client4, macClient, port0v4),
		want: build(ether(macPort0, macClient), arp(layers.ARPReply, macPort0, port0v4, macClient, client4)),
	}, {
		name: "arp/tagged",
		in:   arpRequest(client4, macClient, vipL3v4, 100),
		want: build(ether(macPort0, macClient, 100), arp(layers.ARPReply, macPort0, vipL3v4, macClient, client4)),
	}, {
		name:     "ndp/vip",
		in:       nsFrame(client6, macClient, vipL2v6),
		want:     naReply(vipL2v6, macPort0, client6, macClient),
		counters: map[string]uint64{"ndp_replies": 1},
	}, {
		name: "ndp/port-address/tagged",
		in:   nsFrame(client6, macClient, port0v6, 100),
		want: naReply(port0v6, macPort0, client6, macClient, 100),
	}, {
		name:     "arp/learn-reply",
		in:       arpReply(router4, mustMAC("02:00:00:00:0f:fe"), port0v4, macPort0),
		verdict:  VerdictKernel,
		counters: map[string]uint64{"neigh_updates": 1},
	}, {
		name:     "ndp/learn-advertisement",
		in:       naFrame(router6, mustMAC("02:00:00:00:6f:fe"), port0v6, macPort0),
		verdict:  VerdictKernel,
		counters: map[string]uint64{"neigh_updates": 1},
	}, {
		name: "l3dsr-uses-the-learned-mac",
		in:   build(ether(macClient, macPort0), ip4(client4, vipL3v4), tcp(44000, 80, "S")),
		want: build(ether(macPort0, mustMAC("02:00:00:00:0f:fe")), withTOS(ip4(client4, rsL3v4), dscpL3<<2, 63), tcp(44000, 80, "S")),
	}, {
		name: "l3dsr-v6-uses-the-learned-mac",
		in:   build(ether(macClient, macPort0), ip6(client6, vipL3v6), tcp(44000, 80, "S")),
		want: build(ether(macPort0, mustMAC("02:00:00:00:6f:fe")), withTC(ip6(client6, rsL3v6), dscpL3<<2, 63), tcp(44000, 80, "S")),
	}})
}

func TestNeighbourRequests(t *testing.T) {
	d := topology()
	d.Services = append(d.Services, svc("unres6", mustAddr("2001:db8:1::60"), 6, 80, shm.ModeL3DSR,
		routedBE(mustAddr("2001:db8:3::21"), mustAddr("2001:db8::fd"))))
	e := newEnv(t, d)
	reqs := e.h.NeighRequests(e.now)
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2 (the unresolved v4 and v6 next hops): %v", len(reqs), reqs)
	}
	for _, r := range reqs {
		if r.Port != 0 {
			t.Errorf("request on port %d, want 0", r.Port)
		}
		if err := checksumsHold(r.Frame); err != nil {
			t.Error(err)
		}
		p := gopacket.NewPacket(r.Frame, layers.LayerTypeEthernet, gopacket.Default)
		if a, ok := p.Layer(layers.LayerTypeARP).(*layers.ARP); ok {
			if a.Operation != layers.ARPRequest || netip.AddrFrom4([4]byte(a.DstProtAddress)) != mustAddr("198.18.0.253") ||
				netip.AddrFrom4([4]byte(a.SourceProtAddress)) != port0v4 {
				t.Errorf("ARP request: %v", gopacket.LayerString(a))
			}
		} else if ns, ok := p.Layer(layers.LayerTypeICMPv6NeighborSolicitation).(*layers.ICMPv6NeighborSolicitation); ok {
			ip := p.Layer(layers.LayerTypeIPv6).(*layers.IPv6)
			g, gm := solicitedNode(mustAddr("2001:db8::fd"))
			if !ns.TargetAddress.Equal(mustAddr("2001:db8::fd").AsSlice()) || !ip.DstIP.Equal(g.AsSlice()) ||
				!ip.SrcIP.Equal(port0v6.AsSlice()) || ip.HopLimit != 255 || p.LinkLayer().LinkFlow().Dst().String() != gm.String() {
				t.Errorf("neighbour solicitation: %v %v", gopacket.LayerString(ip), gopacket.LayerString(ns))
			}
		} else {
			t.Errorf("not a request: %v", p)
		}
	}
	if n := len(e.h.NeighRequests(e.now + 300)); n != 0 {
		t.Errorf("%d requests again after 300 ms, want none before the retry interval", n)
	}
	if n := len(e.h.NeighRequests(e.now + 1300)); n != 2 {
		t.Errorf("%d requests after the retry interval, want 2", n)
	}
	// The learned routers are asked again once their entries are older than the refresh.
	if n := len(e.h.NeighRequests(e.now + 31_000)); n != 4 {
		t.Errorf("%d requests after the refresh interval, want 4", n)
	}
}

func TestICMPEcho(t *testing.T) {
	e := newEnv(t, topology())
	echo4 := func(src, dst netip.Addr, typ uint8) *layers.ICMPv4 {
		return &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(typ, 0), Id: 7, Seq: 9}
	}
	reply4 := ip4(vipL2v4, client4)
	echo6 := func(typ uint8) []gopacket.SerializableLayer {
		return []gopacket.SerializableLayer{&layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(typ, 0)},
			&layers.ICMPv6Echo{Identifier: 7, SeqNumber: 9}}
	}
	runFixtures(t, e, []fixture{{
		name:     "v4",
		in:       build(ether(macClient, macPort0), withTOS(ip4(client4, vipL2v4), 0, 50), echo4(client4, vipL2v4, 8), payload("ping!")),
		want:     build(ether(macPort0, macClient), reply4, echo4(vipL2v4, client4, 0), payload("ping!")),
		counters: map[string]uint64{"icmp_echo_replies": 1},
	}, {
		name: "v6/tagged",
		in:   build(ether(macClient, macPort0, 100), withTC(ip6(client6, vipL2v6), 0, 50), echo6(128), payload("ping!")),
		want: build(ether(macPort0, macClient, 100), ip6(vipL2v6, client6), echo6(129), payload("ping!")),
	}})
}

func TestTTLExceededAnswersTheClient(t *testing.T) {
	e := newEnv(t, topology())
	in4 := build(ether(macClient, macPort0), withTOS(ip4(client4, vipL3v4), 0, 1), tcp(45000, 80, "S"), payload("data"))
	te4 := ip4(port0v4, client4)
	te4.TOS, te4.Id = 0xc0, 0
	in6 := build(ether(macClient, macPort0, 100), withTC(ip6(client6, vipL3v6), 0, 1), tcp(45000, 80, "S"), payload("data"))
	te6 := ip6(port0v6, client6)
	te6.FlowLabel = 0
	runFixtures(t, e, []fixture{{
		name: "v4",
		in:   in4,
		want: build(ether(macPort0, macClient), te4, &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(11, 0)},
			payload(string(in4[14:14+20+8]))),
	}, {
		name: "v6",
		in:   in6,
		want: build(ether(macPort0, macClient, 100), te6, &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(3, 0)},
			payload("\x00\x00\x00\x00"+string(in6[18:]))),
	}})
}

func TestICMPErrorSteering(t *testing.T) {
	e := newEnv(t, topology())
	macs := poolFlows(t, e, 42000, 1, "S")
	be := []string{macRS1.String(), macRS2.String(), macRS3.String()}[macs[42000]]

	// The backend answered from the VIP; a router on the way back says "fragmentation needed".
	quoted4 := build(ether(macRS1, macClient), ip4(vipPoolv4, client4), tcp(80, 42000, "SA"))[14 : 14+28]
	fragNeeded := build(ether(macRouter, macPort0), ip4(router4, vipPoolv4),
		&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(3, 4), Seq: 1400}, payload(string(quoted4)))
	r := e.process(fragNeeded, 0)
	if r.Verdict != VerdictTX {
		t.Fatalf("frag-needed: %v %s", r.Verdict, r.Drop)
	}
	want := append([]byte(nil), fragNeeded...)
	copy(want, mustMAC(be))
	copy(want[6:], macPort0)
	if d := diffFrames(want, r.Out); d != "" {
		t.Errorf("frag-needed not steered unchanged to the flow's backend %s:\n%s", be, d)
	}

	// IPv6 packet too big to an l3dsr VIP: rewritten like the flow's packets, ICMPv6
	// checksum updated for the new destination.
	e.process(build(ether(macClient, macPort0), ip6(client6, vipL3v6), tcp(42000, 80, "S")), 0)
	quoted6 := build(ether(macRS1, macClient), ip6(vipL3v6, client6), tcp(80, 42000, "SA"))[14:]
	ptb := func(dst netip.Addr, hop, tc uint8) []any {
		return []any{withTC(ip6(router6, dst), tc, hop), &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(2, 0)},
			payload("\x00\x00\x05\x28" + string(quoted6))}
	}
	runFixtures(t, e, []fixture{{
		name:     "v6/packet-too-big",
		in:       build(append([]any{ether(macRouter6, macPort0)}, ptb(vipL3v6, 64, 0)...)...),
		want:     build(append([]any{ether(macPort0, macRouter6)}, ptb(rsL3v6, 63, dscpL3<<2)...)...),
		counters: map[string]uint64{"icmp_errors_steered": 1},
	}})

	// RSS may deliver the error to another lcore than the flow's: it is found there too.
	h1, err := NewHarness(e.region, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer h1.Close()
	if r := h1.Process(build(ether(macClient, macPort0), ip4(client4, vipL2v4), tcp(43000, 80, "S")), 0, e.now); r.Verdict != VerdictTX {
		t.Fatalf("flow on slot 1: %v %s", r.Verdict, r.Drop)
	}
	quoted := build(ether(macRS1, macClient), ip4(vipL2v4, client4), tcp(80, 43000, "SA"))[14 : 14+28]
	unreach := build(ether(macRouter, macPort0), ip4(router4, vipL2v4),
		&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(3, 1)}, payload(string(quoted)))
	if r := e.process(unreach, 0); r.Verdict != VerdictTX || backendOf(r.Out, macRS1) != 0 {
		t.Errorf("error for a flow of another lcore: %v %s", r.Verdict, r.Drop)
	}
}
