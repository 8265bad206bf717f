package e2e

import (
	"syscall"
	"testing"
	"time"
)

// TestControlPlaneRestartUnderLoad: the control plane crashes (SIGKILL) and is started again
// while clients open new connections to an l2dsr and an l3dsr VIP: the dataplane keeps
// forwarding on the published tables and not one request fails.
func TestControlPlaneRestartUnderLoad(t *testing.T) {
	l := requireLab(t)
	before, err := l.status()
	if err != nil {
		t.Fatal(err)
	}
	loads := []*pendingLoad{
		l.startLoad(t, services[0].url, "-duration", "6s", "-c", "3"),
		l.startLoad(t, services[3].url, "-duration", "6s", "-c", "3"),
	}
	time.Sleep(1500 * time.Millisecond)
	l.kill(t, "control", syscall.SIGKILL)
	killed := time.Now()
	if out, err := l.script("control"); err != nil {
		t.Fatalf("lab.sh control: %v\n%s", err, out)
	}
	back := time.Since(killed)
	for i, p := range loads {
		svc := services[[]int{0, 3}[i]]
		r := p.wait(t)
		t.Logf("%s during the control plane restart (API back after %v): %v", svc.name, back.Round(10*time.Millisecond), r)
		if r.failed() != 0 || r.OK == 0 {
			t.Errorf("%s: requests failed while the control plane restarted: %v", svc.name, r)
		}
	}
	after, err := l.status()
	if err != nil {
		t.Fatal(err)
	}
	if after.Control.PID == before.Control.PID || !after.Dataplane.Alive {
		t.Errorf("after the restart: control pid %d (was %d), dataplane alive %v", after.Control.PID, before.Control.PID, after.Dataplane.Alive)
	}
}
