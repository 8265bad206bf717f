package main

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"syscall"
	"time"

	"tenbin/control/shm"
)

// Snapshot is the sum of every lcore's counters at one moment.
type Snapshot struct {
	AtMs   uint64            `json:"at_ms"`
	Rx     uint64            `json:"rx_pkts"`
	Tx     uint64            `json:"tx_pkts"`
	Kernel uint64            `json:"kernel_pkts"`
	Drops  map[string]uint64 `json:"drops"`
}

// TakeSnapshot adds up the counters of the region's lcore slots. Each counter has one
// writer; reading it with an atomic load never sees a torn value, but the counters of one
// lcore are not read at one instant, so a live snapshot may be a burst apart.
func TakeSnapshot(r *shm.Region) Snapshot {
	s := Snapshot{AtMs: shm.NowMs(), Drops: map[string]uint64{}}
	for i := 0; i < int(r.Header().NLcores); i++ {
		c := r.Counters(i)
		s.Rx += atomic.LoadUint64(&c.Global[shm.CtrRxPkts])
		s.Tx += atomic.LoadUint64(&c.Global[shm.CtrTxPkts])
		s.Kernel += atomic.LoadUint64(&c.Global[shm.CtrKernelPkts])
		for d, name := range shm.DropReasonNames {
			if v := atomic.LoadUint64(&c.Drops[d]); v != 0 {
				s.Drops[name] += v
			}
		}
	}
	return s
}

// DropTotal is the sum of the drops of every reason.
func (s Snapshot) DropTotal() uint64 {
	var n uint64
	for _, v := range s.Drops {
		n += v
	}
	return n
}

// Unaccounted is what was received and neither sent, handed to the kernel nor counted as a
// drop: 0 for a stopped dataplane whose counters add up.
func (s Snapshot) Unaccounted() int64 {
	return int64(s.Rx) - int64(s.Tx) - int64(s.Kernel) - int64(s.DropTotal())
}

// ErrNoDataplane means no running dataplane showed up in the region in time.
var ErrNoDataplane = errors.New("no running dataplane in the region")

// ErrExited means the dataplane process ended before it ran.
var ErrExited = errors.New("dataplane process exited")

// WaitDataplane opens the region at path once a dataplane has created it and has lcores
// running with a fresh heartbeat, polling until ctx ends, or until process pid (when not 0)
// has exited.
func WaitDataplane(ctx context.Context, path string, pid int) (*shm.Region, error) {
	var last error
	for {
		if pid != 0 && syscall.Kill(pid, 0) != nil {
			return nil, fmt.Errorf("pid %d: %w", pid, ErrExited)
		}
		r, err := shm.Open(path)
		if errors.Is(err, shm.ErrSizeChanged) || errors.Is(err, shm.ErrBadVersion) || errors.Is(err, shm.ErrBadMagic) {
			// The dataplane was built from another region ABI than this benchctl: waiting
			// will not help (rebuild both, e.g. with make bench).
			return nil, fmt.Errorf("%w: %v", ErrNoDataplane, err)
		}
		if err == nil {
			h := r.Header()
			if atomic.LoadUint32(&h.LcoresRunning) > 0 && shm.HeartbeatAge(atomic.LoadUint64(&h.DataplaneHeartbeatMs)) < time.Second {
				return r, nil
			}
			r.Close()
			err = fmt.Errorf("%w: lcores not running", ErrNoDataplane)
		}
		last = err
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%s: %w (last: %v)", path, ErrNoDataplane, last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// ErrNoTraffic means the dataplane's rx counter did not move.
var ErrNoTraffic = errors.New("no packets received")

// WaitTraffic waits until the region's rx counter grows.
func WaitTraffic(ctx context.Context, r *shm.Region) error {
	start := TakeSnapshot(r).Rx
	for {
		if TakeSnapshot(r).Rx > start {
			return nil
		}
		select {
		case <-ctx.Done():
			return ErrNoTraffic
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Rates samples the region every interval for n intervals and returns the tx and rx rates
// of each interval in Mpps, plus the snapshots before and after.
func Rates(ctx context.Context, r *shm.Region, n int, interval time.Duration) (tx, rx []float64, first, last Snapshot, err error) {
	prev := TakeSnapshot(r)
	prevT := time.Now()
	first = prev
	t := time.NewTicker(interval)
	defer t.Stop()
	for range n {
		select {
		case <-ctx.Done():
			return tx, rx, first, prev, ctx.Err()
		case <-t.C:
		}
		cur, now := TakeSnapshot(r), time.Now()
		dt := now.Sub(prevT).Seconds()
		tx = append(tx, float64(cur.Tx-prev.Tx)/dt/1e6)
		rx = append(rx, float64(cur.Rx-prev.Rx)/dt/1e6)
		prev, prevT = cur, now
	}
	return tx, rx, first, prev, nil
}
