package proxy

import (
	"fmt"
	"sync"
	"sync/atomic"

	"tenbin/control/maglev"
)

// maglevSelector hashes the pool's key into a Maglev table from the control plane's builder,
// so a key keeps its backend while the pool changes little, and several proxy nodes agree.
// Down backends get weight 0 in a rebuilt table: only their keys move.
type maglevSelector struct {
	backends []*backend
	size     uint32
	table    atomic.Pointer[[]int32]
	mu       sync.Mutex // serialises rebuilds
}

func newMaglevSelector(backends []*backend, size uint32) (*maglevSelector, error) {
	if size == 0 {
		size = maglev.DefaultSize
	}
	s := &maglevSelector{backends: backends, size: size}
	if err := s.rebuild(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *maglevSelector) rebuild() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	in := make([]maglev.Backend, len(s.backends))
	for i, b := range s.backends {
		in[i] = maglev.Backend{Name: b.name}
		if b.usable() {
			in[i].Weight = uint32(b.weight)
		}
	}
	t, err := maglev.Build(in, s.size, 0)
	if err != nil {
		return fmt.Errorf("maglev table: %w", err)
	}
	s.table.Store(&t)
	return nil
}

func (s *maglevSelector) healthChanged() { _ = s.rebuild() } // inputs were valid at start

// pick looks the key up; when that backend was already tried (a retry) or went down since the
// last rebuild, it walks on through the table, which is itself a stable fallback order.
func (s *maglevSelector) pick(key string, tried []*backend) *backend {
	t := *s.table.Load()
	n := uint64(len(t))
	h := fnv64a(key) % n
	for i := range min(n, 64) {
		if idx := t[(h+i)%n]; idx >= 0 {
			if b := s.backends[idx]; eligible(b, tried) {
				return b
			}
		}
	}
	for _, b := range s.backends { // a table of down or tried backends: anything usable
		if eligible(b, tried) {
			return b
		}
	}
	return nil
}
