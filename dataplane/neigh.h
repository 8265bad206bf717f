/* SPDX-License-Identifier: BSD-3-Clause
 *
 * neigh.h — the L2/L3 duties: answering ARP and IPv6 neighbour solicitations for VIPs and
 * our ports' addresses, learning next-hop MACs from what neighbours send, and (slot 0 only)
 * writing the ARP requests and solicitations that resolve them (tenbin_neigh_request).
 */
#ifndef TENBIN_NEIGH_H
#define TENBIN_NEIGH_H

#include "dataplane.h"
#include "parse.h"

/* ARP frame: answer a request for one of our addresses, learn the sender if it is one of
 * the config set's neighbour keys. */
int tenbin_arp(struct tenbin_worker *w, struct tenbin_pkt *p, const struct tenbin_hdrs *h);

/* 1 for the ICMPv6 neighbour discovery types tenbin_ndp handles or ignores (133..137). */
static inline int tenbin_is_ndp(const struct tenbin_hdrs *h)
{
	return h->family == 6 && h->proto == 58 && h->l4_off != 0 && h->icmp_type >= 133 && h->icmp_type <= 137;
}

/* Neighbour solicitation → advertisement for our addresses; advertisements → learning. */
int tenbin_ndp(struct tenbin_worker *w, struct tenbin_pkt *p, const struct tenbin_hdrs *h);

#endif /* TENBIN_NEIGH_H */
