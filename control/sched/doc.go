// Package sched turns per-backend state into the weights the dataplane
// selects new flows with. Every function is pure: the control plane calls
// EffectiveWeights about once a second with fresh counters and the weights it
// published last time, and publishes the result (through the Maglev builder,
// or through RRTable for rr and wrr).
//
// # Static schedulers
//
// maglev, hash and wrr use the configured weights; rr gives every backend the
// same weight. A down or draining backend gets weight 0 (the dataplane's flow
// table keeps a draining backend's existing flows). Weights are the
// configured ones times a factor that depends only on the configured weights
// of all backends (up to 100, so slow start has 1% steps; less when weights
// are large, so the result stays within MaxWeight). A backend going down or up
// therefore never rescales the others, and a Maglev table moves only that
// backend's entries.
//
// # The feedback loop (least-conn, least-traffic, least-load, fastest)
//
// The dataplane picks a backend once per new flow, by weight; the control
// plane closes the loop by re-reading counters and re-publishing weights
// every period (about 1 s):
//
//	counters (conns, byte rate) / agent load / check RTT
//	      -> target factor f in [MinFactor, 1] per backend
//	      -> target weight = configured weight x f
//	      -> damped weight = prev + clamp(Gain x (target - prev), +-MaxStep x configured)
//	      -> slow-start cap, then published
//
// Targets:
//   - least-conn: f ∝ 1 / ((conns+1) / weight). At equilibrium every backend
//     holds connections in proportion to its weight, as weighted least
//     connections does per flow; a backend whose flows last longer gets fewer
//     new ones.
//   - least-traffic: the same with the byte rate instead of connections.
//   - least-load: f ∝ (100 - load + 5), the spare capacity the agent reports;
//     unknown load counts as the mean of the known ones.
//   - fastest: f ∝ 1 / (rtt + 100µs), the EWMA of check (or connect) times;
//     unknown RTT counts as the mean of the known ones. The 100µs keeps
//     sub-millisecond noise on a LAN from moving weights.
//
// Factors are normalised so the best backend gets f = 1, and never fall
// below MinFactor so that every healthy backend keeps receiving some flows
// and its measurements stay fresh.
//
// Damping: a proportional step toward the target (Gain = 0.5 of the gap per
// period) and a hard step limit (MaxStep = 25% of the backend's configured
// weight per period). The loop's delay is one period plus the flow lifetime,
// so a full step would overshoot and oscillate; half a step with a bound
// converges geometrically (see TestFeedbackConvergesWithoutOscillation, which
// runs 50 periods of a closed-loop simulation for every feedback kind).
// prev[i] must be the weight in[i] was given by the previous call; a backend
// with prev 0 (new, or back from down) starts at its target.
//
// # Slow start
//
// For every kind, a backend whose Input.Since is less than slowStart ago is
// capped at ramp x configured weight, where ramp rises linearly from 1% to
// 100% over slowStart. The cap is applied after damping, so for the feedback
// kinds the ramp stays linear while the damped step (Gain of the gap to the
// target, at most MaxStep) is larger than the ramp's step per period; close to
// full weight the damping takes over and the last percent come geometrically
// (with a 1 s period and a 30 s slow start, from about 97%).
// TestEngineSlowStartRampsEveryScheduler in control/daemon checks both through
// the engine.
package sched
