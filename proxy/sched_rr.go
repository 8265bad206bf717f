package proxy

import "sync/atomic"

// rrSelector takes usable backends in turn, ignoring weights.
type rrSelector struct {
	backends []*backend
	next     atomic.Uint64
}

func (s *rrSelector) pick(_ string, tried []*backend) *backend {
	n := uint64(len(s.backends))
	start := s.next.Add(1)
	for i := range n {
		if b := s.backends[(start+i)%n]; eligible(b, tried) {
			return b
		}
	}
	return nil
}

func (s *rrSelector) healthChanged() {}
