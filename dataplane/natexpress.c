/* SPDX-License-Identifier: BSD-3-Clause
 *
 * natexpress.c — the express lane (burst.c) for established nat/fnat connections, both
 * directions, IPv4.
 *
 * It takes the packets of a connection that only need translating: a client's segment or
 * datagram that hits its forward entry, and a server's reply that tenbin_nat_lookup finds
 * (in this lcore's table or, through the shared lock-free state, another's). The lookup,
 * tracking and egress are nat.c's (tenbin_nat_lookup, tenbin_nat_track_forward/_reply,
 * tenbin_l2_emit); what the lane saves is tenbin_parse, the 38-byte key, the dispatch, the
 * tracking call when nothing changes (an established connection's data), and the general
 * rewrite: its own (express_rewrite) sums the checksum changes in registers and writes
 * each checksum once. The result is the general path's, byte for byte (natexpress_test.go,
 * FuzzExpressNATMatchesGeneral).
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

#include "csum.h"
#include "express.h"
#include "forward.h"
#include "nat.h"
#include "select.h"

/* Whether the 20-byte IPv4 header at ip sums to 0xffff: tenbin_ipv4_csum_ok for the one
 * header length the lane takes, as three loads and a carry fold instead of a loop. */
static inline int express_ipv4_csum_ok(const uint8_t *ip)
{
	uint64_t a, b, s;
	uint32_t c;

	memcpy(&a, ip, 8);
	memcpy(&b, ip + 8, 8);
	memcpy(&c, ip + 16, 4);
	s = (a & 0xffffffff) + (a >> 32) + (b & 0xffffffff) + (b >> 32) + c;
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)(s + (s >> 16)) == 0xffff;
}

/* What nat.c requires of any packet before it keeps state for it: nat/fnat services in the
 * set, a trusted IPv4 header, TTL left, and (here) no SYN. */
static inline int express_nat_ok(struct tenbin_worker *w, const struct tenbin_pkt *p, const struct express *x)
{
	const uint8_t *ip = p->buf + p->off + TENBIN_EXPRESS_ETH_LEN;

	if (x->proto == IPPROTO_TCP && (x->tcp_flags & TENBIN_TCP_SYN))
		return 0;
	if (ip[8] <= 1)
		return 0;
	if (!(p->flags & TENBIN_PKT_IP_CSUM_GOOD) && !express_ipv4_csum_ok(ip))
		return 0;
	if (w->nat_gen == w->cs->generation)
		return w->nat_on != 0; /* tenbin_nat_on's memo, without the call */
	return tenbin_nat_on(w);
}

/* One's-complement sum of a 32-bit word's two halves, and of the change from o to n: the
 * terms of RFC 1624's HC' = ~(~HC + ~m + m'), words as they lie in the packet. */
static inline uint32_t sum32(uint32_t v) { return (v & 0xffff) + (v >> 16); }
static inline uint32_t change32(uint32_t o, uint32_t n) { return sum32(~o) + sum32(n); }

/* tenbin_nat_rewrite_ip for the express lane's frames (IPv4, 20-byte header, the whole L4
 * header present): the source address and port become src/sport_be when do_src, the
 * destination's dst/dport_be when do_dst, and the TTL drops by one. The checksum changes
 * are summed in registers and each checksum is read and written once; the result is the
 * one the step-by-step patches give (the sums only ever fold to 0 when every term is 0). */
static inline __attribute__((always_inline)) void
express_rewrite(uint8_t *ip, uint8_t proto, int do_src, uint32_t src, uint16_t sport_be, int do_dst, uint32_t dst,
		uint16_t dport_be)
{
	uint8_t *l4 = ip + TENBIN_EXPRESS_IPV4_LEN;
	uint8_t *l4c = l4 + (proto == IPPROTO_TCP ? 16 : 6);
	uint32_t osrc, odst, ottl, nttl, addr = 0, ports = 0;
	uint16_t osport, odport, c;

	memcpy(&osrc, ip + 12, 4);
	memcpy(&odst, ip + 16, 4);
	memcpy(&osport, l4, 2);
	memcpy(&odport, l4 + 2, 2);
	if (do_src) {
		addr += change32(osrc, src);
		ports += (uint16_t)~osport + (uint32_t)sport_be;
		memcpy(ip + 12, &src, 4);
		memcpy(l4, &sport_be, 2);
	}
	if (do_dst) {
		addr += change32(odst, dst);
		ports += (uint16_t)~odport + (uint32_t)dport_be;
		memcpy(ip + 16, &dst, 4);
		memcpy(l4 + 2, &dport_be, 2);
	}
	/* TTL and protocol are one 16-bit word of the header checksum */
	ottl = (uint32_t)ip[8] << 8 | ip[9];
	nttl = ottl - 0x100;
	memcpy(&c, ip + 10, 2);
	c = tenbin_csum_add(c, addr + rte_cpu_to_be_16((uint16_t)~ottl) + rte_cpu_to_be_16((uint16_t)nttl));
	memcpy(ip + 10, &c, 2);
	ip[8]--;
	memcpy(&c, l4c, 2);
	if (proto == IPPROTO_UDP && c == 0)
		return; /* no UDP checksum: stays none */
	c = tenbin_csum_add(c, addr + ports);
	if (proto == IPPROTO_UDP && c == 0)
		c = 0xffff;
	memcpy(l4c, &c, 2);
}

/* Whether a client packet leaves connection fe as it is: tenbin_nat_track_forward's
 * flags and state come out unchanged (no FIN or RST; an established connection's data, or
 * a handshake's ACK before the server answered), the half-open flag already follows the
 * state, and the expiry is within the slack of where this packet would set it. Then
 * tracking would write nothing, and the call is skipped. */
static inline int express_forward_settled(const struct tenbin_worker *w, const struct tenbin_service *s,
					  const struct tenbin_flow *fe, const struct express *x)
{
	uint8_t ff = fe->flags, st = TENBIN_NS_UDP;
	uint32_t want;
	int32_t d;

	if (x->proto == IPPROTO_TCP) {
		uint8_t rf = __atomic_load_n(&fe->rev_flags, __ATOMIC_RELAXED);

		if (x->tcp_flags & (TENBIN_TCP_FIN | TENBIN_TCP_RST))
			return 0;
		if ((x->tcp_flags & TENBIN_TCP_ACK) && (rf & TENBIN_RF_SYNACK)) /* SYN is never here */
			ff |= TENBIN_FF_FWD_ACK;
		st = tenbin_nat_tcp_state(ff, rf);
	}
	if (ff != fe->flags || st != fe->state ||
	    !(ff & TENBIN_FF_HALF_OPEN) != !(tenbin_flow_half_open(st) && fe->service < TENBIN_MAX_SERVICES))
		return 0;
	want = w->now32 + tenbin_nat_timeout_ms(s, st);
	d = (int32_t)(want - __atomic_load_n(&fe->expires_ms, __ATOMIC_RELAXED));
	return d >= 0 && d < (int32_t)TENBIN_NAT_SLACK_MS;
}

int tenbin_nat_express_forward(struct tenbin_worker *w, struct tenbin_pkt *p, const struct express *x,
			       uint16_t svc, struct express_sums *sum)
{
	const struct tenbin_config_set *cs = w->cs;
	const struct tenbin_service *s = &cs->services[svc];
	const struct tenbin_backend *be;
	struct tenbin_flow *fe;
	const struct tenbin_hdrs h = { .l3_off = TENBIN_EXPRESS_ETH_LEN, .ethertype = RTE_ETHER_TYPE_IPV4 };
	uint8_t *f = p->buf + p->off;
	uint8_t mac[6];
	const uint8_t *dst, *local = NULL;
	uint32_t baddr;
	uint16_t bport_be;
	uint8_t port;

	if (!express_nat_ok(w, p, x))
		return 0;
	/* The connection as tenbin_nat_forward's flow hit finds it. */
	fe = tenbin_express_find(w, x);
	if (fe == NULL || (fe->flags & (TENBIN_FF_NAT | TENBIN_FF_REV)) != TENBIN_FF_NAT || fe->peer == 0 ||
	    fe->peer > w->hdr->flow_entries || fe->service != svc)
		return 0;
	be = tenbin_backend_usable(cs, fe->backend);
	if (be == NULL || be->incarnation != fe->incarnation)
		return 0;
	if (fe->flags & TENBIN_FF_FNAT) {
		if (s->client_addr == 1 && x->proto == IPPROTO_TCP && !(fe->flags & TENBIN_FF_TOA))
			return 0; /* the handshake's ACK may take the client address option */
		local = tenbin_nat_local_addr(cs, fe);
		if (local == NULL)
			return 0; /* the general path takes it from the reverse entry */
	}

	/* The way out, as tenbin_forward takes it for nat: untagged, next hop known. */
	dst = tenbin_express_next_hop(w, be, mac);
	if (dst == NULL)
		return 0;
	port = be->egress_port;

	/* Committed: what tenbin_nat_forward does for a flow hit (tenbin_nat_track_forward,
	 * tenbin_nat_rewrite_forward, tenbin_l2_emit). */
	if (!express_forward_settled(w, s, fe, x))
		tenbin_nat_track_forward(w, s, fe, &w->flows[fe->peer - 1], x->proto, x->tcp_flags);
	memcpy(&baddr, be->addr, 4);
	bport_be = be->port ? rte_cpu_to_be_16(be->port) : fe->dport_be;
	if (local != NULL) {
		uint32_t laddr;

		memcpy(&laddr, local, 4);
		express_rewrite(f + TENBIN_EXPRESS_ETH_LEN, x->proto, 1, laddr, fe->nat_port_be, 1, baddr, bport_be);
	} else {
		express_rewrite(f + TENBIN_EXPRESS_ETH_LEN, x->proto, 0, 0, 0, 1, baddr, bport_be);
	}
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
	const struct tenbin_hdrs h = { .l3_off = TENBIN_EXPRESS_ETH_LEN, .ethertype = RTE_ETHER_TYPE_IPV4 };
	uint8_t *f = p->buf + p->off;
	uint32_t vip;
	uint16_t svc, bi;

	if (!express_nat_ok(w, p, x))
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

	/* Committed: what tenbin_nat_reply does for a non-SYN reply (tenbin_nat_track_reply,
	 * tenbin_nat_rewrite_reply, tenbin_nat_emit_to_client). */
	tenbin_nat_track_reply(w, &cs->services[svc], &conn, x->proto, x->tcp_flags);
	memcpy(&vip, conn.fwd.dst, 4);
	if (conn.fwd.flags & TENBIN_FF_FNAT) {
		uint32_t client;

		memcpy(&client, conn.fwd.src, 4);
		express_rewrite(f + TENBIN_EXPRESS_ETH_LEN, x->proto, 1, vip, conn.fwd.dport_be, 1, client,
				conn.fwd.sport_be);
	} else {
		express_rewrite(f + TENBIN_EXPRESS_ETH_LEN, x->proto, 1, vip, conn.fwd.dport_be, 0, 0, 0);
	}
	tenbin_l2_emit(w, p, &h, conn.hop.mac, conn.hop.port, 0); /* cannot fail untagged */
	p->out_port = conn.hop.port;
	p->verdict = TENBIN_V_TX;
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
