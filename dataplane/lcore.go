package dataplane

/*
#include <stdlib.h>
#include "lcore.h"

static void *tb_lcore_main_ptr(void) { return (void *)tenbin_lcore_main; }
*/
import "C"

import (
	"errors"
	"fmt"
	"sync/atomic"
	"syscall"
	"unsafe"

	"tenbin/control/shm"
)

// Limits of one lcore's loop.
const (
	MaxRxQueuesPerLcore = C.TENBIN_LCORE_MAX_RX
	Burst               = C.TENBIN_BURST
)

// ErrLcoreConf is returned for a conf the loop could not run.
var ErrLcoreConf = errors.New("lcore conf")

// RxQueue is one (port, queue) pair an lcore polls.
type RxQueue struct {
	Port, Queue uint16
}

// LcoreConf is what one lcore's C loop runs with, in C memory so the loop may keep it for
// its whole life. Build it with NewLcoreConf, launch LcoreMain() with Arg() on a worker
// lcore (rte_eal_remote_launch), Stop() it, wait for the lcore, then Free() it.
type LcoreConf struct {
	c      *C.struct_tenbin_lcore_conf
	region *shm.Region // kept alive: the loop reads its mapping
}

// LcoreMain returns the C entry point tenbin_lcore_main (an lcore_function_t).
func LcoreMain() unsafe.Pointer { return C.tb_lcore_main_ptr() }

// NewLcoreConf describes the loop of lcore slot `slot`: the rx queues it polls, its tx queue
// on each port it may send on (ports missing from txQueue drop what would go there, counted
// as tx_full), and the mempool (struct rte_mempool *) it allocates neighbour requests from;
// mempool may be nil on slots other than 0.
func NewLcoreConf(region *shm.Region, slot int, rx []RxQueue, txQueue map[uint16]uint16, mempool unsafe.Pointer) (*LcoreConf, error) {
	h := region.Header()
	switch {
	case slot < 0 || slot >= int(h.NLcores):
		return nil, fmt.Errorf("%w: slot %d not in 0..%d", ErrLcoreConf, slot, h.NLcores-1)
	case len(rx) == 0 || len(rx) > MaxRxQueuesPerLcore:
		return nil, fmt.Errorf("%w: %d rx queues, want 1..%d", ErrLcoreConf, len(rx), MaxRxQueuesPerLcore)
	}
	for port := range txQueue {
		if int(port) >= shm.MaxPorts {
			return nil, fmt.Errorf("%w: tx port %d >= %d", ErrLcoreConf, port, shm.MaxPorts)
		}
	}
	c := (*C.struct_tenbin_lcore_conf)(C.calloc(1, C.sizeof_struct_tenbin_lcore_conf))
	if c == nil {
		return nil, fmt.Errorf("%w: out of memory", ErrLcoreConf)
	}
	c.region = region.Base()
	c.mempool = (*C.struct_rte_mempool)(mempool)
	c.slot = C.uint32_t(slot)
	c.n_rx = C.uint16_t(len(rx))
	for i, q := range rx {
		c.rx_port[i], c.rx_queue[i] = C.uint16_t(q.Port), C.uint16_t(q.Queue)
	}
	for p := range c.tx_queue {
		c.tx_queue[p] = C.TENBIN_NO_QUEUE
	}
	for port, q := range txQueue {
		c.tx_queue[port] = C.uint16_t(q)
	}
	return &LcoreConf{c: c, region: region}, nil
}

// Arg is the argument to launch LcoreMain with.
func (l *LcoreConf) Arg() unsafe.Pointer { return unsafe.Pointer(l.c) }

// Stop asks the loop to return; it does so within one poll (plus at most ~100 µs of sleep).
func (l *LcoreConf) Stop() { atomic.StoreUint32((*uint32)(unsafe.Pointer(&l.c.stop)), 1) }

// SetPassthrough makes the loop forward every frame unchanged to the paired port (0↔1,
// 2↔3), the skeleton's behaviour and the benchmarks' baseline. Set it before launching.
func (l *LcoreConf) SetPassthrough(on bool) {
	l.c.passthrough = 0
	if on {
		l.c.passthrough = 1
	}
}

// Err is the loop's start-up error once it has returned (nil if it ran).
func (l *LcoreConf) Err() error {
	if rc := int32(l.c.result); rc < 0 {
		return fmt.Errorf("%w: slot %d: %w", ErrLcoreConf, int(l.c.slot), syscall.Errno(-rc))
	}
	return nil
}

// Free releases the conf; only after the lcore running it has returned.
func (l *LcoreConf) Free() {
	if l.c != nil {
		C.free(unsafe.Pointer(l.c))
		l.c = nil
	}
}
