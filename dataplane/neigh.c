/* SPDX-License-Identifier: BSD-3-Clause */
#include <netinet/in.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_ether.h>
#include <rte_ip.h>

#include "nat.h"
#include "neigh.h"
#include "vip.h"

#define ND_NS 135
#define ND_NA 136
#define ND_OPT_SLLA 1
#define ND_OPT_TLLA 2
#define ND_HDR_LEN 24  /* type, code, csum, flags/reserved, target */
#define ND_LEN (ND_HDR_LEN + 8) /* with one link-layer address option */
#define ETH_MIN_FRAME 60

static const uint8_t zero16[16];

static int mac_is_unicast(const uint8_t *m)
{
	return !(m[0] & 1) && memcmp(m, zero16, 6) != 0;
}

/* Is addr one of ours on port: a VIP whose service enters through this port, or the port's
 * own address? */
static int addr_is_ours(const struct tenbin_worker *w, const uint8_t *addr, uint8_t family, uint8_t port)
{
	const struct tenbin_port_conf *pc = &w->cs->ports[port];
	uint8_t key[16] = { 0 };
	uint16_t s;

	memcpy(key, addr, family == 4 ? 4 : 16);
	s = tenbin_vip_find(w->cs, key, family, 0, 0);
	if (s != TENBIN_NO_SERVICE && w->cs->services[s].ingress_port == port)
		return 1;
	if (tenbin_nat_is_local(w->cs, key, family)) /* fnat sources: servers answer them, on any port */
		return 1;
	if (family == 4)
		return memcmp(pc->ipv4, zero16, 4) != 0 && memcmp(pc->ipv4, addr, 4) == 0;
	return memcmp(pc->ipv6, zero16, 16) != 0 && memcmp(pc->ipv6, addr, 16) == 0;
}

/* Stores mac for the neighbour key (family, addr) seen on port/vlan. Control traffic only,
 * so a scan of the keys is fine. Returns 1 if addr was a key. */
static int neigh_learn(struct tenbin_worker *w, uint8_t family, const uint8_t *addr, const uint8_t *mac,
		       uint8_t port, uint16_t vlan)
{
	const struct tenbin_config_set *cs = w->cs;
	uint32_t n = cs->n_neigh < TENBIN_MAX_NEIGH ? cs->n_neigh : TENBIN_MAX_NEIGH;
	unsigned alen = family == 4 ? 4 : 16;
	uint32_t i;

	if (!mac_is_unicast(mac))
		return 0;
	for (i = 1; i < n; i++) {
		const struct tenbin_neigh_key *k = &cs->neigh[i];
		struct tenbin_neigh_state *st = &w->neigh[i];
		uint64_t v = (uint64_t)k->tag << 48;
		int b;

		if (k->family != family || k->port != port || (k->vlan & 0xfff) != (vlan & 0xfff) ||
		    memcmp(k->addr, addr, alen) != 0)
			continue;
		for (b = 0; b < 6; b++)
			v |= (uint64_t)mac[b] << (8 * b);
		/* One 64-bit store so that a reader never sees half a MAC or a MAC with another
		 * key's tag; relaxed because readers need nothing else from this lcore. Any lcore
		 * may learn, and the last reply wins, as in a kernel neighbour table. */
		__atomic_store_n(&st->mac_tag, v, __ATOMIC_RELAXED);
		__atomic_store_n(&st->updated_ms, w->now_ms, __ATOMIC_RELAXED);
		st->port = port;
		w->ctr->global[TENBIN_CTR_NEIGH_UPDATES]++;
		return 1;
	}
	return 0;
}

int tenbin_arp(struct tenbin_worker *w, struct tenbin_pkt *p, const struct tenbin_hdrs *h)
{
	uint8_t *f = p->buf + p->off;
	struct rte_arp_hdr *a = (struct rte_arp_hdr *)(f + h->l3_off);
	struct rte_arp_ipv4 *d = &a->arp_data;
	uint8_t sip[4], tip[4];
	int learned;

	memcpy(sip, &d->arp_sip, 4);
	memcpy(tip, &d->arp_tip, 4);
	learned = neigh_learn(w, 4, sip, d->arp_sha.addr_bytes, p->in_port, h->vlan_tci);
	if (a->arp_opcode == RTE_BE16(RTE_ARP_OP_REQUEST) && addr_is_ours(w, tip, 4, p->in_port)) {
		const uint8_t *ours = w->port_infos[p->in_port].mac;

		a->arp_opcode = RTE_BE16(RTE_ARP_OP_REPLY);
		memcpy(d->arp_tha.addr_bytes, d->arp_sha.addr_bytes, 6);
		memcpy(&d->arp_tip, sip, 4);
		memcpy(d->arp_sha.addr_bytes, ours, 6);
		memcpy(&d->arp_sip, tip, 4);
		memcpy(f, d->arp_tha.addr_bytes, 6);
		memcpy(f + 6, ours, 6);
		p->out_port = p->in_port;
		p->verdict = TENBIN_V_TX;
		w->ctr->global[TENBIN_CTR_ARP_REPLIES]++;
		return TENBIN_OK;
	}
	if (learned) { /* the host stack may want to know too */
		p->verdict = TENBIN_V_KERNEL;
		return TENBIN_OK;
	}
	return TENBIN_DROP_NOT_FOR_US;
}

/* ICMPv6 checksum over the pseudo-header and len bytes of message (computed; as stored). */
static uint16_t icmp6_csum(const uint8_t *ip, const uint8_t *msg, uint32_t len)
{
	uint32_t s = __rte_raw_cksum(ip + 8, 32, 0);

	s += rte_cpu_to_be_32(len) >> 16;
	s += rte_cpu_to_be_32(len) & 0xffff;
	s += rte_cpu_to_be_32(IPPROTO_ICMPV6) >> 16;
	s += rte_cpu_to_be_32(IPPROTO_ICMPV6) & 0xffff;
	s = __rte_raw_cksum(msg, len, s);
	return (uint16_t)~__rte_raw_cksum_reduce(s);
}

/* The link-layer address option of type opt in an ND message's options, or NULL. */
static const uint8_t *nd_lladdr(const uint8_t *o, unsigned n, uint8_t opt)
{
	while (n >= 8) {
		unsigned l = (unsigned)o[1] * 8;

		if (l == 0 || l > n)
			return NULL;
		if (o[0] == opt && l == 8)
			return o + 2;
		o += l;
		n -= l;
	}
	return NULL;
}

int tenbin_ndp(struct tenbin_worker *w, struct tenbin_pkt *p, const struct tenbin_hdrs *h)
{
	uint8_t *f = p->buf + p->off;
	uint8_t *ip = f + h->l3_off;
	uint8_t *ic = f + h->l4_off;
	unsigned len = (unsigned)h->l3_end - h->l4_off;
	const uint8_t *ll;
	uint8_t target[16];

	if (h->icmp_type != ND_NS && h->icmp_type != ND_NA)
		return TENBIN_DROP_NOT_FOR_US; /* router discovery and redirects are the host's */
	/* RFC 4861 7.1: hop limit 255 proves the sender is on link; the checksum must hold. */
	if (ip[7] != 255 || h->icmp_code != 0 || len < ND_HDR_LEN || icmp6_csum(ip, ic, len) != 0)
		return TENBIN_DROP_BAD_ICMP;
	memcpy(target, ic + 8, 16);
	if (target[0] == 0xff)
		return TENBIN_DROP_BAD_ICMP;

	if (h->icmp_type == ND_NA) {
		ll = nd_lladdr(ic + ND_HDR_LEN, len - ND_HDR_LEN, ND_OPT_TLLA);
		if (neigh_learn(w, 6, target, ll ? ll : f + 6, p->in_port, h->vlan_tci)) {
			p->verdict = TENBIN_V_KERNEL;
			return TENBIN_OK;
		}
		return TENBIN_DROP_NOT_FOR_US;
	}

	ll = nd_lladdr(ic + ND_HDR_LEN, len - ND_HDR_LEN, ND_OPT_SLLA);
	if (ll && memcmp(ip + 8, zero16, 16) != 0)
		neigh_learn(w, 6, ip + 8, ll, p->in_port, h->vlan_tci);
	if (!addr_is_ours(w, target, 6, p->in_port))
		return TENBIN_DROP_NOT_FOR_US;
	if ((unsigned)p->cap - p->off < (unsigned)h->l4_off + ND_LEN)
		return TENBIN_DROP_MTU;

	{
		const uint8_t *ours = w->port_infos[p->in_port].mac;
		int dad = memcmp(ip + 8, zero16, 16) == 0; /* duplicate address detection */
		uint8_t dst_mac[6];
		uint16_t c;

		/* Answer to the solicitor, or to all nodes when it has no address yet. */
		if (dad) {
			static const uint8_t all_nodes[16] = { 0xff, 0x02, [15] = 1 };

			memcpy(ip + 24, all_nodes, 16);
			memcpy(dst_mac, (const uint8_t[6]){ 0x33, 0x33, 0, 0, 0, 1 }, 6);
		} else {
			memcpy(ip + 24, ip + 8, 16);
			memcpy(dst_mac, ll ? ll : f + 6, 6);
		}
		memcpy(ip + 8, target, 16);
		ip[0] = 0x60; ip[1] = 0; ip[2] = 0; ip[3] = 0;
		tenbin_put16(ip + 4, ND_LEN);
		ip[6] = IPPROTO_ICMPV6; /* any extension headers of the solicitation are dropped */
		ip[7] = 255;
		ic = ip + 40;
		memset(ic, 0, ND_LEN);
		ic[0] = ND_NA;
		ic[4] = dad ? 0x20 : 0x60; /* solicited (unless DAD) + override */
		memcpy(ic + 8, target, 16);
		ic[24] = ND_OPT_TLLA;
		ic[25] = 1;
		memcpy(ic + 26, ours, 6);
		c = icmp6_csum(ip, ic, ND_LEN);
		memcpy(ic + 2, &c, 2);
		memcpy(f, dst_mac, 6);
		memcpy(f + 6, ours, 6);
		p->len = (uint16_t)(h->l3_off + 40 + ND_LEN);
		p->out_port = p->in_port;
		p->verdict = TENBIN_V_TX;
		w->ctr->global[TENBIN_CTR_NDP_REPLIES]++;
	}
	return TENBIN_OK;
}

/* Writes the Ethernet header (+ tag) of a request; returns its length. */
static unsigned req_l2(uint8_t *b, const uint8_t *dst, const uint8_t *src, uint16_t vlan, uint16_t et)
{
	memcpy(b, dst, 6);
	memcpy(b + 6, src, 6);
	if (vlan) {
		tenbin_put16(b + 12, RTE_ETHER_TYPE_VLAN);
		tenbin_put16(b + 14, vlan & 0xfff);
		tenbin_put16(b + 16, et);
		return 18;
	}
	tenbin_put16(b + 12, et);
	return 14;
}

static uint16_t write_request(const struct tenbin_worker *w, const struct tenbin_neigh_key *k,
			      uint8_t *b, uint16_t cap)
{
	const uint8_t *mac = w->port_infos[k->port].mac;
	const struct tenbin_port_conf *pc = &w->cs->ports[k->port];
	unsigned l2, len;

	if (cap < 18 + 40 + ND_LEN || cap < ETH_MIN_FRAME)
		return 0;
	memset(b, 0, 18 + 40 + ND_LEN);
	if (k->family == 4) {
		static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
		struct rte_arp_hdr *a;

		l2 = req_l2(b, bcast, mac, k->vlan, RTE_ETHER_TYPE_ARP);
		a = (struct rte_arp_hdr *)(b + l2);
		a->arp_hardware = RTE_BE16(RTE_ARP_HRD_ETHER);
		a->arp_protocol = RTE_BE16(RTE_ETHER_TYPE_IPV4);
		a->arp_hlen = 6;
		a->arp_plen = 4;
		a->arp_opcode = RTE_BE16(RTE_ARP_OP_REQUEST);
		memcpy(a->arp_data.arp_sha.addr_bytes, mac, 6);
		memcpy(&a->arp_data.arp_sip, pc->ipv4, 4); /* 0.0.0.0 (a probe) without an address */
		memcpy(&a->arp_data.arp_tip, k->addr, 4);
		len = l2 + sizeof(*a);
		return (uint16_t)(len < ETH_MIN_FRAME ? ETH_MIN_FRAME : len);
	} else {
		/* Solicited-node multicast ff02::1:ffXX:XXXX and its MAC 33:33:ff:XX:XX:XX. */
		uint8_t dmac[6] = { 0x33, 0x33, 0xff, k->addr[13], k->addr[14], k->addr[15] };
		uint8_t *ip, *ic;
		uint16_t c;

		if (memcmp(pc->ipv6, zero16, 16) == 0)
			return 0; /* a solicitation needs a source address */
		l2 = req_l2(b, dmac, mac, k->vlan, RTE_ETHER_TYPE_IPV6);
		ip = b + l2;
		ic = ip + 40;
		ip[0] = 0x60;
		tenbin_put16(ip + 4, ND_LEN);
		ip[6] = IPPROTO_ICMPV6;
		ip[7] = 255;
		memcpy(ip + 8, pc->ipv6, 16);
		ip[24] = 0xff; ip[25] = 0x02; ip[35] = 0x01; ip[36] = 0xff;
		memcpy(ip + 37, k->addr + 13, 3);
		ic[0] = ND_NS;
		memcpy(ic + 8, k->addr, 16);
		ic[24] = ND_OPT_SLLA;
		ic[25] = 1;
		memcpy(ic + 26, mac, 6);
		c = icmp6_csum(ip, ic, ND_LEN);
		memcpy(ic + 2, &c, 2);
		return (uint16_t)(l2 + 40 + ND_LEN);
	}
}

uint16_t tenbin_neigh_request(struct tenbin_worker *w, uint8_t *buf, uint16_t cap, uint8_t *port)
{
	const struct tenbin_config_set *cs = w->cs;
	uint32_t refresh, n;

	if (cs == NULL || w->slot != 0)
		return 0;
	if (w->neigh_cursor == 0) { /* between rounds */
		if (w->now_ms < w->neigh_next_ms)
			return 0;
		w->neigh_next_ms = w->now_ms + TENBIN_NEIGH_ROUND_MS;
		w->neigh_cursor = 1;
	}
	refresh = cs->neigh_refresh_ms ? cs->neigh_refresh_ms : 30000;
	n = cs->n_neigh < TENBIN_MAX_NEIGH ? cs->n_neigh : TENBIN_MAX_NEIGH;
	while (w->neigh_cursor < n) {
		uint32_t i = w->neigh_cursor++;
		const struct tenbin_neigh_key *k = &cs->neigh[i];
		struct tenbin_neigh_state *st = &w->neigh[i];
		uint64_t v;
		uint16_t len;

		if (k->family != 4 && k->family != 6)
			continue;
		if (k->port >= TENBIN_MAX_PORTS)
			continue;
		v = __atomic_load_n(&st->mac_tag, __ATOMIC_RELAXED);
		if (v != 0 && (uint16_t)(v >> 48) == k->tag &&
		    w->now_ms - __atomic_load_n(&st->updated_ms, __ATOMIC_RELAXED) < refresh)
			continue;
		if (st->requested_ms != 0 && w->now_ms - st->requested_ms < TENBIN_NEIGH_RETRY_MS)
			continue;
		len = write_request(w, k, buf, cap);
		if (len == 0)
			continue;
		st->requested_ms = w->now_ms;
		*port = k->port;
		w->ctr->global[TENBIN_CTR_NEIGH_REQUESTS]++;
		return len;
	}
	w->neigh_cursor = 0;
	return 0;
}
