/* SPDX-License-Identifier: BSD-3-Clause
 *
 * nat.c — nat/fnat connections: creating the forward/reverse pair on the client's first
 * packet, forwarding both ways, the TCP state from both sides, release. See nat.h.
 */
#include <netinet/in.h>
#include <string.h>

#include <rte_byteorder.h>

#include "forward.h"
#include "icmp.h"
#include "nat.h"
#include "select.h"
#include "synguard.h"
#include "vip.h"

int tenbin_nat_on(struct tenbin_worker *w)
{
	const struct tenbin_config_set *cs = w->cs;
	uint64_t need = sizeof(struct tenbin_flow_table_hdr) +
			(uint64_t)w->hdr->flow_entries * (sizeof(struct tenbin_flow) + sizeof(struct tenbin_flow_hop));
	uint32_t i, n;

	if (cs == NULL)
		return 0;
	if (w->nat_gen == cs->generation)
		return w->nat_on;
	/* Once per published set: does it have nat/fnat services at all? Without them,
	 * non-VIP traffic never pays for reverse lookups. */
	w->nat_on = 0;
	n = cs->n_services < TENBIN_MAX_SERVICES ? cs->n_services : TENBIN_MAX_SERVICES;
	for (i = 0; i < n; i++)
		if (cs->services[i].family != 0 && (cs->services[i].mode == TENBIN_MODE_NAT ||
						    cs->services[i].mode == TENBIN_MODE_FNAT))
			w->nat_on = 1;
	if (w->hdr->flows_size < need) /* a region laid out before flow hops existed */
		w->nat_on = 0;
	w->hops = tenbin_nat_hops(w, w->slot);
	w->nat_gen = cs->generation;
	return w->nat_on;
}

int tenbin_nat_is_local(const struct tenbin_config_set *cs, const uint8_t *addr, uint8_t family)
{
	unsigned alen = family == 4 ? 4 : 16;
	int i;

	for (i = 0; i < TENBIN_MAX_LOCAL_ADDRS; i++)
		if (cs->local_addrs[i].family == family && memcmp(cs->local_addrs[i].addr, addr, alen) == 0)
			return 1;
	return 0;
}

static uint32_t entry_index(const struct tenbin_worker *w, const struct tenbin_flow *e)
{
	return (uint32_t)(e - w->flows);
}

void tenbin_nat_release(struct tenbin_worker *w, struct tenbin_flow *e)
{
	struct tenbin_flow *other = NULL, *fwd;

	if (e->peer != 0 && e->peer <= w->hdr->flow_entries) {
		struct tenbin_flow *o = &w->flows[e->peer - 1];

		if (o->sig != 0 && (o->flags & TENBIN_FF_NAT) && o->peer == entry_index(w, e) + 1)
			other = o;
	}
	fwd = (e->flags & TENBIN_FF_REV) ? other : e;
	if (fwd != NULL) {
		tenbin_half_open_forget(w, fwd);
		if (fwd->backend < TENBIN_MAX_BACKENDS)
			w->ctr->backend[fwd->backend][TENBIN_OBJ_ACTIVE_FLOWS]--;
		if (fwd->flags & TENBIN_FF_FNAT) {
			w->ctr->global[TENBIN_CTR_NAT_PORT_FREES]++;
			if (fwd->nat_addr < TENBIN_MAX_LOCAL_ADDRS)
				w->ctr->local_conns[fwd->nat_addr]--;
		}
	}
	/* Relaxed stores, then a release fence: readers on other lcores that still see the old
	 * signature after their acquire fence also read the old contents; the owner's later
	 * rewrites of the way come after the fence (the seqlock writer's pattern). */
	if (other != NULL) {
		__atomic_store_n(&other->sig, 0, __ATOMIC_RELAXED);
		other->peer = 0;
	}
	__atomic_store_n(&e->sig, 0, __ATOMIC_RELAXED);
	e->peer = 0;
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

/* Sets both entries' expiry when it moves by more than the slack, or shrinks (closing).
 * expected: the values the caller validated; a failed compare-and-swap means another lcore
 * refreshed it meanwhile (or the owner reused the way), and is left alone. */
static inline int refresh_due(uint32_t fexp, uint32_t want)
{
	int32_t d = (int32_t)(want - fexp);

	return !(d >= 0 && d < (int32_t)TENBIN_NAT_SLACK_MS);
}

static void refresh(struct tenbin_flow *fe, uint32_t fexp, struct tenbin_flow *re, uint32_t rexp, uint32_t want)
{
	if (!refresh_due(fexp, want))
		return;
	/* Relaxed: the expiry is a lone word; nothing else is published with it. */
	__atomic_compare_exchange_n(&fe->expires_ms, &fexp, want, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
	if (re != NULL)
		__atomic_compare_exchange_n(&re->expires_ms, &rexp, want, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

void tenbin_nat_track_forward(struct tenbin_worker *w, const struct tenbin_service *s, struct tenbin_flow *fe,
			      struct tenbin_flow *re, uint8_t proto, uint8_t tcp_flags)
{
	uint8_t ff = fe->flags, st;

	if (proto == IPPROTO_TCP) {
		/* Relaxed: rev_flags is a lone byte other lcores OR into. */
		uint8_t rf = __atomic_load_n(&fe->rev_flags, __ATOMIC_RELAXED);

		if (tcp_flags & TENBIN_TCP_RST)
			ff |= TENBIN_FF_FWD_RST;
		if (tcp_flags & TENBIN_TCP_FIN)
			ff |= TENBIN_FF_FWD_FIN;
		if ((tcp_flags & (TENBIN_TCP_ACK | TENBIN_TCP_SYN)) == TENBIN_TCP_ACK && (rf & TENBIN_RF_SYNACK))
			ff |= TENBIN_FF_FWD_ACK;
		st = tenbin_nat_tcp_state(ff, rf);
	} else {
		st = TENBIN_NS_UDP;
	}
	if (ff != fe->flags)
		fe->flags = ff;
	if (st != fe->state)
		__atomic_store_n(&fe->state, st, __ATOMIC_RELAXED);
	tenbin_half_open_sync(w, fe);
	{
		uint32_t fexp = __atomic_load_n(&fe->expires_ms, __ATOMIC_RELAXED);
		uint32_t want = w->now32 + tenbin_nat_timeout_ms(s, st);

		/* The reverse entry's line is read only when the pair's expiry moves. */
		if (refresh_due(fexp, want))
			refresh(fe, fexp, re, re ? __atomic_load_n(&re->expires_ms, __ATOMIC_RELAXED) : 0, want);
	}
}

void tenbin_nat_track_reply(struct tenbin_worker *w, const struct tenbin_service *s,
			    const struct tenbin_nat_conn *c, uint8_t proto, uint8_t tcp_flags)
{
	uint8_t st = TENBIN_NS_UDP;

	if (proto == IPPROTO_TCP) {
		uint8_t rf = 0, old;

		if ((tcp_flags & (TENBIN_TCP_SYN | TENBIN_TCP_ACK)) == (TENBIN_TCP_SYN | TENBIN_TCP_ACK))
			rf |= TENBIN_RF_SYNACK;
		if (tcp_flags & TENBIN_TCP_FIN)
			rf |= TENBIN_RF_FIN;
		if (tcp_flags & TENBIN_TCP_RST)
			rf |= TENBIN_RF_RST;
		/* Relaxed: a lone byte; read first so that a settled connection never writes the
		 * owner's line. */
		old = __atomic_load_n(&c->fwd_e->rev_flags, __ATOMIC_RELAXED);
		if ((old | rf) != old)
			old = __atomic_or_fetch(&c->fwd_e->rev_flags, rf, __ATOMIC_RELAXED);
		st = tenbin_nat_tcp_state(c->fwd.flags, old);
	}
	if (st != c->fwd.state)
		__atomic_store_n(&c->fwd_e->state, st, __ATOMIC_RELAXED);
	/* Only the owner keeps the half-open flag: another lcore's reply (a RST, a FIN) leaves
	 * the connection counted until the owner's next look at it, its release at the latest. */
	if (c->slot == w->slot)
		tenbin_half_open_sync(w, c->fwd_e);
	refresh(c->fwd_e, c->fwd.expires_ms, c->rev_e, c->rev_expires, w->now32 + tenbin_nat_timeout_ms(s, st));
}

/* Looks for the reverse entry k in lcore slot s's table and, when its pair is live, copies
 * what a reply needs. Lock-free against the owner: acquire-load the signature, copy, then
 * an acquire fence and the signature again; a change means the owner freed or reused the
 * way meanwhile, and the copy is thrown away. */
static int probe(const struct tenbin_worker *w, uint32_t s, const struct tenbin_flow_key *k, uint32_t sig,
		 struct tenbin_nat_conn *c)
{
	struct tenbin_flow *t = tenbin_nat_table(w, s);
	struct tenbin_flow *b = &t[(size_t)(sig & w->bucket_mask) * TENBIN_FLOW_BUCKET_WAYS];
	uint32_t n = w->hdr->flow_entries;
	int i;

	for (i = 0; i < TENBIN_FLOW_BUCKET_WAYS; i++) {
		struct tenbin_flow *re = &b[i], *fe;
		uint32_t peer, ri = (uint32_t)(re - t);

		if (__atomic_load_n(&re->sig, __ATOMIC_ACQUIRE) != sig)
			continue;
		if ((re->flags & (TENBIN_FF_NAT | TENBIN_FF_REV)) != (TENBIN_FF_NAT | TENBIN_FF_REV) ||
		    memcmp(re->src, k, TENBIN_FLOW_KEY_LEN) != 0)
			continue;
		peer = re->peer;
		c->rev_expires = re->expires_ms;
		if (peer == 0 || peer > n)
			continue;
		fe = &t[peer - 1];
		if (__atomic_load_n(&fe->sig, __ATOMIC_ACQUIRE) == 0)
			continue;
		memcpy(&c->fwd, fe, sizeof(c->fwd));
		memcpy(&c->hop, &tenbin_nat_hops(w, s)[peer - 1], sizeof(c->hop));
		/* Acquire fence: the copies above are done before the signatures are read again. */
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&re->sig, __ATOMIC_RELAXED) != sig ||
		    __atomic_load_n(&fe->sig, __ATOMIC_RELAXED) != c->fwd.sig)
			continue;
		if (c->fwd.peer != ri + 1 || c->fwd.sig == 0 || !(c->fwd.flags & TENBIN_FF_NAT) ||
		    (c->fwd.flags & TENBIN_FF_REV) || tenbin_flow_expired(&c->fwd, w->now32))
			continue;
		c->fwd_e = fe;
		c->rev_e = re;
		c->slot = s;
		return 1;
	}
	return 0;
}

int tenbin_nat_lookup(const struct tenbin_worker *w, const struct tenbin_flow_key *k, uint32_t sig,
		      struct tenbin_nat_conn *c)
{
	uint32_t n = w->hdr->n_lcores;
	/* fnat ports name their owner (natport.c); for nat the guess is as good as any */
	uint32_t hint = rte_be_to_cpu_16(k->dport_be) % n;
	uint32_t s;

	if (probe(w, w->slot, k, sig, c))
		return 1;
	if (hint != w->slot && probe(w, hint, k, sig, c))
		return 1;
	for (s = 0; s < n; s++)
		if (s != w->slot && s != hint && probe(w, s, k, sig, c))
			return 1;
	return 0;
}

/* A new connection: backend, (fnat) local address and port, the pair, the hop. On success
 * *out is the forward entry, published. */
static int create(struct tenbin_worker *w, struct tenbin_pkt *p, const struct tenbin_hdrs *h, uint16_t svc,
		  const struct tenbin_flow_key *k, uint32_t sig, struct tenbin_flow *fw, struct tenbin_flow **out)
{
	const struct tenbin_config_set *cs = w->cs;
	const struct tenbin_service *s = &cs->services[svc];
	struct tenbin_lcore_counters *c = w->ctr;
	const struct tenbin_backend *be;
	struct tenbin_flow_key rk;
	struct tenbin_flow *rfw = NULL;
	struct tenbin_flow_hop *hop;
	uint32_t rsig, exp;
	uint16_t bi;
	uint8_t local = 0, st;
	int r;

	bi = tenbin_select(w, svc, s, tenbin_select_hash(s, k, 0), 1);
	be = tenbin_backend_usable(cs, bi);
	if (be == NULL || be->family != k->family)
		return TENBIN_DROP_NO_BACKEND;
	if (fw == NULL) {
		c->global[TENBIN_CTR_FLOW_TABLE_FULL]++; /* nat cannot go stateless */
		return TENBIN_DROP_NAT_NO_STATE;
	}
	tenbin_flow_reuse(w, fw);

	st = h->proto == IPPROTO_TCP ? TENBIN_NS_SYN_SENT : TENBIN_NS_UDP;
	exp = w->now32 + tenbin_nat_timeout_ms(s, st);
	memcpy(fw->src, k, TENBIN_FLOW_KEY_LEN);
	fw->state = st;
	fw->flags = TENBIN_FF_NAT;
	fw->rev_flags = 0;
	fw->backend = bi;
	fw->service = svc;
	fw->incarnation = be->incarnation;
	fw->nat_port_be = 0;
	fw->nat_addr = 0;
	fw->peer = 0;
	fw->expires_ms = exp;
	/* Published before its reverse entry is looked for, so that search cannot pick this
	 * way; nothing reaches it from another lcore before the reverse entry exists. */
	__atomic_store_n(&fw->sig, sig, __ATOMIC_RELEASE);

	memset(&rk, 0, sizeof(rk));
	memcpy(rk.src, be->addr, 16);
	rk.sport_be = be->port ? rte_cpu_to_be_16(be->port) : k->dport_be;
	rk.proto = k->proto;
	rk.family = k->family;
	if (s->mode == TENBIN_MODE_FNAT) {
		r = tenbin_nat_port_alloc(w, s, sig, &rk, &rsig, &rfw, &local);
	} else {
		struct tenbin_nat_conn other;

		memcpy(rk.dst, k->src, 16);
		rk.dport_be = k->sport_be;
		rsig = tenbin_flow_sig(&rk);
		r = TENBIN_OK;
		/* The server's reply must name one connection: two clients' flows to the same
		 * backend port from the same client port (through two VIPs) cannot both live. */
		if (tenbin_flow_find(w, &rk, rsig, &rfw) != NULL || tenbin_nat_lookup(w, &rk, rsig, &other))
			r = TENBIN_DROP_NAT_NO_PORT;
		else if (rfw == NULL)
			r = TENBIN_DROP_NAT_NO_STATE;
	}
	if (r != TENBIN_OK || rfw == NULL) {
		if (r == TENBIN_OK || r == TENBIN_DROP_NAT_NO_STATE)
			c->global[TENBIN_CTR_FLOW_TABLE_FULL]++;
		__atomic_store_n(&fw->sig, 0, __ATOMIC_RELAXED);
		return r == TENBIN_OK ? TENBIN_DROP_NAT_NO_STATE : r;
	}
	tenbin_flow_reuse(w, rfw);
	memcpy(rfw->src, &rk, TENBIN_FLOW_KEY_LEN);
	rfw->state = st;
	rfw->flags = TENBIN_FF_NAT | TENBIN_FF_REV;
	rfw->rev_flags = 0;
	rfw->backend = bi;
	rfw->service = svc;
	rfw->incarnation = be->incarnation;
	rfw->peer = entry_index(w, fw) + 1;
	rfw->expires_ms = exp;
	if (s->mode == TENBIN_MODE_FNAT) {
		fw->flags |= TENBIN_FF_FNAT;
		fw->nat_port_be = rfw->nat_port_be = rk.dport_be;
		fw->nat_addr = rfw->nat_addr = local;
		rfw->flags |= TENBIN_FF_FNAT;
		c->global[TENBIN_CTR_NAT_PORT_ALLOCS]++;
	} else {
		rfw->nat_port_be = 0;
		rfw->nat_addr = 0;
	}
	/* Replies leave the way the client's packets came in. */
	hop = &w->hops[entry_index(w, fw)];
	memcpy(hop->mac, p->buf + p->off + 6, 6);
	hop->port = p->in_port;
	hop->vlan = h->n_tags ? (uint16_t)(h->vlan_tci & 0x0fff) : 0;
	fw->peer = entry_index(w, rfw) + 1;
	/* Release: the pair and the hop are complete before any lcore can find the reverse
	 * entry (the acquire load in probe). */
	__atomic_store_n(&rfw->sig, rsig, __ATOMIC_RELEASE);

	tenbin_half_open_sync(w, fw);
	c->global[TENBIN_CTR_FLOW_NEW]++;
	c->service[svc][TENBIN_OBJ_NEW_FLOWS]++;
	c->backend[bi][TENBIN_OBJ_NEW_FLOWS]++;
	c->backend[bi][TENBIN_OBJ_ACTIVE_FLOWS]++;
	if (fw->flags & TENBIN_FF_FNAT)
		c->local_conns[fw->nat_addr]++; /* nat_addr < TENBIN_MAX_LOCAL_ADDRS: natport.c */
	*out = fw;
	return TENBIN_OK;
}

static int ttl_of(const uint8_t *f, const struct tenbin_hdrs *h)
{
	return h->family == 4 ? f[h->l3_off + 8] : f[h->l3_off + 7];
}

int tenbin_nat_forward(struct tenbin_worker *w, struct tenbin_pkt *p, const struct tenbin_hdrs *h,
		       uint16_t svc, const struct tenbin_flow_key *k, uint32_t sig)
{
	const struct tenbin_config_set *cs = w->cs;
	const struct tenbin_service *s = &cs->services[svc];
	struct tenbin_lcore_counters *c = w->ctr;
	const struct tenbin_backend *be = NULL;
	struct tenbin_flow *fe, *fw = NULL, *re;
	struct tenbin_hdrs hh = *h;
	uint32_t rx_len = p->len;
	uint8_t *f = p->buf + p->off;
	int r, syn, gone = 0;

	if (h->frag != TENBIN_FRAG_NONE)
		return TENBIN_DROP_FRAGMENT; /* ports live in the first fragment only; see README */
	if (!tenbin_nat_on(w))
		return TENBIN_DROP_NAT_NO_STATE;
	if (ttl_of(f, h) <= 1)
		return tenbin_icmp_time_exceeded(w, p, h);
	syn = h->proto == IPPROTO_TCP &&
	      (h->tcp_flags & (TENBIN_TCP_SYN | TENBIN_TCP_ACK | TENBIN_TCP_RST)) == TENBIN_TCP_SYN;

	fe = tenbin_flow_find(w, k, sig, &fw);
	if (fe != NULL && (!(fe->flags & TENBIN_FF_NAT) || (fe->flags & TENBIN_FF_REV)))
		goto start_over; /* an entry of another mode (the service changed mode) */
	if (fe != NULL) {
		be = tenbin_backend_usable(cs, fe->backend);
		if (be == NULL || be->incarnation != fe->incarnation || fe->service != svc) {
			gone = 1; /* the server left: its connections cannot move (IPVS expire_nodest_conn) */
			goto start_over;
		}
		if (syn && (fe->state == TENBIN_NS_TIME_WAIT || fe->state == TENBIN_NS_CLOSE))
			goto start_over; /* the client reuses a closed tuple: a new connection */
		c->global[TENBIN_CTR_FLOW_HIT]++;
		goto have;
	}
	goto open;
start_over:
	tenbin_flow_release(w, fe);
	fw = fe;
open:
	if (h->proto == IPPROTO_TCP && !syn)
		return gone ? TENBIN_DROP_NO_BACKEND : TENBIN_DROP_NAT_NO_STATE; /* only a SYN opens */
	if (syn && tenbin_syn_guard_check(w, svc, s, fw)) {
		c->global[TENBIN_CTR_SYN_GUARD]++; /* no state, no way through: synguard.h */
		return TENBIN_DROP_SYN_GUARD;
	}
	r = create(w, p, h, svc, k, sig, fw, &fe);
	if (r != TENBIN_OK)
		return r;
	be = &cs->backends[fe->backend];
have:
	re = &w->flows[fe->peer - 1];
	tenbin_nat_track_forward(w, s, fe, re, h->proto, h->tcp_flags);

	tenbin_nat_rewrite_forward(cs, f, &hh, fe, re);
	if (syn && s->mss_max != 0 && tenbin_tcp_clamp_mss(f, &hh, s->mss_max, 0))
		c->global[TENBIN_CTR_MSS_CLAMPED]++;
	if ((fe->flags & TENBIN_FF_FNAT) && s->client_addr == 1 && h->proto == IPPROTO_TCP) {
		/* TOA on the SYN and on the ACK that completes the handshake, which is where the
		 * real server's TOA module reads it */
		int hs_ack = !(fe->flags & TENBIN_FF_TOA) && (fe->flags & TENBIN_FF_FWD_ACK) &&
			     !(h->tcp_flags & (TENBIN_TCP_SYN | TENBIN_TCP_RST));

		if ((syn || hs_ack) && tenbin_tcp_add_toa(p, &hh, k->src, k->sport_be)) {
			c->global[TENBIN_CTR_TOA_ADDED]++;
			if (hs_ack)
				fe->flags |= TENBIN_FF_TOA;
		}
	}
	r = tenbin_forward(w, p, &hh, s, be, 0);
	if (r != TENBIN_OK)
		return r;
	c->service[svc][TENBIN_OBJ_PKTS]++;
	c->service[svc][TENBIN_OBJ_BYTES] += rx_len;
	c->backend[fe->backend][TENBIN_OBJ_PKTS]++;
	c->backend[fe->backend][TENBIN_OBJ_BYTES] += rx_len;
	return TENBIN_OK;
}

int tenbin_nat_emit_to_client(const struct tenbin_worker *w, struct tenbin_pkt *p, const struct tenbin_hdrs *h,
			      const struct tenbin_flow_hop *hop)
{
	int r;

	if (hop->port >= TENBIN_MAX_PORTS)
		return TENBIN_DROP_NAT_NO_STATE;
	r = tenbin_l2_emit(w, p, h, hop->mac, hop->port, hop->vlan);
	if (r != TENBIN_OK)
		return r;
	p->out_port = hop->port;
	p->verdict = TENBIN_V_TX;
	return TENBIN_OK;
}

int tenbin_nat_reply(struct tenbin_worker *w, struct tenbin_pkt *p, const struct tenbin_hdrs *h,
		     const struct tenbin_flow_key *rk, uint32_t sig)
{
	const struct tenbin_config_set *cs = w->cs;
	struct tenbin_lcore_counters *c = w->ctr;
	const struct tenbin_service *s;
	struct tenbin_nat_conn conn;
	uint8_t *f = p->buf + p->off;
	uint32_t rx_len = p->len;
	uint16_t svc, bi;
	int r;

	if (!tenbin_nat_on(w))
		return TENBIN_DROP_NO_VIP;
	if (h->frag != TENBIN_FRAG_NONE)
		return tenbin_nat_is_local(cs, rk->dst, h->family) ? TENBIN_DROP_FRAGMENT : TENBIN_DROP_NO_VIP;
	if (!tenbin_nat_lookup(w, rk, sig, &conn))
		return tenbin_nat_is_local(cs, rk->dst, h->family) ? TENBIN_DROP_NAT_NO_STATE : TENBIN_DROP_NO_VIP;
	svc = conn.fwd.service;
	bi = conn.fwd.backend;
	if (svc >= TENBIN_MAX_SERVICES || bi >= TENBIN_MAX_BACKENDS)
		return TENBIN_DROP_NAT_NO_STATE;
	s = &cs->services[svc];
	if (ttl_of(f, h) <= 1)
		return tenbin_icmp_time_exceeded(w, p, h);
	tenbin_nat_track_reply(w, s, &conn, h->proto, h->tcp_flags);

	tenbin_nat_rewrite_reply(f, h, &conn.fwd);
	if (h->proto == IPPROTO_TCP && (h->tcp_flags & TENBIN_TCP_SYN)) {
		/* With TOA, the client's segments may grow by the option: it learns a smaller MSS
		 * from the SYN-ACK so that a full segment still fits. */
		uint16_t shrink = (conn.fwd.flags & TENBIN_FF_FNAT) && s->client_addr == 1 ?
				  (uint16_t)tenbin_toa_len(h->family) : 0;

		if ((s->mss_max != 0 || shrink != 0) &&
		    tenbin_tcp_clamp_mss(f, h, s->mss_max ? s->mss_max : 0xffff, shrink))
			c->global[TENBIN_CTR_MSS_CLAMPED]++;
	}
	r = tenbin_nat_emit_to_client(w, p, h, &conn.hop);
	if (r != TENBIN_OK)
		return r;
	c->global[TENBIN_CTR_NAT_REPLIES]++;
	if (conn.slot != w->slot)
		c->global[TENBIN_CTR_NAT_REPLIES_REMOTE]++;
	c->service_reply[svc][TENBIN_REPLY_PKTS]++;
	c->service_reply[svc][TENBIN_REPLY_BYTES] += rx_len;
	c->backend_reply[bi][TENBIN_REPLY_PKTS]++;
	c->backend_reply[bi][TENBIN_REPLY_BYTES] += rx_len;
	return TENBIN_OK;
}
