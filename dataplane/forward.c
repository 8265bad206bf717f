/* SPDX-License-Identifier: BSD-3-Clause */
#include <netinet/in.h>
#include <string.h>

#include <rte_ether.h>
#include <rte_ip.h>

#include "csum.h"
#include "forward.h"
#include "icmp.h"

int tenbin_neigh_mac(const struct tenbin_worker *w, uint16_t n, uint8_t mac[6])
{
	const struct tenbin_neigh_key *k;
	uint64_t v;
	int i;

	if (n == 0 || n >= TENBIN_MAX_NEIGH)
		return 0;
	k = &w->cs->neigh[n];
	if (k->family == 0)
		return 0;
	/* Relaxed: the MAC and its tag travel in this one word, and nothing else we read
	 * depends on it, so atomicity (no torn MAC) is all that is needed. */
	v = __atomic_load_n(&w->neigh[n].mac_tag, __ATOMIC_RELAXED);
	if (v == 0 || (uint16_t)(v >> 48) != k->tag)
		return 0;
	if (w->cs->neigh_expire_ms != 0 &&
	    w->now_ms - __atomic_load_n(&w->neigh[n].updated_ms, __ATOMIC_RELAXED) > w->cs->neigh_expire_ms)
		return 0;
	for (i = 0; i < 6; i++)
		mac[i] = (uint8_t)(v >> (8 * i));
	return 1;
}

int tenbin_l2_emit(const struct tenbin_worker *w, struct tenbin_pkt *p, const struct tenbin_hdrs *h,
		   const uint8_t dst[6], uint8_t port, uint16_t vlan)
{
	unsigned want = sizeof(struct rte_ether_hdr) + (vlan ? sizeof(struct rte_vlan_hdr) : 0);
	unsigned l3 = (unsigned)p->off + h->l3_off; /* the L3 header stays where it is */
	uint8_t *e;

	if (l3 < want)
		return TENBIN_DROP_MTU; /* no headroom for the tag: the adapter left too little */
	p->off = (uint16_t)(l3 - want);
	p->len = (uint16_t)(p->len - h->l3_off + want);
	e = p->buf + p->off;
	memcpy(e, dst, 6);
	memcpy(e + 6, w->port_infos[port].mac, 6);
	if (vlan) {
		/* keep the priority the packet arrived with; the VLAN is the backend's */
		tenbin_put16(e + 12, RTE_ETHER_TYPE_VLAN);
		tenbin_put16(e + 14, (uint16_t)((h->vlan_tci & 0xe000) | (vlan & 0x0fff)));
		tenbin_put16(e + 16, h->ethertype);
	} else {
		tenbin_put16(e + 12, h->ethertype);
	}
	return TENBIN_OK;
}

/* l3dsr, IPv4: destination → backend, DSCP → the service's (ECN kept), TTL - 1, with the
 * header checksum and the TCP/UDP pseudo-header checksum updated incrementally. */
static int l3dsr_v4(uint8_t *f, const struct tenbin_hdrs *h, const struct tenbin_service *s,
		    const struct tenbin_backend *be)
{
	uint8_t *ip = f + h->l3_off;
	uint8_t *csum = ip + 10;
	uint8_t w0[2] = { ip[0], (uint8_t)(s->dscp << 2 | (ip[1] & 0x3)) };
	uint8_t w4[2] = { (uint8_t)(ip[8] - 1), ip[9] };

	tenbin_csum_patch(csum, ip, w0, 1);
	tenbin_csum_patch(csum, ip + 8, w4, 1);
	tenbin_csum_patch(csum, ip + 16, be->addr, 2);
	if (h->l4_off != 0) {
		uint8_t *l4 = f + h->l4_off;

		if (h->proto == IPPROTO_TCP)
			tenbin_csum_patch(l4 + 16, ip + 16, be->addr, 2);
		else if (h->proto == IPPROTO_UDP)
			tenbin_csum_patch_udp(l4 + 6, ip + 16, be->addr, 2);
	}
	memcpy(ip, w0, 2);
	memcpy(ip + 8, w4, 2);
	memcpy(ip + 16, be->addr, 4);
	return TENBIN_OK;
}

/* l3dsr, IPv6: the same through the traffic class, hop limit and destination; no header
 * checksum, but the pseudo-header covers the destination for TCP, UDP and ICMPv6. */
static int l3dsr_v6(uint8_t *f, const struct tenbin_hdrs *h, const struct tenbin_service *s,
		    const struct tenbin_backend *be)
{
	uint8_t *ip = f + h->l3_off;
	uint8_t tc = (uint8_t)((ip[0] & 0x0f) << 4 | ip[1] >> 4);

	tc = (uint8_t)(s->dscp << 2 | (tc & 0x3));
	ip[0] = (uint8_t)(0x60 | tc >> 4);
	ip[1] = (uint8_t)((tc & 0x0f) << 4 | (ip[1] & 0x0f));
	ip[7]--;
	if (h->l4_off != 0) {
		uint8_t *l4 = f + h->l4_off;

		if (h->proto == IPPROTO_TCP)
			tenbin_csum_patch(l4 + 16, ip + 24, be->addr, 8);
		else if (h->proto == IPPROTO_UDP)
			tenbin_csum_patch_udp(l4 + 6, ip + 24, be->addr, 8);
		else if (h->proto == IPPROTO_ICMPV6)
			tenbin_csum_patch(l4 + 2, ip + 24, be->addr, 8);
	}
	memcpy(ip + 24, be->addr, 16);
	return TENBIN_OK;
}

int tenbin_forward(struct tenbin_worker *w, struct tenbin_pkt *p, const struct tenbin_hdrs *h,
		   const struct tenbin_service *s, const struct tenbin_backend *be, int reply_ok)
{
	uint8_t *f = p->buf + p->off;
	uint8_t mac[6];
	uint16_t vlan;
	uint8_t port = be->egress_port;
	int r;

	if (port >= TENBIN_MAX_PORTS || be->family != h->family)
		return TENBIN_DROP_NO_BACKEND;
	if (be->flags & TENBIN_BE_STATIC_MAC)
		memcpy(mac, be->mac, 6);
	else if (!tenbin_neigh_mac(w, be->neigh, mac))
		return TENBIN_DROP_NO_NEIGH; /* slot 0's resolution rounds ask for it */
	vlan = be->vlan ? be->vlan : w->cs->ports[port].vlan;

	switch (s->mode) {
	case TENBIN_MODE_L2DSR:
		break;
	case TENBIN_MODE_L3DSR: {
		uint8_t ttl = h->family == 4 ? f[h->l3_off + 8] : f[h->l3_off + 7];

		if (ttl <= 1) {
			if (!reply_ok)
				return TENBIN_DROP_TTL_EXCEEDED;
			/* the reply quotes the header and goes to its source: it must be intact */
			if (!tenbin_ipv4_csum_ok(f, h, p->flags & TENBIN_PKT_IP_CSUM_GOOD))
				return TENBIN_DROP_BAD_IP_CSUM;
			return tenbin_icmp_time_exceeded(w, p, h);
		}
		r = h->family == 4 ? l3dsr_v4(f, h, s, be) : l3dsr_v6(f, h, s, be);
		if (r != TENBIN_OK)
			return r;
		break;
	}
	case TENBIN_MODE_NAT:
	case TENBIN_MODE_FNAT:
		break; /* nat.c rewrote the packet already */
	default:
		return TENBIN_DROP_NO_BACKEND;
	}
	r = tenbin_l2_emit(w, p, h, mac, port, vlan);
	if (r != TENBIN_OK)
		return r;
	p->out_port = port;
	p->verdict = TENBIN_V_TX;
	return TENBIN_OK;
}
