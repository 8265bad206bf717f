package proxy

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"time"

	"tenbin/control/health"
)

// healthJitter spreads a pool's probes over a tenth of the interval, so backends added
// together are not probed together, while the first probe still comes almost at once.
const healthJitter = 0.1

// healthSpec turns a pool's health_check into the control plane's Spec. Backends start up
// (the proxy serves before the first probe has answered) and go down after fall failures.
// control/health bounds a probe by the interval; a longer timeout is cut to the interval.
func healthSpec(hc *HealthCheckConfig) health.Spec {
	s := health.Spec{
		Kind:      health.TCP,
		Interval:  hc.Interval,
		Timeout:   min(hc.Timeout, hc.Interval),
		Rise:      hc.Rise,
		Fall:      hc.Fall,
		Jitter:    healthJitter,
		InitialUp: true,
	}
	if hc.Kind == "http" {
		s.Kind, s.Path, s.Host = health.HTTP, hc.Path, hc.Host
	}
	return s
}

// healthTarget names one backend for control/health: the pool is the service. A backend
// given by host name is resolved once, when checking starts.
func healthTarget(ctx context.Context, p *pool, b *backend) (health.Target, error) {
	host, portText, err := net.SplitHostPort(b.address)
	if err != nil {
		return health.Target{}, err
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil {
		return health.Target{}, fmt.Errorf("port %q: %w", portText, err)
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		addrs, lerr := net.DefaultResolver.LookupNetIP(rctx, "ip", host)
		cancel()
		if lerr != nil {
			return health.Target{}, lerr
		}
		addr = addrs[0]
	}
	return health.Target{Service: p.name, Backend: b.name, Addr: addr.Unmap(), Port: uint16(port)}, nil
}

// startHealthChecks hands every checked backend to one control/health Monitor; its events
// flip the backend's state at once. A backend that cannot be checked (its name does not
// resolve) is marked down: nobody can vouch for it.
func (s *Server) startHealthChecks(ctx context.Context) *health.Monitor {
	type ref struct {
		p *pool
		b *backend
	}
	byKey := map[string]ref{}
	var jobs []health.Job
	for i := range s.cfg.Pools {
		pc := &s.cfg.Pools[i]
		if pc.HealthCheck == nil {
			continue
		}
		p := s.pools[pc.Name]
		spec := healthSpec(pc.HealthCheck)
		for _, b := range p.backends {
			t, err := healthTarget(ctx, p, b)
			if err != nil {
				s.log.Error("health check not started; backend down", "pool", p.name, "backend", b.name, "err", err)
				s.setHealthy(p, b, false)
				continue
			}
			byKey[t.Key()] = ref{p, b}
			jobs = append(jobs, health.Job{Target: t, Spec: spec})
		}
	}
	if len(jobs) == 0 {
		return nil
	}
	mon := health.NewMonitor(s.log, func(ev health.Event) {
		if r, ok := byKey[ev.Target.Key()]; ok {
			s.setHealthy(r.p, r.b, ev.New == health.StateUp)
		}
	})
	if err := mon.Update(jobs); err != nil {
		s.log.Error("health checks", "err", err) // the monitor skipped only the bad jobs
	}
	return mon
}

// setHealthy records a backend's state where the schedulers and metrics read it.
func (s *Server) setHealthy(p *pool, b *backend, up bool) {
	b.healthy.Store(up)
	p.sel.healthChanged()
	v := 0.0
	if up {
		v = 1
	}
	s.m.backendUp.WithLabelValues(p.name, b.name).Set(v)
}
