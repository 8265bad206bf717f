package proxy

import "sync"

// wrrSelector is nginx's smooth weighted round robin: each pick every usable backend gains
// its weight, the richest is chosen and pays back the total. Heavy backends are interleaved
// with light ones instead of served in bursts.
type wrrSelector struct {
	mu       sync.Mutex
	backends []*backend
	current  []int
}

func newWRRSelector(backends []*backend) *wrrSelector {
	return &wrrSelector{backends: backends, current: make([]int, len(backends))}
}

func (s *wrrSelector) pick(_ string, tried []*backend) *backend {
	s.mu.Lock()
	defer s.mu.Unlock()
	best, total := -1, 0
	for i, b := range s.backends {
		if !eligible(b, tried) {
			continue
		}
		s.current[i] += b.weight
		total += b.weight
		if best < 0 || s.current[i] > s.current[best] {
			best = i
		}
	}
	if best < 0 {
		return nil
	}
	s.current[best] -= total
	return s.backends[best]
}

func (s *wrrSelector) healthChanged() {}
