/* SPDX-License-Identifier: BSD-3-Clause
 *
 * natexpress.c — the express lane (burst.c) for established nat/fnat connections, both
 * directions, IPv4.
 *
 * It takes the packets of a connection that only need translating: a client's segment or
 * datagram that hits its forward entry, and a server's reply that tenbin_nat_lookup finds
 * (in this lcore's table or, through the shared lock-free state, another's). Tracking, the
 * rewrite and the egress are nat.c's own functions (tenbin_nat_track_forward/_reply,
 * tenbin_nat_rewrite_forward/_reply, tenbin_l2_emit, tenbin_nat_emit_to_client); what the lane saves is
 * tenbin_parse, the 38-byte key and the dispatch in front of them.
 *
 * Left to the general path, before anything is changed: SYNs of either side (a SYN may open
 * the connection again, and SYNs get their MSS clamped), fnat with the client address
 * option until it has gone out (the handshake's ACK carries it), TTL 1, a bad IPv4 header
 * checksum, a missing, foreign-mode or stale entry, an unresolved next hop, a VLAN on the
 * way out, and anything nat.c would drop.
 */
#include <netinet/in.h>
#include <string.h>

#include <rte_byteorder.h>

#include "express.h"
#include "forward.h"
#include "nat.h"
#include "select.h"

/* The parsed headers tenbin_parse would have filled for x (what nat.c's helpers read). */
static inline void express_hdrs(const struct tenbin_pkt *p, const struct express *x, struct tenbin_hdrs *h)
{
	const uint8_t *ip = p->buf + p->off + TENBIN_EXPRESS_ETH_LEN;

	memset(h, 0, sizeof(*h));
	h->l3_off = TENBIN_EXPRESS_ETH_LEN;
	h->l4_off = TENBIN_EXPRESS_ETH_LEN + TENBIN_EXPRESS_IPV4_LEN;
	h->l3_end = (uint16_t)(TENBIN_EXPRESS_ETH_LEN + tenbin_get16(ip + 2));
	h->ethertype = RTE_ETHER_TYPE_IPV4;
	h->sport_be = (uint16_t)x->ports;
	h->dport_be = (uint16_t)(x->ports >> 16);
	h->family = 4;
	h->proto = x->proto;
	h->tcp_flags = x->tcp_flags;
}

/* What nat.c requires of any packet before it keeps state for it: nat/fnat services in the
 * set, a trusted IPv4 header, TTL left, and (here) no SYN. */
static inline int express_nat_ok(struct tenbin_worker *w, const struct tenbin_pkt *p, const struct express *x,
				 const struct tenbin_hdrs *h)
{
	const uint8_t *f = p->buf + p->off;

	if (x->proto == IPPROTO_TCP && (x->tcp_flags & TENBIN_TCP_SYN))
		return 0;
	if (f[h->l3_off + 8] <= 1)
		return 0;
	return tenbin_nat_on(w) && tenbin_ipv4_csum_ok(f, h, p->flags & TENBIN_PKT_IP_CSUM_GOOD);
}

int tenbin_nat_express_forward(struct tenbin_worker *w, struct tenbin_pkt *p, const struct express *x,
			       uint16_t svc, struct express_sums *sum)
{
	const struct tenbin_config_set *cs = w->cs;
	const struct tenbin_service *s = &cs->services[svc];
	const struct tenbin_backend *be;
	struct tenbin_flow *fe, *re;
	struct tenbin_hdrs h;
	uint8_t *f = p->buf + p->off;
	uint8_t mac[6];
	const uint8_t *dst;
	uint8_t port;

	express_hdrs(p, x, &h);
	if (!express_nat_ok(w, p, x, &h))
		return 0;
	/* The connection as tenbin_nat_forward's flow hit finds it. */
	fe = tenbin_express_find(w, x);
	if (fe == NULL || (fe->flags & (TENBIN_FF_NAT | TENBIN_FF_REV)) != TENBIN_FF_NAT || fe->peer == 0 ||
	    fe->peer > w->hdr->flow_entries || fe->service != svc)
		return 0;
	be = tenbin_backend_usable(cs, fe->backend);
	if (be == NULL || be->incarnation != fe->incarnation)
		return 0;
	if ((fe->flags & TENBIN_FF_FNAT) && s->client_addr == 1 && x->proto == IPPROTO_TCP &&
	    !(fe->flags & TENBIN_FF_TOA))
		return 0; /* the handshake's ACK may take the client address option */

	/* The way out, as tenbin_forward takes it for nat: untagged, next hop known. */
	dst = tenbin_express_next_hop(w, be, mac);
	if (dst == NULL)
		return 0;
	port = be->egress_port;

	/* Committed: what tenbin_nat_forward does for a flow hit. */
	re = &w->flows[fe->peer - 1];
	tenbin_nat_track_forward(w, s, fe, re, x->proto, x->tcp_flags);
	tenbin_nat_rewrite_forward(cs, f, &h, fe, re);
	tenbin_l2_emit(w, p, &h, dst, port, 0); /* cannot fail untagged: the L3 header stays */
	p->out_port = port;
	p->verdict = TENBIN_V_TX;
	tenbin_express_count_hit(w, p, svc, fe->backend, sum);
	return 1;
}

int tenbin_nat_express_reply(struct tenbin_worker *w, struct tenbin_pkt *p, const struct express *x,
			     struct express_sums *sum)
{
	const struct tenbin_config_set *cs = w->cs;
	struct tenbin_lcore_counters *c = w->ctr;
	struct tenbin_nat_conn conn;
	struct tenbin_flow_key rk;
	struct tenbin_hdrs h;
	uint8_t *f = p->buf + p->off;
	uint16_t svc, bi;

	express_hdrs(p, x, &h);
	if (!express_nat_ok(w, p, x, &h))
		return 0;
	/* The connection, wherever tenbin_nat_reply would find it (lookups only read). */
	memset(&rk, 0, sizeof(rk));
	memcpy(rk.src, &x->src, 4);
	memcpy(rk.dst, &x->dst, 4);
	memcpy(&rk.sport_be, &x->ports, 4);
	rk.proto = x->proto;
	rk.family = 4;
	if (!tenbin_nat_lookup(w, &rk, x->sig, &conn))
		return 0;
	svc = conn.fwd.service;
	bi = conn.fwd.backend;
	if (svc >= TENBIN_MAX_SERVICES || bi >= TENBIN_MAX_BACKENDS || conn.hop.port >= TENBIN_MAX_PORTS ||
	    conn.hop.vlan != 0)
		return 0;

	/* Committed: what tenbin_nat_reply does for a non-SYN reply. */
	tenbin_nat_track_reply(w, &cs->services[svc], &conn, x->proto, x->tcp_flags);
	tenbin_nat_rewrite_reply(f, &h, &conn.fwd);
	tenbin_nat_emit_to_client(w, p, &h, &conn.hop); /* cannot fail: port checked, untagged */
	if (conn.slot != w->slot)
		c->global[TENBIN_CTR_NAT_REPLIES_REMOTE]++;
	c->service_reply[svc][TENBIN_REPLY_PKTS]++;
	c->service_reply[svc][TENBIN_REPLY_BYTES] += p->len;
	c->backend_reply[bi][TENBIN_REPLY_PKTS]++;
	c->backend_reply[bi][TENBIN_REPLY_BYTES] += p->len;
	sum->pkts++;
	sum->bytes += p->len;
	sum->replies++;
	return 1;
}
