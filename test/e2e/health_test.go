package e2e

import (
	"syscall"
	"testing"
	"time"
)

// healthBound is how soon a dead server must be out: the lab checks every 500 ms and takes a
// backend out after 2 failures (about 1 s), plus the publish; 3 s leaves room for busy cores.
const healthBound = 3 * time.Second

// TestKilledServerLeavesWithinHealthBound: when rs2's HTTP server dies, every service shows it
// down within the health bound and no new request fails or reaches it after that; restarted,
// it comes back and takes requests again.
func TestKilledServerLeavesWithinHealthBound(t *testing.T) {
	l := requireLab(t)
	healthOf := func(name string) (up, down int) {
		bs, err := l.backends()
		if err != nil {
			return 0, 0
		}
		for _, b := range bs {
			if b.Name == name {
				if b.Health == "up" {
					up++
				} else {
					down++
				}
			}
		}
		return up, down
	}
	restarted := false
	t.Cleanup(func() {
		if !restarted {
			l.script("server", "2")
		}
	})
	l.kill(t, "rs2", syscall.SIGKILL)
	detect, ok := waitFor(10*time.Second, func() bool { _, down := healthOf("rs2"); return down == len(services)+len(natServices) })
	if !ok {
		t.Fatalf("rs2 not down in every service 10 s after its server was killed")
	}
	if detect > healthBound {
		t.Errorf("rs2 detected down after %v, bound %v", detect, healthBound)
	}
	for _, svc := range services {
		r := l.load(t, svc.url, 300)
		t.Logf("%s after rs2 went down: %v", svc.name, r)
		if r.failed() != 0 || r.Servers["rs2"] != 0 {
			t.Errorf("%s: new requests after rs2 was detected down: %v", svc.name, r)
		}
	}
	for _, svc := range natServices {
		r := l.loadFrom(t, svc.url, svc.source, 300)
		t.Logf("%s after rs2 went down: %v", svc.name, r)
		if r.failed() != 0 || r.Servers["rs2"] != 0 {
			t.Errorf("%s: new requests after rs2 was detected down: %v", svc.name, r)
		}
	}

	if out, err := l.script("server", "2"); err != nil {
		t.Fatalf("lab.sh server 2: %v\n%s", err, out)
	}
	restarted = true
	back, ok := waitFor(10*time.Second, func() bool { up, _ := healthOf("rs2"); return up == len(services)+len(natServices) })
	if !ok {
		t.Fatalf("rs2 not up in every service 10 s after its server restarted")
	}
	r := l.load(t, services[0].url, 300)
	t.Logf("rs2 killed: down in every service after %v (bound %v); restarted: up after %v; %s: %v",
		detect.Round(10*time.Millisecond), healthBound, back.Round(10*time.Millisecond), services[0].name, r)
	if r.failed() != 0 || r.Servers["rs2"] == 0 {
		t.Errorf("%s after rs2 came back: %v", services[0].name, r)
	}
}
