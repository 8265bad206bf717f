/* SPDX-License-Identifier: BSD-3-Clause */
#include <netinet/in.h>
#include <string.h>

#include <rte_ether.h>
#include <rte_ip.h>

#include "csum.h"
#include "forward.h"
#include "icmp.h"

int tenbin_neigh_mac(const struct tenbin_worker *w, uint16_t n, uint8_t mac[6])
{
	const struct tenbin_neigh_key *k;
	uint64_t v;
	int i;

	if (n == 0 || n >= TENBIN_MAX_NEIGH)
		return 0;
	k = &w->cs->neigh[n];
	if (k->family == 0)
		return 0;
	/* Relaxed: the MAC and its tag travel in this one word, and nothing else we read
	 * depends on it, so atomicity (no torn MAC) is all that is needed. */
	v = __atomic_load_n(&w->neigh[n].mac_tag, __ATOMIC_RELAXED);
	if (v == 0 || (uint16_t)(v >> 48) != k->tag)
		return 0;
	if (w->cs->neigh_expire_ms != 0 &&
	    w->now_ms - __atomic_load_n(&w->neigh[n].updated_ms, __ATOMIC_RELAXED) > w->cs->neigh_expire_ms)
		return 0;
	for (i = 0; i < 6; i++)
		mac[i] = (uint8_t)(v >> (8 * i));
	return 1;
}

/* l3dsr, IPv4: destination → backend, DSCP → the service's (ECN kept), TTL - 1, with the
 * header checksum and the TCP/UDP pseudo-header checksum updated incrementally. */
static int l3dsr_v4(uint8_t *f, const struct tenbin_hdrs *h, const struct tenbin_service *s,
		    const struct tenbin_backend *be)
{
	uint8_t *ip = f + h->l3_off;
	uint8_t *csum = ip + 10;
	uint8_t w0[2] = { ip[0], (uint8_t)(s->dscp << 2 | (ip[1] & 0x3)) };
	uint8_t w4[2] = { (uint8_t)(ip[8] - 1), ip[9] };

	tenbin_csum_patch(csum, ip, w0, 1);
	tenbin_csum_patch(csum, ip + 8, w4, 1);
	tenbin_csum_patch(csum, ip + 16, be->addr, 2);
	if (h->l4_off != 0) {
		uint8_t *l4 = f + h->l4_off;

		if (h->proto == IPPROTO_TCP)
			tenbin_csum_patch(l4 + 16, ip + 16, be->addr, 2);
		else if (h->proto == IPPROTO_UDP)
			tenbin_csum_patch_udp(l4 + 6, ip + 16, be->addr, 2);
	}
	memcpy(ip, w0, 2);
	memcpy(ip + 8, w4, 2);
	memcpy(ip + 16, be->addr, 4);
	return TENBIN_OK;
}

/* l3dsr, IPv6: the same through the traffic class, hop limit and destination; no header
 * checksum, but the pseudo-header covers the destination for TCP, UDP and ICMPv6. */
static int l3dsr_v6(uint8_t *f, const struct tenbin_hdrs *h, const struct tenbin_service *s,
		    const struct tenbin_backend *be)
{
	uint8_t *ip = f + h->l3_off;
	uint8_t tc = (uint8_t)((ip[0] & 0x0f) << 4 | ip[1] >> 4);

	tc = (uint8_t)(s->dscp << 2 | (tc & 0x3));
	ip[0] = (uint8_t)(0x60 | tc >> 4);
	ip[1] = (uint8_t)((tc & 0x0f) << 4 | (ip[1] & 0x0f));
	ip[7]--;
	if (h->l4_off != 0) {
		uint8_t *l4 = f + h->l4_off;

		if (h->proto == IPPROTO_TCP)
			tenbin_csum_patch(l4 + 16, ip + 24, be->addr, 8);
		else if (h->proto == IPPROTO_UDP)
			tenbin_csum_patch_udp(l4 + 6, ip + 24, be->addr, 8);
		else if (h->proto == IPPROTO_ICMPV6)
			tenbin_csum_patch(l4 + 2, ip + 24, be->addr, 8);
	}
	memcpy(ip + 24, be->addr, 16);
	return TENBIN_OK;
}

int tenbin_l3dsr_rewrite(uint8_t *f, const struct tenbin_hdrs *h, const struct tenbin_service *s,
			 const struct tenbin_backend *be)
{
	return h->family == 4 ? l3dsr_v4(f, h, s, be) : l3dsr_v6(f, h, s, be);
}

int tenbin_ttl_expired(struct tenbin_worker *w, struct tenbin_pkt *p, const struct tenbin_hdrs *h, int reply_ok)
{
	if (!reply_ok)
		return TENBIN_DROP_TTL_EXCEEDED;
	/* the reply quotes the header and goes to its source: it must be intact */
	if (!tenbin_ipv4_csum_ok(p->buf + p->off, h, p->flags & TENBIN_PKT_IP_CSUM_GOOD))
		return TENBIN_DROP_BAD_IP_CSUM;
	return tenbin_icmp_time_exceeded(w, p, h);
}
