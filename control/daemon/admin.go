package daemon

import (
	"fmt"

	"tenbin/control/config"
)

// SetWeight overrides a backend's configured weight until the daemon restarts or the
// backend leaves the configuration. It publishes at once and returns the generation.
func (e *Engine) SetWeight(service, backend string, weight uint16) (uint64, error) {
	return e.changeAdmin(service, backend, "weight", func(a *Admin, b *config.Backend) {
		a.Weight = &weight
		if weight == b.Weight {
			a.Weight = nil
		}
	})
}

// Drain stops new flows to a backend; its established flows stay.
func (e *Engine) Drain(service, backend string) (uint64, error) {
	return e.changeAdmin(service, backend, "drain", func(a *Admin, _ *config.Backend) { a.Drained = true })
}

// Undrain lets a drained backend take new flows again.
func (e *Engine) Undrain(service, backend string) (uint64, error) {
	return e.changeAdmin(service, backend, "undrain", func(a *Admin, _ *config.Backend) { a.Drained = false })
}

// Enable puts a disabled backend back (it still has to pass its checks).
func (e *Engine) Enable(service, backend string) (uint64, error) {
	return e.setDisabled(service, backend, "enable", false)
}

// Disable takes a backend out at once: its flows are re-selected, as if it were down.
func (e *Engine) Disable(service, backend string) (uint64, error) {
	return e.setDisabled(service, backend, "disable", true)
}

func (e *Engine) setDisabled(service, backend, why string, disabled bool) (uint64, error) {
	return e.changeAdmin(service, backend, why, func(a *Admin, b *config.Backend) {
		a.Disabled = &disabled
		if disabled == b.Disabled {
			a.Disabled = nil
		}
	})
}

// changeAdmin applies one override and publishes; if the publish fails the override is
// undone, so what the API reports is what the dataplane has.
func (e *Engine) changeAdmin(service, backend, why string, change func(*Admin, *config.Backend)) (uint64, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return 0, ErrClosed
	}
	s := e.cfg.Service(service)
	if s == nil {
		return 0, fmt.Errorf("%w: %q", ErrNoService, service)
	}
	b := s.Backend(backend)
	if b == nil {
		return 0, fmt.Errorf("%w: %q in service %s", ErrNoBackend, backend, service)
	}
	k := BackendKey{service, backend}
	old, had := e.admin[k]
	a := old
	change(&a, b)
	if a.zero() {
		delete(e.admin, k)
	} else {
		e.admin[k] = a
	}
	gen, err := e.publishIfChanged(why + " " + k.String())
	if err != nil {
		if had {
			e.admin[k] = old
		} else {
			delete(e.admin, k)
		}
		return 0, err
	}
	e.log.Info("operator change", "op", why, "backend", k.String())
	return gen, nil
}

// pruneAdmin forgets overrides and health of backends the configuration no longer has.
// Hold mu.
func (e *Engine) pruneState() {
	for k := range e.admin {
		if s := e.cfg.Service(k.Service); s == nil || s.Backend(k.Backend) == nil {
			delete(e.admin, k)
		}
	}
	for k := range e.health {
		if s := e.cfg.Service(k.Service); s == nil || s.Backend(k.Backend) == nil {
			delete(e.health, k)
		}
	}
	e.pendingMu.Lock()
	for k := range e.changes {
		if s := e.cfg.Service(k.Service); s == nil || s.Backend(k.Backend) == nil {
			delete(e.changes, k)
		}
	}
	e.pendingMu.Unlock()
}
