package dataplane

import (
	"encoding/binary"
	"net"
	"net/netip"
	"testing"

	"github.com/google/gopacket/layers"
)

// natStep is one packet of a nat/fnat connection, client or server side, on an lcore slot,
// after ms milliseconds; express: whether the express lane must be the one that sends it.
// frame builds it for the connection as it stands (fnat: the source port of its last SYN).
type natStep struct {
	name    string
	frame   func(l natLeg) []byte
	slot    int
	after   uint64
	express bool
}

// fromClient and fromServer are steps' frames.
func fromClient(flags string, ttl uint8, data string, opts ...layers.TCPOption) func(natLeg) []byte {
	return func(l natLeg) []byte { return l.client(flags, ttl, data, opts...) }
}

func fromServer(flags string, ttl uint8, data string, opts ...layers.TCPOption) func(natLeg) []byte {
	return func(l natLeg) []byte { return l.server(flags, ttl, data, opts...) }
}

// natLeg builds a connection's frames: the client's to the VIP, and the server's replies,
// which for fnat go to the local address and the source port the SYN was given.
type natLeg struct {
	vip    netip.Addr
	rs     netip.Addr
	rsMAC  net.HardwareAddr
	to     netip.Addr // the reply's destination: client4 (nat) or local4 (fnat)
	udp    bool
	cport  uint16
	lport  uint16 // the reply's destination port: cport (nat) or the fnat source port
	tagged bool   // the client's frames carry VLAN 100
}

func (l natLeg) client(flags string, ttl uint8, data string, opts ...layers.TCPOption) []byte {
	var tags []uint16
	if l.tagged {
		tags = []uint16{100}
	}
	ls := []any{ether(macClient, macPort0, tags...), ipFor(client4, l.vip, ttl)}
	if l.udp {
		ls = append(ls, udp(l.cport, 53))
	} else {
		ls = append(ls, tcpOpt(l.cport, 80, flags, opts...))
	}
	if data != "" {
		ls = append(ls, payload(data))
	}
	return build(ls...)
}

func (l natLeg) server(flags string, ttl uint8, data string, opts ...layers.TCPOption) []byte {
	ls := []any{ether(l.rsMAC, macPort0), ipFor(l.rs, l.to, ttl)}
	if l.udp {
		ls = append(ls, udp(rsPort, l.lport))
	} else {
		ls = append(ls, tcpOpt(rsPort, l.lport, flags, opts...))
	}
	if data != "" {
		ls = append(ls, payload(data))
	}
	return build(ls...)
}

// withBadCsum is f with its IPv4 header checksum spoilt (untagged frames).
func withBadCsum(f []byte) []byte {
	badCsum(f)
	return f
}

// withoutUDPCsum is the untagged IPv4 UDP frame f with checksum 0 ("none", RFC 768): it
// must stay 0 through every rewrite.
func withoutUDPCsum(f []byte) []byte {
	f[14+20+6], f[14+20+7] = 0, 0
	return f
}

// natConnection is a whole connection of leg: handshake (with the server's SYN-ACK on
// synackSlot), data both ways, replies on both lcores, near misses (TTL 1, a bad IPv4
// header checksum, a client packet on the lcore that does not own the connection), FIN
// both ways, a late ACK, then a new SYN on the closed tuple and RSTs. The fnat source port
// is the one the SYN was given (learned by run as the steps go).
func natConnection(l natLeg, toa bool) []natStep {
	data := !l.udp
	handshakeExpress := !l.tagged && !toa // TOA goes on the handshake's ACK, general path
	steps := []natStep{
		{name: "syn", frame: fromClient("S", 64, "", mssOpt(1460))},
	}
	if data {
		// a client that sends before the server answered: tracked, nothing changes
		steps = append(steps,
			natStep{name: "ack-before-the-syn-ack", frame: fromClient("A", 64, "early"), after: 5, express: handshakeExpress},
			natStep{name: "ack-before-the-syn-ack-2s", frame: fromClient("A", 64, "early"), after: 2000, express: handshakeExpress},
		)
	}
	steps = append(steps, []natStep{
		{name: "syn-ack", frame: fromServer("SA", 64, "", mssOpt(1460)), slot: 1, after: 5},
		{name: "handshake-ack", frame: fromClient("A", 64, "GET /"), after: 5, express: handshakeExpress},
		{name: "client-data", frame: fromClient("PA", 64, "more"), after: 5, express: !l.tagged},
		{name: "server-data", frame: fromServer("PA", 64, "HTTP/1.0 200 OK"), after: 5, express: !l.tagged},
		{name: "server-data-other-lcore", frame: fromServer("A", 64, "body"), slot: 1, after: 5, express: !l.tagged},
		{name: "client-ttl-1", frame: fromClient("A", 1, "x"), after: 5},
		{name: "server-ttl-1", frame: fromServer("A", 1, "x"), after: 5},
		{name: "client-on-other-lcore", frame: fromClient("A", 64, "y"), slot: 1, after: 5},
		{name: "client-after-2s", frame: fromClient("A", 64, "z"), after: 2000, express: !l.tagged},
	}...)
	if !l.tagged {
		steps = append(steps,
			natStep{name: "client-bad-ip-csum", frame: func(l natLeg) []byte { return withBadCsum(l.client("A", 64, "x")) }, after: 5},
			natStep{name: "server-bad-ip-csum", frame: func(l natLeg) []byte { return withBadCsum(l.server("A", 64, "x")) }, after: 5},
		)
	}
	if !data && !l.tagged {
		steps = append(steps,
			natStep{name: "client-udp-no-csum", frame: func(l natLeg) []byte { return withoutUDPCsum(l.client("", 64, "n")) }, after: 5, express: true},
			natStep{name: "server-udp-no-csum", frame: func(l natLeg) []byte { return withoutUDPCsum(l.server("", 64, "n")) }, after: 5, express: true},
		)
	}
	if !data {
		return append(steps, natStep{name: "after-the-udp-timeout", frame: fromClient("", 64, "late"), after: 400_000})
	}
	return append(steps,
		natStep{name: "client-fin", frame: fromClient("FA", 64, ""), after: 5, express: !l.tagged},
		natStep{name: "server-ack", frame: fromServer("A", 64, ""), after: 5, express: !l.tagged},
		natStep{name: "server-fin-other-lcore", frame: fromServer("FA", 64, ""), slot: 1, after: 5, express: !l.tagged},
		natStep{name: "last-ack", frame: fromClient("A", 64, ""), after: 5, express: !l.tagged},
		natStep{name: "syn-on-the-closed-tuple", frame: fromClient("S", 64, ""), after: 5},
		natStep{name: "syn-ack-again", frame: fromServer("SA", 64, ""), after: 5},
		natStep{name: "server-rst", frame: fromServer("R", 64, ""), after: 5, express: !l.tagged},
		natStep{name: "client-rst", frame: fromClient("R", 64, ""), after: 5, express: handshakeExpress}, // no TOA ACK yet
		natStep{name: "after-the-close-timeout", frame: fromClient("A", 64, ""), after: 10_001},
	)
}

// runNAT runs steps through p, comparing every frame, both slots' counters, flow tables
// and hops after each step, and checks which steps the express lane sent.
func runNAT(t *testing.T, p pairedEnvs, l natLeg, steps []natStep) {
	t.Helper()
	now := tNow
	for _, s := range steps {
		now += s.after
		before := p.expressSent()
		r := p.runOn(t, s.slot, s.frame(l), 0, now)
		p.same(t)
		if sent := p.expressSent() - before; (sent == 1) != s.express {
			t.Errorf("%s: express lane sent %d frames (result %v %s), want express=%v", s.name, sent, r.Verdict, r.Drop, s.express)
		}
		if l.to != client4 && !l.udp && r.Verdict == VerdictTX && r.OutPort == 0 && len(r.Out) > 14+20+4 &&
			s.slot == 0 && r.Out[14+20+13]&0x12 == 0x02 {
			// fnat: the replies that follow go to the source port this SYN was given
			l.lport = binary.BigEndian.Uint16(r.Out[14+20:])
		}
	}
}

// TestExpressLaneAgreesThroughNATConnections: nat and fnat connections, TCP and UDP, from
// SYN to RST, with replies on both lcores: every frame, verdict, counter (both slots), flow
// entry and nat hop is what the general path leaves, and the express lane sends the
// established connection's packets both ways. It leaves the handshake, TTL 1, bad
// checksums, tagged clients (their replies leave tagged) and TOA's handshake ACK alone.
func TestExpressLaneAgreesThroughNATConnections(t *testing.T) {
	for _, c := range []struct {
		name string
		leg  natLeg
		toa  bool
	}{
		{"nat", natLeg{vip: vipNAT4, rs: rs1v4, rsMAC: macRS1, to: client4, cport: 44000, lport: 44000}, false},
		{"fnat", natLeg{vip: vipFNAT4, rs: rs2v4, rsMAC: macRS2, to: local4, cport: 44001, lport: firstPort}, false},
		{"nat-udp", natLeg{vip: vipNAT4, rs: rs1v4, rsMAC: macRS1, to: client4, udp: true, cport: 44002, lport: 44002}, false},
		// client address option and MSS clamp: the SYN and the handshake's ACK go general
		{"fnat-toa", natLeg{vip: vipTOA4, rs: rs1v4, rsMAC: macRS1, to: local4, cport: 44003, lport: firstPort}, true},
		{"nat-tagged-client", natLeg{vip: vipNAT4, rs: rs1v4, rsMAC: macRS1, to: client4, cport: 44004, lport: 44004, tagged: true}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := newPairedEnvsFor(t, natTopology)
			steps := natConnection(c.leg, c.toa)
			if c.leg.udp { // a datagram opens; the server's first reply is no SYN-ACK
				steps[0].frame = fromClient("", 64, "query")
				steps[1] = natStep{name: "first-answer-other-lcore", frame: fromServer("", 64, "answer"), slot: 1, after: 5, express: true}
			}
			runNAT(t, p, c.leg, steps)
			if p.expressSent() == 0 && !c.leg.tagged {
				t.Error("the express lane sent nothing")
			}
		})
	}
}

// natFuzzSetup opens three connections on slot 0 (nat TCP, fnat TCP with source port
// firstPort, nat UDP), each answered by its server, so fuzzed frames meet live state.
func natFuzzSetup() [][]byte {
	nat := natLeg{vip: vipNAT4, rs: rs1v4, rsMAC: macRS1, to: client4, cport: 45000, lport: 45000}
	fnat := natLeg{vip: vipFNAT4, rs: rs2v4, rsMAC: macRS2, to: local4, cport: 45001, lport: firstPort}
	dns := natLeg{vip: vipNAT4, rs: rs1v4, rsMAC: macRS1, to: client4, udp: true, cport: 45002, lport: 45002}
	return [][]byte{
		nat.client("S", 64, ""), nat.server("SA", 64, ""),
		fnat.client("S", 64, ""), fnat.server("SA", 64, ""),
		dns.client("", 64, "q"), dns.server("", 64, "a"),
	}
}

// natFuzzSeeds are frames of the connections natFuzzSetup opens, both directions, and of
// one it does not know.
func natFuzzSeeds() [][]byte {
	nat := natLeg{vip: vipNAT4, rs: rs1v4, rsMAC: macRS1, to: client4, cport: 45000, lport: 45000}
	fnat := natLeg{vip: vipFNAT4, rs: rs2v4, rsMAC: macRS2, to: local4, cport: 45001, lport: firstPort}
	dns := natLeg{vip: vipNAT4, rs: rs1v4, rsMAC: macRS1, to: client4, udp: true, cport: 45002, lport: 45002}
	unknown := natLeg{vip: vipFNAT4, rs: rs2v4, rsMAC: macRS2, to: local4, cport: 45003, lport: firstPort + 2}
	var out [][]byte
	for _, l := range []natLeg{nat, fnat} {
		out = append(out, l.client("A", 64, "data"), l.server("PA", 64, "data"), l.client("FA", 64, ""),
			l.server("R", 64, ""), l.client("S", 64, ""), l.server("A", 1, ""), withBadCsum(l.client("A", 64, "")))
	}
	return append(out, dns.client("", 64, "q2"), dns.server("", 64, "a2"), unknown.client("A", 64, ""),
		unknown.server("A", 64, ""))
}

// FuzzExpressNATMatchesGeneral: with three nat/fnat connections open, for any two frames a
// and b the sequence a a b b a a, on the lcore slots the input picks and with the clock
// passing the FIN and then every timeout, leaves the same frames, verdicts, counters, flow
// tables and hops of both slots through the express lane as through the general path.
// Run: go test ./dataplane -run '^$' -fuzz FuzzExpressNATMatchesGeneral -fuzztime 20s
func FuzzExpressNATMatchesGeneral(f *testing.F) {
	seeds := natFuzzSeeds()
	for i, a := range seeds {
		f.Add(a, seeds[(i+3)%len(seeds)], uint8(i))
	}
	setup := natFuzzSetup()
	p := newPairedEnvsFor(f, natTopology)
	f.Fuzz(func(t *testing.T, a, b []byte, slots uint8) {
		p.reset(t)
		for _, frame := range setup {
			if r := p.run(t, frame, 0, tNow); r.Verdict != VerdictTX {
				t.Fatalf("setup: %v %s", r.Verdict, r.Drop)
			}
		}
		for i, step := range []struct {
			frame []byte
			now   uint64
		}{{a, tNow + 1}, {a, tNow + 2}, {b, tNow + 3}, {b, tNow + 4}, {a, tNow + 6_000}, {a, tNow + 3_600_000}} {
			p.runOn(t, int(slots>>i&1), step.frame, 0, step.now)
		}
		p.same(t)
	})
}
