/* SPDX-License-Identifier: BSD-3-Clause
 *
 * synguard.h — the SYN guard: a per-service cap on half-open flows (tenbin_service.
 * max_half_open), so a SYN flood cannot fill the flow table and lock out the connections
 * of real clients. Established flows are never evicted for a SYN.
 *
 * Each lcore counts its own half-open entries (tenbin_worker.half_open, kept by flow.h's
 * flag) and takes an equal share of the cap, rounded up: RSS spreads a flood's random
 * sources evenly, and no lcore reads another's count. A SYN over the share opens no entry:
 * dsr forwards it statelessly through the lookup table (as when the bucket is full), so a
 * real client's handshake still reaches the same server while the table is not consistent
 * hashing's only memory; nat/fnat cannot forward without state and drop it (syn_guard).
 */
#ifndef TENBIN_SYNGUARD_H
#define TENBIN_SYNGUARD_H

#include <stdint.h>

#include "dataplane.h"
#include "flow.h"

/* 1 when service svc (s) has no room on this lcore for another half-open flow. */
static inline int tenbin_syn_guard_full(const struct tenbin_worker *w, uint16_t svc, const struct tenbin_service *s)
{
	uint32_t cap = s->max_half_open, n = w->hdr->n_lcores;

	if (cap == 0)
		return 0;
	return w->half_open[svc] >= (cap + n - 1) / n;
}

/* The guard for a new half-open flow of service svc that would take the way fw (or NULL):
 * 1 when it must not open one. An expired way is released first, so the flow it held stops
 * counting (lazy expiry, flow.h); elsewhere an expired half-open flow counts until the
 * sweeper frees it (a pass over the table takes ~8 s busy, lcore.c). */
static inline int tenbin_syn_guard_check(struct tenbin_worker *w, uint16_t svc, const struct tenbin_service *s,
					 struct tenbin_flow *fw)
{
	if (s->max_half_open == 0)
		return 0;
	if (fw != NULL && fw->sig != 0 && tenbin_flow_expired(fw, w->now32))
		tenbin_flow_reuse(w, fw);
	return tenbin_syn_guard_full(w, svc, s);
}

#endif /* TENBIN_SYNGUARD_H */
