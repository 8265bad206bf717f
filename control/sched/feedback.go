package sched

import (
	"math"
	"time"
)

// Damping of the feedback loop; the package documentation explains why.
const (
	// Gain is the fraction of the gap to the target closed per period.
	Gain = 0.5
	// MaxStep bounds one period's change, as a fraction of full weight.
	MaxStep = 0.25
	// MinFactor is the least share of its weight a healthy backend keeps.
	MinFactor = 0.02
)

// Softening terms that keep tiny measurements from swinging weights.
const (
	connFloor  = 1                      // one connection
	loadFloor  = 5                      // load points of spare capacity
	rttFloor   = 100 * time.Microsecond // LAN noise
	rateFloorQ = 0.01                   // of the mean byte rate
)

// feedbackFactors returns f in [MinFactor, 1] per backend: how much of its
// full weight the measurements say it should get. Ineligible backends get 0.
func feedbackFactors(kind Kind, in []Input, base []float64) []float64 {
	f := make([]float64, len(in))
	var eligible []int
	for i := range in {
		if in[i].eligible() && base[i] > 0 {
			eligible = append(eligible, i)
		}
	}
	if len(eligible) == 0 {
		return f
	}
	switch kind {
	case LeastConn:
		for _, i := range eligible {
			f[i] = base[i] / (float64(in[i].ActiveConns) + connFloor)
		}
	case LeastTraffic:
		var total float64
		for _, i := range eligible {
			total += math.Max(0, in[i].ByteRate)
		}
		floor := math.Max(1, rateFloorQ*total/float64(len(eligible)))
		for _, i := range eligible {
			f[i] = base[i] / (math.Max(0, in[i].ByteRate) + floor)
		}
	case LeastLoad:
		mean := meanKnown(eligible, func(i int) (float64, bool) {
			return float64(in[i].Load), in[i].Load >= 0
		}, 0)
		for _, i := range eligible {
			load := mean
			if in[i].Load >= 0 {
				load = float64(min(in[i].Load, 100))
			}
			f[i] = 100 - load + loadFloor
		}
	case Fastest:
		mean := meanKnown(eligible, func(i int) (float64, bool) {
			return float64(in[i].RTT), in[i].RTT > 0
		}, float64(rttFloor))
		for _, i := range eligible {
			rtt := mean
			if in[i].RTT > 0 {
				rtt = float64(in[i].RTT)
			}
			f[i] = 1 / (rtt + float64(rttFloor))
		}
	}
	var best float64
	for _, i := range eligible {
		best = math.Max(best, f[i])
	}
	for _, i := range eligible {
		f[i] = math.Max(MinFactor, f[i]/best)
	}
	return f
}

// meanKnown averages the values that are known, or returns def if none is.
func meanKnown(idx []int, value func(int) (float64, bool), def float64) float64 {
	var sum float64
	var n int
	for _, i := range idx {
		if v, ok := value(i); ok {
			sum += v
			n++
		}
	}
	if n == 0 {
		return def
	}
	return sum / float64(n)
}

// damp moves from prev toward target by Gain of the gap, at most MaxStep of
// full per call.
func damp(prev, target, full float64) float64 {
	step := Gain * (target - prev)
	limit := MaxStep * full
	return prev + math.Max(-limit, math.Min(limit, step))
}
