/* SPDX-License-Identifier: BSD-3-Clause
 *
 * kernel.c — the kernel exception path's decision (kernel.h): a byte-view function like
 * the rest of tenbin_process, so the fixture harness drives it without a tap.
 */
#include "kernel.h"
#include "nat.h"
#include "neigh.h"
#include "vip.h"

/* A later fragment carries no ports: it is the host's only if its address is none of
 * ours (no VIP answers for it and it is no fnat source address). */
static int fragment_is_hosts(const struct tenbin_worker *w, const struct tenbin_prepared *pp)
{
	return pp->sig != 0 && tenbin_vip_find(w->cs, pp->k.dst, pp->k.family, 0, 0) == TENBIN_NO_SERVICE &&
	       !tenbin_nat_is_local(w->cs, pp->k.dst, pp->k.family);
}

int tenbin_kernel_claim_dropped(const struct tenbin_worker *w, struct tenbin_pkt *p,
				const struct tenbin_prepared *pp, int r)
{
	switch (r) {
	case TENBIN_DROP_NO_VIP:
	case TENBIN_DROP_NON_IP:
	case TENBIN_DROP_NO_CONFIG:
		break;
	case TENBIN_DROP_NOT_FOR_US:
		if (pp->h.family != 0 && !tenbin_is_ndp(&pp->h))
			return r; /* ICMP to a VIP that does not answer it */
		break;
	case TENBIN_DROP_FRAGMENT:
		if (!fragment_is_hosts(w, pp))
			return r;
		break;
	default:
		return r;
	}
	p->verdict = TENBIN_V_KERNEL;
	return TENBIN_OK;
}
