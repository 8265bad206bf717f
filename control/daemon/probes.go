package daemon

import (
	"maps"

	"tenbin/control/config"
	"tenbin/control/health"
)

// healthJobs maps the configuration's checks to the monitor's jobs, one per backend.
// Backends a previous daemon published as up start up, so a restart moves nothing.
// Target.Iface stays empty: a DSR-path check finds the interface (and the source address
// and, without a configured mac, the backend's MAC) from this namespace's route to the
// backend before each probe, so it follows route changes without a reload.
func healthJobs(cfg *config.Config, adopted map[BackendKey]bool) []health.Job {
	var jobs []health.Job
	for si := range cfg.Services {
		s := &cfg.Services[si]
		for bi := range s.Backends {
			b := &s.Backends[bi]
			spec := healthSpec(b.HealthCheck)
			spec.InitialUp = adopted[BackendKey{s.Name, b.Name}]
			jobs = append(jobs, health.Job{
				Spec: spec,
				Target: health.Target{
					Service: s.Name,
					Backend: b.Name,
					Addr:    b.Address,
					Port:    b.Port,
					VIP:     s.VIP,
					VIPPort: s.Port,
					Mode:    s.Mode.String(),
					DSCP:    s.DSCP,
					MAC:     b.MAC,
				},
			})
		}
	}
	return jobs
}

func healthSpec(hc config.HealthCheck) health.Spec {
	spec := health.Spec{
		Kind:               health.Kind(hc.Kind.String()), // the same spellings
		Interval:           hc.Interval,
		Timeout:            hc.Timeout,
		Rise:               hc.Rise,
		Fall:               hc.Fall,
		Jitter:             hc.Jitter,
		Source:             hc.Source,
		Port:               hc.Port,
		Method:             hc.Method,
		Path:               hc.Path,
		Host:               hc.Host,
		ExpectBody:         hc.ExpectBody,
		SNI:                hc.SNI,
		InsecureSkipVerify: hc.InsecureSkipVerify,
		AgentPort:          hc.AgentPort,
		DSRPath:            hc.DSRPath,
	}
	if hc.Payload != "" {
		spec.Payload = []byte(hc.Payload)
	}
	for _, r := range hc.ExpectStatus {
		spec.ExpectStatus = append(spec.ExpectStatus, health.StatusRange{Lo: r.Lo, Hi: r.Hi})
	}
	return spec
}

// updateProber hands the current configuration's checks to the prober. Hold mu.
func (e *Engine) updateProber() {
	if err := e.prober.Update(healthJobs(e.cfg, e.adopted)); err != nil {
		e.log.Error("some health checks did not start", "err", err)
	}
}

// onHealthEvent runs on a probe's goroutine: it records the change and wakes Run, which
// publishes at once (several changes that arrive together make one publish).
func (e *Engine) onHealthEvent(ev health.Event) {
	k := BackendKey{ev.Target.Service, ev.Target.Backend}
	e.pendingMu.Lock()
	e.pending[k] = ev
	c := e.changes[k]
	c.add(ev.New)
	e.changes[k] = c
	e.pendingMu.Unlock()
	select {
	case e.kick <- struct{}{}:
	default:
	}
}

// applyHealthEvents publishes the state changes the prober reported.
func (e *Engine) applyHealthEvents() {
	e.pendingMu.Lock()
	pending := e.pending
	e.pending = map[BackendKey]health.Event{}
	e.pendingMu.Unlock()
	if len(pending) == 0 {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return
	}
	changed := false
	for k, ev := range pending {
		if s := e.cfg.Service(k.Service); s == nil || s.Backend(k.Backend) == nil {
			continue // a check of a backend the configuration just dropped
		}
		h, known := e.health[k]
		if !known {
			h.Load = -1 // no agent has reported: unknown, not idle
		}
		changed = changed || h.State != ev.New
		h.State, h.Since, h.Detail = ev.New, ev.Time, ev.Result.Detail
		if ev.Result.Load >= 0 {
			h.Load = ev.Result.Load
		}
		if h.RTT == 0 {
			h.RTT = ev.Result.RTT
		}
		e.health[k] = h
	}
	if changed {
		e.publishIfChanged("health")
	}
}

// refreshHealthDetails copies load, RTT and details from the prober: they change without
// a state change, and least-load and fastest steer by them. State and Since come only
// from events (an adopted backend keeps "up since long ago", so no slow start). Hold mu.
func (e *Engine) refreshHealthDetails() {
	for _, st := range e.prober.States() {
		k := BackendKey{st.Target.Service, st.Target.Backend}
		if st.Checks == 0 {
			continue
		}
		h := e.health[k]
		fresh := healthOf(st)
		h.Load, h.RTT, h.Detail = fresh.Load, fresh.RTT, fresh.Detail
		e.health[k] = h
	}
}

// stateChanges returns a copy of the state-change counts.
func (e *Engine) stateChanges() map[BackendKey]StateChanges {
	e.pendingMu.Lock()
	defer e.pendingMu.Unlock()
	return maps.Clone(e.changes)
}
