/* SPDX-License-Identifier: BSD-3-Clause
 *
 * lcore.c — the poll loop, written the l3fwd way: rx burst, a first pass over the burst
 * that hashes each flow and prefetches its bucket, process, buffer tx per port, flush full buffers at once and the rest on a TSC timer, free what a port
 * refused. Idle lcores back off (pause, then sleep up to ~100 µs) so a 2-core machine is
 * not starved. Nothing here allocates (except frames for neighbour requests, from the
 * mempool), locks or logs.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_pause.h>
#include <rte_prefetch.h>

#include "flow.h"
#include "lcore.h"
#include "process.h"

#define TX_DRAIN_US      100   /* flush partly filled tx buffers this often */
#define IDLE_SPIN_POLLS  64    /* empty polls before we start pausing */
#define IDLE_PAUSE_POLLS 1024  /* empty polls before we start sleeping */
#define SLEEP_MIN_NS     1000
#define SLEEP_MAX_NS     100000
#define SWEEP_PASS_SHIFT 13    /* busy: the sweeper visits buckets >> 13 buckets a ms, a pass in ~8 s */
#define SWEEP_IDLE       64    /* idle: buckets it visits per idle poll */
#define CLOCK_RESYNC_MS  1000  /* re-read CLOCK_MONOTONIC this often; TSC in between */

/* The mbufs of a burst as byte views for tenbin_burst, which runs the two stages (burst.c).
 * Each frame's first data line is prefetched as its view is filled, so the burst's misses
 * overlap. The mbuf headers are not: the PMD has just written them, and two extra passes
 * of prefetches cost more than they saved through net_pcap (bench/fastpath/README.md). */
void tenbin_mbuf_burst(struct tenbin_worker *w, struct rte_mbuf **m, uint16_t n,
		       struct tenbin_tx_buffers *tx, struct rte_mbuf **drop, uint16_t *n_drop)
{
	struct tenbin_pkt p[TENBIN_BURST];
	uint32_t span[TENBIN_BURST]; /* each frame's off and len as received */
	uint16_t base, i, nd = *n_drop;

	for (base = 0; base < n; base += TENBIN_BURST) {
		uint16_t k = n - base < TENBIN_BURST ? n - base : TENBIN_BURST;
		struct rte_mbuf **mb = m + base;

		for (i = 0; i < k; i++) {
			p[i].buf = mb[i]->buf_addr;
			p[i].off = mb[i]->data_off;
			rte_prefetch0((uint8_t *)p[i].buf + p[i].off);
			/* Headers are parsed from the first segment; with a 2 KiB data room and a
			 * 1500-byte MTU every frame is one segment. */
			p[i].len = mb[i]->data_len;
			span[i] = (uint32_t)p[i].off << 16 | p[i].len;
			p[i].cap = mb[i]->buf_len;
			p[i].in_port = (uint8_t)mb[i]->port;
			p[i].flags = (mb[i]->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) == RTE_MBUF_F_RX_IP_CKSUM_GOOD ?
				     TENBIN_PKT_IP_CSUM_GOOD : 0;
		}
		tenbin_burst(w, p, k);
		for (i = 0; i < k; i++) {
			if (p[i].verdict == TENBIN_V_TX) {
				/* Most frames leave as long as they came (DSR, NAT without TOA): their
				 * mbuf header, which a burst's other frames may have pushed out of L1
				 * (without hugepages every mbuf header sits at the same page offset, so
				 * in the same cache set), is not touched again here. */
				if (span[i] != ((uint32_t)p[i].off << 16 | p[i].len)) {
					mb[i]->pkt_len = (uint32_t)(mb[i]->pkt_len - mb[i]->data_len + p[i].len);
					mb[i]->data_off = p[i].off;
					mb[i]->data_len = p[i].len;
				}
				tx->pkts[p[i].out_port][tx->n[p[i].out_port]++] = mb[i];
			} else if (p[i].verdict != TENBIN_V_KERNEL || !tenbin_tap_send(w, tx->tap, mb[i])) {
				drop[nd++] = mb[i];
			}
		}
	}
	*n_drop = nd;
}

/* The skeleton and benchmark baseline: every frame leaves unchanged on the paired port
 * (0↔1, 2↔3; a port without a partner echoes), counted like forwarded traffic, so the
 * loop's own cost can be measured against testpmd's io mode. */
static void passthrough_burst(struct tenbin_worker *w, const struct tenbin_lcore_conf *conf,
			      struct rte_mbuf **m, uint16_t n, struct tenbin_tx_buffers *tx)
{
	uint64_t *g = w->ctr->global;
	uint16_t i;

	for (i = 0; i < n; i++) {
		uint16_t out = m[i]->port ^ 1;

		if (out >= TENBIN_MAX_PORTS || conf->tx_queue[out] == TENBIN_NO_QUEUE)
			out = m[i]->port;
		g[TENBIN_CTR_RX_PKTS]++;
		g[TENBIN_CTR_RX_BYTES] += m[i]->pkt_len;
		g[TENBIN_CTR_TX_PKTS]++;
		g[TENBIN_CTR_TX_BYTES] += m[i]->pkt_len;
		tx->pkts[out][tx->n[out]++] = m[i];
	}
}

/* Sends what port holds; what the port refuses is freed and counted (tx_full), and taken
 * back out of tx_pkts, where tenbin_process counted it. */
static void tx_flush(struct tenbin_worker *w, const struct tenbin_lcore_conf *conf,
		     struct tenbin_tx_buffers *tx, uint16_t port)
{
	uint16_t n = tx->n[port], sent, i;
	uint64_t *g = w->ctr->global;

	if (n == 0)
		return;
	tx->n[port] = 0;
	if (conf->tx_queue[port] == TENBIN_NO_QUEUE)
		sent = 0;
	else
		sent = rte_eth_tx_burst(port, conf->tx_queue[port], tx->pkts[port], n);
	for (i = sent; i < n; i++) {
		g[TENBIN_CTR_TX_PKTS]--;
		g[TENBIN_CTR_TX_BYTES] -= tx->pkts[port][i]->pkt_len;
		g[TENBIN_CTR_TX_FULL]++;
		w->ctr->drops[TENBIN_DROP_TX_FULL]++;
	}
	if (sent < n)
		rte_pktmbuf_free_bulk(&tx->pkts[port][sent], n - sent);
}

/* Keeps every buffer below a burst, so the next burst (at most TENBIN_BURST more) fits. */
static void flush_full(struct tenbin_worker *w, const struct tenbin_lcore_conf *conf,
		       struct tenbin_tx_buffers *tx)
{
	uint16_t port;

	for (port = 0; port < TENBIN_MAX_PORTS; port++)
		if (tx->n[port] >= TENBIN_BURST)
			tx_flush(w, conf, tx, port);
}

/* Slot 0 writes due ARP requests and neighbour solicitations into fresh mbufs. */
static void neigh_requests(struct tenbin_worker *w, const struct tenbin_lcore_conf *conf,
			   struct tenbin_tx_buffers *tx)
{
	int budget = TENBIN_BURST; /* at most a burst per poll; the round continues next poll */

	if (!tenbin_neigh_due(w))
		return;
	while (budget-- > 0) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(conf->mempool);
		uint16_t len;
		uint8_t port;

		if (m == NULL)
			return;
		len = tenbin_neigh_request(w, rte_pktmbuf_mtod(m, uint8_t *), rte_pktmbuf_tailroom(m), &port);
		if (len == 0 || port >= TENBIN_MAX_PORTS || tx->n[port] >= TENBIN_TX_BUF) {
			rte_pktmbuf_free(m);
			return;
		}
		m->data_len = len;
		m->pkt_len = len;
		tx->pkts[port][tx->n[port]++] = m;
	}
}

int tenbin_lcore_main(void *arg)
{
	struct tenbin_lcore_conf *conf = arg;
	const uint64_t tsc_hz = rte_get_tsc_hz();
	const uint64_t drain_tsc = (tsc_hz + 999999) / 1000000 * TX_DRAIN_US;
	const uint64_t tsc_per_ms = tsc_hz / 1000 ? tsc_hz / 1000 : 1;
	struct tenbin_worker w;
	struct tenbin_tx_buffers tx;
	struct rte_mbuf *pkts[TENBIN_BURST];
	struct rte_mbuf *drop[TENBIN_BURST];
	uint64_t prev_tsc, sync_tsc, ms_tsc, now_ms, swept_ms, idle = 0;
	uint32_t sweep_per_ms;
	long sleep_ns = SLEEP_MIN_NS;
	int r;

	r = tenbin_worker_init(&w, conf->region, conf->slot);
	if (r != 0 || conf->n_rx > TENBIN_LCORE_MAX_RX) {
		conf->result = r ? r : -EINVAL;
		return conf->result;
	}
	memset(&tx, 0, sizeof(tx));
	tx.tap = tenbin_tap_attach(&w, &conf->tap);
	w.state->lcore_id = rte_lcore_id();
	/* Release: the state above is in place before anyone sees this lcore online. */
	__atomic_store_n(&w.state->online, 1, __ATOMIC_RELEASE);
	/* Busy, the sweeper runs once a millisecond: a bucket per poll (as before) cost a
	 * memory miss or four per burst, for a table visited every tenth of a second. */
	sweep_per_ms = (w.bucket_mask + 1) >> SWEEP_PASS_SHIFT;
	if (sweep_per_ms == 0)
		sweep_per_ms = 1;
	prev_tsc = sync_tsc = ms_tsc = rte_rdtsc();
	now_ms = swept_ms = tenbin_now_ms();

	/* Relaxed: stop is a plain request flag; nothing is published along with it. */
	while (!__atomic_load_n(&conf->stop, __ATOMIC_RELAXED)) {
		uint64_t now_tsc = rte_rdtsc();
		uint16_t q, nb = 0;

		/* The clock: CLOCK_MONOTONIC once a second, TSC milliseconds in between, counted
		 * up rather than divided out (a 64-bit division per poll is ~40 cycles). */
		if (now_tsc - sync_tsc >= CLOCK_RESYNC_MS * tsc_per_ms) {
			sync_tsc = ms_tsc = now_tsc;
			now_ms = tenbin_now_ms();
		} else {
			while (now_tsc - ms_tsc >= tsc_per_ms) {
				ms_tsc += tsc_per_ms;
				now_ms++;
			}
		}
		tenbin_worker_begin(&w, now_ms);

		for (q = 0; q < conf->n_rx; q++) {
			uint16_t n = rte_eth_rx_burst(conf->rx_port[q], conf->rx_queue[q], pkts, TENBIN_BURST);
			uint16_t nd = 0;

			if (n == 0)
				continue;
			nb += n;
			if (conf->passthrough) {
				passthrough_burst(&w, conf, pkts, n, &tx);
				flush_full(&w, conf, &tx);
				continue;
			}
			tenbin_mbuf_burst(&w, pkts, n, &tx, drop, &nd);
			if (nd)
				rte_pktmbuf_free_bulk(drop, nd);
			flush_full(&w, conf, &tx);
		}
		if (w.slot == 0 && conf->mempool != NULL) {
			neigh_requests(&w, conf, &tx);
			flush_full(&w, conf, &tx);
		}
		if (now_tsc - prev_tsc >= drain_tsc) {
			uint16_t port;

			for (port = 0; port < TENBIN_MAX_PORTS; port++)
				tx_flush(&w, conf, &tx, port);
			prev_tsc = now_tsc;
			if (tx.tap != NULL) /* what the kernel sent (slot 0 only polls) */
				nb += tenbin_tap_poll(tx.tap, conf->tx_queue);
		}

		if (nb != 0) {
			if (now_ms != swept_ms) {
				tenbin_flow_sweep(&w, sweep_per_ms);
				swept_ms = now_ms;
			}
			w.state->busy_polls++;
			idle = 0;
			sleep_ns = SLEEP_MIN_NS;
			continue;
		}
		w.state->idle_polls++;
		tenbin_flow_sweep(&w, SWEEP_IDLE);
		if (++idle < IDLE_SPIN_POLLS)
			continue;
		if (idle < IDLE_PAUSE_POLLS) {
			rte_pause();
			continue;
		}
		{
			struct timespec ts = { 0, sleep_ns };
			uint16_t port;

			for (port = 0; port < TENBIN_MAX_PORTS; port++)
				tx_flush(&w, conf, &tx, port);
			nanosleep(&ts, NULL);
			w.state->sleeps++;
			if (sleep_ns < SLEEP_MAX_NS)
				sleep_ns = sleep_ns * 2 > SLEEP_MAX_NS ? SLEEP_MAX_NS : sleep_ns * 2;
		}
	}
	{
		uint16_t port;

		for (port = 0; port < TENBIN_MAX_PORTS; port++)
			tx_flush(&w, conf, &tx, port);
	}
	/* Release: our last counter and flow writes precede the offline mark. */
	__atomic_store_n(&w.state->online, 0, __ATOMIC_RELEASE);
	conf->result = 0;
	return 0;
}
