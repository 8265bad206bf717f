package proxy

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Checker probes one backend address. It is the proxy's own minimal health checking until it
// is unified with the control plane's tenbin/control/health; keep this interface small so a
// checker from there can be plugged in.
type Checker interface {
	Check(ctx context.Context, address string) error
}

func newChecker(hc *HealthCheckConfig) Checker {
	if hc.Kind == "http" {
		return newHTTPChecker(hc.Path, hc.Host)
	}
	return tcpChecker{}
}

// healthMonitor runs a checker against every backend of a pool and flips their state after
// rise successes or fall failures in a row.
type healthMonitor struct {
	pool    *pool
	checker Checker
	cfg     HealthCheckConfig
	log     *slog.Logger
	onFlip  func(b *backend, up bool)
}

// run probes until ctx ends. The first probe runs at once so a dead backend is found within
// fall intervals of start.
func (m *healthMonitor) run(ctx context.Context, wg *sync.WaitGroup) {
	for _, b := range m.pool.backends {
		wg.Go(func() { m.watch(ctx, b) })
	}
}

func (m *healthMonitor) watch(ctx context.Context, b *backend) {
	var okRun, failRun int
	t := time.NewTicker(m.cfg.Interval)
	defer t.Stop()
	for {
		cctx, cancel := context.WithTimeout(ctx, m.cfg.Timeout)
		err := m.checker.Check(cctx, b.address)
		cancel()
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			okRun, failRun = okRun+1, 0
			if !b.healthy.Load() && okRun >= m.cfg.Rise {
				m.flip(b, true, nil)
			}
		} else {
			okRun, failRun = 0, failRun+1
			if b.healthy.Load() && failRun >= m.cfg.Fall {
				m.flip(b, false, err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (m *healthMonitor) flip(b *backend, up bool, err error) {
	b.healthy.Store(up)
	m.pool.sel.healthChanged()
	if up {
		m.log.Info("backend up", "pool", m.pool.name, "backend", b.name)
	} else {
		m.log.Warn("backend down", "pool", m.pool.name, "backend", b.name, "err", err)
	}
	if m.onFlip != nil {
		m.onFlip(b, up)
	}
}
