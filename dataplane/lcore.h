/* SPDX-License-Identifier: BSD-3-Clause
 *
 * lcore.h — the thin mbuf adapter around tenbin_process and the lcore poll loop.
 */
#ifndef TENBIN_LCORE_H
#define TENBIN_LCORE_H

#include <stdint.h>

#include <rte_mbuf.h>

#include "dataplane.h"
#include "tap.h"

#define TENBIN_BURST        32
#define TENBIN_TX_BUF       (2 * TENBIN_BURST)
#define TENBIN_LCORE_MAX_RX 16
#define TENBIN_NO_QUEUE     0xffff

/* Packets waiting for transmission, per port. A port is flushed once it holds a burst and
 * on the TSC timer, so one rx burst never overflows a buffer. */
struct tenbin_tx_buffers {
	uint16_t n[TENBIN_MAX_PORTS];
	struct rte_mbuf *pkts[TENBIN_MAX_PORTS][TENBIN_TX_BUF];
	const struct tenbin_tap_conf *tap;   /* kernel taps (tap.h); NULL: none */
};

/* What tenbin_lcore_main runs, built by the Go side (NewLcoreConf). */
struct tenbin_lcore_conf {
	void *region;                        /* the mapped shared region */
	struct rte_mempool *mempool;         /* for generated frames (neighbour requests) */
	uint32_t slot;                       /* lcore slot in the region */
	uint16_t n_rx;
	uint8_t  passthrough;                /* forward unchanged to the paired port (0↔1, 2↔3) */
	uint8_t  _pad0;
	uint16_t rx_port[TENBIN_LCORE_MAX_RX];
	uint16_t rx_queue[TENBIN_LCORE_MAX_RX];
	uint16_t tx_queue[TENBIN_MAX_PORTS]; /* this lcore's tx queue per port, or TENBIN_NO_QUEUE */
	volatile uint32_t stop;              /* set by the Go side; the loop returns */
	int32_t result;                      /* 0, or -errno from start-up */
	struct tenbin_tap_conf tap;          /* kernel taps (tap.h); zeroed: none */
};

/* Processes n received mbufs against the worker's current set: packets to send go to tx,
 * those for the kernel into their port's tap (tx->tap), the others (dropped, or for a
 * kernel tap that is not there) to drop[*n_drop...] for the caller to free. Transmits
 * nothing else itself, so the benchmark (no taps) can run it without a port. */
void tenbin_mbuf_burst(struct tenbin_worker *w, struct rte_mbuf **m, uint16_t n,
		       struct tenbin_tx_buffers *tx, struct rte_mbuf **drop, uint16_t *n_drop);

/* The lcore entry point (lcore_function_t) for rte_eal_remote_launch; arg is a
 * struct tenbin_lcore_conf. Runs until conf->stop is set. */
int tenbin_lcore_main(void *arg);

#endif /* TENBIN_LCORE_H */
