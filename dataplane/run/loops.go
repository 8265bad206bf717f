package run

/*
// The main lcore runs its loop on the thread that initialised the EAL, so the loop sees
// the main lcore's id (per-lcore mempool caches work) — one cgo call for the loop's life.
static int tb_call_lcore(void *fn, void *arg) { return ((int (*)(void *))fn)(arg); }
*/
import "C"

import (
	"fmt"
	"unsafe"

	"tenbin/cgo/dpdk"
	"tenbin/control/shm"
	"tenbin/dataplane"
)

// loops holds one lcore conf per lcore slot; slot 0 is the main lcore's.
type loops struct {
	confs []*dataplane.LcoreConf
}

// newLoops gives lcore slot i rx queue i and tx queue i of every port that has a queue i,
// and the kernel taps; a slot with nothing to poll gets a nil conf and is not launched.
func newLoops(region *shm.Region, ports []port, lcores []uint, pool *dpdk.Mempool, passthrough bool, taps dataplane.KernelTaps) (*loops, error) {
	l := &loops{}
	for slot := range lcores {
		var rx []dataplane.RxQueue
		tx := map[uint16]uint16{}
		for _, p := range ports {
			if slot < int(p.queues) {
				rx = append(rx, dataplane.RxQueue{Port: uint16(p.id), Queue: uint16(slot)})
				tx[uint16(p.id)] = uint16(slot)
			}
		}
		if len(rx) == 0 {
			l.confs = append(l.confs, nil)
			continue
		}
		c, err := dataplane.NewLcoreConf(region, slot, rx, tx, pool.Ptr())
		if err != nil {
			l.free()
			return nil, fmt.Errorf("lcore slot %d: %w", slot, err)
		}
		c.SetPassthrough(passthrough)
		l.confs = append(l.confs, c)
		if err := c.SetKernelTaps(taps); err != nil {
			l.free()
			return nil, fmt.Errorf("lcore slot %d: %w", slot, err)
		}
	}
	return l, nil
}

func (l *loops) launch(slot int, lcore uint) error {
	return dpdk.LaunchRemote(lcore, dataplane.LcoreMain(), l.confs[slot].Arg())
}

// runMain runs slot 0's loop on the calling (main lcore) thread until stopped.
func (l *loops) runMain() int {
	return int(C.tb_call_lcore(dataplane.LcoreMain(), unsafe.Pointer(l.confs[0].Arg())))
}

func (l *loops) stop() {
	for _, c := range l.confs {
		if c != nil {
			c.Stop()
		}
	}
}

func (l *loops) free() {
	for _, c := range l.confs {
		if c != nil {
			c.Free()
		}
	}
	l.confs = nil
}
