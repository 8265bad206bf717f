/* SPDX-License-Identifier: BSD-3-Clause */
#include <netinet/in.h>
#include <string.h>

#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>

#include "csum.h"
#include "icmp.h"

#define ICMP6_DST_UNREACH     1
#define ICMP6_PACKET_TOO_BIG  2
#define ICMP6_TIME_EXCEEDED   3
#define ICMP6_ECHO_REQUEST    128
#define ICMP6_ECHO_REPLY      129
#define ICMP4_TIME_EXCEEDED   11
#define ICMP4_DEST_UNREACH    3
#define IPV6_MIN_MTU          1280

/* A reply leaves where the request came in, with the same tags, from our port's MAC. */
static void reply_l2(const struct tenbin_worker *w, struct tenbin_pkt *p)
{
	static const uint8_t zero[6];
	uint8_t *e = p->buf + p->off;
	const uint8_t *ours = w->port_infos[p->in_port].mac;

	memcpy(e, e + 6, 6);
	if (memcmp(ours, zero, 6) != 0)
		memcpy(e + 6, ours, 6);
	else /* port MAC not published yet: answer from the address the sender used */
		memcpy(e + 6, e, 6);
	p->out_port = p->in_port;
	p->verdict = TENBIN_V_TX;
}

int tenbin_icmp_is_error(uint8_t family, uint8_t type)
{
	if (family == 4)
		return type == ICMP4_DEST_UNREACH || type == ICMP4_TIME_EXCEEDED;
	return type == ICMP6_DST_UNREACH || type == ICMP6_PACKET_TOO_BIG || type == ICMP6_TIME_EXCEEDED;
}

int tenbin_icmp_echo_reply(struct tenbin_worker *w, struct tenbin_pkt *p, const struct tenbin_hdrs *h)
{
	uint8_t *f = p->buf + p->off;
	uint8_t *ip = f + h->l3_off;
	uint8_t *ic = f + h->l4_off;
	uint8_t tmp[16];
	uint8_t type[2] = { h->family == 4 ? RTE_IP_ICMP_ECHO_REPLY : ICMP6_ECHO_REPLY, ic[1] };

	/* Swapping source and destination leaves the pseudo-header sum alone; only the type
	 * word changes the ICMP checksum. */
	tenbin_csum_patch(ic + 2, ic, type, 1);
	memcpy(ic, type, 2);
	if (h->family == 4) {
		struct rte_ipv4_hdr *ip4 = (struct rte_ipv4_hdr *)ip;

		memcpy(tmp, ip + 12, 4);
		memcpy(ip + 12, ip + 16, 4);
		memcpy(ip + 16, tmp, 4);
		ip4->time_to_live = 64;
		ip4->hdr_checksum = 0;
		ip4->hdr_checksum = rte_ipv4_cksum(ip4);
	} else {
		memcpy(tmp, ip + 8, 16);
		memcpy(ip + 8, ip + 24, 16);
		memcpy(ip + 24, tmp, 16);
		ip[7] = 64;
	}
	p->len = h->l3_end; /* drop link padding, if any */
	reply_l2(w, p);
	w->ctr->global[TENBIN_CTR_ICMP_ECHO_REPLIES]++;
	return TENBIN_OK;
}

static int icmp_tokens_take(struct tenbin_worker *w)
{
	if (w->icmp_tokens == 0)
		return 0;
	w->icmp_tokens--;
	return 1;
}

int tenbin_icmp_time_exceeded(struct tenbin_worker *w, struct tenbin_pkt *p, const struct tenbin_hdrs *h)
{
	uint8_t *f = p->buf + p->off;
	uint8_t *ip = f + h->l3_off;
	unsigned room = p->cap - p->off - h->l3_off; /* bytes from the L3 header to the buffer end */
	unsigned quote, hlen;
	uint8_t src[16], dst[16];
	static const uint8_t zero[16];

	/* Never an error about an error, nor to a source that is not one host (RFC 1122 3.2.2,
	 * RFC 4443 2.4). */
	if (h->proto == (h->family == 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6) &&
	    (h->l4_off == 0 || h->icmp_type != (h->family == 4 ? RTE_IP_ICMP_ECHO_REQUEST : ICMP6_ECHO_REQUEST)))
		return TENBIN_DROP_TTL_EXCEEDED;
	if (h->family == 4) {
		if (ip[12] == 0 || ip[12] >= 224)
			return TENBIN_DROP_TTL_EXCEEDED;
		hlen = 20 + 8;
		quote = (unsigned)(ip[0] & 0xf) * 4 + 8;
	} else {
		if (ip[8] == 0xff || memcmp(ip + 8, zero, 16) == 0)
			return TENBIN_DROP_TTL_EXCEEDED;
		hlen = 40 + 8;
		quote = IPV6_MIN_MTU - hlen;
	}
	if (quote > (unsigned)h->l3_end - h->l3_off)
		quote = (unsigned)h->l3_end - h->l3_off;
	if (room < hlen + quote) {
		if (room < hlen + (h->family == 4 ? 28u : 48u))
			return TENBIN_DROP_TTL_EXCEEDED;
		quote = room - hlen;
	}
	if (!icmp_tokens_take(w))
		return TENBIN_DROP_TTL_EXCEEDED;

	memmove(ip + hlen, ip, quote);
	if (h->family == 4) {
		struct rte_ipv4_hdr *ip4 = (struct rte_ipv4_hdr *)ip;
		const uint8_t *ours = w->cs->ports[p->in_port].ipv4;
		uint8_t *ic = ip + 20;

		memcpy(dst, ip + hlen + 12, 4);
		memcpy(src, memcmp(ours, zero, 4) ? ours : ip + hlen + 16, 4);
		memset(ip, 0, hlen);
		ip4->version_ihl = 0x45;
		ip4->type_of_service = 0xc0; /* network control, as routers send it */
		ip4->total_length = rte_cpu_to_be_16((uint16_t)(hlen + quote));
		ip4->time_to_live = 64;
		ip4->next_proto_id = IPPROTO_ICMP;
		memcpy(ip + 12, src, 4);
		memcpy(ip + 16, dst, 4);
		ip4->hdr_checksum = rte_ipv4_cksum(ip4);
		ic[0] = ICMP4_TIME_EXCEEDED;
		{
			uint16_t c = (uint16_t)~rte_raw_cksum(ic, 8 + quote);

			memcpy(ic + 2, &c, 2);
		}
	} else {
		struct rte_ipv6_hdr *ip6 = (struct rte_ipv6_hdr *)ip;
		const uint8_t *ours = w->cs->ports[p->in_port].ipv6;
		uint8_t *ic = ip + 40;
		uint16_t c;

		memcpy(dst, ip + hlen + 8, 16);
		memcpy(src, memcmp(ours, zero, 16) ? ours : ip + hlen + 24, 16);
		memset(ip, 0, hlen);
		ip6->vtc_flow = rte_cpu_to_be_32(0x60000000);
		ip6->payload_len = rte_cpu_to_be_16((uint16_t)(8 + quote));
		ip6->proto = IPPROTO_ICMPV6;
		ip6->hop_limits = 64;
		memcpy(ip6->src_addr, src, 16);
		memcpy(ip6->dst_addr, dst, 16);
		ic[0] = ICMP6_TIME_EXCEEDED;
		c = rte_ipv6_udptcp_cksum(ip6, ic);
		memcpy(ic + 2, &c, 2);
	}
	p->len = (uint16_t)(h->l3_off + hlen + quote);
	reply_l2(w, p);
	return TENBIN_OK;
}

int tenbin_icmp_quoted_flow(const uint8_t *f, const struct tenbin_hdrs *h, struct tenbin_flow_key *k)
{
	struct tenbin_hdrs in;
	const uint8_t *q = f + h->l4_off + 8;
	unsigned qlen = (unsigned)h->l3_end - h->l4_off - 8;
	int r;

	if (h->l4_off == 0 || h->l3_end < h->l4_off + 8)
		return TENBIN_DROP_BAD_ICMP;
	r = tenbin_parse_quoted(q, (uint16_t)qlen, h->family, &in);
	if (r != TENBIN_OK)
		return r;
	memset(k, 0, sizeof(*k));
	if (h->family == 4) {
		memcpy(k->src, q + 16, 4);
		memcpy(k->dst, q + 12, 4);
	} else {
		memcpy(k->src, q + 24, 16);
		memcpy(k->dst, q + 8, 16);
	}
	k->sport_be = in.dport_be;
	k->dport_be = in.sport_be;
	k->proto = in.proto;
	k->family = h->family;
	return TENBIN_OK;
}
