package dataplane

/*
#include "lcore.h"
*/
import "C"

import (
	"fmt"

	"tenbin/control/shm"
)

// KernelTaps are the data ports' kernel taps (net_tap ports): the exception path that
// hands the host stack what is not a VIP's (kernel.h) and sends what the host writes out of
// the data port unchanged (tap.h).
type KernelTaps struct {
	// Tap maps a data port to its tap's ethdev port; ports without one drop as before.
	Tap map[uint16]uint16
	// Queues is the number of rx and tx queues of every tap: lcore slot s sends into tx
	// queue s, slot 0 polls every rx queue.
	Queues uint16
}

// SetKernelTaps gives the loop its taps. Set it before launching.
func (l *LcoreConf) SetKernelTaps(t KernelTaps) error {
	slot := uint16(l.c.slot)
	if len(t.Tap) > 0 && slot >= t.Queues {
		return fmt.Errorf("%w: slot %d has no tx queue on the kernel taps (%d queues)", ErrLcoreConf, slot, t.Queues)
	}
	l.c.tap = C.struct_tenbin_tap_conf{tx_queue: C.uint16_t(slot)}
	for data, tap := range t.Tap {
		if int(data) >= shm.MaxPorts {
			return fmt.Errorf("%w: kernel tap for port %d >= %d", ErrLcoreConf, data, shm.MaxPorts)
		}
		l.c.tap.tap[data] = C.uint16_t(tap)
		l.c.tap.ports |= 1 << data
	}
	if slot == 0 {
		l.c.tap.n_rx_queues = C.uint16_t(t.Queues)
	}
	return nil
}

// SetKernelPorts marks the ingress ports that have a kernel tap: what is not a VIP's on
// them gets the verdict kernel instead of a drop, as on a loop with KernelTaps.
func (h *Harness) SetKernelPorts(ports ...int) {
	var bits C.uint32_t
	for _, p := range ports {
		bits |= 1 << p
	}
	h.w.kernel_ports = bits
}
