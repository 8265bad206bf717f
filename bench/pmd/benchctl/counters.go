package main

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
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
	// Connections opened and fnat source ports taken: a NAT run's mix opens each of its
	// flows once, then only forwards.
	FlowNew       uint64 `json:"flow_new"`
	NATPortAllocs uint64 `json:"nat_port_allocs"`
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
		s.FlowNew += atomic.LoadUint64(&c.Global[shm.CtrFlowNew])
		s.NATPortAllocs += atomic.LoadUint64(&c.Global[shm.CtrNATPortAllocs])
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

// DropsSince is the drops of each reason after before was taken, reasons without any left out.
func (s Snapshot) DropsSince(before Snapshot) map[string]uint64 {
	out := map[string]uint64{}
	for k, v := range s.Drops {
		if d := v - before.Drops[k]; d > 0 {
			out[k] = d
		}
	}
	return out
}

// ErrDropping means the dataplane dropped too much of what it received for its tx rate to
// be a forwarding figure (a mode whose packets end as drops would report the rate of its
// drops' complement, not how fast it forwards).
var ErrDropping = errors.New("dropping what it receives")

// CheckDrops fails with ErrDropping, naming the reasons, when the drops between before and
// after exceed maxShare of the packets received between them.
func CheckDrops(before, after Snapshot, maxShare float64) error {
	rx := after.Rx - before.Rx
	drops := after.DropsSince(before)
	var n uint64
	reasons := make([]string, 0, len(drops))
	for k, v := range drops {
		n += v
		reasons = append(reasons, fmt.Sprintf("%s %d", k, v))
	}
	if rx == 0 || float64(n) <= maxShare*float64(rx) {
		return nil
	}
	sort.Strings(reasons)
	return fmt.Errorf("%w: %.1f%% of %d packets received in the measured seconds dropped (%s)",
		ErrDropping, 100*float64(n)/float64(rx), rx, strings.Join(reasons, ", "))
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
