/* SPDX-License-Identifier: BSD-3-Clause
 *
 * forward.h — sending a packet on to a backend: the l2dsr and l3dsr rewrites and the egress
 * Ethernet header (next-hop MAC, our port's MAC, the backend's VLAN).
 */
#ifndef TENBIN_FORWARD_H
#define TENBIN_FORWARD_H

#include "dataplane.h"
#include "parse.h"

/* The learned MAC of neighbour slot n if it is resolved for the slot's current key (tag)
 * and not older than neigh_expire_ms. Returns 1 and fills mac, or 0. */
int tenbin_neigh_mac(const struct tenbin_worker *w, uint16_t n, uint8_t mac[6]);

/* Rewrites the Ethernet header in front of the L3 header for port with vlan (0: untagged),
 * pushing, popping or rewriting tags by moving p->off. Returns TENBIN_OK or a drop reason. */
int tenbin_l2_emit(const struct tenbin_worker *w, struct tenbin_pkt *p, const struct tenbin_hdrs *h,
		   const uint8_t dst[6], uint8_t port, uint16_t vlan);

/* Sends p to backend be in service s's mode: rewrites and sets verdict TX and out_port.
 * May instead turn p into an ICMP time exceeded back out the ingress port (l3dsr, TTL 1)
 * when reply_ok. Returns TENBIN_OK or a drop reason. */
int tenbin_forward(struct tenbin_worker *w, struct tenbin_pkt *p, const struct tenbin_hdrs *h,
		   const struct tenbin_service *s, const struct tenbin_backend *be, int reply_ok);

#endif /* TENBIN_FORWARD_H */
