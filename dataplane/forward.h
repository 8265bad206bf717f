/* SPDX-License-Identifier: BSD-3-Clause
 *
 * forward.h — sending a packet on to a backend: the l2dsr and l3dsr rewrites and the egress
 * Ethernet header (next-hop MAC, our port's MAC, the backend's VLAN).
 */
#ifndef TENBIN_FORWARD_H
#define TENBIN_FORWARD_H

#include <string.h>

#include <rte_ether.h>

#include "dataplane.h"
#include "parse.h"

/* The learned MAC of neighbour slot n if it is resolved for the slot's current key (tag)
 * and not older than neigh_expire_ms. Returns 1 and fills mac, or 0. */
int tenbin_neigh_mac(const struct tenbin_worker *w, uint16_t n, uint8_t mac[6]);

/* The l3dsr rewrite of f (destination, DSCP, TTL, checksums) for backend be. */
int tenbin_l3dsr_rewrite(uint8_t *f, const struct tenbin_hdrs *h, const struct tenbin_service *s,
			 const struct tenbin_backend *be);

/* l3dsr at TTL 1: p becomes an ICMP time exceeded back out the ingress port when reply_ok
 * (and its header is intact), else a drop reason. */
int tenbin_ttl_expired(struct tenbin_worker *w, struct tenbin_pkt *p, const struct tenbin_hdrs *h, int reply_ok);

/* Rewrites the Ethernet header in front of the L3 header for port with vlan (0: untagged),
 * pushing, popping or rewriting tags by moving p->off. Returns TENBIN_OK or a drop reason.
 * Inline, like tenbin_forward: on the l2dsr path it is the whole rewrite, and as calls the
 * two cost more in argument shuffling and saved registers than the twelve bytes they write. */
static inline int tenbin_l2_emit(const struct tenbin_worker *w, struct tenbin_pkt *p, const struct tenbin_hdrs *h,
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

/* Sends p to backend be in service s's mode: rewrites and sets verdict TX and out_port.
 * May instead turn p into an ICMP time exceeded back out the ingress port (l3dsr, TTL 1)
 * when reply_ok. Returns TENBIN_OK or a drop reason. */
static inline int tenbin_forward(struct tenbin_worker *w, struct tenbin_pkt *p, const struct tenbin_hdrs *h,
				 const struct tenbin_service *s, const struct tenbin_backend *be, int reply_ok)
{
	uint8_t mac[6];
	const uint8_t *dst = mac;
	uint16_t vlan;
	uint8_t port = be->egress_port;
	int r;

	if (port >= TENBIN_MAX_PORTS || be->family != h->family)
		return TENBIN_DROP_NO_BACKEND;
	if (be->flags & TENBIN_BE_STATIC_MAC)
		dst = be->mac;
	else if (!tenbin_neigh_mac(w, be->neigh, mac))
		return TENBIN_DROP_NO_NEIGH; /* slot 0's resolution rounds ask for it */
	vlan = be->vlan ? be->vlan : w->cs->ports[port].vlan;

	switch (s->mode) {
	case TENBIN_MODE_L2DSR:
		break;
	case TENBIN_MODE_L3DSR: {
		uint8_t *f = p->buf + p->off;

		if ((h->family == 4 ? f[h->l3_off + 8] : f[h->l3_off + 7]) <= 1)
			return tenbin_ttl_expired(w, p, h, reply_ok);
		r = tenbin_l3dsr_rewrite(f, h, s, be);
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
	r = tenbin_l2_emit(w, p, h, dst, port, vlan);
	if (r != TENBIN_OK)
		return r;
	p->out_port = port;
	p->verdict = TENBIN_V_TX;
	return TENBIN_OK;
}

#endif /* TENBIN_FORWARD_H */
