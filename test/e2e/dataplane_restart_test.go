package e2e

import (
	"syscall"
	"testing"
	"time"
)

// TestDataplaneRestartKeepsConnections: the dataplane stops (SIGTERM) and starts again with the
// same flags while connections are open. It re-attaches to the region, whose flow tables
// outlive it, so every open connection keeps its server; requests caught in the gap are
// retransmitted by TCP on the same connection and succeed once it is back.
func TestDataplaneRestartKeepsConnections(t *testing.T) {
	l := requireLab(t)
	var held []*heldConn
	for _, svc := range services {
		for range 2 {
			// A generous timeout: a request in the gap waits for TCP's retransmission.
			held = append(held, l.startHold(t, svc.url, "-timeout", "10s"))
		}
	}
	// New connections during the restart: some may fail in the gap; they are reported.
	during := l.startLoad(t, services[0].url, "-duration", "4s", "-c", "2", "-timeout", "3s")
	time.Sleep(time.Second)
	old := l.pid(t, "dataplane")
	stopAt := time.Now()
	l.kill(t, "dataplane", syscall.SIGTERM)
	stopped := time.Since(stopAt)
	if out, err := l.script("dataplane"); err != nil {
		t.Fatalf("lab.sh dataplane: %v\n%s", err, out)
	}
	alive, ok := waitFor(10*time.Second, func() bool {
		s, err := l.status()
		return err == nil && s.Dataplane.Alive && s.Dataplane.PID != old && s.Dataplane.LcoresRunning > 0
	})
	if !ok {
		t.Fatalf("the restarted dataplane is not alive 10 s later")
	}
	gap := time.Since(stopAt)
	time.Sleep(1500 * time.Millisecond)

	worst := 0.0
	for _, h := range held {
		r := h.stop(t)
		checkStayed(t, h, r)
		worst = max(worst, r.MaxLatency)
	}
	r := during.wait(t)
	t.Logf("dataplane restart: stopped in %v, forwarding again %v after SIGTERM (alive seen after %v more); "+
		"%d held connections kept their server, slowest request %.0f ms; new connections during the restart: %v",
		stopped.Round(10*time.Millisecond), gap.Round(10*time.Millisecond), alive.Round(10*time.Millisecond), len(held), worst, r)
	after := l.load(t, services[0].url, 300)
	if after.failed() != 0 {
		t.Errorf("new connections after the dataplane restart: %v", after)
	}
}
