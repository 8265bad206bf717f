package shm

import (
	"context"
	"errors"
	"net/netip"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func testRegion(t *testing.T) *Region {
	t.Helper()
	r, err := OpenOrCreate(filepath.Join(t.TempDir(), "region"), smallParams())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func webService(backends ...string) ServiceSpec {
	s := ServiceSpec{Name: "web", VIP: netip.MustParseAddr("198.18.1.10"), Proto: 6, Port: 80, Mode: ModeL2DSR}
	for _, a := range backends {
		s.Backends = append(s.Backends, BackendSpec{Addr: netip.MustParseAddr(a), Present: true, Weight: 1})
	}
	for i := 0; i < 7; i++ {
		s.LUT = append(s.LUT, int32(i%len(backends)))
	}
	return s
}

// backendSlots maps each backend address of the active set to its index and incarnation.
func backendSlots(r *Region) map[string][2]uint32 {
	cs := r.ConfigSet(r.ActiveIndex())
	out := map[string][2]uint32{}
	for i := 1; i < int(cs.NBackends); i++ {
		b := cs.Backends[i]
		if b.Family != 0 {
			out[addrFrom(b.Addr, b.Family).String()] = [2]uint32{uint32(i), b.Incarnation}
		}
	}
	return out
}

func TestPublishFillsActiveSet(t *testing.T) {
	r := testRegion(t)
	w := NewWriter(r)
	gen, err := w.Publish(context.Background(), &Desired{Services: []ServiceSpec{webService("198.18.2.11", "198.18.2.12")}})
	if err != nil {
		t.Fatal(err)
	}
	cs := r.ConfigSet(r.ActiveIndex())
	if cs.Generation != gen || r.Header().PublishedGeneration != gen || gen != 1 {
		t.Fatalf("generation %d, set %d, header %d", gen, cs.Generation, r.Header().PublishedGeneration)
	}
	// The VIP is findable the way the dataplane probes: by (addr, proto, port) and by address only.
	for _, key := range []struct {
		proto uint8
		port  uint16
	}{{6, 80}, {0, 0}} {
		addr, fam := addrBytes(netip.MustParseAddr("198.18.1.10"))
		i := VIPHash(addr, key.port, key.proto, fam) & (VIPSlots - 1)
		for cs.VIPs[i].Family != 0 && (cs.VIPs[i].Port != key.port || cs.VIPs[i].Proto != key.proto) {
			i = (i + 1) & (VIPSlots - 1)
		}
		if cs.VIPs[i].ServicePlus1 != 1 {
			t.Errorf("VIP key %+v not found", key)
		}
	}
	lut := r.LUT(r.ActiveIndex())[:cs.Services[0].LUTSize]
	if len(lut) != 7 || lut[0] == 0 || lut[0] == lut[1] {
		t.Errorf("lut %v", lut)
	}
	if cs.Backends[lut[0]].Neigh == 0 || cs.Neigh[cs.Backends[lut[0]].Neigh].Tag == 0 {
		t.Error("backend without static MAC needs a neighbour slot with a tag")
	}
}

func TestSlotsStableAcrossPublishesAndRestart(t *testing.T) {
	r := testRegion(t)
	w := NewWriter(r)
	ctx := context.Background()
	w.Publish(ctx, &Desired{Services: []ServiceSpec{webService("198.18.2.11", "198.18.2.12", "198.18.2.13")}})
	before := backendSlots(r)
	// Remove .12, add .14: .11 and .13 keep index and incarnation; .14 gets a fresh incarnation.
	w.Publish(ctx, &Desired{Services: []ServiceSpec{webService("198.18.2.11", "198.18.2.13", "198.18.2.14")}})
	after := backendSlots(r)
	for _, a := range []string{"198.18.2.11", "198.18.2.13"} {
		if before[a] != after[a] {
			t.Errorf("%s moved: %v → %v", a, before[a], after[a])
		}
	}
	if after["198.18.2.14"][1] == before["198.18.2.12"][1] {
		t.Error("a reused slot must get a new incarnation")
	}
	// A restarted control plane adopts the active set's slots.
	w2 := NewWriter(r)
	w2.Publish(ctx, &Desired{Services: []ServiceSpec{webService("198.18.2.11", "198.18.2.13", "198.18.2.14")}})
	if got := backendSlots(r); len(got) != 3 || got["198.18.2.14"] != after["198.18.2.14"] || got["198.18.2.11"] != after["198.18.2.11"] {
		t.Errorf("after takeover %v, before %v", got, after)
	}
}

// fakeLcore behaves like a dataplane lcore: once per "burst" it loads active and reports
// the generation it sees, and checks that the set it reads is never being rewritten.
func fakeLcore(r *Region, slot int, stop <-chan struct{}, torn *atomic.Int64) {
	ls := r.LcoreState(slot)
	atomic.StoreUint32(&ls.Online, 1)
	for {
		select {
		case <-stop:
			atomic.StoreUint32(&ls.Online, 0)
			return
		default:
		}
		cs := r.ConfigSet(int(atomic.LoadUint64(&r.hdr.Active)))
		gen := atomic.LoadUint64(&cs.Generation)
		atomic.StoreUint64(&ls.SeenGeneration, gen)
		atomic.StoreUint64(&ls.HeartbeatMs, NowMs())
		for i := 0; i < 100; i++ { // "process a burst" with this set
			if atomic.LoadUint64(&cs.Generation) != gen {
				torn.Add(1)
			}
		}
		time.Sleep(10 * time.Microsecond)
	}
}

func TestPublishWaitsForLcoresAndNeverRewritesALiveSet(t *testing.T) {
	r := testRegion(t)
	w := NewWriter(r)
	stop := make(chan struct{})
	var torn atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); fakeLcore(r, i, stop, &torn) }()
	}
	defer func() { close(stop); wg.Wait() }()
	for l := 0; l < 2; l++ { // both lcores live before the first publish
		for atomic.LoadUint64(&r.LcoreState(l).HeartbeatMs) == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	for i := 0; i < 50; i++ {
		gen, err := w.Publish(context.Background(), &Desired{Services: []ServiceSpec{webService("198.18.2.11", "198.18.2.12")}})
		if err != nil {
			t.Fatal(err)
		}
		for l := 0; l < 2; l++ {
			if seen := atomic.LoadUint64(&r.LcoreState(l).SeenGeneration); seen < gen {
				t.Fatalf("publish %d returned before lcore %d moved (seen %d)", gen, l, seen)
			}
		}
	}
	if torn.Load() != 0 {
		t.Errorf("an lcore saw its config set rewritten under it %d times", torn.Load())
	}
}

func TestDeadLcoreDoesNotBlockPublish(t *testing.T) {
	r := testRegion(t)
	ls := r.LcoreState(3)
	ls.Online = 1
	ls.HeartbeatMs = NowMs() - 10_000 // died ten seconds ago
	w := NewWriter(r)
	start := time.Now()
	if _, err := w.Publish(context.Background(), &Desired{Services: []ServiceSpec{webService("198.18.2.11")}}); err != nil {
		t.Fatal(err)
	}
	if time.Since(start) > time.Second {
		t.Error("a dead lcore held up the publish")
	}
	// A live lcore that never moves makes Publish report it, bounded by QuiesceTimeout.
	ls.HeartbeatMs = NowMs() + 60_000
	w.QuiesceTimeout = 50 * time.Millisecond
	if _, err := w.Publish(context.Background(), &Desired{Services: []ServiceSpec{webService("198.18.2.11")}}); !errors.Is(err, ErrQuiesce) {
		t.Errorf("stuck lcore: %v", err)
	}
}

func TestPublishRejectsBadSpecsAndKeepsRunningSet(t *testing.T) {
	r := testRegion(t)
	w := NewWriter(r)
	ctx := context.Background()
	good, _ := w.Publish(ctx, &Desired{Services: []ServiceSpec{webService("198.18.2.11")}})
	dup := webService("198.18.2.11")
	other := webService("198.18.2.12")
	other.Name = "web2"
	big := webService("198.18.2.11")
	big.LUT = make([]int32, 5000)
	for name, d := range map[string]*Desired{
		"duplicate VIP":    {Services: []ServiceSpec{dup, other}},
		"lut too big":      {Services: []ServiceSpec{big}},
		"repeated name":    {Services: []ServiceSpec{dup, dup}},
		"lut out of range": {Services: []ServiceSpec{{Name: "x", VIP: netip.MustParseAddr("198.18.1.1"), LUT: []int32{3}}}},
	} {
		if _, err := w.Publish(ctx, d); err == nil {
			t.Errorf("%s: published", name)
		}
		if cs := r.ConfigSet(r.ActiveIndex()); cs.Generation != good {
			t.Errorf("%s: running set replaced (generation %d)", name, cs.Generation)
		}
	}
}
