/* SPDX-License-Identifier: BSD-3-Clause
 *
 * select.h — choosing a backend for a new flow from the service's lookup table.
 *
 * The flow hash covers the service's hash_fields (0 means all five) with its hash_seed,
 * CRC32-C (tenbin_crc_*, flow.h). LUT_HASH picks lut[offset + hash % size], the
 * Maglev slot, so every LB node with the same table picks the same backend; LUT_CURSOR
 * (rr/wrr) walks the table with a per-lcore cursor. Fragmented flows hash without ports
 * (see process.c), so every fragment of a datagram agrees.
 */
#ifndef TENBIN_SELECT_H
#define TENBIN_SELECT_H

#include <stdint.h>
#include <string.h>

#include <rte_hash_crc.h>

#include "flow.h"

static inline uint32_t
tenbin_select_hash(const struct tenbin_service *s, const struct tenbin_flow_key *k, int no_ports)
{
	uint8_t f = s->hash_fields ? s->hash_fields : TENBIN_HASH_ALL;
	uint64_t src[2], dst[2];
	uint64_t ms, md;
	uint32_t ports, h;

	if (no_ports)
		f &= (uint8_t)~(TENBIN_HASH_SRC_PORT | TENBIN_HASH_DST_PORT);
	/* Masks instead of branches: every field is always hashed, unselected ones as zero. */
	ms = (f & TENBIN_HASH_SRC_IP) ? ~0ull : 0;
	md = (f & TENBIN_HASH_DST_IP) ? ~0ull : 0;
	memcpy(src, k->src, 16);
	memcpy(dst, k->dst, 16);
	ports = ((f & TENBIN_HASH_SRC_PORT) ? k->sport_be : 0) |
		(uint32_t)((f & TENBIN_HASH_DST_PORT) ? k->dport_be : 0) << 16;
	h = tenbin_crc_u64(src[0] & ms, s->hash_seed);
	h = tenbin_crc_u64(src[1] & ms, h);
	h = tenbin_crc_u64(dst[0] & md, h);
	h = tenbin_crc_u64(dst[1] & md, h);
	h = tenbin_crc_u32(ports, h);
	return tenbin_crc_u16((f & TENBIN_HASH_PROTO) ? k->proto : 0, h);
}

/* The lut slot for a new flow: by hash, or by the service's cursor when stateful is set and
 * the service walks its table round-robin (the stateless path always hashes, so the packets
 * of a flow that found no room in the table still agree with one another). */
static inline uint16_t
tenbin_select(struct tenbin_worker *w, uint16_t svc_idx, const struct tenbin_service *s,
	      uint32_t hash, int stateful)
{
	uint32_t i;

	if (s->lut_size == 0 || s->lut_size > w->cs->lut_capacity ||
	    s->lut_offset > w->cs->lut_capacity - s->lut_size)
		return 0;
	if (stateful && s->lut_kind == TENBIN_LUT_CURSOR)
		i = w->cursor[svc_idx]++ % s->lut_size;
	else
		i = hash % s->lut_size;
	return w->lut[s->lut_offset + i];
}

/* The backend in slot idx if traffic may be sent there, else NULL (zero means empty). */
static inline const struct tenbin_backend *
tenbin_backend_usable(const struct tenbin_config_set *cs, uint16_t idx)
{
	const struct tenbin_backend *b;

	if (idx == 0 || idx >= TENBIN_MAX_BACKENDS)
		return NULL;
	b = &cs->backends[idx];
	if (b->family == 0 || !(b->flags & TENBIN_BE_PRESENT))
		return NULL;
	return b;
}

#endif /* TENBIN_SELECT_H */
