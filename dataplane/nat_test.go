package dataplane

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"tenbin/control/shm"
)

// The nat/fnat lab: VIPs in 198.18.1.5x / 2001:db8:1::5x, real servers on port 0's subnet
// listening on 8080 (port mapping from 80), fnat local addresses on port 0's subnet.
var (
	vipNAT4   = netip.MustParseAddr("198.18.1.50")
	vipFNAT4  = netip.MustParseAddr("198.18.1.51")
	vipSmall4 = netip.MustParseAddr("198.18.1.52")
	vipTOA4   = netip.MustParseAddr("198.18.1.53")
	vipNAT6   = netip.MustParseAddr("2001:db8:1::50")
	vipFNAT6  = netip.MustParseAddr("2001:db8:1::51")
	vipTOA6   = netip.MustParseAddr("2001:db8:1::53")
	local4    = netip.MustParseAddr("198.18.0.200")
	local4b   = netip.MustParseAddr("198.18.0.201")
	local6    = netip.MustParseAddr("2001:db8::200")
	rs2v6     = netip.MustParseAddr("2001:db8::22")
)

const (
	rsPort    = 8080
	finTmoS   = 5
	smallLo   = 2000 // fnat-small: ports 2000..2007; slot 0 of 2 owns 2000, 2002, 2004, 2006
	smallHi   = 2007
	firstPort = 1024 // slot 0's first fnat port in the default range
)

func natBE(addr netip.Addr, mac []byte) shm.BackendSpec {
	b := staticBE(addr, mac)
	b.Port = rsPort
	return b
}

func natSvc(name string, vip netip.Addr, mode shm.Mode, be shm.BackendSpec, locals ...netip.Addr) shm.ServiceSpec {
	s := svc(name, vip, 6, 80, mode, be)
	s.LocalAddrs = locals
	s.TimeoutS[shm.TimeoutTCPFin] = finTmoS
	return s
}

func natTopology() *shm.Desired {
	d := topology()
	d.Services = d.Services[:0:0]
	small := natSvc("fnat4-small", vipSmall4, shm.ModeFNAT, natBE(rs1v4, macRS1), local4)
	small.NATPortLo, small.NATPortHi = smallLo, smallHi
	toa4 := natSvc("fnat4-toa", vipTOA4, shm.ModeFNAT, natBE(rs1v4, macRS1), local4)
	toa4.ClientAddr, toa4.MSSMax = 1, 1400
	toa6 := natSvc("fnat6-toa", vipTOA6, shm.ModeFNAT, natBE(rs1v6, macRS1), local6)
	toa6.ClientAddr = 1
	udp4 := natSvc("nat4-dns", vipNAT4, shm.ModeNAT, natBE(rs1v4, macRS1))
	udp4.Proto, udp4.Port = 17, 53
	d.Services = append(d.Services,
		natSvc("nat4", vipNAT4, shm.ModeNAT, natBE(rs1v4, macRS1)),
		udp4,
		natSvc("fnat4", vipFNAT4, shm.ModeFNAT, natBE(rs2v4, macRS2), local4),
		small, toa4, toa6,
		natSvc("nat6", vipNAT6, shm.ModeNAT, natBE(rs1v6, macRS1)),
		natSvc("fnat6", vipFNAT6, shm.ModeFNAT, natBE(rs2v6, macRS2), local6),
		svc("web4-l2", vipL2v4, 6, 80, shm.ModeL2DSR, staticBE(rs1v4, macRS1)),
		// routed backends make the routers neighbours, which newEnv teaches the dataplane
		svc("web4-l3", vipL3v4, 6, 80, shm.ModeL3DSR, routedBE(rsL3v4, router4)),
		svc("web6-l3", vipL3v6, 6, 80, shm.ModeL3DSR, routedBE(rsL3v6, router6)),
	)
	return d
}

// Frames of the four legs: client → VIP in, → backend out; backend → client|local in,
// VIP → client out. ttl 63 on the way out: nat routes.
func toVIP(src, vip netip.Addr, ls ...gopacket.SerializableLayer) []byte {
	return toVIPTagged(nil, src, vip, ls...)
}

func toVIPTagged(tags []uint16, src, vip netip.Addr, ls ...gopacket.SerializableLayer) []byte {
	all := []any{ether(macClient, macPort0, tags...), ipFor(src, vip, 64)}
	for _, l := range ls {
		all = append(all, l)
	}
	return build(all...)
}

func ipFor(src, dst netip.Addr, ttl uint8) gopacket.SerializableLayer {
	if src.Is4() {
		return withTOS(ip4(src, dst), 0, ttl)
	}
	return withTC(ip6(src, dst), 0, ttl)
}

func tcpOpt(sport, dport uint16, flags string, opts ...layers.TCPOption) *layers.TCP {
	t := tcp(sport, dport, flags)
	t.Options = opts
	return t
}

func mssOpt(v uint16) layers.TCPOption {
	return layers.TCPOption{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: binary.BigEndian.AppendUint16(nil, v)}
}

func toaOpt(client netip.Addr, port uint16) layers.TCPOption {
	data := binary.BigEndian.AppendUint16(nil, port)
	data = append(data, client.AsSlice()...)
	return layers.TCPOption{OptionType: 254, OptionLength: uint8(2 + len(data)), OptionData: data}
}

// serviceIndex finds a service's slot in the active config set.
func serviceIndex(t testing.TB, r *shm.Region, name string) int {
	t.Helper()
	cs := r.ConfigSet(r.ActiveIndex())
	for i := range cs.Services {
		if shm.CString(cs.Services[i].Name[:]) == name {
			return i
		}
	}
	t.Fatalf("no service %q", name)
	return -1
}

func TestNATv4BothDirections(t *testing.T) {
	e := newEnv(t, natTopology())
	runFixtures(t, e, []fixture{{
		name:     "syn/port-mapped",
		in:       toVIP(client4, vipNAT4, tcp(40000, 80, "S")),
		want:     build(ether(macPort0, macRS1), ipFor(client4, rs1v4, 63), tcp(40000, rsPort, "S")),
		counters: map[string]uint64{"flow_new": 1},
	}, {
		name:     "syn-ack/back-to-the-client",
		in:       build(ether(macRS1, macPort0), ipFor(rs1v4, client4, 64), tcp(rsPort, 40000, "SA")),
		want:     build(ether(macPort0, macClient), ipFor(vipNAT4, client4, 63), tcp(80, 40000, "SA")),
		counters: map[string]uint64{"nat_replies": 1, "nat_replies_remote": 0},
	}, {
		name:     "ack/hit",
		in:       toVIP(client4, vipNAT4, tcp(40000, 80, "A"), payload("GET / HTTP/1.0\r\n\r\n")),
		want:     build(ether(macPort0, macRS1), ipFor(client4, rs1v4, 63), tcp(40000, rsPort, "A"), payload("GET / HTTP/1.0\r\n\r\n")),
		counters: map[string]uint64{"flow_hit": 1},
	}, {
		name: "data/reply",
		in:   build(ether(macRS1, macPort0), ipFor(rs1v4, client4, 64), tcp(rsPort, 40000, "PA"), payload("HTTP/1.0 200 OK\r\n")),
		want: build(ether(macPort0, macClient), ipFor(vipNAT4, client4, 63), tcp(80, 40000, "PA"), payload("HTTP/1.0 200 OK\r\n")),
	}, {
		name: "udp/both-ways-no-checksum-stays-zero",
		in:   zeroUDPCsum(toVIP(client4, vipNAT4, udp(5353, 53), payload("query"))),
		want: zeroUDPCsum(build(ether(macPort0, macRS1), ipFor(client4, rs1v4, 63), udp(5353, rsPort), payload("query"))),
	}, {
		name: "udp/reply",
		in:   build(ether(macRS1, macPort0), ipFor(rs1v4, client4, 64), udp(rsPort, 5353), payload("answer")),
		want: build(ether(macPort0, macClient), ipFor(vipNAT4, client4, 63), udp(53, 5353), payload("answer")),
	}, {
		name: "ack-without-connection",
		in:   toVIP(client4, vipNAT4, tcp(40001, 80, "A")),
		drop: "nat_no_state",
	}, {
		name: "reply-without-connection",
		in:   build(ether(macRS1, macPort0), ipFor(rs1v4, client4, 64), tcp(rsPort, 40001, "A")),
		drop: "no_vip",
	}, {
		name: "ttl-1-answered-time-exceeded",
		in:   build(ether(macClient, macPort0), ipFor(client4, vipNAT4, 1), tcp(40002, 80, "S")),
		want: timeExceeded4(build(ether(macClient, macPort0), ipFor(client4, vipNAT4, 1), tcp(40002, 80, "S"))),
	}, {
		name:    "tagged-client-gets-tagged-replies",
		in:      toVIPTagged([]uint16{100}, client4, vipNAT4, tcp(40003, 80, "S")),
		want:    build(ether(macPort0, macRS1), ipFor(client4, rs1v4, 63), tcp(40003, rsPort, "S")),
		outPort: 0,
	}, {
		name: "tagged-client/reply",
		in:   build(ether(macRS1, macPort0), ipFor(rs1v4, client4, 64), tcp(rsPort, 40003, "SA")),
		want: build(ether(macPort0, macClient, 100), ipFor(vipNAT4, client4, 63), tcp(80, 40003, "SA")),
	}})

	si := serviceIndex(t, e.region, "nat4")
	c := e.region.Counters(0)
	if got := c.Service[si][shm.ObjPkts]; got != 3 { // the TTL-1 SYN was answered, not forwarded
		t.Errorf("nat4 client-to-server packets %d, want 3", got)
	}
	if got := c.ServiceReply[si][shm.ReplyPkts]; got != 3 {
		t.Errorf("nat4 server-to-client packets %d, want 3", got)
	}
}

// timeExceeded4 is what the balancer answers a TTL-1 packet with: ICMP time exceeded from
// port 0's address, quoting the IP header and 8 bytes.
func timeExceeded4(in []byte) []byte {
	quote := in[14 : 14+20+8]
	ip := withTOS(ip4(port0v4, client4), 0xc0, 64)
	ip.Id = 0
	return build(ether(macPort0, macClient), ip,
		&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(11, 0)}, gopacket.Payload(quote))
}

func TestNATv6BothDirections(t *testing.T) {
	e := newEnv(t, natTopology())
	runFixtures(t, e, []fixture{{
		name:     "syn",
		in:       toVIP(client6, vipNAT6, tcp(40000, 80, "S")),
		want:     build(ether(macPort0, macRS1), ipFor(client6, rs1v6, 63), tcp(40000, rsPort, "S")),
		counters: map[string]uint64{"flow_new": 1},
	}, {
		name: "syn-ack",
		in:   build(ether(macRS1, macPort0), ipFor(rs1v6, client6, 64), tcp(rsPort, 40000, "SA")),
		want: build(ether(macPort0, macClient), ipFor(vipNAT6, client6, 63), tcp(80, 40000, "SA")),
	}, {
		name:     "fnat/syn",
		in:       toVIP(client6, vipFNAT6, tcp(40000, 80, "S")),
		want:     build(ether(macPort0, macRS2), ipFor(local6, rs2v6, 63), tcp(firstPort, rsPort, "S")),
		counters: map[string]uint64{"flow_new": 1, "nat_port_allocs": 1},
	}, {
		name: "fnat/syn-ack",
		in:   build(ether(macRS2, macPort0), ipFor(rs2v6, local6, 64), tcp(rsPort, firstPort, "SA")),
		want: build(ether(macPort0, macClient), ipFor(vipFNAT6, client6, 63), tcp(80, 40000, "SA")),
	}, {
		name: "fnat/toa-on-syn",
		in:   toVIP(client6, vipTOA6, tcpOpt(40001, 80, "S", mssOpt(1440))),
		want: build(ether(macPort0, macRS1), ipFor(local6, rs1v6, 63),
			tcpOpt(firstPort, rsPort, "S", mssOpt(1440), toaOpt(client6, 40001))),
		counters: map[string]uint64{"toa_added": 1},
	}, {
		name:     "fnat/syn-ack-mss-leaves-room-for-toa",
		in:       build(ether(macRS1, macPort0), ipFor(rs1v6, local6, 64), tcpOpt(rsPort, firstPort, "SA", mssOpt(1440))),
		want:     build(ether(macPort0, macClient), ipFor(vipTOA6, client6, 63), tcpOpt(80, 40001, "SA", mssOpt(1420))),
		counters: map[string]uint64{"mss_clamped": 1},
	}, {
		name: "fnat/toa-on-handshake-ack",
		in:   toVIP(client6, vipTOA6, tcp(40001, 80, "A")),
		want: build(ether(macPort0, macRS1), ipFor(local6, rs1v6, 63),
			tcpOpt(firstPort, rsPort, "A", toaOpt(client6, 40001))),
		counters: map[string]uint64{"toa_added": 1},
	}, {
		name:     "fnat/no-toa-after-the-handshake",
		in:       toVIP(client6, vipTOA6, tcp(40001, 80, "A"), payload("data")),
		want:     build(ether(macPort0, macRS1), ipFor(local6, rs1v6, 63), tcp(firstPort, rsPort, "A"), payload("data")),
		counters: map[string]uint64{"toa_added": 0},
	}})
}

func TestFNATv4(t *testing.T) {
	e := newEnv(t, natTopology())
	runFixtures(t, e, []fixture{{
		name:     "syn/source-is-a-local-address",
		in:       toVIP(client4, vipFNAT4, tcp(40000, 80, "S")),
		want:     build(ether(macPort0, macRS2), ipFor(local4, rs2v4, 63), tcp(firstPort, rsPort, "S")),
		counters: map[string]uint64{"flow_new": 1, "nat_port_allocs": 1},
	}, {
		name:     "second-client-port-gets-the-next-port",
		in:       toVIP(client4, vipFNAT4, tcp(40001, 80, "S")),
		want:     build(ether(macPort0, macRS2), ipFor(local4, rs2v4, 63), tcp(firstPort+2, rsPort, "S")),
		counters: map[string]uint64{"nat_port_allocs": 1},
	}, {
		name:     "syn-ack",
		in:       build(ether(macRS2, macPort0), ipFor(rs2v4, local4, 64), tcp(rsPort, firstPort, "SA")),
		want:     build(ether(macPort0, macClient), ipFor(vipFNAT4, client4, 63), tcp(80, 40000, "SA")),
		counters: map[string]uint64{"nat_replies": 1},
	}, {
		name: "reply-to-a-free-port",
		in:   build(ether(macRS2, macPort0), ipFor(rs2v4, local4, 64), tcp(rsPort, firstPort+4, "A")),
		drop: "nat_no_state",
	}, {
		name: "toa-and-mss-clamp-on-syn",
		in:   toVIP(client4, vipTOA4, tcpOpt(40002, 80, "S", mssOpt(1460))),
		want: build(ether(macPort0, macRS1), ipFor(local4, rs1v4, 63),
			tcpOpt(firstPort, rsPort, "S", mssOpt(1400), toaOpt(client4, 40002))),
		counters: map[string]uint64{"toa_added": 1, "mss_clamped": 1},
	}, {
		name:     "mss-clamp-on-syn-ack",
		in:       build(ether(macRS1, macPort0), ipFor(rs1v4, local4, 64), tcpOpt(rsPort, firstPort, "SA", mssOpt(1460))),
		want:     build(ether(macPort0, macClient), ipFor(vipTOA4, client4, 63), tcpOpt(80, 40002, "SA", mssOpt(1400))),
		counters: map[string]uint64{"mss_clamped": 1},
	}, {
		name: "toa-on-handshake-ack",
		in:   toVIP(client4, vipTOA4, tcp(40002, 80, "A"), payload("GET /")),
		want: build(ether(macPort0, macRS1), ipFor(local4, rs1v4, 63),
			tcpOpt(firstPort, rsPort, "A", toaOpt(client4, 40002)), payload("GET /")),
		counters: map[string]uint64{"toa_added": 1},
	}})
}

// synTo opens a connection from client4:sport to vip and returns the fnat source port.
func synTo(t *testing.T, e *env, vip netip.Addr, sport uint16) (uint16, Result) {
	t.Helper()
	r := e.process(toVIP(client4, vip, tcp(sport, 80, "S")), 0)
	if r.Verdict != VerdictTX {
		return 0, r
	}
	return binary.BigEndian.Uint16(r.Out[14+20:]), r
}

func TestFNATPortAllocationAndRelease(t *testing.T) {
	e := newEnv(t, natTopology())
	// Slot 0 of 2 owns the even ports of 2000..2007: four connections, then the pool is dry.
	var ports []uint16
	for i := range 4 {
		p, r := synTo(t, e, vipSmall4, uint16(41000+i))
		if r.Verdict != VerdictTX {
			t.Fatalf("connection %d: %v %s", i, r.Verdict, r.Drop)
		}
		ports = append(ports, p)
	}
	seen := map[uint16]bool{}
	for _, p := range ports {
		if p < smallLo || p > smallHi || p%2 != 0 || seen[p] {
			t.Errorf("ports %v: want four distinct even ports in %d..%d", ports, smallLo, smallHi)
		}
		seen[p] = true
	}
	before := e.counters()
	if _, r := synTo(t, e, vipSmall4, 41009); r.Drop != "nat_no_port" {
		t.Fatalf("fifth connection: %v %q, want drop nat_no_port", r.Verdict, r.Drop)
	}
	checkDeltas(t, before, e.counters(), map[string]uint64{"drop:nat_no_port": 1, "nat_port_allocs": 0})

	// A retransmitted SYN keeps its port; a RST closes at once, and after the close
	// timeout the port goes to the next connection.
	if p, _ := synTo(t, e, vipSmall4, 41001); p != ports[1] {
		t.Errorf("retransmitted SYN got port %d, want %d", p, ports[1])
	}
	if r := e.process(toVIP(client4, vipSmall4, tcp(41001, 80, "R")), 0); r.Verdict != VerdictTX {
		t.Fatalf("RST: %v %s", r.Verdict, r.Drop)
	}
	if _, r := synTo(t, e, vipSmall4, 41010); r.Drop != "nat_no_port" {
		t.Fatalf("right after the RST: %v %q, want nat_no_port (the tuple lives %d ms more)", r.Verdict, r.Drop, 10000)
	}
	e.now += 10_001
	before = e.counters()
	p, r := synTo(t, e, vipSmall4, 41010)
	if r.Verdict != VerdictTX || p != ports[1] {
		t.Fatalf("after the close timeout: %v %s port %d, want the released port %d", r.Verdict, r.Drop, p, ports[1])
	}
	// (the SYN timeout, 60 s, has not passed: only the closed connection gave its port up)
	checkDeltas(t, before, e.counters(), map[string]uint64{"tx_packets": 1, "nat_port_allocs": 1, "nat_port_frees": 1, "flow_new": 1})
}

func TestNATTeardown(t *testing.T) {
	e := newEnv(t, natTopology())
	handshake := func(sport uint16) {
		t.Helper()
		for _, f := range []struct {
			in     []byte
			inPort int
		}{
			{toVIP(client4, vipFNAT4, tcp(sport, 80, "S")), 0},
		} {
			if r := e.process(f.in, f.inPort); r.Verdict != VerdictTX {
				t.Fatalf("SYN: %v %s", r.Verdict, r.Drop)
			}
		}
	}
	reply := func(lport, cport uint16, flags string) Result {
		return e.process(build(ether(macRS2, macPort0), ipFor(rs2v4, local4, 64), tcp(rsPort, lport, flags)), 0)
	}
	client := func(cport uint16, flags string) Result {
		return e.process(toVIP(client4, vipFNAT4, tcp(cport, 80, flags)), 0)
	}
	flowState := func(cport uint16) uint8 { return forwardState(e.region, 0, cport) }

	t.Run("fin-both-ways", func(t *testing.T) {
		handshake(42000)
		lport := uint16(firstPort)
		steps := []struct {
			r     Result
			state uint8
		}{
			{reply(lport, 42000, "SA"), 5}, // SYN_RECV
			{client(42000, "A"), 2},        // ESTABLISHED
			{client(42000, "FA"), 3},       // FIN_WAIT
			{reply(lport, 42000, "FA"), 6}, // TIME_WAIT
		}
		for i, s := range steps {
			if s.r.Verdict != VerdictTX {
				t.Fatalf("step %d: %v %s", i, s.r.Verdict, s.r.Drop)
			}
		}
		// states are checked at the end: each step's packet went through
		if got := flowState(42000); got != 6 {
			t.Errorf("state after FIN both ways %d, want TIME_WAIT (6)", got)
		}
		e.now += finTmoS*1000 + 1
		if r := reply(lport, 42000, "A"); r.Drop != "nat_no_state" {
			t.Errorf("reply after the FIN timeout: %v %q, want nat_no_state", r.Verdict, r.Drop)
		}
	})
	t.Run("rst-from-server", func(t *testing.T) {
		handshake(42001)
		lport := uint16(firstPort + 2)
		if r := reply(lport, 42001, "R"); r.Verdict != VerdictTX {
			t.Fatalf("RST: %v %s", r.Verdict, r.Drop)
		}
		if got := flowState(42001); got != 7 {
			t.Errorf("state after a RST %d, want CLOSE (7)", got)
		}
		e.now += 10_001
		if r := client(42001, "A"); r.Drop != "nat_no_state" {
			t.Errorf("client after close: %v %q, want nat_no_state", r.Verdict, r.Drop)
		}
		// expiry is lazy: the sweeper frees this pair and the one closed by FINs, with their ports
		before := e.counters()
		if n := e.h.Sweep(e.now, 1024); n != 2 {
			t.Errorf("sweeper freed %d connections, want 2", n)
		}
		checkDeltas(t, before, e.counters(), map[string]uint64{"nat_port_frees": 2})
		for _, f := range e.region.Flows(0) {
			if f.Sig != 0 && f.Flags&1 != 0 && (f.SportBE == htons(42000) || f.SportBE == htons(42001)) {
				t.Errorf("entry of a closed connection left: %+v", f)
			}
		}
	})
	t.Run("new-syn-on-a-closed-tuple-opens-again", func(t *testing.T) {
		handshake(42002)
		if r := client(42002, "R"); r.Verdict != VerdictTX {
			t.Fatal(r.Drop)
		}
		before := e.counters()
		handshake(42002)
		checkDeltas(t, before, e.counters(), map[string]uint64{"tx_packets": 1, "flow_new": 1, "nat_port_frees": 1, "nat_port_allocs": 1})
	})
	t.Run("sweeper-frees-pairs-and-ports", func(t *testing.T) {
		handshake(42003)
		e.now += 61_000 // past the SYN timeout of everything still open
		before := e.counters()
		if n := e.h.Sweep(e.now, 1024); n == 0 {
			t.Error("sweeper freed nothing")
		}
		after := e.counters()
		if after["nat_port_frees"]-before["nat_port_frees"] == 0 {
			t.Error("no port freed by the sweeper")
		}
		if after["nat_port_allocs"] != after["nat_port_frees"] {
			t.Errorf("ports in use after everything expired: %d", after["nat_port_allocs"]-after["nat_port_frees"])
		}
	})
}

func htons(v uint16) uint16 { return v>>8 | v<<8 }

// forwardState is the state of slot's live nat/fnat forward entry for client port cport.
func forwardState(r *shm.Region, slot int, cport uint16) uint8 {
	for _, f := range r.Flows(slot) {
		if f.Sig != 0 && f.SportBE == htons(cport) && f.Flags&1 != 0 && f.Flags&2 == 0 && f.Proto == 6 {
			return f.State
		}
	}
	return 0
}

// TestNATReplyOnAnotherLcore: RSS on the reply's tuple puts it on whichever queue; the
// other lcore finds the owner's state, translates, and counts it as remote.
func TestNATReplyOnAnotherLcore(t *testing.T) {
	e := newEnv(t, natTopology())
	h1, err := NewHarness(e.region, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer h1.Close()
	remote := func() uint64 { return e.region.Counters(1).Global[shm.CtrNATRepliesRemote] }

	for _, c := range []struct {
		name      string
		syn       []byte
		reply     []byte
		wantReply []byte
	}{{
		name:      "nat",
		syn:       toVIP(client4, vipNAT4, tcp(43000, 80, "S")),
		reply:     build(ether(macRS1, macPort0), ipFor(rs1v4, client4, 64), tcp(rsPort, 43000, "SA")),
		wantReply: build(ether(macPort0, macClient), ipFor(vipNAT4, client4, 63), tcp(80, 43000, "SA")),
	}, {
		name:      "fnat",
		syn:       toVIP(client4, vipFNAT4, tcp(43001, 80, "S")),
		reply:     build(ether(macRS2, macPort0), ipFor(rs2v4, local4, 64), tcp(rsPort, firstPort, "SA")),
		wantReply: build(ether(macPort0, macClient), ipFor(vipFNAT4, client4, 63), tcp(80, 43001, "SA")),
	}} {
		t.Run(c.name, func(t *testing.T) {
			if r := e.process(c.syn, 0); r.Verdict != VerdictTX {
				t.Fatalf("SYN on slot 0: %v %s", r.Verdict, r.Drop)
			}
			before := remote()
			r := h1.Process(c.reply, 0, e.now)
			if r.Verdict != VerdictTX {
				t.Fatalf("reply on slot 1: %v %s", r.Verdict, r.Drop)
			}
			if d := diffFrames(c.wantReply, r.Out); d != "" {
				t.Errorf("reply differs:\n%s", d)
			}
			if remote() != before+1 {
				t.Errorf("nat_replies_remote on slot 1 +%d, want +1", remote()-before)
			}
			// the owner's entry learned what the server said (SYN_RECV)
			sport := binary.BigEndian.Uint16(c.syn[14+20:])
			if st := forwardState(e.region, 0, sport); st != 5 {
				t.Errorf("owner's state %d, want SYN_RECV (5)", st)
			}
		})
	}
}

// TestFNATLocalAddressesAnswerARPAndNDP: real servers must resolve the fnat local
// addresses their replies go to.
func TestFNATLocalAddressesAnswerARPAndNDP(t *testing.T) {
	e := newEnv(t, natTopology())
	runFixtures(t, e, []fixture{{
		name:     "arp",
		in:       arpRequest(rs2v4, macRS2, local4),
		want:     arpReply(local4, macPort0, rs2v4, macRS2),
		counters: map[string]uint64{"arp_replies": 1},
	}, {
		name:     "ndp",
		in:       nsFrame(rs2v6, macRS2, local6),
		want:     naReply(local6, macPort0, rs2v6, macRS2),
		counters: map[string]uint64{"ndp_replies": 1},
	}})
}

// fnat rewrites a connection's client packets from its local-address slot in the active
// set, not from the reverse entry: a pool change must leave the slot (and so the
// connection's source address) alone while the connection lives, and the dataplane's
// count of connections per slot is what lets the writer know.
func TestFNATConnectionKeepsItsLocalAddressWhenThePoolChanges(t *testing.T) {
	e := newEnv(t, natTopology())
	src := func(r Result) (netip.Addr, uint16) {
		t.Helper()
		if r.Verdict != VerdictTX || len(r.Out) < 14+20+4 {
			t.Fatalf("%v %s, want TX", r.Verdict, r.Drop)
		}
		return netip.AddrFrom4([4]byte(r.Out[14+12 : 14+16])), binary.BigEndian.Uint16(r.Out[14+20:])
	}
	conns := func() map[netip.Addr]uint64 {
		cs := e.region.ConfigSet(e.region.ActiveIndex())
		out := map[netip.Addr]uint64{}
		for i := range shm.MaxLocalAddrs {
			if n := e.region.Counters(0).LocalConns[i]; n != 0 {
				la := cs.LocalAddrs[i]
				out[netip.AddrFrom4([4]byte(la.Addr[:4]))] += n
			}
		}
		return out
	}
	port, r := synTo(t, e, vipFNAT4, 42000)
	if a, _ := src(r); a != local4 {
		t.Fatalf("SYN left from %s, want %s", a, local4)
	}
	if got := conns(); got[local4] != 1 || len(got) != 1 {
		t.Fatalf("connections per local address %v, want %s: 1", got, local4)
	}

	d := natTopology()
	for i := range d.Services {
		if d.Services[i].Name == "fnat4" {
			d.Services[i].LocalAddrs = []netip.Addr{local4b}
		}
	}
	e.publish(d)
	// The open connection keeps its address and port both ways, on the express lane and on
	// the general path (a retransmitted SYN); a new one takes the new pool.
	for name, r := range map[string]Result{
		"ack (express)":     e.process(toVIP(client4, vipFNAT4, tcp(42000, 80, "A"), payload("x")), 0),
		"ack (general)":     e.h.ProcessGeneral(toVIP(client4, vipFNAT4, tcp(42000, 80, "A"), payload("y")), 0, e.now),
		"retransmitted SYN": e.process(toVIP(client4, vipFNAT4, tcp(42000, 80, "S")), 0),
	} {
		if a, p := src(r); a != local4 || p != port {
			t.Errorf("%s after the pool changed: from %s:%d, want %s:%d", name, a, p, local4, port)
		}
	}
	if _, r := synTo(t, e, vipFNAT4, 42001); r.Verdict != VerdictTX {
		t.Fatalf("new connection: %v %s", r.Verdict, r.Drop)
	} else if a, _ := src(r); a != local4b {
		t.Errorf("new connection from %s, want the new pool's %s", a, local4b)
	}
	reply := build(ether(macRS2, macPort0), ipFor(rs2v4, local4, 64), tcp(rsPort, port, "SA"))
	if r := e.process(reply, 0); r.Verdict != VerdictTX {
		t.Fatalf("reply to the old address: %v %s", r.Verdict, r.Drop)
	}
	if got := conns(); got[local4] != 1 || got[local4b] != 1 {
		t.Fatalf("connections per local address %v, want one each", got)
	}

	// A RST closes the old connection; once its tuple is opened again it is released and
	// the old address holds nothing: the next publish frees its slot.
	if r := e.process(toVIP(client4, vipFNAT4, tcp(42000, 80, "R")), 0); r.Verdict != VerdictTX {
		t.Fatalf("RST: %v %s", r.Verdict, r.Drop)
	}
	e.now += 10_001
	if _, r := synTo(t, e, vipFNAT4, 42000); r.Verdict != VerdictTX {
		t.Fatalf("reopened: %v %s", r.Verdict, r.Drop)
	}
	if got := conns(); got[local4] != 0 || got[local4b] != 2 {
		t.Fatalf("connections per local address %v, want %s: 2 only", got, local4b)
	}
	slotsOf := func(a netip.Addr) int {
		n := 0
		for _, la := range e.region.ConfigSet(e.region.ActiveIndex()).LocalAddrs {
			if la.Family == 4 && netip.AddrFrom4([4]byte(la.Addr[:4])) == a {
				n++
			}
		}
		return n
	}
	// local4 is also in two other services' pools: three slots while fnat4's old one
	// drains, two after.
	if n := slotsOf(local4); n != 3 {
		t.Fatalf("%s holds %d slots before the publish, want 3", local4, n)
	}
	e.publish(d)
	if n := slotsOf(local4); n != 2 {
		t.Fatalf("%s holds %d slots after the publish, want 2: the drained one is free", local4, n)
	}
}
