package daemon

import (
	"maps"
)

// feedbackTick runs every period: it refreshes what the feedback schedulers steer by
// (flows, byte rates, agent load, check RTT) and publishes only if a weight moved, which
// for static schedulers happens only during slow start.
func (e *Engine) feedbackTick() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return
	}
	e.refreshHealthDetails()
	e.refreshFeedback()
	e.storeHealth()
	res, err := e.builder.Build(e.inputs())
	if err != nil {
		e.log.Error("build tables", "err", err)
		return
	}
	if sameWeights(res.Weights, e.weights) {
		return
	}
	e.publishResult(res, "weights")
}

// refreshFeedback reads active flows and byte rates per backend from the counters. Hold mu.
func (e *Engine) refreshFeedback() {
	st := e.Stats()
	now := st.At
	dt := now.Sub(e.prevBytesAt).Seconds()
	bytes := map[BackendKey]uint64{}
	e.feedback = map[BackendKey]Feedback{}
	for _, s := range st.Services {
		for _, b := range s.Backends {
			k := BackendKey{s.Name, b.Name}
			bytes[k] = b.Bytes
			f := Feedback{ActiveFlows: int64(b.ActiveFlows)}
			if prev, ok := e.prevBytes[k]; ok && dt > 0 && b.Bytes >= prev {
				f.ByteRate = float64(b.Bytes-prev) / dt
			}
			e.feedback[k] = f
		}
	}
	e.prevBytes, e.prevBytesAt = bytes, now
}

func sameWeights(a, b map[string]map[string]uint32) bool {
	return maps.EqualFunc(a, b, func(x, y map[string]uint32) bool { return maps.Equal(x, y) })
}
