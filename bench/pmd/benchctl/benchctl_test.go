package main

import (
	"context"
	"os"
	"path/filepath"
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
	if _, err := (ServiceOpts{Mode: "nat", VIP: "198.18.0.100", Backends: 1}).Desired(0); err == nil {
		t.Fatal("mode nat accepted")
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
