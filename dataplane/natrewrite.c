/* SPDX-License-Identifier: BSD-3-Clause
 *
 * natrewrite.c — address and port rewrites of nat/fnat, with checksums kept right.
 */
#include <netinet/in.h>
#include <string.h>

#include <rte_ip.h>

#include "csum.h"
#include "nat.h"

/* Adds the change of one side to the sums and rewrites it: its address at a (alen bytes) to
 * na and, when port is not NULL, its port to port_be. Inlined once per address length, so
 * the loops run over a constant number of words. The side is read and written before the
 * next one is looked at, so a new value taken from the packet itself reads as the step by
 * step patches read it. */
static inline __attribute__((always_inline)) void
rewrite_side(uint32_t *ipsum, uint32_t *l4sum, uint8_t *a, const uint8_t *na, unsigned alen, uint8_t *port,
	     uint16_t port_be)
{
	uint32_t d = tenbin_csum_change(a, na, alen / 2);

	*ipsum += d;
	*l4sum += d;
	memcpy(a, na, alen);
	if (port != NULL) {
		*l4sum += tenbin_csum_change(port, &port_be, 1);
		memcpy(port, &port_be, 2);
	}
}

/* Sets the checksum at field (2 bytes in the packet) for the summed change. */
static inline void csum_apply(uint8_t *field, uint32_t sum)
{
	uint16_t c;

	memcpy(&c, field, 2);
	c = tenbin_csum_add(c, sum);
	memcpy(field, &c, 2);
}

void tenbin_nat_rewrite_ip(uint8_t *f, const struct tenbin_hdrs *h, const uint8_t *src, uint16_t sport_be,
			   const uint8_t *dst, uint16_t dport_be, int ttl)
{
	uint8_t *ip = f + h->l3_off;
	uint8_t *l4 = h->l4_off != 0 ? f + h->l4_off : NULL;
	uint8_t *l4c = NULL;
	int v4 = h->family == 4, udp = h->proto == IPPROTO_UDP;
	uint8_t *sa = ip + (v4 ? 12 : 8), *da = ip + (v4 ? 16 : 24);
	uint32_t ipsum = 0, l4sum = 0;

	if (l4 != NULL && h->proto == IPPROTO_TCP && h->l4_off + 18u <= h->l3_end)
		l4c = l4 + 16;
	else if (l4 != NULL && udp && h->l4_off + 8u <= h->l3_end)
		l4c = l4 + 6;
	if (l4 != NULL && h->proto != IPPROTO_TCP && !udp)
		l4 = NULL; /* ICMP: the caller recomputes its checksum */
	if (src != NULL) {
		if (v4)
			rewrite_side(&ipsum, &l4sum, sa, src, 4, l4, sport_be);
		else
			rewrite_side(&ipsum, &l4sum, sa, src, 16, l4, sport_be);
	}
	if (dst != NULL) {
		if (v4)
			rewrite_side(&ipsum, &l4sum, da, dst, 4, l4 ? l4 + 2 : NULL, dport_be);
		else
			rewrite_side(&ipsum, &l4sum, da, dst, 16, l4 ? l4 + 2 : NULL, dport_be);
	}
	if (ttl) {
		if (v4) {
			uint8_t w4[2] = { (uint8_t)(ip[8] - 1), ip[9] };

			ipsum += tenbin_csum_change(ip + 8, w4, 1);
			ip[8] = w4[0];
		} else {
			ip[7]--;
		}
	}
	if (v4 && (src != NULL || dst != NULL || ttl))
		csum_apply(ip + 10, ipsum);
	if (l4c != NULL && (src != NULL || dst != NULL)) {
		uint16_t c;

		memcpy(&c, l4c, 2);
		if (udp && c == 0)
			return; /* no UDP checksum: stays none */
		csum_apply(l4c, l4sum);
		memcpy(&c, l4c, 2);
		if (udp && c == 0)
			memcpy(l4c, &(uint16_t){ 0xffff }, 2); /* RFC 768: a computed 0 is sent as all ones */
	}
}

uint16_t tenbin_l4_cksum(const uint8_t *f, const struct tenbin_hdrs *h, uint8_t proto)
{
	const uint8_t *ip = f + h->l3_off;
	uint32_t len = (uint32_t)h->l3_end - h->l4_off;
	uint32_t sum = 0;
	uint16_t c;

	if (proto != IPPROTO_ICMP) {
		/* pseudo-header: addresses, then length and protocol as they lie in network order */
		uint8_t tail[8] = { 0 };

		if (h->family == 4) {
			sum = __rte_raw_cksum(ip + 12, 8, 0);
			tail[1] = proto;
			tail[2] = (uint8_t)(len >> 8);
			tail[3] = (uint8_t)len;
			sum = __rte_raw_cksum(tail, 4, sum);
		} else {
			sum = __rte_raw_cksum(ip + 8, 32, 0);
			tail[2] = (uint8_t)(len >> 8);
			tail[3] = (uint8_t)len;
			tail[7] = proto;
			sum = __rte_raw_cksum(tail, 8, sum);
		}
	}
	sum = __rte_raw_cksum(f + h->l4_off, len, sum);
	c = (uint16_t)~__rte_raw_cksum_reduce(sum);
	if (proto == IPPROTO_UDP && c == 0)
		c = 0xffff;
	return c;
}
