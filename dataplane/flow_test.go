package dataplane

import (
	"encoding/binary"
	"net"
	"net/netip"
	"testing"

	"github.com/google/gopacket/layers"

	"tenbin/control/shm"
)

var macRS4 = mustMAC("02:00:00:00:00:24")

// poolFlows sends one packet per client port to the pool VIP and returns the backend
// (index into macRS1..macRS4) each flow went to.
func poolFlows(t *testing.T, e *env, from, n int, flags string) map[int]int {
	t.Helper()
	got := map[int]int{}
	for sport := from; sport < from+n; sport++ {
		r := e.process(build(ether(macClient, macPort0), ip4(client4, vipPoolv4), tcp(uint16(sport), 80, flags)), 0)
		if r.Verdict != VerdictTX {
			t.Fatalf("flow %d: %v %s", sport, r.Verdict, r.Drop)
		}
		got[sport] = backendOf(r.Out, macRS1, macRS2, macRS3, macRS4)
	}
	return got
}

// withPool returns the topology with the pool service's backends (and an equal-share lut)
// replaced.
func withPool(bes ...shm.BackendSpec) *shm.Desired {
	d := topology()
	for i := range d.Services {
		if d.Services[i].Name == "pool4" {
			d.Services[i].Backends = bes
			d.Services[i].LUT = lut(len(bes), 13)
		}
	}
	return d
}

func delta(before, after map[string]uint64, k string) uint64 { return after[k] - before[k] }

func TestStickyAcrossPublish(t *testing.T) {
	e := newEnv(t, topology())
	first := poolFlows(t, e, 1000, 300, "S")
	spread := map[int]int{}
	for _, b := range first {
		spread[b]++
	}
	if len(spread) != 3 {
		t.Fatalf("300 flows over 3 backends went to %v", spread)
	}
	// Same tuple, same backend, before any publish.
	if again := poolFlows(t, e, 1000, 300, "A"); !mapsEqual(first, again) {
		t.Fatal("a flow changed backend without any publish")
	}

	// A fourth backend changes the lookup table for new flows, not the established ones.
	e.publish(withPool(staticBE(rs1v4, macRS1), staticBE(rs2v4, macRS2), staticBE(rs3v4, macRS3), staticBE(mustAddr("198.18.0.24"), macRS4)))
	before := e.counters()
	if after := poolFlows(t, e, 1000, 300, "A"); !mapsEqual(first, after) {
		t.Error("established flows moved when a backend was added")
	}
	if d := delta(before, e.counters(), "flow_hit"); d != 300 {
		t.Errorf("flow_hit +%d, want +300", d)
	}
	fresh := poolFlows(t, e, 20000, 300, "S")
	toNew := 0
	for _, b := range fresh {
		if b == 3 {
			toNew++
		}
	}
	if toNew == 0 {
		t.Error("no new flow went to the added backend")
	}
}

func TestBackendRemovedReselectsOnlyItsFlows(t *testing.T) {
	for _, tc := range []struct {
		name string
		d    *shm.Desired
	}{
		{"removed", withPool(staticBE(rs1v4, macRS1), staticBE(rs3v4, macRS3))},
		{"not-present", func() *shm.Desired {
			down := staticBE(rs2v4, macRS2)
			down.Present = false
			d := withPool(staticBE(rs1v4, macRS1), down, staticBE(rs3v4, macRS3))
			for i := range d.Services {
				if d.Services[i].Name == "pool4" {
					d.Services[i].LUT = []int32{0, 2, 0, 2, 0, 2, 0, 2, 0, 2, 0, 2, 0}
				}
			}
			return d
		}()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, topology())
			first := poolFlows(t, e, 1000, 300, "S")
			onRS2 := 0
			for _, b := range first {
				if b == 1 {
					onRS2++
				}
			}
			e.publish(tc.d)
			before := e.counters()
			after := poolFlows(t, e, 1000, 300, "A")
			for sport, b := range first {
				switch {
				case b == 1 && after[sport] == 1:
					t.Fatalf("flow %d still goes to the removed backend", sport)
				case b != 1 && after[sport] != b:
					t.Fatalf("flow %d moved from backend %d to %d though its backend stayed", sport, b, after[sport])
				}
			}
			c := e.counters()
			if d := delta(before, c, "flow_reselect"); d != uint64(onRS2) {
				t.Errorf("flow_reselect +%d, want +%d (the removed backend's flows)", d, onRS2)
			}
			if d := delta(before, c, "flow_hit"); d != uint64(300-onRS2) {
				t.Errorf("flow_hit +%d, want +%d", d, 300-onRS2)
			}
			active := int64(0)
			for i := range shm.MaxBackends {
				active += int64(e.region.Counters(0).Backend[i][shm.ObjActiveFlows])
			}
			// Every flow of the topology so far: 300 pool flows plus none elsewhere.
			if active != 300 {
				t.Errorf("sum of active flows %d, want 300", active)
			}
		})
	}
}

func mapsEqual(a, b map[int]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestTableFullFallsBackToStateless(t *testing.T) {
	e := newEnv(t, topology(), withFlowEntries(4)) // one bucket of four ways
	poolFlows(t, e, 1000, 4, "S")
	before := e.counters()
	one := poolFlows(t, e, 2000, 1, "S")
	two := poolFlows(t, e, 2000, 1, "A")
	c := e.counters()
	if d := delta(before, c, "flow_table_full"); d != 2 {
		t.Errorf("flow_table_full +%d, want +2", d)
	}
	if d := delta(before, c, "flow_new"); d != 0 {
		t.Errorf("flow_new +%d, want 0", d)
	}
	if one[2000] != two[2000] {
		t.Error("the stateless path sent one flow to two backends")
	}
}

// flowEntry finds slot 0's table entry for a client source port.
func flowEntry(e *env, sport uint16) *shm.Flow {
	for i, f := range e.region.Flows(0) {
		if f.Sig != 0 && binary.BigEndian.Uint16([]byte{byte(f.SportBE), byte(f.SportBE >> 8)}) == sport {
			return &e.region.Flows(0)[i]
		}
	}
	return nil
}

func TestTCPStateTimeouts(t *testing.T) {
	e := newEnv(t, topology())
	for _, step := range []struct {
		flags string
		state uint8
		tmoS  uint64
	}{{"S", 1, 60}, {"A", 2, 900}, {"PA", 2, 900}, {"FA", 3, 120}, {"S", 1, 60}, {"R", 3, 120}} {
		poolFlows(t, e, 3000, 1, step.flags)
		f := flowEntry(e, 3000)
		if f == nil {
			t.Fatal("no flow entry")
		}
		if f.State != step.state || uint64(f.ExpiresMs) != uint64(uint32(e.now+step.tmoS*1000)) {
			t.Errorf("after %q: state %d expires %d, want %d and now+%ds", step.flags, f.State, f.ExpiresMs, step.state, step.tmoS)
		}
	}
}

func TestFlowExpiry(t *testing.T) {
	t.Run("sweeper", func(t *testing.T) {
		e := newEnv(t, topology())
		poolFlows(t, e, 1000, 10, "S")
		before := e.counters()
		if n := e.h.Sweep(e.now+59_000, 1024/4); n != 0 {
			t.Fatalf("sweeper freed %d live flows", n)
		}
		if n := e.h.Sweep(e.now+61_000, 1024/4); n != 10 {
			t.Fatalf("sweeper freed %d flows after their SYN timeout, want 10", n)
		}
		if d := delta(before, e.counters(), "flow_expired"); d != 10 {
			t.Errorf("flow_expired +%d, want +10", d)
		}
		for i := range shm.MaxBackends {
			if a := int64(e.region.Counters(0).Backend[i][shm.ObjActiveFlows]); a != 0 {
				t.Errorf("backend %d still counts %d active flows", i, a)
			}
		}
	})
	t.Run("lazy", func(t *testing.T) {
		e := newEnv(t, topology(), withFlowEntries(4))
		poolFlows(t, e, 1000, 4, "S")
		e.now += 61_000
		before := e.counters()
		poolFlows(t, e, 2000, 1, "S")
		c := e.counters()
		if delta(before, c, "flow_new") != 1 || delta(before, c, "flow_expired") != 1 || delta(before, c, "flow_table_full") != 0 {
			t.Errorf("new flow in a bucket of expired ones: new +%d expired +%d full +%d, want 1 1 0",
				delta(before, c, "flow_new"), delta(before, c, "flow_expired"), delta(before, c, "flow_table_full"))
		}
	})
}

// frag4 is a fragment from the client to dst: the first (with the TCP header) or a later
// one (offset in 8-byte units, no ports).
func frag4(dst netip.Addr, sport uint16, offset uint16, more bool) []byte {
	ip := ip4(client4, dst)
	ip.Protocol = layers.IPProtocolTCP
	ip.FragOffset = offset
	if more {
		ip.Flags = layers.IPv4MoreFragments
	}
	if offset == 0 {
		return build(ether(macClient, macPort0), ip, tcp(sport, 80, "S"), payload("first fragment!!"))
	}
	return build(ether(macClient, macPort0), ip, payload("later fragment bytes"))
}

func TestFragments(t *testing.T) {
	e := newEnv(t, topology())
	macs := []net.HardwareAddr{macRS1, macRS2, macRS3}
	first := e.process(frag4(vipPoolv4, 1000, 0, true), 0)
	if first.Verdict != VerdictTX {
		t.Fatalf("first fragment: %v %s", first.Verdict, first.Drop)
	}
	be := backendOf(first.Out, macs...)
	// Every fragment of every fragmented datagram from this client to the VIP agrees,
	// whatever its ports: the rule is the 3-tuple.
	for sport := uint16(1001); sport < 1040; sport++ {
		if r := e.process(frag4(vipPoolv4, sport, 0, true), 0); backendOf(r.Out, macs...) != be {
			t.Fatalf("first fragment of port %d went to backend %d, want %d", sport, backendOf(r.Out, macs...), be)
		}
	}
	for _, off := range []uint16{3, 6, 185} {
		r := e.process(frag4(vipPoolv4, 0, off, off != 185), 0)
		if r.Verdict != VerdictTX || backendOf(r.Out, macs...) != be {
			t.Fatalf("later fragment at %d: %v %s backend %d, want backend %d", off*8, r.Verdict, r.Drop, backendOf(r.Out, macs...), be)
		}
		want := frag4(vipPoolv4, 0, off, off != 185)
		copy(want[0:], macs[be])
		copy(want[6:], macPort0)
		if d := diffFrames(want, r.Out); d != "" {
			t.Errorf("later fragment: %s", d)
		}
	}
	// A later fragment with no first fragment before it can still reach an all-port VIP.
	ip := ip4(client4, vipAnyv4)
	ip.Protocol, ip.FragOffset = layers.IPProtocolUDP, 10
	if r := e.process(build(ether(macClient, macPort0), ip, payload("orphan")), 0); r.Verdict != VerdictTX {
		t.Errorf("orphan fragment to an all-port VIP: %v %s", r.Verdict, r.Drop)
	}

	// IPv6: the fragment header carries offset and M flag.
	fh := func(off uint16, more bool) *rawExt {
		v := off << 3
		if more {
			v |= 1
		}
		return &rawExt{proto: layers.IPProtocolIPv6Fragment, b: []byte{6, 0, byte(v >> 8), byte(v), 0, 0, 0, 42}}
	}
	runFixtures(t, e, []fixture{{
		name: "v6/first",
		in:   build(ether(macClient, macPort0), ip6(client6, vipL2v6), fh(0, true), tcp(1000, 80, "S"), payload("first")),
		want: build(ether(macPort0, macRS1), ip6(client6, vipL2v6), fh(0, true), tcp(1000, 80, "S"), payload("first")),
	}, {
		name: "v6/later",
		in:   build(ether(macClient, macPort0), ip6(client6, vipL2v6), fh(2, false), payload("later bytes")),
		want: build(ether(macPort0, macRS1), ip6(client6, vipL2v6), fh(2, false), payload("later bytes")),
	}, {
		name: "v6/atomic-fragment-is-a-whole-packet",
		in:   build(ether(macClient, macPort0), ip6(client6, vipL2v6), fh(0, false), tcp(1001, 80, "S")),
		want: build(ether(macPort0, macRS1), ip6(client6, vipL2v6), fh(0, false), tcp(1001, 80, "S")),
	}})
}

// A client reusing the ports of a closed connection opens a new one: it is scheduled afresh
// (IPVS's conn_reuse_mode), so a drained backend does not inherit it; a retransmitted SYN
// of a connection still opening keeps its backend.
func TestNewConnectionOnClosedTupleIsScheduledAfresh(t *testing.T) {
	e := newEnv(t, topology(), withFlowEntries(1<<14)) // room: no flow falls back to stateless
	closed := poolFlows(t, e, 1000, 300, "S")
	poolFlows(t, e, 1000, 300, "F")
	opening := poolFlows(t, e, 2000, 300, "S")

	drained := staticBE(rs2v4, macRS2) // weight 0: present for its flows, absent from the lut
	d := withPool(staticBE(rs1v4, macRS1), drained, staticBE(rs3v4, macRS3))
	for i := range d.Services {
		if d.Services[i].Name == "pool4" {
			d.Services[i].LUT = []int32{0, 2, 0, 2, 0, 2, 0, 2, 0, 2, 0, 2, 0}
		}
	}
	e.publish(d)

	reopened := poolFlows(t, e, 1000, 300, "S")
	onRS2 := 0
	for sport, b := range closed {
		if b == 1 {
			onRS2++
		}
		if reopened[sport] == 1 {
			t.Fatalf("new connection on closed tuple %d went to the drained backend", sport)
		}
	}
	if onRS2 == 0 {
		t.Fatal("no flow was on rs2 before the drain: the test proves nothing")
	}
	again := poolFlows(t, e, 2000, 300, "S")
	for sport, b := range opening {
		if again[sport] != b {
			t.Fatalf("retransmitted SYN %d moved from backend %d to %d", sport, b, again[sport])
		}
	}
}

// A full bucket whose connections have ended lets a new one in: the closing flow nearest its
// timeout gives up its way. Opening and established flows are never evicted (above: a bucket
// of those sends the newcomer down the stateless path).
func TestClosingFlowGivesItsWayInAFullBucket(t *testing.T) {
	e := newEnv(t, topology(), withFlowEntries(4)) // one bucket of four ways
	poolFlows(t, e, 1000, 4, "S")
	poolFlows(t, e, 1000, 1, "F") // flow 1000 ends
	before := e.counters()
	poolFlows(t, e, 2000, 1, "S")
	c := e.counters()
	if d := delta(before, c, "flow_evicted"); d != 1 {
		t.Errorf("flow_evicted +%d, want +1", d)
	}
	if d := delta(before, c, "flow_new"); d != 1 {
		t.Errorf("flow_new +%d, want +1", d)
	}
	if d := delta(before, c, "flow_table_full"); d != 0 {
		t.Errorf("flow_table_full +%d, want 0", d)
	}
	// The three opening flows kept their ways: their packets still hit.
	before = c
	poolFlows(t, e, 1001, 3, "A")
	if d := delta(before, e.counters(), "flow_hit"); d != 3 {
		t.Errorf("flow_hit +%d for the three live flows, want +3", d)
	}
}
