package proxy

import (
	"errors"
	"net/http"
	"slices"
	"sync/atomic"
	"time"
)

// ErrNoHealthyBackend is returned when every backend of a pool is down, drained or already
// tried for this request.
var ErrNoHealthyBackend = errors.New("no healthy backend")

// backend is one server of a pool with its live state.
type backend struct {
	name    string
	address string
	weight  int

	healthy atomic.Bool
	active  atomic.Int64 // requests or sessions in flight
	ewmaNs  atomic.Int64 // smoothed time to response headers (or connect), 0 = unmeasured
	conns   connPool     // the HTTP/1.1 fast path's idle connections to it
}

// usable reports whether the backend may take new work.
func (b *backend) usable() bool { return b.weight > 0 && b.healthy.Load() }

// observe folds one latency sample into the backend's moving average (weight 1/8, as TCP's
// SRTT), which the fastest scheduler reads.
func (b *backend) observe(d time.Duration) {
	n := int64(d)
	if n <= 0 {
		n = 1
	}
	for {
		old := b.ewmaNs.Load()
		next := n
		if old != 0 {
			next = old + (n-old)/8
		}
		if b.ewmaNs.CompareAndSwap(old, next) {
			return
		}
	}
}

// selector chooses a backend for one attempt. Implementations consider only usable backends
// not in tried, and return nil when none is left. The maglev variant rebuilds its table when
// a backend's health flips (healthChanged).
type selector interface {
	pick(key string, tried []*backend) *backend
	healthChanged()
}

// pool is a named set of backends and the policy that spreads requests over them.
type pool struct {
	name      string
	backends  []*backend
	byName    map[string]*backend
	sel       selector
	hashKey   hashKey
	sticky    *StickyConfig
	retries   int
	timeouts  PoolTimeouts
	transport *http.Transport
}

func newPool(pc *PoolConfig) (*pool, error) {
	p := &pool{
		name:      pc.Name,
		byName:    map[string]*backend{},
		sticky:    pc.Sticky,
		retries:   *pc.Retries,
		timeouts:  pc.Timeouts,
		transport: newBackendTransport(pc.Timeouts),
	}
	p.hashKey, _ = parseHashKey(pc.HashKey) // validated
	for _, bc := range pc.Backends {
		b := &backend{name: bc.Name, address: bc.Address, weight: *bc.Weight}
		b.healthy.Store(true) // until a health check says otherwise
		p.backends = append(p.backends, b)
		p.byName[b.name] = b
	}
	var err error
	switch pc.Scheduler {
	case SchedMaglev, SchedHash:
		p.sel, err = newMaglevSelector(p.backends, pc.MaglevTableSize)
	case SchedWRR:
		p.sel = newWRRSelector(p.backends)
	case SchedLeastConn:
		p.sel = &leastConnSelector{backends: p.backends}
	case SchedFastest:
		p.sel = &fastestSelector{backends: p.backends}
	default:
		p.sel = &rrSelector{backends: p.backends}
	}
	return p, err
}

// pick chooses the backend for one attempt: the sticky one if the client names a usable
// backend it has not tried, else the scheduler's choice.
func (p *pool) pick(key, stickyName string, tried []*backend) *backend {
	if stickyName != "" {
		if b := p.byName[stickyName]; b != nil && b.usable() && !slices.Contains(tried, b) {
			return b
		}
	}
	return p.sel.pick(key, tried)
}

// needsRequest reports whether choosing a backend reads request headers or cookies (which
// the fast path then reads from an *http.Request it builds for the purpose).
func (p *pool) needsRequest() bool { return p.hashKey.kind != "source_ip" || p.sticky != nil }

// anyUsable reports whether the pool can serve at all.
func (p *pool) anyUsable() bool {
	for _, b := range p.backends {
		if b.usable() {
			return true
		}
	}
	return false
}

// eligible is the common filter of every selector.
func eligible(b *backend, tried []*backend) bool {
	return b.usable() && !slices.Contains(tried, b)
}
