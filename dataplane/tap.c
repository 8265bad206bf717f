/* SPDX-License-Identifier: BSD-3-Clause
 *
 * tap.c — the kernel exception path's mbuf side (tap.h). Nothing here runs for a packet
 * unless a data port has a tap; a tap's PMD makes one write or read system call per
 * frame, which is the price of the exception path, not of the fast path.
 */
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "lcore.h"
#include "tap.h"

#define POLL_ROUNDS 4 /* full bursts read from one tap queue per poll, at most */

const struct tenbin_tap_conf *tenbin_tap_attach(struct tenbin_worker *w, const struct tenbin_tap_conf *c)
{
	w->kernel_ports = c->ports;
	return c->ports != 0 ? c : NULL;
}

int tenbin_tap_send(struct tenbin_worker *w, const struct tenbin_tap_conf *c, struct rte_mbuf *m)
{
	uint16_t port = m->port;

	if (c == NULL || port >= TENBIN_MAX_PORTS || ((c->ports >> port) & 1) == 0)
		return 0;
	if (rte_eth_tx_burst(c->tap[port], c->tx_queue, &m, 1) == 1)
		return 1;
	/* tenbin_process counted it for the kernel; it is a drop after all */
	w->ctr->global[TENBIN_CTR_KERNEL_PKTS]--;
	w->ctr->global[TENBIN_CTR_TX_FULL]++;
	w->ctr->drops[TENBIN_DROP_TX_FULL]++;
	rte_pktmbuf_free(m);
	return 1;
}

uint16_t tenbin_tap_poll(const struct tenbin_tap_conf *c, const uint16_t *data_tx_queue)
{
	struct rte_mbuf *m[TENBIN_BURST];
	uint32_t ports = c->ports;
	uint16_t total = 0;

	while (ports != 0) {
		uint16_t port = (uint16_t)__builtin_ctz(ports);
		uint16_t q, n, sent;
		int round;

		ports &= ports - 1;
		for (q = 0; q < c->n_rx_queues; q++) {
			for (round = 0; round < POLL_ROUNDS; round++) {
				n = rte_eth_rx_burst(c->tap[port], q, m, TENBIN_BURST);
				if (n == 0)
					break;
				total += n;
				sent = 0;
				if (data_tx_queue[port] != TENBIN_NO_QUEUE)
					sent = rte_eth_tx_burst(port, data_tx_queue[port], m, n);
				if (sent < n)
					rte_pktmbuf_free_bulk(&m[sent], n - sent);
				if (n < TENBIN_BURST)
					break;
			}
		}
	}
	return total;
}
