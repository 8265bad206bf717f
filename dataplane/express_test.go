package dataplane

import (
	"net/netip"
	"reflect"
	"testing"

	"tenbin/control/shm"
)

// expressInputs are frames the express lane (burst.c) takes once their flow exists, and
// near misses it must hand to the general path: a VLAN egress, NAT, an unresolved next hop,
// TTL 1 for l3dsr, a tagged frame, FIN and RST.
func expressInputs() (takes, leaves [][]byte) {
	seg := func(dst netip.Addr, sport uint16, flags string) []byte {
		return build(ether(macClient, macPort0), ip4(client4, dst), tcp(sport, 80, flags), payload("hello"))
	}
	dgram := func(dst netip.Addr, sport, dport uint16) []byte {
		return build(ether(macClient, macPort0), ip4(client4, dst), udp(sport, dport), payload("q"))
	}
	takes = [][]byte{
		seg(vipL2v4, 41000, "A"), seg(vipL3v4, 41001, "A"), seg(vipPoolv4, 41002, "PA"),
		dgram(vipL2v4, 41008, 53), dgram(vipL3v4, 41009, 53), dgram(vipAnyv4, 41010, 9999),
	}
	leaves = [][]byte{
		seg(vipVLANv4, 41003, "A"), seg(vipNATv4, 41004, "A"), seg(vipUnresv4, 41005, "A"),
		build(ether(macClient, macPort0), withTOS(ip4(client4, vipL3v4), 0, 1), tcp(41011, 80, "A")),
		build(ether(macClient, macPort0, 10), ip4(client4, vipL2v4), tcp(41012, 80, "A")),
		build(ether(macClient, macPort0), ip6(client6, vipL2v6), tcp(41013, 80, "A")),
	}
	return takes, leaves
}

// pairedEnvs are two identical regions: one driven through tenbin_burst (express lane
// included, as the lcore loop runs it), one through the general path alone. Each has a
// harness per lcore slot (the regions have two), so replies can come in on another lcore.
type pairedEnvs struct {
	express, general *env
	slot1            [2]*Harness // express, general: lcore slot 1 of each region
}

func newPairedEnvs(t testing.TB) pairedEnvs { return newPairedEnvsFor(t, topology) }

func newPairedEnvsFor(t testing.TB, d func() *shm.Desired) pairedEnvs {
	t.Helper()
	p := pairedEnvs{express: newEnv(t, d()), general: newEnv(t, d())}
	for i, e := range []*env{p.express, p.general} {
		h, err := NewHarness(e.region, 1)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(h.Close)
		p.slot1[i] = h
	}
	return p
}

// harnesses are the express and the general region's harnesses of lcore slot.
func (p pairedEnvs) harnesses(slot int) (express, general *Harness) {
	if slot == 0 {
		return p.express.h, p.general.h
	}
	return p.slot1[0], p.slot1[1]
}

// expressSent is how many frames the express lane sent on both slots.
func (p pairedEnvs) expressSent() uint64 { return p.express.h.ExpressSent() + p.slot1[0].ExpressSent() }

// reset takes both regions back to the state newPairedEnvs left them in: no flows (nor
// nat hops), no counters, only the routers' MACs learned, the harnesses' memos and fnat
// port cursors forgotten. Far cheaper than new regions, so the fuzzer can afford one clean
// start per input.
func (p pairedEnvs) reset(t *testing.T) {
	t.Helper()
	for i, e := range []*env{p.express, p.general} {
		e.t = t // the env's own t may be the fuzz target's F, which must not be used inside it
		for slot, h := range []*Harness{e.h, p.slot1[i]} {
			clear(e.region.Flows(slot))
			clear(e.region.FlowHops(slot))
			*e.region.Counters(slot) = shm.LcoreCounters{}
			if err := h.Reset(e.region, slot); err != nil {
				t.Fatal(err)
			}
		}
		for i := range shm.MaxNeigh {
			*e.region.NeighState(i) = shm.NeighState{}
		}
		e.learnRouters()
	}
}

// run sends frame through both on lcore slot 0 at time now and fails the test where they
// differ in what a user could see: the frame sent, its port, the verdict, the drop reason.
func (p pairedEnvs) run(t *testing.T, frame []byte, port int, now uint64) Result {
	t.Helper()
	return p.runOn(t, 0, frame, port, now)
}

// runOn is run on lcore slot.
func (p pairedEnvs) runOn(t *testing.T, slot int, frame []byte, port int, now uint64) Result {
	t.Helper()
	x, g := p.harnesses(slot)
	got := x.Process(frame, port, now)
	want := g.ProcessGeneral(frame, port, now)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("frame % x on slot %d port %d at %d:\nexpress lane: %+v\ngeneral path: %+v", frame, slot, port, now, got, want)
	}
	return got
}

// same fails the test unless both regions hold, for every lcore slot, the same counters
// (global, per drop, per service and backend, replies), the same flow table entry by entry
// and the same nat hops: all the state nat/fnat keep in the region, fnat ports included
// (natport.c allocates from the flow table).
func (p pairedEnvs) same(t *testing.T) {
	t.Helper()
	for slot := range 2 {
		if a, b := p.express.region.Counters(slot), p.general.region.Counters(slot); *a != *b {
			t.Fatalf("slot %d: counters differ:\nexpress lane: %v\ngeneral path: %v", slot, slotCounters(a), slotCounters(b))
		}
		a, b := p.express.region.Flows(slot), p.general.region.Flows(slot)
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("slot %d: flow entry %d differs:\nexpress lane: %+v\ngeneral path: %+v", slot, i, a[i], b[i])
			}
		}
		ha, hb := p.express.region.FlowHops(slot), p.general.region.FlowHops(slot)
		for i := range ha {
			if ha[i] != hb[i] {
				t.Fatalf("slot %d: nat hop %d differs:\nexpress lane: %+v\ngeneral path: %+v", slot, i, ha[i], hb[i])
			}
		}
	}
}

// slotCounters names a slot's non-zero global counters and drops, for failure messages.
func slotCounters(c *shm.LcoreCounters) map[string]uint64 {
	m := map[string]uint64{}
	for i, n := range shm.CounterNames {
		if c.Global[i] != 0 {
			m[n] = c.Global[i]
		}
	}
	for i, n := range shm.DropReasonNames {
		if c.Drops[i] != 0 {
			m["drop:"+n] = c.Drops[i]
		}
	}
	return m
}

// TestExpressLaneSendsDSRFlowHits: the second packet of an l2dsr/l3dsr flow goes the
// express lane and leaves exactly as the general path would send it, with the same
// counters and flow entry; the near misses never take it and agree as well.
func TestExpressLaneSendsDSRFlowHits(t *testing.T) {
	takes, leaves := expressInputs()
	p := newPairedEnvs(t)
	for i, in := range append(append([][]byte{}, takes...), leaves...) {
		before := p.express.h.ExpressSent()
		p.run(t, in, 0, tNow)      // new flow: the general path
		p.run(t, in, 0, tNow+1000) // flow hit
		p.same(t)
		sent := p.express.h.ExpressSent() - before
		if i < len(takes) && sent != 1 {
			t.Errorf("input %d: the express lane sent %d of its 2 packets, want the flow hit", i, sent)
		}
		if i >= len(takes) && sent != 0 {
			t.Errorf("input %d (a near miss): the express lane sent %d packets, want 0", i, sent)
		}
	}
}

// TestExpressLaneAgreesThroughAConnection: a whole connection (SYN, data, FIN, a new SYN on
// the closed tuple, an ACK after the flow's expiry, RST): every step agrees with the general
// path, counters and flow table included.
func TestExpressLaneAgreesThroughAConnection(t *testing.T) {
	p := newPairedEnvs(t)
	seg := func(flags string) []byte {
		return build(ether(macClient, macPort0), ip4(client4, vipPoolv4), tcp(42000, 80, flags))
	}
	now := tNow
	for _, step := range []struct {
		flags string
		after uint64 // ms since the previous step
	}{{"S", 0}, {"A", 10}, {"PA", 10}, {"FA", 10}, {"A", 10}, {"S", 10}, {"A", 10}, {"A", 1_000_000}, {"R", 10}} {
		now += step.after
		p.run(t, seg(step.flags), 0, now)
		p.same(t)
	}
}

// FuzzExpressMatchesGeneral: for any two frames a and b, the sequence a a b b a (a flow
// created, hit, another frame, and a hit after every timeout) leaves the same frames,
// verdicts, counters and flow table through the express lane as through the general path.
// Run: go test ./dataplane -run '^$' -fuzz FuzzExpressMatchesGeneral -fuzztime 20s
func FuzzExpressMatchesGeneral(f *testing.F) {
	takes, leaves := expressInputs()
	all := append(append(append([][]byte{}, takes...), leaves...), allInputs()...)
	for i, a := range all {
		f.Add(a, all[(i+1)%len(all)], uint8(0))
	}
	p := newPairedEnvs(f)
	f.Fuzz(func(t *testing.T, a, b []byte, port uint8) {
		p.reset(t)
		in := int(port % 2)
		for _, step := range []struct {
			frame []byte
			now   uint64
		}{{a, tNow}, {a, tNow + 1}, {b, tNow + 2}, {b, tNow + 3}, {a, tNow + 3_600_000}} {
			p.run(t, step.frame, in, step.now)
		}
		p.same(t)
	})
}
