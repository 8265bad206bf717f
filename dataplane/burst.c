/* SPDX-License-Identifier: BSD-3-Clause
 *
 * burst.c — tenbin_burst: a burst of frames in two stages, with an express lane.
 *
 * Stage 1 looks at every frame of the burst and prefetches its flow bucket; stage 2 decides
 * each frame (the l3fwd / rte_hash bulk-lookup pattern, see lcore.c). Most frames a
 * balancer sees are the one case that matters for its throughput: an untagged IPv4 TCP or
 * UDP segment, no options, not fragmented, of a flow already in the table: to a DSR VIP, or
 * either direction of an established nat/fnat connection (natexpress.c). The express lane
 * takes exactly that case with code written for it: it reads the IPv4 header in place
 * instead of filling struct tenbin_hdrs and a 38-byte key, compares the key as five words,
 * and adds the burst's global counters once. Every other frame, and any express frame that
 * meets something unusual (no live flow, a re-selection, an unresolved neighbour, a VLAN on
 * the way out, TTL 1 for l3dsr, and natexpress.c's own list), goes the general way,
 * tenbin_prepare + tenbin_process_prepared, before the express lane has changed anything.
 * So for every frame the result (bytes, verdict, counters, flow entries, nat hops) is the
 * general path's; FuzzExpressMatchesGeneral and FuzzExpressNATMatchesGeneral check that.
 */
#include <netinet/in.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_tcp.h>

#include "dataplane.h"
#include "express.h"
#include "flow.h"
#include "forward.h"
#include "lcore.h"
#include "process.h"
#include "select.h"
#include "vip.h"

#define ETH_LEN  TENBIN_EXPRESS_ETH_LEN
#define IPV4_LEN TENBIN_EXPRESS_IPV4_LEN

/* Stage 1: whether f is an untagged IPv4 TCP/UDP frame with a 20-byte header, not a
 * fragment, whose headers tenbin_parse would accept as they are. Reads only what it has
 * checked is there; anything else is left to tenbin_parse, which names what is wrong. */
static inline int express_read(const struct tenbin_pkt *p, struct express *x)
{
	const uint8_t *f = p->buf + p->off;
	const uint8_t *ip = f + ETH_LEN;
	unsigned total, l4len;
	uint16_t et, fo;

	x->sig = 0;
	if (p->len < ETH_LEN + IPV4_LEN + 20) /* the shortest TCP frame; shorter UDP goes general */
		return 0;
	memcpy(&et, f + 12, 2);
	memcpy(&fo, ip + 6, 2);
	total = tenbin_get16(ip + 2);
	if (et != RTE_BE16(RTE_ETHER_TYPE_IPV4) || ip[0] != 0x45 || total > (unsigned)p->len - ETH_LEN ||
	    total < IPV4_LEN + 8 || (fo & RTE_BE16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) != 0)
		return 0;
	l4len = total - IPV4_LEN;
	x->proto = ip[9];
	if (x->proto == IPPROTO_TCP) {
		unsigned doff = ip[IPV4_LEN + 12] >> 4;

		if (l4len < 20 || doff < 5 || doff * 4 > l4len)
			return 0;
		x->tcp_flags = ip[IPV4_LEN + 13];
	} else if (x->proto == IPPROTO_UDP) {
		unsigned ulen = tenbin_get16(ip + IPV4_LEN + 4);

		if (ulen < 8 || ulen > l4len)
			return 0;
		x->tcp_flags = 0;
	} else {
		return 0;
	}
	memcpy(&x->src, ip + 12, 4);
	memcpy(&x->dst, ip + 16, 4);
	memcpy(&x->ports, ip + IPV4_LEN, 4);
	/* The general key zero-pads IPv4 addresses to 16 bytes: the same words, the same sig. */
	x->sig = tenbin_flow_sig_words(x->src, 0, x->dst, 0, x->ports, (uint16_t)(x->proto | 4 << 8));
	return 1;
}

/* The VIP lookup on a memo miss, out of line: the hit is the case to keep short. */
static __attribute__((noinline)) uint16_t express_vip_miss(struct tenbin_worker *w, const struct express *x)
{
	uint8_t vip[16] = { 0 };

	memcpy(vip, &x->dst, 4);
	return tenbin_vip_find_memo(w, vip, 4, x->proto, rte_be_to_cpu_16((uint16_t)(x->ports >> 16)));
}

/* x's service through the memo the general path keeps (tenbin_vip_find_memo), or
 * TENBIN_NO_SERVICE. */
static inline uint16_t express_vip(struct tenbin_worker *w, const struct tenbin_config_set *cs,
				   const struct express *x)
{
	if (w->vip_memo_gen == cs->generation && w->vip_memo_family == 4 && w->vip_memo_proto == x->proto &&
	    w->vip_memo_port == rte_be_to_cpu_16((uint16_t)(x->ports >> 16)) && w->vip_memo_addr[0] == x->dst &&
	    w->vip_memo_addr[1] == 0)
		return w->vip_memo_svc;
	return express_vip_miss(w, x);
}

/* Stage 2: the express lane proper. Returns 1 when it sent p (TX), 0 when p must go the
 * general way; it changes nothing before it knows it will send. */
static inline int express_send(struct tenbin_worker *w, struct tenbin_pkt *p, const struct express *x,
			       struct express_sums *sum)
{
	const struct tenbin_config_set *cs = w->cs;
	const struct tenbin_service *s;
	const struct tenbin_backend *be;
	struct tenbin_flow *e;
	uint8_t *f = p->buf + p->off;
	uint8_t mac[6];
	const uint8_t *dst;
	uint16_t svc;
	uint8_t port;

	/* The VIP: a nat/fnat service's packets go to natexpress.c, and so do those to no VIP
	 * (a server's reply, if any). */
	if (cs == NULL)
		return 0;
	svc = express_vip(w, cs, x);
	if (svc >= TENBIN_MAX_SERVICES)
		return svc == TENBIN_NO_SERVICE ? tenbin_nat_express_reply(w, p, x, sum) : 0;
	s = &cs->services[svc];
	if (s->mode != TENBIN_MODE_L2DSR && s->mode != TENBIN_MODE_L3DSR)
		return s->mode == TENBIN_MODE_NAT || s->mode == TENBIN_MODE_FNAT ?
		       tenbin_nat_express_forward(w, p, x, svc, sum) : 0;

	/* The flow: the first live way with the key, as tenbin_flow_find finds it. */
	e = tenbin_express_find(w, x);
	if (e == NULL || e->service != svc)
		return 0;
	/* a SYN on a closed connection's tuple is scheduled afresh (dsr() in process.c) */
	if (e->state == TENBIN_FS_FIN && x->proto == IPPROTO_TCP &&
	    (x->tcp_flags & (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG)) == RTE_TCP_SYN_FLAG)
		return 0;
	be = tenbin_backend_usable(cs, e->backend);
	if (be == NULL || be->incarnation != e->incarnation)
		return 0;

	/* The way out (tenbin_forward): untagged, next hop known, TTL left for l3dsr. */
	dst = tenbin_express_next_hop(w, be, mac);
	if (dst == NULL || (s->mode == TENBIN_MODE_L3DSR && f[ETH_LEN + 8] <= 1))
		return 0;
	port = be->egress_port;

	/* Committed: what dsr() and tenbin_forward() do for a flow hit. */
	e->state = x->proto == IPPROTO_TCP ? tenbin_tcp_next_state(e->state, x->tcp_flags) : TENBIN_FS_UDP;
	tenbin_half_open_sync(w, e);
	e->expires_ms = w->now32 + tenbin_flow_timeout_ms(s, e->state);
	if (s->mode == TENBIN_MODE_L3DSR) {
		const struct tenbin_hdrs h = {
			.l3_off = ETH_LEN, .l4_off = ETH_LEN + IPV4_LEN, .family = 4, .proto = x->proto,
		};

		tenbin_l3dsr_rewrite(f, &h, s, be);
	}
	memcpy(f, dst, 6);
	memcpy(f + 6, w->port_infos[port].mac, 6);
	p->out_port = port;
	p->verdict = TENBIN_V_TX;
	tenbin_express_count_hit(w, p, svc, e->backend, sum);
	return 1;
}

void tenbin_burst(struct tenbin_worker *w, struct tenbin_pkt *p, uint16_t n)
{
	struct express x[TENBIN_BURST];
	struct tenbin_prepared pp[TENBIN_BURST];
	struct express_sums sum = { 0, 0, 0, 0 };
	uint64_t *g = w->ctr->global;
	uint16_t base, i;

	for (base = 0; base < n; base += TENBIN_BURST) {
		uint16_t k = n - base < TENBIN_BURST ? n - base : TENBIN_BURST;
		struct tenbin_pkt *q = p + base;

		/* Stage 1: read (or fully parse) every frame, prefetch its flow bucket. A TCP
		 * segment without SYN on the express lane is nearly always a flow hit, and a hit
		 * sits in its bucket's first way nearly always: that way alone is prefetched
		 * here, and the other three below only when it turns out not to hold the flow.
		 * Through the PMDs a hit then costs one line instead of four (1.02x); SYNs, UDP
		 * and the general path, more often new flows (an insertion reads all four
		 * ways), get the whole bucket at once. */
		for (i = 0; i < k; i++) {
			if (express_read(&q[i], &x[i])) {
				x[i].whole_bucket = x[i].proto != IPPROTO_TCP || (x[i].tcp_flags & RTE_TCP_SYN_FLAG);
				if (x[i].whole_bucket)
					tenbin_flow_prefetch(w, x[i].sig);
				else
					tenbin_flow_prefetch_first(w, x[i].sig);
				continue;
			}
			tenbin_prepare(&q[i], &pp[i]);
			if (pp[i].sig != 0)
				tenbin_flow_prefetch(w, pp[i].sig);
		}
		for (i = 0; i < k; i++)
			if (x[i].sig != 0 && !x[i].whole_bucket)
				tenbin_flow_prefetch_rest(w, x[i].sig);
		/* Stage 2: the express lane where it can, the general path for the rest. */
		for (i = 0; i < k; i++) {
			if (x[i].sig != 0) {
				if (express_send(w, &q[i], &x[i], &sum))
					continue;
				tenbin_prepare(&q[i], &pp[i]);
			}
			tenbin_process_prepared(w, &q[i], &pp[i]);
		}
	}
	g[TENBIN_CTR_RX_PKTS] += sum.pkts;
	g[TENBIN_CTR_RX_BYTES] += sum.bytes;
	g[TENBIN_CTR_FLOW_HIT] += sum.hits;
	g[TENBIN_CTR_NAT_REPLIES] += sum.replies;
	g[TENBIN_CTR_TX_PKTS] += sum.pkts;
	g[TENBIN_CTR_TX_BYTES] += sum.bytes;
	w->express_pkts += sum.pkts;
}
