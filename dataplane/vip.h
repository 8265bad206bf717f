/* SPDX-License-Identifier: BSD-3-Clause
 *
 * vip.h — VIP lookup in the active config set: open addressing with linear probing over
 * config->vips, hashed with tenbin_vip_hash (the control plane inserts with the same hash).
 */
#ifndef TENBIN_VIP_H
#define TENBIN_VIP_H

#include <stdint.h>
#include <string.h>

#include "dataplane.h"
#include "tenbin_shm.h"

#define TENBIN_NO_SERVICE 0xffff

/* Service index for the key (addr, proto, port), or TENBIN_NO_SERVICE. port in host order;
 * proto 0 with port 0 is the address-only key (ARP, NDP, ICMP echo for the VIP). */
static inline uint16_t
tenbin_vip_find(const struct tenbin_config_set *cs, const uint8_t addr[16], uint8_t family,
		uint8_t proto, uint16_t port)
{
	uint32_t i = tenbin_vip_hash(addr, port, proto, family);
	uint32_t n;

	for (n = 0; n < TENBIN_VIP_SLOTS; n++, i++) {
		const struct tenbin_vip_slot *s = &cs->vips[i & (TENBIN_VIP_SLOTS - 1)];

		if (s->family == 0) /* an empty slot ends the probe sequence */
			return TENBIN_NO_SERVICE;
		if (s->family == family && s->proto == proto && s->port == port &&
		    memcmp(s->addr, addr, 16) == 0) {
			if (s->service_plus1 == 0 || s->service_plus1 > TENBIN_MAX_SERVICES)
				return TENBIN_NO_SERVICE;
			return (uint16_t)(s->service_plus1 - 1);
		}
	}
	return TENBIN_NO_SERVICE;
}

/* The service for a TCP/UDP destination: exact port first, then the all-port VIP. */
static inline uint16_t
tenbin_vip_find_l4(const struct tenbin_config_set *cs, const uint8_t addr[16], uint8_t family,
		   uint8_t proto, uint16_t port)
{
	uint16_t s = tenbin_vip_find(cs, addr, family, proto, port);

	if (s == TENBIN_NO_SERVICE && port != 0)
		s = tenbin_vip_find(cs, addr, family, proto, 0);
	return s;
}

/* tenbin_vip_find_l4 through the worker's one-entry memo (the config set is immutable while
 * its generation lasts). addr: zero-padded to 16 bytes like every VIP address. The general
 * path and the express lane share it, so traffic that alternates between them (a nat
 * connection's two directions) keeps one memo. */
static inline uint16_t
tenbin_vip_find_memo(struct tenbin_worker *w, const uint8_t addr[16], uint8_t family, uint8_t proto, uint16_t port)
{
	uint64_t a[2];

	memcpy(a, addr, 16);
	if (w->vip_memo_gen != w->cs->generation) {
		w->vip_memo_gen = w->cs->generation;
		w->vip_memo_family = 0;
	} else if (w->vip_memo_family == family && w->vip_memo_proto == proto && w->vip_memo_port == port &&
		   ((a[0] ^ w->vip_memo_addr[0]) | (a[1] ^ w->vip_memo_addr[1])) == 0) {
		return w->vip_memo_svc;
	}
	w->vip_memo_svc = tenbin_vip_find_l4(w->cs, addr, family, proto, port);
	w->vip_memo_addr[0] = a[0];
	w->vip_memo_addr[1] = a[1];
	w->vip_memo_port = port;
	w->vip_memo_proto = proto;
	w->vip_memo_family = family;
	return w->vip_memo_svc;
}

#endif /* TENBIN_VIP_H */
