package dataplane

import (
	"math/rand/v2"
	"net/netip"
	"testing"

	"tenbin/control/shm"
)

// withHalfOpenCap sets service name's SYN guard cap in d. newEnv's region has two lcores,
// so slot 0 holds half of it (rounded up).
func withHalfOpenCap(d *shm.Desired, name string, maxHalfOpen uint32) *shm.Desired {
	for i := range d.Services {
		if d.Services[i].Name == name {
			d.Services[i].MaxHalfOpen = maxHalfOpen
		}
	}
	return d
}

// halfOpenInTable counts slot 0's live entries of service svc the guard must count: the
// flagged ones, and those whose state is a handshake's (DSR's SYN, a nat forward entry's
// SYN_SENT or SYN_RECV).
func halfOpenInTable(r *shm.Region, svc int) (flagged, byState int) {
	for _, f := range r.Flows(0) {
		if f.Sig == 0 || int(f.Service) != svc {
			continue
		}
		if f.Flags&0x80 != 0 {
			flagged++
		}
		if f.Flags&2 == 0 && (f.State == 1 || f.State == 5) {
			byState++
		}
	}
	return flagged, byState
}

func TestSynGuardDSRGoesStatelessOverTheCap(t *testing.T) {
	e := newEnv(t, withHalfOpenCap(topology(), "pool4", 5)) // slot 0's share: 3
	si := serviceIndex(t, e.region, "pool4")
	before := e.counters()
	opened := poolFlows(t, e, 1000, 3, "S")
	if h := e.h.HalfOpen(si); h != 3 {
		t.Fatalf("half-open after 3 SYNs: %d, want 3", h)
	}
	over := poolFlows(t, e, 1003, 1, "S")
	c := e.counters()
	if delta(before, c, "flow_new") != 3 || delta(before, c, "syn_guard") != 1 || delta(before, c, "flow_table_full") != 0 {
		t.Errorf("flow_new +%d syn_guard +%d flow_table_full +%d, want 3 1 0",
			delta(before, c, "flow_new"), delta(before, c, "syn_guard"), delta(before, c, "flow_table_full"))
	}
	if flowEntry(e, 1003) != nil {
		t.Error("the SYN over the cap opened a flow entry")
	}
	// Its handshake completes statelessly on the same server, Maglev alone deciding.
	if again := poolFlows(t, e, 1003, 1, "A"); again[1003] != over[1003] {
		t.Errorf("stateless SYN went to backend %d, its ACK to %d", over[1003], again[1003])
	}
	// An established flow still hits; completing a handshake frees a slot.
	before = e.counters()
	if got := poolFlows(t, e, 1000, 1, "A"); got[1000] != opened[1000] {
		t.Errorf("ACK of an open flow went to backend %d, want %d", got[1000], opened[1000])
	}
	if delta(before, e.counters(), "flow_hit") != 1 || e.h.HalfOpen(si) != 2 {
		t.Errorf("ACK: flow_hit +%d half-open %d, want +1 and 2", delta(before, e.counters(), "flow_hit"), e.h.HalfOpen(si))
	}
	poolFlows(t, e, 1004, 1, "S")
	if flowEntry(e, 1004) == nil || e.h.HalfOpen(si) != 3 {
		t.Errorf("a SYN after a handshake completed: entry %v half-open %d, want an entry and 3", flowEntry(e, 1004) != nil, e.h.HalfOpen(si))
	}
	// A retransmitted SYN of an open flow is a hit, not a new half-open flow.
	before = e.counters()
	poolFlows(t, e, 1001, 1, "S")
	if delta(before, e.counters(), "flow_hit") != 1 || delta(before, e.counters(), "syn_guard") != 0 || e.h.HalfOpen(si) != 3 {
		t.Errorf("SYN retransmit: hit +%d guard +%d half-open %d, want 1 0 3",
			delta(before, e.counters(), "flow_hit"), delta(before, e.counters(), "syn_guard"), e.h.HalfOpen(si))
	}
}

func TestSynGuardOffByDefault(t *testing.T) {
	e := newEnv(t, topology())
	before := e.counters()
	poolFlows(t, e, 1000, 200, "S")
	if d := delta(before, e.counters(), "syn_guard"); d != 0 {
		t.Errorf("syn_guard +%d without a cap", d)
	}
	if h := e.h.HalfOpen(serviceIndex(t, e.region, "pool4")); h != 200 {
		t.Errorf("half-open %d, want 200 (counted even without a cap)", h)
	}
}

func TestSynGuardNATDropsOverTheCap(t *testing.T) {
	e := newEnv(t, withHalfOpenCap(natTopology(), "nat4", 4)) // slot 0's share: 2
	si := serviceIndex(t, e.region, "nat4")
	for _, sport := range []uint16{40000, 40001} {
		if r := e.process(toVIP(client4, vipNAT4, tcp(sport, 80, "S")), 0); r.Verdict != VerdictTX {
			t.Fatalf("SYN %d under the cap: %v %s", sport, r.Verdict, r.Drop)
		}
	}
	before := e.counters()
	if r := e.process(toVIP(client4, vipNAT4, tcp(40002, 80, "S")), 0); r.Verdict != VerdictDrop || r.Drop != "syn_guard" {
		t.Fatalf("SYN over the cap: %v %s, want drop syn_guard", r.Verdict, r.Drop)
	}
	c := e.counters()
	if delta(before, c, "syn_guard") != 1 || delta(before, c, "drop:syn_guard") != 1 || delta(before, c, "flow_new") != 0 {
		t.Errorf("syn_guard +%d drop +%d flow_new +%d, want 1 1 0",
			delta(before, c, "syn_guard"), delta(before, c, "drop:syn_guard"), delta(before, c, "flow_new"))
	}
	// The server answers 40000 (still half-open: SYN_RECV), the client completes it.
	e.process(build(ether(macRS1, macPort0), ipFor(rs1v4, client4, 64), tcp(rsPort, 40000, "SA")), 0)
	if e.h.HalfOpen(si) != 2 {
		t.Errorf("half-open after the SYN-ACK: %d, want 2", e.h.HalfOpen(si))
	}
	if r := e.process(toVIP(client4, vipNAT4, tcp(40000, 80, "A")), 0); r.Verdict != VerdictTX {
		t.Fatalf("handshake ACK: %v %s", r.Verdict, r.Drop)
	}
	if e.h.HalfOpen(si) != 1 {
		t.Errorf("half-open after the handshake: %d, want 1", e.h.HalfOpen(si))
	}
	if r := e.process(toVIP(client4, vipNAT4, tcp(40002, 80, "S")), 0); r.Verdict != VerdictTX {
		t.Errorf("SYN after a slot freed: %v %s", r.Verdict, r.Drop)
	}
	// A client's RST closes a half-open connection: its slot frees at once.
	e.process(toVIP(client4, vipNAT4, tcp(40001, 80, "R")), 0)
	if e.h.HalfOpen(si) != 1 {
		t.Errorf("half-open after a RST: %d, want 1", e.h.HalfOpen(si))
	}
	// The established connection is untouched by all this.
	if r := e.process(toVIP(client4, vipNAT4, tcp(40000, 80, "PA"), payload("GET /")), 0); r.Verdict != VerdictTX {
		t.Errorf("established connection: %v %s", r.Verdict, r.Drop)
	}
}

func TestSynGuardExpiryFreesSlots(t *testing.T) {
	t.Run("sweeper", func(t *testing.T) {
		e := newEnv(t, withHalfOpenCap(topology(), "pool4", 6))
		si := serviceIndex(t, e.region, "pool4")
		poolFlows(t, e, 1000, 3, "S")
		e.h.Sweep(e.now+61_000, 1024/4)
		if h := e.h.HalfOpen(si); h != 0 {
			t.Errorf("half-open after the sweeper expired every SYN: %d", h)
		}
		e.now += 61_000
		before := e.counters()
		poolFlows(t, e, 2000, 3, "S")
		if d := delta(before, e.counters(), "flow_new"); d != 3 {
			t.Errorf("flow_new +%d after expiry, want 3", d)
		}
	})
	t.Run("lazy", func(t *testing.T) {
		e := newEnv(t, withHalfOpenCap(topology(), "pool4", 8), withFlowEntries(4)) // share 4 = the table
		si := serviceIndex(t, e.region, "pool4")
		poolFlows(t, e, 1000, 4, "S")
		e.now += 61_000
		before := e.counters()
		poolFlows(t, e, 2000, 1, "S") // reuses an expired way: one half-open for another
		c := e.counters()
		if delta(before, c, "flow_new") != 1 || delta(before, c, "syn_guard") != 0 || e.h.HalfOpen(si) != 4 {
			t.Errorf("flow_new +%d syn_guard +%d half-open %d, want 1 0 4",
				delta(before, c, "flow_new"), delta(before, c, "syn_guard"), e.h.HalfOpen(si))
		}
	})
}

// TestSynGuardEstablishedFlowsSurviveAFlood: a table full of established connections and a
// flood of SYNs: every SYN goes stateless, every established flow still hits its server.
func TestSynGuardEstablishedFlowsSurviveAFlood(t *testing.T) {
	e := newEnv(t, withHalfOpenCap(topology(), "pool4", 2), withFlowEntries(64))
	est := poolFlows(t, e, 1000, 1, "S")
	for sport := 1001; sport < 1040; sport++ {
		poolFlows(t, e, sport, 1, "S") // opens while under the cap
		for k, v := range poolFlows(t, e, sport, 1, "A") {
			est[k] = v
		}
	}
	poolFlows(t, e, 1000, 1, "A")
	poolFlows(t, e, 5000, 2000, "S")
	before := e.counters()
	if again := poolFlows(t, e, 1000, 40, "PA"); !mapsEqual(est, again) {
		t.Error("an established flow changed server during the SYN flood")
	}
	if d := delta(before, e.counters(), "flow_hit"); d < 38 {
		t.Errorf("flow_hit +%d of 40 established flows after the flood", d) // a full bucket may have refused one or two
	}
}

// TestSynGuardCountIsExact: after any mix of handshakes, data, FIN, RST, server replies,
// time passing, sweeps, both lanes and a dataplane restart, the count is the number of
// half-open entries in the table.
func TestSynGuardCountIsExact(t *testing.T) {
	d := natTopology()
	for _, n := range []string{"nat4", "fnat4", "web4-l2"} {
		withHalfOpenCap(d, n, 12)
	}
	e := newEnv(t, d, withFlowEntries(64))
	svcs := map[string]int{}
	for _, n := range []string{"nat4", "fnat4", "web4-l2"} {
		svcs[n] = serviceIndex(t, e.region, n)
	}
	vips := []netip.Addr{vipNAT4, vipFNAT4, vipL2v4}
	flags := []string{"S", "S", "S", "A", "PA", "FA", "R", "SA"}
	reply := []string{"SA", "SA", "A", "FA", "R"}
	rng := rand.New(rand.NewPCG(4, 4))
	check := func(step int) {
		t.Helper()
		for n, si := range svcs {
			flagged, byState := halfOpenInTable(e.region, si)
			if got := int(e.h.HalfOpen(si)); got != flagged || got != byState {
				t.Fatalf("step %d %s: count %d, flagged entries %d, half-open entries %d", step, n, got, flagged, byState)
			}
		}
	}
	for i := range 4000 {
		sport := uint16(40000 + rng.IntN(48))
		var f []byte
		if rng.IntN(4) == 0 {
			f = build(ether(macRS1, macPort0), ipFor(rs1v4, client4, 64), tcp(rsPort, sport, reply[rng.IntN(len(reply))]))
		} else {
			f = toVIP(client4, vips[rng.IntN(len(vips))], tcp(sport, 80, flags[rng.IntN(len(flags))]))
		}
		if rng.IntN(2) == 0 {
			e.process(f, 0)
		} else {
			e.h.ProcessGeneral(f, 0, e.now)
		}
		switch rng.IntN(50) {
		case 0:
			e.now += uint64(rng.IntN(70_000))
		case 1:
			e.h.Sweep(e.now, rng.IntN(16))
		case 2:
			if err := e.h.Reset(e.region, 0); err != nil { // a restarted dataplane re-attaches
				t.Fatal(err)
			}
		}
		check(i)
	}
	if c := e.counters(); c["syn_guard"] == 0 || c["flow_new"] == 0 {
		t.Errorf("the mix should both open flows and hit the guard: flow_new %d syn_guard %d", c["flow_new"], c["syn_guard"])
	}
}
