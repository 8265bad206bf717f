package dataplane

import (
	"math/rand/v2"
	"testing"

	"tenbin/control/shm"
)

// allInputs is every fixture frame of the package's tables, the traffic mix of the
// invariant test and the seed of the fuzz corpus.
func allInputs() [][]byte {
	var out [][]byte
	for _, f := range dropFixtures() {
		out = append(out, f.in)
	}
	out = append(out,
		build(ether(macClient, macPort0), ip4(client4, vipL2v4), tcp(40000, 80, "S")),
		build(ether(macClient, macPort0, 10, 100), ip6(client6, vipL3v6), hbhPad, dstOpts, tcp(40002, 80, "S")),
		build(ether(macClient, macPort0), withTOS(ip4(client4, vipL3v4), 0, 1), udp(1, 53), payload("x")),
		frag4(vipPoolv4, 1000, 0, true), frag4(vipPoolv4, 0, 3, false),
		arpRequest(client4, macClient, vipL2v4), nsFrame(client6, macClient, vipL2v6),
		arpReply(router4, macRouter, port0v4, macPort0), naFrame(router6, macRouter6, port0v6, macPort0),
	)
	return out
}

// TestCounterInvariant: every received packet is accounted exactly once, as sent, handed
// to the kernel path or dropped with a reason (rx = tx + kernel + drops), also for garbage.
func TestCounterInvariant(t *testing.T) {
	e := newEnv(t, topology())
	rng := rand.New(rand.NewPCG(1, 2))
	inputs := allInputs()
	for i := 0; i < 5000; i++ {
		f := append([]byte(nil), inputs[rng.IntN(len(inputs))]...)
		for j := rng.IntN(4); j > 0; j-- { // corrupt a few bytes, or cut the frame short
			if rng.IntN(8) == 0 {
				f = f[:rng.IntN(len(f)+1)]
			} else if len(f) > 0 {
				f[rng.IntN(len(f))] ^= byte(1 + rng.IntN(255))
			}
		}
		e.h.Process(f, rng.IntN(2), e.now+uint64(i))
	}
	for slot := 0; slot < 2; slot++ {
		c := e.region.Counters(slot)
		var drops uint64
		for _, d := range c.Drops {
			drops += d
		}
		rx, tx, kernel := c.Global[shm.CtrRxPkts], c.Global[shm.CtrTxPkts], c.Global[shm.CtrKernelPkts]
		if rx != tx+kernel+drops {
			t.Errorf("slot %d: rx %d != tx %d + kernel %d + drops %d", slot, rx, tx, kernel, drops)
		}
		if slot == 0 && (tx == 0 || drops == 0) {
			t.Errorf("the mix should both forward and drop: tx %d drops %d", tx, drops)
		}
	}
}
