package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"tenbin/control/shm"
)

func TestTestpmdLogGivesEachPortsPeriodicRates(t *testing.T) {
	f, err := os.Open("testdata/testpmd-macswap.log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ports := ParseTestpmdStats(f)
	if len(ports) != 2 {
		t.Fatalf("%d ports, want 2", len(ports))
	}
	tx := skipStartup(ports[1].TxPPS, 0)
	want := []float64{5743761, 7069669, 6563822}
	if len(tx) != len(want) {
		t.Fatalf("port 1 tx samples %v, want %v", tx, want)
	}
	for i := range want {
		if tx[i] != want[i] {
			t.Fatalf("port 1 tx samples %v, want %v", tx, want)
		}
	}
	if rx := skipStartup(ports[0].RxPPS, 1); len(rx) != 2 || rx[0] != 7069386 {
		t.Fatalf("port 0 rx after warm-up %v", rx)
	}
	if p := ports[1]; p.TxPackets != 31490784 || p.TxDropped != 0 || p.RxPackets != 0 || ports[0].RxPackets != 31490784 {
		t.Fatalf("totals: port 0 %+v, port 1 %+v", *ports[0], *p)
	}
}

func newRegion(t *testing.T) *shm.Region {
	t.Helper()
	r, err := shm.OpenOrCreate(filepath.Join(t.TempDir(), "region"), shm.Params{Lcores: 2, LUTCapacity: 4 * 65537, FlowEntries: 1024})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// fakeLcore stands in for a running dataplane lcore: it follows every publish and counts
// a burst of packets received and sent every few microseconds, until ctx ends.
func fakeLcore(ctx context.Context, r *shm.Region) <-chan struct{} {
	done := make(chan struct{})
	ls, c, h := r.LcoreState(0), r.Counters(0), r.Header()
	atomic.StoreUint32(&ls.Online, 1)
	atomic.StoreUint32(&h.LcoresRunning, 1)
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			atomic.StoreUint64(&h.DataplaneHeartbeatMs, shm.NowMs())
			atomic.StoreUint64(&ls.HeartbeatMs, shm.NowMs())
			atomic.StoreUint64(&ls.SeenGeneration, atomic.LoadUint64(&h.PublishedGeneration))
			atomic.AddUint64(&c.Global[shm.CtrRxPkts], 32)
			atomic.AddUint64(&c.Global[shm.CtrTxPkts], 32)
			time.Sleep(10 * time.Microsecond)
		}
	}()
	return done
}

func TestPublishedServiceMatchesTheFlowMix(t *testing.T) {
	r := newRegion(t)
	o := ServiceOpts{Mode: "l3dsr", VIP: "198.18.0.100", Port: 80, Proto: 6, Backends: 16, Egress: 1, Ports: 2}
	d, err := o.Desired(0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := shm.NewWriter(r).Publish(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	cs := r.ConfigSet(r.ActiveIndex())
	s := cs.Services[0]
	if s.Mode != shm.ModeL3DSR || s.Port != 80 || s.Proto != 6 || s.VIP[0] != 198 || s.VIP[3] != 100 || s.DSCP != 34 {
		t.Fatalf("service %+v", s)
	}
	if s.LUTSize != 65537 || cs.NBackends != 17 {
		t.Fatalf("lut %d entries, %d backend slots; want 65537 and 17", s.LUTSize, cs.NBackends)
	}
	if be := cs.Backends[1]; be.EgressPort != 1 || be.Flags&shm.BackendStaticMAC == 0 {
		t.Fatalf("backend 1 %+v: want egress 1 and a static MAC", be)
	}
	if _, err := (ServiceOpts{Mode: "dnat", VIP: "198.18.0.100", Backends: 1}).Desired(0); err == nil {
		t.Fatal("mode dnat accepted")
	}
}

func TestNATServicesRewriteTowardBackendsAndFNATGetsItsPool(t *testing.T) {
	r := newRegion(t)
	w := shm.NewWriter(r)
	for _, mode := range []string{"nat", "fnat"} {
		o := ServiceOpts{Mode: mode, VIP: "198.18.0.100", Port: 80, Proto: 6, Backends: 16, Egress: 1, Ports: 2,
			LocalAddrs: 2, NATPortLo: 2000, NATPortHi: 2999}
		d, err := o.Desired(0)
		if err != nil {
			t.Fatalf("%s: %v", mode, err)
		}
		if _, err := w.Publish(context.Background(), d); err != nil {
			t.Fatalf("%s: %v", mode, err)
		}
		cs := r.ConfigSet(r.ActiveIndex())
		s := cs.Services[0]
		if be := cs.Backends[1]; be.Flags&shm.BackendStaticMAC == 0 || be.EgressPort != 1 {
			t.Fatalf("%s: backend 1 %+v: want a static MAC behind port 1, or the rewritten packets wait for a neighbour", mode, be)
		}
		switch mode {
		case "nat":
			if s.Mode != shm.ModeNAT || s.LocalCount != 0 {
				t.Fatalf("nat service %+v: want mode nat and no local pool", s)
			}
		case "fnat":
			la := cs.LocalAddrs[s.LocalPool+1]
			if s.Mode != shm.ModeFNAT || s.LocalCount != 2 || s.NATPortLo != 2000 || s.NATPortHi != 2999 ||
				la.Family != 4 || la.Addr[0] != 198 || la.Addr[1] != 19 || la.Addr[3] != 2 {
				t.Fatalf("fnat service %+v, second local address %+v", s, la)
			}
		}
	}
}

func TestFNATPoolMustHoldEveryFlowOfTheMixOnOneLcore(t *testing.T) {
	o := ServiceOpts{Mode: "fnat", LocalAddrs: 1, NATPortLo: 2000, NATPortHi: 2999, Flows: 1024}
	// 1000 ports split over 2 lcore slots: 500 per lcore, fewer than the mix's flows.
	if err := o.CheckPool(2); !errors.Is(err, ErrPoolTooSmall) || !strings.Contains(err.Error(), "500 ports per lcore for 1024 flows") {
		t.Fatalf("small pool: %v", err)
	}
	o.LocalAddrs = 3
	if err := o.CheckPool(2); err != nil {
		t.Fatalf("3 addresses × 500 ports: %v", err)
	}
	def := ServiceOpts{Mode: "fnat", LocalAddrs: 1, Flows: 1024}
	if n := def.PoolPerLcore(2); n != 32256 {
		t.Fatalf("default range 1024-65535 over 2 slots: %d ports per lcore, want 32256", n)
	}
	if err := (ServiceOpts{Mode: "nat", Flows: 1 << 20}).CheckPool(2); err != nil {
		t.Fatalf("nat has no pool to exhaust: %v", err)
	}
}

func TestARateOfDropsIsRefusedWithItsReasons(t *testing.T) {
	before := Snapshot{Rx: 1000, Drops: map[string]uint64{"nat_no_state": 10}}
	after := Snapshot{Rx: 101000, Tx: 96000, Drops: map[string]uint64{"nat_no_state": 4010, "no_neigh": 1000}}
	err := CheckDrops(before, after, 0.01)
	if !errors.Is(err, ErrDropping) || !strings.Contains(err.Error(), "5.0% of 100000 packets") ||
		!strings.Contains(err.Error(), "nat_no_state 4000, no_neigh 1000") {
		t.Fatalf("5%% drops: %v", err)
	}
	after.Drops = map[string]uint64{"nat_no_state": 110} // the mix's first round: 0.1%
	if err := CheckDrops(before, after, 0.01); err != nil {
		t.Fatalf("0.1%% drops: %v", err)
	}
}

func TestChurnUnderLoadCountsNothingLostWhenEveryPacketLeaves(t *testing.T) {
	r := newRegion(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := fakeLcore(ctx, r)
	o := ServiceOpts{Mode: "l2dsr", VIP: "198.18.0.100", Port: 80, Proto: 6, Backends: 4, Egress: 1, Ports: 2}
	res, err := Churn(ctx, r, o, 50)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	<-done
	if len(res.LatencyUs) != 50 || res.Failed != 0 {
		t.Fatalf("%d latencies, %d failed; want 50 and 0", len(res.LatencyUs), res.Failed)
	}
	l := Lost(res.Before, TakeSnapshot(r))
	if l.Lost != 0 || l.Rx == 0 || l.Rx != l.Tx {
		t.Fatalf("loss %+v, want rx = tx > 0 and nothing lost", l)
	}
}

func TestLostCountsDropsAfterTheSnapshotAndUnaccountedPackets(t *testing.T) {
	before := Snapshot{Rx: 100, Tx: 90, Drops: map[string]uint64{"no_vip": 10}}
	after := Snapshot{Rx: 300, Tx: 250, Drops: map[string]uint64{"no_vip": 30, "no_backend": 5}}
	l := Lost(before, after)
	// 20 more no_vip, 5 no_backend, and 300-250-35 = 15 packets nobody counted.
	if l.Lost != 40 || l.Unaccounted != 15 || l.Drops["no_vip"] != 20 {
		t.Fatalf("loss %+v, want 40 lost of which 15 unaccounted", l)
	}
}
