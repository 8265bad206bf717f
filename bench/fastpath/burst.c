/* SPDX-License-Identifier: BSD-3-Clause
 *
 * burst.c — the fast path's burst benchmark: tenbin_mbuf_burst (the lcore loop's adapter
 * around tenbin_process) over a pre-built array of mbufs, no PMD and no EAL. The mbufs are
 * plain memory laid out like a mempool's (struct, headroom, data); nothing is freed.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_ip.h>
#include <rte_mbuf.h>

#include "lcore.h"
#include "burst.h"

#define BUF_SIZE  256
#define HEADROOM  128
#define SAVE_LEN  54 /* Ethernet + IPv4 + TCP headers */

static double clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

struct tb_pkts {
	struct rte_mbuf **m;
	uint8_t *mem;
	uint8_t *pristine;  /* first SAVE_LEN bytes of each frame, to undo l3dsr's rewrite */
	uint32_t n;
	uint16_t len;
};

/* n packets from the template; packet i is flow i % flows: the client's address and
 * source port vary. */
struct tb_pkts *tb_pkts_new(const uint8_t *tmpl, uint16_t len, uint32_t n, uint32_t flows)
{
	struct tb_pkts *p = calloc(1, sizeof(*p));
	uint32_t i;

	if (p == NULL || len > BUF_SIZE - HEADROOM || len < SAVE_LEN)
		goto fail;
	p->n = n;
	p->len = len;
	p->m = calloc(n, sizeof(*p->m));
	p->pristine = malloc((size_t)n * SAVE_LEN);
	if (posix_memalign((void **)&p->mem, 64, (size_t)n * (sizeof(struct rte_mbuf) + BUF_SIZE)) != 0)
		p->mem = NULL;
	if (p->m == NULL || p->pristine == NULL || p->mem == NULL)
		goto fail;
	for (i = 0; i < n; i++) {
		uint8_t *slot = p->mem + (size_t)i * (sizeof(struct rte_mbuf) + BUF_SIZE);
		struct rte_mbuf *m = (struct rte_mbuf *)slot;
		uint8_t *f = slot + sizeof(struct rte_mbuf) + HEADROOM;
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(f + 14);
		uint32_t flow = i % flows;

		memset(m, 0, sizeof(*m));
		m->buf_addr = slot + sizeof(struct rte_mbuf);
		m->buf_len = BUF_SIZE;
		m->data_off = HEADROOM;
		m->data_len = len;
		m->pkt_len = len;
		m->nb_segs = 1;
		rte_mbuf_refcnt_set(m, 1);
		memcpy(f, tmpl, len);
		/* client 10.x.y.z (the flow's high bits) : port 1024 + low bits */
		f[14 + 13] = (uint8_t)(flow >> 22);
		f[14 + 14] = (uint8_t)(flow >> 14);
		f[14 + 15] = (uint8_t)(flow >> 6);
		f[34] = (uint8_t)((1024 + (flow & 63)) >> 8);
		f[35] = (uint8_t)(1024 + (flow & 63));
		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		memcpy(p->pristine + (size_t)i * SAVE_LEN, f, SAVE_LEN);
		p->m[i] = m;
	}
	return p;
fail:
	tb_pkts_free(p);
	return NULL;
}

void tb_pkts_free(struct tb_pkts *p)
{
	if (p == NULL)
		return;
	free(p->m);
	free(p->mem);
	free(p->pristine);
	free(p);
}

/* Runs `passes` passes over the array in bursts of TENBIN_BURST. restore: put back each
 * frame's first bytes and offsets before its burst (l3dsr rewrites the destination, so a
 * second pass would otherwise miss the VIP); its cost is part of the measurement.
 * advance_ms: the clock moves this much per pass (past the SYN timeout, every packet is a
 * new flow again). */
void tb_run(struct tenbin_worker *w, struct tb_pkts *p, uint32_t passes, int restore,
	    uint64_t start_ms, uint64_t advance_ms, struct tb_result *out)
{
	struct tenbin_tx_buffers *tx = aligned_alloc(64, sizeof(*tx));
	struct rte_mbuf *drop[TENBIN_BURST];
	uint64_t now = start_ms, sent = 0, dropped = 0;
	double t0, c0;
	uint32_t pass, i;

	memset(tx, 0, sizeof(*tx));
	t0 = clock_s(CLOCK_MONOTONIC);
	c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
	for (pass = 0; pass < passes; pass++) {
		for (i = 0; i < p->n; i += TENBIN_BURST) {
			uint16_t n = p->n - i < TENBIN_BURST ? (uint16_t)(p->n - i) : TENBIN_BURST;
			uint16_t nd = 0, port, k;

			if (restore) {
				for (k = 0; k < n; k++) {
					struct rte_mbuf *m = p->m[i + k];

					m->data_off = HEADROOM;
					m->data_len = p->len;
					m->pkt_len = p->len;
					memcpy(rte_pktmbuf_mtod(m, uint8_t *), p->pristine + (size_t)(i + k) * SAVE_LEN, SAVE_LEN);
				}
			}
			tenbin_worker_begin(w, now);
			tenbin_mbuf_burst(w, &p->m[i], n, tx, drop, &nd);
			dropped += nd;
			for (port = 0; port < TENBIN_MAX_PORTS; port++) {
				sent += tx->n[port]; /* the "port" takes everything */
				tx->n[port] = 0;
			}
		}
		now += advance_ms;
	}
	out->seconds = clock_s(CLOCK_MONOTONIC) - t0;
	out->cpu_seconds = clock_s(CLOCK_THREAD_CPUTIME_ID) - c0;
	out->packets = (uint64_t)passes * p->n;
	out->sent = sent;
	out->dropped = dropped;
	free(tx);
}

struct tenbin_worker *tb_worker(void *region, uint32_t slot)
{
	struct tenbin_worker *w = aligned_alloc(64, sizeof(*w));

	if (w != NULL && tenbin_worker_init(w, region, slot) != 0) {
		free(w);
		return NULL;
	}
	return w;
}
