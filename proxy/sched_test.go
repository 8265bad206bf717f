package proxy

import (
	"fmt"
	"testing"
	"time"
)

func testPool(t *testing.T, sched string, weights ...int) *pool {
	t.Helper()
	pc := PoolConfig{Name: "p", Scheduler: sched}
	for i, w := range weights {
		pc.Backends = append(pc.Backends, BackendConfig{Name: fmt.Sprintf("b%d", i), Address: "127.0.0.1:1", Weight: &w})
	}
	c := Config{Pools: []PoolConfig{pc}}
	c.applyDefaults()
	p, err := newPool(&c.Pools[0])
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func shares(p *pool, n int, key func(i int) string) map[string]int {
	got := map[string]int{}
	for i := range n {
		if b := p.pick(key(i), "", nil); b != nil {
			got[b.name]++
		}
	}
	return got
}

func TestSchedulersSpreadByWeight(t *testing.T) {
	same := func(int) string { return "k" }
	if got := shares(testPool(t, SchedRR, 1, 5, 1), 300, same); got["b0"] != 100 || got["b1"] != 100 {
		t.Errorf("rr ignores weight: %v", got)
	}
	if got := shares(testPool(t, SchedWRR, 1, 3, 0), 400, same); got["b0"] != 100 || got["b1"] != 300 || got["b2"] != 0 {
		t.Errorf("wrr 1:3:0 = %v", got)
	}
	p := testPool(t, SchedWRR, 1, 1, 1) // smooth: no backend twice in a row at equal weights
	prev := ""
	for range 9 {
		b := p.pick("", "", nil).name
		if b == prev {
			t.Fatalf("wrr repeated %s", b)
		}
		prev = b
	}
	byKey := func(i int) string { return fmt.Sprintf("client-%d", i) }
	if got := shares(testPool(t, SchedMaglev, 1, 1, 2), 8000, byKey); got["b2"] < 3400 || got["b2"] > 4600 {
		t.Errorf("maglev 1:1:2 = %v", got)
	}
}

func TestMaglevKeepsKeysWhenABackendFails(t *testing.T) {
	p := testPool(t, SchedHash, 1, 1, 1, 1)
	before := map[string]string{}
	for i := range 1000 {
		k := fmt.Sprintf("10.0.%d.%d", i/256, i%256)
		before[k] = p.pick(k, "", nil).name
	}
	p.backends[2].healthy.Store(false)
	p.sel.healthChanged()
	moved := 0
	for k, was := range before {
		now := p.pick(k, "", nil).name
		if now == "b2" {
			t.Fatal("down backend chosen")
		}
		if was != "b2" && now != was {
			moved++
		}
	}
	if moved > 30 { // Maglev moves a few percent beyond the failed backend's own keys
		t.Errorf("%d of ~750 keys of healthy backends moved", moved)
	}
	// A retry after a connect failure gets a different backend.
	k := "10.9.9.9"
	first := p.pick(k, "", nil)
	if second := p.pick(k, "", []*backend{first}); second == nil || second == first {
		t.Errorf("retry picked %v after %v", second, first)
	}
}

func TestLeastConnAndFastest(t *testing.T) {
	p := testPool(t, SchedLeastConn, 1, 1, 2)
	p.backends[0].active.Store(1)
	p.backends[1].active.Store(0)
	p.backends[2].active.Store(1) // 1/2 per weight beats b0's 1/1, loses to b1's 0
	if b := p.pick("", "", nil); b.name != "b1" {
		t.Errorf("least-conn picked %s", b.name)
	}
	p.backends[1].active.Store(3)
	if b := p.pick("", "", nil); b.name != "b2" {
		t.Errorf("least-conn by weight picked %s", b.name)
	}

	f := testPool(t, SchedFastest, 1, 1)
	f.backends[0].observe(50 * time.Millisecond)
	f.backends[1].observe(2 * time.Millisecond)
	got := shares(f, 160, func(int) string { return "" })
	if got["b1"] < 140 || got["b0"] == 0 {
		t.Errorf("fastest = %v: want mostly b1 and an occasional probe of b0", got)
	}
}

func TestNoUsableBackend(t *testing.T) {
	for _, s := range []string{SchedRR, SchedWRR, SchedLeastConn, SchedFastest, SchedMaglev} {
		p := testPool(t, s, 1, 0)
		p.backends[0].healthy.Store(false)
		p.sel.healthChanged()
		if b := p.pick("k", "", nil); b != nil || p.anyUsable() {
			t.Errorf("%s picked %v with every backend down or drained", s, b)
		}
	}
}
