/* SPDX-License-Identifier: BSD-3-Clause
 *
 * vip.h — VIP lookup in the active config set: open addressing with linear probing over
 * config->vips, hashed with tenbin_vip_hash (the control plane inserts with the same hash).
 */
#ifndef TENBIN_VIP_H
#define TENBIN_VIP_H

#include <stdint.h>
#include <string.h>

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

#endif /* TENBIN_VIP_H */
