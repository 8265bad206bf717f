package proxy

import "sync/atomic"

// leastConnSelector picks the usable backend with the fewest requests in flight per unit of
// weight; ties go round robin so an idle pool still spreads.
type leastConnSelector struct {
	backends []*backend
	next     atomic.Uint64
}

func (s *leastConnSelector) pick(_ string, tried []*backend) *backend {
	n := uint64(len(s.backends))
	start := s.next.Add(1)
	var best *backend
	for i := range n {
		b := s.backends[(start+i)%n]
		if !eligible(b, tried) {
			continue
		}
		// a/wa < c/wc  <=>  a*wc < c*wa, without division.
		if best == nil || b.active.Load()*int64(best.weight) < best.active.Load()*int64(b.weight) {
			best = b
		}
	}
	return best
}

func (s *leastConnSelector) healthChanged() {}
