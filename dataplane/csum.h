/* SPDX-License-Identifier: BSD-3-Clause
 *
 * csum.h — incremental Internet checksum updates (RFC 1624, eqn. 3: HC' = ~(~HC + ~m + m')).
 *
 * Words are read and written as they lie in the packet (network order) through memcpy; the
 * one's-complement sum is byte-order independent as long as every operand is read the same
 * way, so no byte swapping is needed.
 */
#ifndef TENBIN_CSUM_H
#define TENBIN_CSUM_H

#include <stdint.h>
#include <string.h>

static inline uint16_t tenbin_csum_fold(uint32_t s)
{
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* The change from the n16 16-bit words at old to those at new, as RFC 1624's ~m + m' terms
 * summed: several changes' sums add up, and tenbin_csum_add applies them at once. */
static inline uint32_t tenbin_csum_change(const void *old, const void *new, unsigned n16)
{
	const uint8_t *o = old, *nw = new;
	uint32_t s = 0;
	unsigned i;

	for (i = 0; i < n16; i++) {
		uint16_t a, b;

		memcpy(&a, o + 2 * i, 2);
		memcpy(&b, nw + 2 * i, 2);
		s += (uint16_t)~a;
		s += b;
	}
	return s;
}

/* Checksum value after a summed change: HC' = ~(~HC + sum). The result is the one applying
 * each change in turn gives: the sums fold to 0 only when every term is 0. */
static inline uint16_t tenbin_csum_add(uint16_t csum, uint32_t sum)
{
	return (uint16_t)~tenbin_csum_fold((uint16_t)~csum + sum);
}

/* Checksum field value after the 2*n bytes at old become new. csum as in the packet. */
static inline uint16_t tenbin_csum_replace(uint16_t csum, const void *old, const void *new, unsigned n16)
{
	return tenbin_csum_add(csum, tenbin_csum_change(old, new, n16));
}

/* Updates the checksum stored at field (2 bytes in the packet) for old → new. */
static inline void tenbin_csum_patch(uint8_t *field, const void *old, const void *new, unsigned n16)
{
	uint16_t c;

	memcpy(&c, field, 2);
	c = tenbin_csum_replace(c, old, new, n16);
	memcpy(field, &c, 2);
}

/* The same for a UDP checksum: 0 means "none" and stays 0 (IPv4), and a computed 0 is sent
 * as 0xffff (RFC 768). */
static inline void tenbin_csum_patch_udp(uint8_t *field, const void *old, const void *new, unsigned n16)
{
	uint16_t c;

	memcpy(&c, field, 2);
	if (c == 0)
		return;
	c = tenbin_csum_replace(c, old, new, n16);
	if (c == 0)
		c = 0xffff;
	memcpy(field, &c, 2);
}

#endif /* TENBIN_CSUM_H */
