package proxy

import "sync/atomic"

// fastestSelector picks the usable backend with the lowest smoothed response time. Backends
// not measured yet go first, so a new or recovered backend is tried at once; every 16th pick
// goes round robin so a backend that was slow once gets measured again.
type fastestSelector struct {
	backends []*backend
	n        atomic.Uint64
}

func (s *fastestSelector) pick(_ string, tried []*backend) *backend {
	k := s.n.Add(1)
	n := uint64(len(s.backends))
	if k%16 == 0 {
		for i := range n {
			if b := s.backends[(k/16+i)%n]; eligible(b, tried) {
				return b
			}
		}
	}
	var best *backend
	var bestNs int64
	for _, b := range s.backends {
		if !eligible(b, tried) {
			continue
		}
		ns := b.ewmaNs.Load()
		if best == nil || ns < bestNs {
			best, bestNs = b, ns
		}
	}
	return best
}

func (s *fastestSelector) healthChanged() {}
