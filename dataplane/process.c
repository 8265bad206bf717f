/* SPDX-License-Identifier: BSD-3-Clause
 *
 * process.c — tenbin_process: one frame from parse to verdict.
 *
 *   parse → ARP / NDP duties → VIP lookup → (ICMP: echo reply or error steering)
 *         → mode switch → flow table → selection on a miss → rewrite → verdict
 *
 * Fragments. A non-first fragment carries no ports, so every fragmented datagram is keyed
 * and hashed on the 3-tuple (source, destination, protocol), the first fragment included:
 * the first fragment finds its service by port and creates a flow entry with both ports 0;
 * later fragments find that entry (and through it the service and backend). A later
 * fragment that arrives first, or alone, can only match an all-port VIP (port 0); otherwise
 * it is dropped as `fragment`. The 3-tuple entry is shared by every fragmented datagram
 * between one client and one VIP address for one protocol: they all go to one backend.
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <time.h>

#include <rte_byteorder.h>
#include <rte_tcp.h>

#include "dataplane.h"
#include "flow.h"
#include "forward.h"
#include "icmp.h"
#include "kernel.h"
#include "nat.h"
#include "neigh.h"
#include "parse.h"
#include "process.h"
#include "select.h"
#include "synguard.h"
#include "vip.h"

const char *const tenbin_drop_names[TENBIN_DROP_MAX] = {
	[TENBIN_DROP_BAD_ETH] = "bad_eth",
	[TENBIN_DROP_BAD_VLAN] = "bad_vlan",
	[TENBIN_DROP_BAD_ARP] = "bad_arp",
	[TENBIN_DROP_BAD_IP_LEN] = "bad_ip_len",
	[TENBIN_DROP_BAD_IP_VERSION] = "bad_ip_version",
	[TENBIN_DROP_BAD_IP_CSUM] = "bad_ip_csum",
	[TENBIN_DROP_BAD_IP_OPTIONS] = "bad_ip_options",
	[TENBIN_DROP_BAD_IPV6_EXT] = "bad_ipv6_ext",
	[TENBIN_DROP_BAD_L4] = "bad_l4",
	[TENBIN_DROP_BAD_ICMP] = "bad_icmp",
	[TENBIN_DROP_UNSUPPORTED_PROTO] = "unsupported_proto",
	[TENBIN_DROP_NON_IP] = "non_ip",
	[TENBIN_DROP_NO_VIP] = "no_vip",
	[TENBIN_DROP_NO_BACKEND] = "no_backend",
	[TENBIN_DROP_NO_NEIGH] = "no_neigh",
	[TENBIN_DROP_TTL_EXCEEDED] = "ttl_exceeded",
	[TENBIN_DROP_FRAGMENT] = "fragment",
	[TENBIN_DROP_NO_CONFIG] = "no_config",
	[TENBIN_DROP_TX_FULL] = "tx_full",
	[TENBIN_DROP_NAT_NO_PORT] = "nat_no_port",
	[TENBIN_DROP_NAT_NO_STATE] = "nat_no_state",
	[TENBIN_DROP_MTU] = "mtu",
	[TENBIN_DROP_ICMP_ERR_NO_FLOW] = "icmp_err_no_flow",
	[TENBIN_DROP_NOT_FOR_US] = "not_for_us",
	[TENBIN_DROP_SYN_GUARD] = "syn_guard",
};

uint64_t tenbin_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* A dataplane that re-attaches to a region finds its table as it left it: the half-open
 * counts are what the flags say (flow.h), whatever the previous process counted. */
static void half_open_rebuild(struct tenbin_worker *w)
{
	uint32_t i;

	for (i = 0; i < w->hdr->flow_entries; i++) {
		struct tenbin_flow *e = &w->flows[i];

		if (!(e->flags & TENBIN_FF_HALF_OPEN))
			continue;
		if (e->sig != 0 && e->service < TENBIN_MAX_SERVICES)
			w->half_open[e->service]++;
		else
			e->flags &= (uint8_t)~TENBIN_FF_HALF_OPEN; /* freed without its flag cleared */
	}
}

int tenbin_worker_init(struct tenbin_worker *w, void *base, uint32_t slot)
{
	struct tenbin_shm_header *hdr = base;
	uint8_t *b = base;

	if (hdr == NULL || hdr->magic != TENBIN_SHM_MAGIC || hdr->version != TENBIN_SHM_VERSION ||
	    slot >= hdr->n_lcores || slot >= TENBIN_MAX_LCORES)
		return -EINVAL;
	memset(w, 0, sizeof(*w));
	w->hdr = hdr;
	w->base = b;
	w->slot = slot;
	w->state = (struct tenbin_lcore_state *)(b + hdr->lcore_states_offset) + slot;
	w->ctr = (struct tenbin_lcore_counters *)(b + hdr->counters_offset + slot * hdr->counters_size);
	w->ft = (struct tenbin_flow_table_hdr *)(b + hdr->flows_offset + slot * hdr->flows_size);
	w->flows = (struct tenbin_flow *)(w->ft + 1);
	if (w->ft->n_entries != hdr->flow_entries || hdr->flow_entries < TENBIN_FLOW_BUCKET_WAYS)
		return -EINVAL;
	w->bucket_mask = hdr->flow_entries / TENBIN_FLOW_BUCKET_WAYS - 1;
	w->neigh = (struct tenbin_neigh_state *)(b + hdr->neigh_states_offset);
	w->port_infos = (const struct tenbin_port_info *)(b + hdr->port_infos_offset);
	w->icmp_tokens = TENBIN_ICMP_BURST;
	half_open_rebuild(w);
	return 0;
}

void tenbin_worker_begin(struct tenbin_worker *w, uint64_t now_ms)
{
	/* Acquire pairs with the control plane's release store of `active` after it filled the
	 * set: every field of the set we are about to read is visible. Loaded once per burst
	 * so that a burst never mixes two sets. */
	uint64_t active = __atomic_load_n(&w->hdr->active, __ATOMIC_ACQUIRE) & 1;
	const struct tenbin_config_set *cs =
		(const struct tenbin_config_set *)(w->base + w->hdr->config_offset[active]);

	w->cs = cs->generation != 0 ? cs : NULL; /* generation 0: nothing was ever published */
	w->lut = TENBIN_CONFIG_LUT(cs);
	/* Release: our reads of the previous set happen before the control plane sees that we
	 * moved on and starts rewriting it (quiescent-state report, as in rte_rcu_qsbr). */
	__atomic_store_n(&w->state->seen_generation, cs->generation, __ATOMIC_RELEASE);
	/* Relaxed: a heartbeat orders nothing, it only has to be a whole word. */
	__atomic_store_n(&w->state->heartbeat_ms, now_ms, __ATOMIC_RELAXED);
	if (now_ms > w->icmp_refill_ms) {
		uint64_t add = (now_ms - w->icmp_refill_ms) * TENBIN_ICMP_RATE_PER_S / 1000u;

		if (add > 0) {
			w->icmp_tokens = (uint32_t)(w->icmp_tokens + add > TENBIN_ICMP_BURST ?
						    TENBIN_ICMP_BURST : w->icmp_tokens + add);
			w->icmp_refill_ms = now_ms;
		}
	}
	w->now_ms = now_ms;
	w->now32 = (uint32_t)now_ms;
}

static void key_from_packet(struct tenbin_flow_key *k, const uint8_t *f, const struct tenbin_hdrs *h)
{
	const uint8_t *ip = f + h->l3_off;

	memset(k, 0, sizeof(*k));
	if (h->family == 4) {
		memcpy(k->src, ip + 12, 4);
		memcpy(k->dst, ip + 16, 4);
	} else {
		memcpy(k->src, ip + 8, 16);
		memcpy(k->dst, ip + 24, 16);
	}
	if (h->frag == TENBIN_FRAG_NONE) {
		k->sport_be = h->sport_be;
		k->dport_be = h->dport_be;
	}
	k->proto = h->proto;
	k->family = h->family;
}

static uint8_t state_for(const struct tenbin_hdrs *h, uint8_t st)
{
	if (h->proto != IPPROTO_TCP)
		return TENBIN_FS_UDP;
	if (h->l4_off == 0) /* a later fragment tells nothing about the connection */
		return st == TENBIN_FS_NONE ? TENBIN_FS_EST : st;
	return tenbin_tcp_next_state(st, h->tcp_flags);
}

/* A new flow (or a re-selection) of service svc: picks a backend from the lut. */
static const struct tenbin_backend *
pick(struct tenbin_worker *w, uint16_t svc, const struct tenbin_service *s,
     const struct tenbin_flow_key *k, int stateful, uint16_t *idx)
{
	uint32_t hash = tenbin_select_hash(s, k, k->sport_be == 0 && k->dport_be == 0);

	*idx = tenbin_select(w, svc, s, hash, stateful);
	return tenbin_backend_usable(w->cs, *idx);
}

/* l2dsr and l3dsr: flow table, selection, rewrite. */
static int dsr(struct tenbin_worker *w, struct tenbin_pkt *p, const struct tenbin_hdrs *h,
	       uint16_t svc, const struct tenbin_flow_key *k, uint32_t sig, struct tenbin_flow *e,
	       struct tenbin_flow *fw)
{
	const struct tenbin_config_set *cs = w->cs;
	const struct tenbin_service *s = &cs->services[svc];
	struct tenbin_lcore_counters *c = w->ctr;
	const struct tenbin_backend *be;
	uint16_t bi;
	uint32_t rx_len = p->len;
	int r;

	/* A SYN on the tuple of a closed connection opens a new one (IPVS's conn_reuse_mode):
	 * it is scheduled afresh, so a drained or re-weighted backend does not inherit it. */
	if (e != NULL && e->state == TENBIN_FS_FIN && h->proto == IPPROTO_TCP && h->l4_off != 0 &&
	    (h->tcp_flags & (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG)) == RTE_TCP_SYN_FLAG) {
		tenbin_flow_release(w, e);
		fw = e;
		e = NULL;
	}
	if (e != NULL) {
		be = tenbin_backend_usable(cs, e->backend);
		if (be != NULL && be->incarnation == e->incarnation && e->service == svc) {
			c->global[TENBIN_CTR_FLOW_HIT]++;
			bi = e->backend;
		} else {
			/* its backend left, or the slot now names another server: choose again */
			be = pick(w, svc, s, k, 1, &bi);
			if (be == NULL)
				return TENBIN_DROP_NO_BACKEND;
			c->global[TENBIN_CTR_FLOW_RESELECT]++;
			if (e->backend < TENBIN_MAX_BACKENDS)
				c->backend[e->backend][TENBIN_OBJ_ACTIVE_FLOWS]--;
			c->backend[bi][TENBIN_OBJ_ACTIVE_FLOWS]++;
			tenbin_half_open_forget(w, e); /* counted again below, under svc */
			e->backend = bi;
			e->incarnation = be->incarnation;
			e->service = svc;
		}
		e->state = state_for(h, e->state);
		tenbin_half_open_sync(w, e);
		e->expires_ms = w->now32 + tenbin_flow_timeout_ms(s, e->state);
	} else {
		uint8_t st = state_for(h, TENBIN_FS_NONE);
		int guard = fw != NULL && tenbin_flow_half_open(st) && tenbin_syn_guard_check(w, svc, s, fw);

		if (guard)
			fw = NULL; /* over the service's half-open cap: stateless, like a full bucket */
		be = pick(w, svc, s, k, fw != NULL, &bi);
		if (be == NULL)
			return TENBIN_DROP_NO_BACKEND;
		if (fw != NULL) {
			tenbin_flow_reuse(w, fw);
			memcpy(fw->src, k, TENBIN_FLOW_KEY_LEN);
			fw->state = st;
			fw->flags = 0;
			fw->backend = bi;
			fw->service = svc;
			fw->incarnation = be->incarnation;
			fw->nat_port_be = 0;
			fw->nat_addr = 0;
			fw->expires_ms = w->now32 + tenbin_flow_timeout_ms(s, fw->state);
			fw->sig = sig;
			tenbin_half_open_sync(w, fw);
			c->global[TENBIN_CTR_FLOW_NEW]++;
			c->service[svc][TENBIN_OBJ_NEW_FLOWS]++;
			c->backend[bi][TENBIN_OBJ_NEW_FLOWS]++;
			c->backend[bi][TENBIN_OBJ_ACTIVE_FLOWS]++;
		} else {
			/* stateless: Maglev alone decides */
			c->global[guard ? TENBIN_CTR_SYN_GUARD : TENBIN_CTR_FLOW_TABLE_FULL]++;
		}
	}
	r = tenbin_forward(w, p, h, s, be, 1);
	if (r != TENBIN_OK)
		return r;
	c->service[svc][TENBIN_OBJ_PKTS]++;
	c->service[svc][TENBIN_OBJ_BYTES] += rx_len;
	c->backend[bi][TENBIN_OBJ_PKTS]++;
	c->backend[bi][TENBIN_OBJ_BYTES] += rx_len;
	return TENBIN_OK;
}

static int by_mode(struct tenbin_worker *w, struct tenbin_pkt *p, const struct tenbin_hdrs *h,
		   uint16_t svc, const struct tenbin_flow_key *k, uint32_t sig, struct tenbin_flow *e,
		   struct tenbin_flow *fw)
{
	switch (w->cs->services[svc].mode) {
	case TENBIN_MODE_L2DSR:
	case TENBIN_MODE_L3DSR:
		return dsr(w, p, h, svc, k, sig, e, fw);
	case TENBIN_MODE_NAT:
	case TENBIN_MODE_FNAT:
		if (!tenbin_ipv4_csum_ok(p->buf + p->off, h, p->flags & TENBIN_PKT_IP_CSUM_GOOD))
			return TENBIN_DROP_BAD_IP_CSUM; /* no state for a header we cannot trust */
		return tenbin_nat_forward(w, p, h, svc, k, sig); /* its own lookups: nat.c */
	default:
		return TENBIN_DROP_NO_BACKEND; /* a zeroed service drops */
	}
}

/* TCP/UDP towards a VIP (the key's destination, zero-padded like every VIP address). */
static int l4(struct tenbin_worker *w, struct tenbin_pkt *p, const struct tenbin_hdrs *h,
	      const struct tenbin_flow_key *k, uint32_t sig)
{
	struct tenbin_flow *e, *fw = NULL;
	uint16_t svc;

	if (h->frag == TENBIN_FRAG_LATER) {
		e = tenbin_flow_find(w, k, sig, &fw);
		if (e != NULL && e->service < TENBIN_MAX_SERVICES)
			return by_mode(w, p, h, e->service, k, sig, e, fw);
		svc = tenbin_vip_find(w->cs, k->dst, h->family, h->proto, 0);
		if (svc == TENBIN_NO_SERVICE)
			return TENBIN_DROP_FRAGMENT;
		return by_mode(w, p, h, svc, k, sig, e, fw);
	}
	svc = tenbin_vip_find_memo(w, k->dst, k->family, k->proto, rte_be_to_cpu_16(h->dport_be));
	if (svc == TENBIN_NO_SERVICE) { /* a nat/fnat server's reply, or no_vip */
		if (!tenbin_ipv4_csum_ok(p->buf + p->off, h, p->flags & TENBIN_PKT_IP_CSUM_GOOD))
			return TENBIN_DROP_BAD_IP_CSUM;
		return tenbin_nat_reply(w, p, h, k, sig);
	}
	if (w->cs->services[svc].mode > TENBIN_MODE_L3DSR)
		return by_mode(w, p, h, svc, k, sig, NULL, NULL);
	e = tenbin_flow_find(w, k, sig, &fw);
	return by_mode(w, p, h, svc, k, sig, e, fw);
}

/* ICMP/ICMPv6 towards a VIP: echo, or an error about a flow we forwarded. */
static int icmp(struct tenbin_worker *w, struct tenbin_pkt *p, const struct tenbin_hdrs *h,
		const uint8_t *f, const uint8_t addr[16])
{
	const struct tenbin_config_set *cs = w->cs;
	uint16_t svc = tenbin_vip_find(cs, addr, h->family, 0, 0);
	const struct tenbin_flow *e;
	const struct tenbin_backend *be;
	struct tenbin_flow_key k;
	int r;

	if (svc == TENBIN_NO_SERVICE) /* about a nat/fnat connection, from its server's side? */
		return tenbin_nat_icmp_to_client(w, p, h);
	if (h->l4_off == 0)
		return TENBIN_DROP_FRAGMENT; /* nothing we answer comes fragmented */
	if (h->icmp_type == (h->family == 4 ? 8 : 128)) {
		if (!(cs->services[svc].flags & TENBIN_SVC_ICMP_ECHO))
			return TENBIN_DROP_NOT_FOR_US;
		return tenbin_icmp_echo_reply(w, p, h);
	}
	if (!tenbin_icmp_is_error(h->family, h->icmp_type))
		return TENBIN_DROP_NOT_FOR_US;
	r = tenbin_icmp_quoted_flow(f, h, &k);
	if (r != TENBIN_OK)
		return r;
	/* RSS spreads ICMP errors by their outer addresses, so the flow may live on another
	 * lcore: look in ours, then read the others'. */
	{
		uint32_t sig = tenbin_flow_sig(&k);
		struct tenbin_flow *fw;

		e = tenbin_flow_find(w, &k, sig, &fw);
		if (e == NULL)
			e = tenbin_flow_find_any(w, &k, sig);
	}
	if (e == NULL || e->service >= TENBIN_MAX_SERVICES)
		return TENBIN_DROP_ICMP_ERR_NO_FLOW;
	if (e->flags & TENBIN_FF_NAT)
		return tenbin_nat_icmp_to_backend(w, p, h, e);
	be = tenbin_backend_usable(cs, e->backend);
	if (be == NULL || be->incarnation != e->incarnation)
		return TENBIN_DROP_ICMP_ERR_NO_FLOW;
	r = tenbin_forward(w, p, h, &cs->services[e->service], be, 0);
	if (r == TENBIN_OK)
		w->ctr->global[TENBIN_CTR_ICMP_ERR_STEERED]++;
	return r;
}

static int dispatch(struct tenbin_worker *w, struct tenbin_pkt *p, const struct tenbin_prepared *pp)
{
	const struct tenbin_hdrs *h = &pp->h;
	const uint8_t *f = p->buf + p->off;
	uint8_t addr[16];

	if (w->cs == NULL)
		return TENBIN_DROP_NO_CONFIG;
	if (pp->parsed != TENBIN_OK)
		return pp->parsed;
	if (h->family == 0)
		return tenbin_arp(w, p, h);
	if (pp->sig != 0)
		return l4(w, p, h, &pp->k, pp->sig); /* checks the IPv4 checksum where it must */
	if (tenbin_is_ndp(h))
		return tenbin_ndp(w, p, h);
	/* ICMP is answered or steered by what it says; the rest is counted against a VIP */
	if (!tenbin_ipv4_csum_ok(f, h, p->flags & TENBIN_PKT_IP_CSUM_GOOD))
		return TENBIN_DROP_BAD_IP_CSUM;
	memset(addr, 0, sizeof(addr));
	if (h->family == 4)
		memcpy(addr, f + h->l3_off + 16, 4);
	else
		memcpy(addr, f + h->l3_off + 24, 16);
	if (h->proto == (h->family == 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6))
		return icmp(w, p, h, f, addr);
	if (tenbin_vip_find(w->cs, addr, h->family, 0, 0) == TENBIN_NO_SERVICE)
		return TENBIN_DROP_NO_VIP; /* or the kernel's: kernel.h */
	return TENBIN_DROP_UNSUPPORTED_PROTO;
}

void tenbin_prepare(const struct tenbin_pkt *p, struct tenbin_prepared *pp)
{
	const uint8_t *f = p->buf + p->off;

	pp->parsed = tenbin_parse(f, p->len, &pp->h);
	pp->sig = 0;
	if (pp->parsed == TENBIN_OK && pp->h.family != 0 &&
	    (pp->h.proto == IPPROTO_TCP || pp->h.proto == IPPROTO_UDP)) {
		key_from_packet(&pp->k, f, &pp->h);
		pp->sig = tenbin_flow_sig(&pp->k); /* never 0 */
	}
}

int tenbin_process(struct tenbin_worker *w, struct tenbin_pkt *p)
{
	struct tenbin_prepared pp;

	tenbin_prepare(p, &pp);
	return tenbin_process_prepared(w, p, &pp);
}

int tenbin_process_prepared(struct tenbin_worker *w, struct tenbin_pkt *p, const struct tenbin_prepared *pp)
{
	uint64_t *g = w->ctr->global;
	int r;

	g[TENBIN_CTR_RX_PKTS]++;
	g[TENBIN_CTR_RX_BYTES] += p->len;
	p->verdict = TENBIN_V_DROP;
	r = dispatch(w, p, pp);
	if (r != TENBIN_OK)
		r = tenbin_kernel_claim(w, p, pp, r); /* the host's, on a port with a kernel tap */
	if (r != TENBIN_OK) {
		p->verdict = TENBIN_V_DROP;
		p->drop_reason = (uint8_t)r;
		w->ctr->drops[r]++;
	} else if (p->verdict == TENBIN_V_TX) {
		g[TENBIN_CTR_TX_PKTS]++;
		g[TENBIN_CTR_TX_BYTES] += p->len;
	} else {
		g[TENBIN_CTR_KERNEL_PKTS]++;
	}
	return p->verdict;
}
