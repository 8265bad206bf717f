/* SPDX-License-Identifier: BSD-3-Clause
 *
 * tap.h — the kernel exception path's I/O: one net_tap port per data port that has a
 * kernel port (tenbin-dataplane --kernel-port), with the data port's MAC.
 *
 * To the kernel: a frame tenbin_process gave the verdict KERNEL (kernel.h says which) is
 * sent unchanged into its ingress port's tap, by the lcore that received it, on that lcore's
 * own tx queue of the tap (one per lcore: no lock). A tap that refuses it frees it and
 * counts it as tx_full instead of kernel_pkts, so rx = tx + kernel + drops still holds.
 * From the kernel: slot 0 polls every rx queue of every tap (the kernel spreads its
 * transmissions over the queues) on the TSC drain timer, and sends the frames unchanged out
 * of the matching data port on its own tx queue. They are not tenbin_process's packets and
 * are in none of its counters; the tap interface's own statistics count them.
 */
#ifndef TENBIN_TAP_H
#define TENBIN_TAP_H

#include <stdint.h>

#include "dataplane.h"

struct rte_mbuf;

/* One lcore's view of the taps, built by the Go side (LcoreConf.SetKernelTaps). */
struct tenbin_tap_conf {
	uint16_t tap[TENBIN_MAX_PORTS]; /* ethdev port of data port i's tap, where ports has bit i */
	uint16_t tx_queue;              /* this lcore's tx queue on every tap */
	uint16_t n_rx_queues;           /* slot 0: rx queues per tap, all polled; else 0 */
	uint32_t ports;                 /* bit i: data port i has a tap; 0: no taps */
};

/* Binds the worker to the lcore's taps (its kernel_ports bits). Returns c, or NULL when
 * there is none: tenbin_tap_send is then never called. */
const struct tenbin_tap_conf *tenbin_tap_attach(struct tenbin_worker *w, const struct tenbin_tap_conf *c);

/* Sends m (verdict KERNEL) into the tap of its ingress port. Returns 1 when m was taken
 * (sent, or refused, freed and counted), 0 when the port has no tap (the caller frees it). */
int tenbin_tap_send(struct tenbin_worker *w, const struct tenbin_tap_conf *c, struct rte_mbuf *m);

/* Slot 0: moves what the kernel wrote into the taps out of their data ports, whose tx
 * queues (this lcore's) are data_tx_queue[port]. Returns the frames received. */
uint16_t tenbin_tap_poll(const struct tenbin_tap_conf *c, const uint16_t *data_tx_queue);

#endif /* TENBIN_TAP_H */
