package sched

import (
	"math"
	"time"
)

// MaxWeight bounds every weight EffectiveWeights returns, so the Maglev
// builder and RRTable can sum thousands of them without overflow.
const MaxWeight = 65535

// unitsPerWeight is how many output units one configured weight unit gets
// when the configured weights are small: enough for 1% slow-start steps.
const unitsPerWeight = 100

// EffectiveWeights returns the weight each backend should be published with
// now. prev[i] is the weight in[i] was published with last period (nil or a
// different length: no history). See the package documentation for the
// feedback loop, its damping and slow start.
func EffectiveWeights(kind Kind, in []Input, prev []uint32, now time.Time, slowStart time.Duration) []uint32 {
	base := baseWeights(kind, in)
	var factor []float64
	if kind.Feedback() {
		factor = feedbackFactors(kind, in, base)
	}
	if len(prev) != len(in) {
		prev = nil
	}
	out := make([]uint32, len(in))
	for i := range in {
		if !in[i].eligible() || base[i] == 0 {
			continue
		}
		full := base[i]
		w := full
		if factor != nil {
			w = full * factor[i]
			if prev != nil && prev[i] > 0 {
				w = damp(float64(prev[i]), w, full)
			}
		}
		w = math.Min(w, full*ramp(in[i].Since, now, slowStart))
		out[i] = uint32(math.Max(1, math.Min(MaxWeight, math.Round(w))))
	}
	return out
}

// baseWeights returns each backend's full weight in output units. The scale
// depends only on the configured weights, never on which backends are up.
func baseWeights(kind Kind, in []Input) []float64 {
	base := make([]float64, len(in))
	var maxW uint32
	for i := range in {
		maxW = max(maxW, in[i].Weight)
	}
	if maxW == 0 {
		return base
	}
	scale := float64(min(unitsPerWeight, MaxWeight/maxW))
	if maxW > MaxWeight {
		scale = float64(MaxWeight) / float64(maxW)
	}
	for i := range in {
		switch {
		case in[i].Weight == 0:
		case kind == RR:
			base[i] = unitsPerWeight
		default:
			base[i] = math.Max(1, math.Round(float64(in[i].Weight)*scale))
		}
	}
	return base
}
