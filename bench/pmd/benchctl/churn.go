package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"tenbin/control/shm"
)

// ChurnResult is what Churn measured.
type ChurnResult struct {
	Before    Snapshot  // counters once the first config was live and traffic flowing
	LatencyUs []float64 // each publish, from the start of Publish to every lcore on the new set
	Failed    int       // publishes that returned an error (ErrQuiesce: an lcore lagged)
}

// Churn publishes the service, waits for traffic, snapshots the counters, then publishes n
// times, alternating o's backends and one more, each a different lookup table.
func Churn(ctx context.Context, r *shm.Region, o ServiceOpts, n int) (ChurnResult, error) {
	var res ChurnResult
	a, err := o.Desired(0)
	if err != nil {
		return res, err
	}
	b, err := o.Desired(1)
	if err != nil {
		return res, err
	}
	w := shm.NewWriter(r)
	if _, err := w.Publish(ctx, a); err != nil {
		return res, fmt.Errorf("first publish: %w", err)
	}
	if err := WaitTraffic(ctx, r); err != nil {
		return res, err
	}
	// The first config is live on every lcore: from here on, every packet of the capture
	// matches the VIP and must leave.
	res.Before = TakeSnapshot(r)
	res.LatencyUs = make([]float64, 0, n)
	for i := range n {
		d := b
		if i%2 == 1 {
			d = a
		}
		start := time.Now()
		if _, err := w.Publish(ctx, d); err != nil {
			if !errors.Is(err, shm.ErrQuiesce) {
				return res, fmt.Errorf("publish %d: %w", i+1, err)
			}
			res.Failed++
		}
		res.LatencyUs = append(res.LatencyUs, float64(time.Since(start).Nanoseconds())/1e3)
	}
	return res, nil
}

// Loss is the packet accounting across a churn: every packet of the capture is VIP traffic,
// so a packet dropped for any reason after Before, or never accounted for, is lost.
type Loss struct {
	Rx, Tx, Kernel uint64
	Drops          map[string]uint64
	Unaccounted    int64 // rx - tx - kernel - drops of the final counters
	Lost           int64
}

// Lost compares churn's snapshot with the counters of the stopped dataplane.
func Lost(before, after Snapshot) Loss {
	l := Loss{Rx: after.Rx - before.Rx, Tx: after.Tx - before.Tx, Kernel: after.Kernel - before.Kernel,
		Drops: after.DropsSince(before), Unaccounted: after.Unaccounted()}
	l.Lost = l.Unaccounted
	for _, d := range l.Drops {
		l.Lost += int64(d)
	}
	return l
}
