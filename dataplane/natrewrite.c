/* SPDX-License-Identifier: BSD-3-Clause
 *
 * natrewrite.c — address and port rewrites of nat/fnat, with checksums kept right.
 */
#include <netinet/in.h>
#include <string.h>

#include <rte_ip.h>

#include "csum.h"
#include "nat.h"

/* Patches the L4 checksum at field (NULL: there is none) for old → new, n16 16-bit words. */
static inline __attribute__((always_inline)) void l4_patch(uint8_t *field, int udp, const void *old, const void *new, unsigned n16)
{
	if (field == NULL)
		return;
	if (udp)
		tenbin_csum_patch_udp(field, old, new, n16);
	else
		tenbin_csum_patch(field, old, new, n16);
}

/* Rewrites one side of the packet: its address at a (alen bytes) to na and, when port is
 * not NULL, its port to port_be, patching the IPv4 header checksum (ipc; NULL for IPv6) and
 * the L4 checksum (l4c) as it goes. Inlined once per address length, so that the checksum
 * loops run over a constant number of words (unrolled). */
static inline __attribute__((always_inline)) void
rewrite_side(uint8_t *ipc, uint8_t *l4c, int udp, uint8_t *a, const uint8_t *na, unsigned alen, uint8_t *port,
	     uint16_t port_be)
{
	if (ipc != NULL)
		tenbin_csum_patch(ipc, a, na, alen / 2);
	l4_patch(l4c, udp, a, na, alen / 2);
	memcpy(a, na, alen);
	if (port != NULL) {
		l4_patch(l4c, udp, port, &port_be, 1);
		memcpy(port, &port_be, 2);
	}
}

void tenbin_nat_rewrite_ip(uint8_t *f, const struct tenbin_hdrs *h, const uint8_t *src, uint16_t sport_be,
			   const uint8_t *dst, uint16_t dport_be, int ttl)
{
	uint8_t *ip = f + h->l3_off;
	uint8_t *l4 = h->l4_off != 0 ? f + h->l4_off : NULL;
	uint8_t *l4c = NULL;
	int v4 = h->family == 4, udp = h->proto == IPPROTO_UDP;
	uint8_t *sa = ip + (v4 ? 12 : 8), *da = ip + (v4 ? 16 : 24);

	if (l4 != NULL && h->proto == IPPROTO_TCP && h->l4_off + 18u <= h->l3_end)
		l4c = l4 + 16;
	else if (l4 != NULL && udp && h->l4_off + 8u <= h->l3_end)
		l4c = l4 + 6;
	if (l4 != NULL && h->proto != IPPROTO_TCP && !udp)
		l4 = NULL; /* ICMP: the caller recomputes its checksum */
	if (src != NULL) {
		if (v4)
			rewrite_side(ip + 10, l4c, udp, sa, src, 4, l4, sport_be);
		else
			rewrite_side(NULL, l4c, udp, sa, src, 16, l4, sport_be);
	}
	if (dst != NULL) {
		if (v4)
			rewrite_side(ip + 10, l4c, udp, da, dst, 4, l4 ? l4 + 2 : NULL, dport_be);
		else
			rewrite_side(NULL, l4c, udp, da, dst, 16, l4 ? l4 + 2 : NULL, dport_be);
	}
	if (!ttl)
		return;
	if (v4) {
		uint8_t w4[2] = { (uint8_t)(ip[8] - 1), ip[9] };

		tenbin_csum_patch(ip + 10, ip + 8, w4, 1);
		ip[8] = w4[0];
	} else {
		ip[7]--;
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
