package sched

import "time"

// minRamp is where slow start begins: a recovered backend gets 1% of its
// weight at once, so it is probed by real traffic without being flooded.
const minRamp = 0.01

// ramp returns the fraction of its full weight a backend that became up at
// since may have at now.
func ramp(since, now time.Time, slowStart time.Duration) float64 {
	if slowStart <= 0 || since.IsZero() {
		return 1
	}
	up := now.Sub(since)
	if up >= slowStart {
		return 1
	}
	if up <= 0 {
		return minRamp
	}
	return minRamp + (1-minRamp)*float64(up)/float64(slowStart)
}
