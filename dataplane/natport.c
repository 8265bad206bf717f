/* SPDX-License-Identifier: BSD-3-Clause
 *
 * natport.c — fnat source ports.
 *
 * The flow table is the allocator's state: a port is free for a connection when no live
 * reverse entry holds the tuple (backend:port → local:port), so nothing can hand out a
 * live tuple twice, a restarted dataplane (whose flow tables survived in the region) sees
 * every port in use, and a port frees itself when its pair is released (close, timeout).
 *
 * Each lcore takes only the ports p with p % n_lcores == its slot. No two lcores can ever
 * pick the same tuple, and a reply names its owner: the lcore that receives it reads the
 * owner's table directly (nat.c, tenbin_nat_lookup). A cursor per local address walks the
 * lcore's ports, so a port just released is the last to come back.
 */
#include <rte_byteorder.h>

#include "nat.h"
#include "vip.h"

int tenbin_nat_port_alloc(struct tenbin_worker *w, const struct tenbin_service *s, uint32_t spread,
			  struct tenbin_flow_key *rk, uint32_t *rsig, struct tenbin_flow **rfw,
			  uint8_t *local_idx)
{
	const struct tenbin_config_set *cs = w->cs;
	uint32_t n = w->hdr->n_lcores;
	uint32_t lo = s->nat_port_lo ? s->nat_port_lo : TENBIN_NAT_PORT_MIN;
	uint32_t hi = s->nat_port_hi ? s->nat_port_hi : TENBIN_NAT_PORT_MAX;
	uint32_t first = lo + (w->slot + n - lo % n) % n; /* our lowest port in the range */
	uint32_t count, tries, a;

	if (first > hi || s->local_count == 0)
		return TENBIN_DROP_NAT_NO_PORT;
	count = (hi - first) / n + 1;
	tries = count < TENBIN_NAT_PORT_TRIES ? count : TENBIN_NAT_PORT_TRIES;
	for (a = 0; a < s->local_count; a++) {
		uint32_t idx = s->local_pool + (spread + a) % s->local_count;
		const struct tenbin_local_addr *la;
		uint32_t t;

		if (idx >= TENBIN_MAX_LOCAL_ADDRS)
			continue;
		la = &cs->local_addrs[idx];
		if (la->family != rk->family)
			continue;
		memcpy(rk->dst, la->addr, 16);
		for (t = 0; t < tries; t++) {
			uint32_t port = first + (w->nat_cursor[idx]++ % count) * n;
			struct tenbin_flow *fw = NULL;
			uint32_t sig;

			/* a reply to a VIP's own port would be taken for a client's packet */
			if (tenbin_vip_find_l4(cs, la->addr, la->family, rk->proto, (uint16_t)port) != TENBIN_NO_SERVICE)
				continue;
			rk->dport_be = rte_cpu_to_be_16((uint16_t)port);
			sig = tenbin_flow_sig(rk);
			if (tenbin_flow_find(w, rk, sig, &fw) != NULL || fw == NULL)
				continue; /* the tuple is live, or its bucket is full */
			*rsig = sig;
			*rfw = fw;
			*local_idx = (uint8_t)idx;
			return TENBIN_OK;
		}
	}
	return TENBIN_DROP_NAT_NO_PORT;
}
