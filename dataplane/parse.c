/* SPDX-License-Identifier: BSD-3-Clause */
#include <netinet/in.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_ether.h>
#include <rte_ip.h>

#include "parse.h"

#define IPV6_EXT_MAX 8 /* extension headers walked before giving up (bad_ipv6_ext) */

/* IPv4 options are TLVs after the fixed header: EOL and NOP are one byte, everything else
 * carries a length covering itself. A length that runs off the header is malformed. */
static int ipv4_options_ok(const uint8_t *o, unsigned n)
{
	unsigned i = 0;

	while (i < n) {
		if (o[i] == 0) /* end of options list */
			return 1;
		if (o[i] == 1) { /* no-op */
			i++;
			continue;
		}
		if (i + 1 >= n || o[i + 1] < 2 || i + o[i + 1] > n)
			return 0;
		i += o[i + 1];
	}
	return 1;
}

/* Fills the L4 fields from f[off..end). quoted: only the first 8 bytes must be there. */
static int parse_l4(const uint8_t *f, unsigned off, unsigned end, struct tenbin_hdrs *h, int quoted)
{
	unsigned avail = end - off;

	h->l4_off = (uint16_t)off;
	switch (h->proto) {
	case IPPROTO_TCP:
		if (quoted) {
			if (avail < 4)
				return TENBIN_DROP_BAD_ICMP;
		} else if (avail < 20 || (f[off + 12] >> 4) < 5 || (unsigned)(f[off + 12] >> 4) * 4 > avail) {
			return TENBIN_DROP_BAD_L4;
		} else {
			h->tcp_flags = f[off + 13];
		}
		memcpy(&h->sport_be, f + off, 2);
		memcpy(&h->dport_be, f + off + 2, 2);
		return TENBIN_OK;
	case IPPROTO_UDP:
		if (quoted) {
			if (avail < 4)
				return TENBIN_DROP_BAD_ICMP;
		} else if (avail < 8 || tenbin_get16(f + off + 4) < 8 ||
			   (h->frag == TENBIN_FRAG_NONE && tenbin_get16(f + off + 4) > avail)) {
			return TENBIN_DROP_BAD_L4;
		}
		memcpy(&h->sport_be, f + off, 2);
		memcpy(&h->dport_be, f + off + 2, 2);
		return TENBIN_OK;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		if (avail < 8)
			return TENBIN_DROP_BAD_ICMP;
		h->icmp_type = f[off];
		h->icmp_code = f[off + 1];
		return TENBIN_OK;
	default:
		h->l4_off = 0; /* not ours to look into; the caller decides */
		return TENBIN_OK;
	}
}

static int parse_ipv4(const uint8_t *f, unsigned off, unsigned end, struct tenbin_hdrs *h, int quoted)
{
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(f + off);
	unsigned ihl, total;
	uint16_t frag;

	if (end - off < sizeof(*ip))
		return quoted ? TENBIN_DROP_BAD_ICMP : TENBIN_DROP_BAD_IP_LEN;
	if ((ip->version_ihl >> 4) != 4)
		return quoted ? TENBIN_DROP_BAD_ICMP : TENBIN_DROP_BAD_IP_VERSION;
	ihl = (unsigned)(ip->version_ihl & 0xf) * 4;
	total = rte_be_to_cpu_16(ip->total_length);
	if (ihl < sizeof(*ip) || ihl > end - off)
		return quoted ? TENBIN_DROP_BAD_ICMP : TENBIN_DROP_BAD_IP_LEN;
	if (!quoted) {
		if (total < ihl || total > end - off)
			return TENBIN_DROP_BAD_IP_LEN;
		end = off + total; /* link padding is not part of the datagram */
		if (ihl > sizeof(*ip) && !ipv4_options_ok(f + off + sizeof(*ip), ihl - sizeof(*ip)))
			return TENBIN_DROP_BAD_IP_OPTIONS;
	}
	h->family = 4;
	h->l3_end = (uint16_t)end;
	h->proto = ip->next_proto_id;
	frag = rte_be_to_cpu_16(ip->fragment_offset);
	if (frag & RTE_IPV4_HDR_OFFSET_MASK) {
		h->frag = TENBIN_FRAG_LATER;
		return TENBIN_OK;
	}
	h->frag = (frag & RTE_IPV4_HDR_MF_FLAG) ? TENBIN_FRAG_FIRST : TENBIN_FRAG_NONE;
	return parse_l4(f, off + ihl, end, h, quoted);
}

static int parse_ipv6(const uint8_t *f, unsigned off, unsigned end, struct tenbin_hdrs *h, int quoted)
{
	const struct rte_ipv6_hdr *ip = (const struct rte_ipv6_hdr *)(f + off);
	const int bad_ext = quoted ? TENBIN_DROP_BAD_ICMP : TENBIN_DROP_BAD_IPV6_EXT;
	unsigned total, pos, i;
	uint8_t nh;

	if (end - off < sizeof(*ip))
		return quoted ? TENBIN_DROP_BAD_ICMP : TENBIN_DROP_BAD_IP_LEN;
	if ((f[off] >> 4) != 6)
		return quoted ? TENBIN_DROP_BAD_ICMP : TENBIN_DROP_BAD_IP_VERSION;
	total = sizeof(*ip) + rte_be_to_cpu_16(ip->payload_len);
	if (!quoted) {
		if (total > end - off) /* jumbograms (payload_len 0 + option) are not supported */
			return TENBIN_DROP_BAD_IP_LEN;
		end = off + total;
	}
	h->family = 6;
	h->l3_end = (uint16_t)end;
	nh = ip->proto;
	pos = off + sizeof(*ip);
	for (i = 0; i < IPV6_EXT_MAX; i++) {
		unsigned elen;

		switch (nh) {
		case IPPROTO_HOPOPTS:
			if (i != 0) /* hop-by-hop must come first (RFC 8200 4.1) */
				return bad_ext;
			/* fall through */
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
			if (end - pos < 8)
				return bad_ext;
			elen = ((unsigned)f[pos + 1] + 1) * 8;
			if (elen > end - pos)
				return bad_ext;
			nh = f[pos];
			pos += elen;
			continue;
		case IPPROTO_FRAGMENT: {
			uint16_t fo;

			if (end - pos < 8)
				return bad_ext;
			fo = tenbin_get16(f + pos + 2);
			nh = f[pos];
			pos += 8;
			if (fo & 0xfff8) {
				h->proto = nh;
				h->frag = TENBIN_FRAG_LATER;
				return TENBIN_OK;
			}
			/* offset 0 without M is an atomic fragment (RFC 6946): a whole packet */
			h->frag = (fo & 1) ? TENBIN_FRAG_FIRST : TENBIN_FRAG_NONE;
			continue;
		}
		default:
			h->proto = nh;
			return parse_l4(f, pos, end, h, quoted);
		}
	}
	return bad_ext;
}

int tenbin_parse(const uint8_t *f, uint16_t len, struct tenbin_hdrs *h)
{
	unsigned off = sizeof(struct rte_ether_hdr);
	uint16_t et;

	memset(h, 0, sizeof(*h));
	if (len < sizeof(struct rte_ether_hdr))
		return TENBIN_DROP_BAD_ETH;
	et = tenbin_get16(f + 12);
	/* 802.1ad S-tag (0x88a8) or a stacked 802.1Q outer tag, then at most one C-tag. */
	while (et == RTE_ETHER_TYPE_VLAN || et == RTE_ETHER_TYPE_QINQ) {
		if (h->n_tags == TENBIN_MAX_VLAN_TAGS || len - off < sizeof(struct rte_vlan_hdr))
			return TENBIN_DROP_BAD_VLAN;
		if (et == RTE_ETHER_TYPE_QINQ && h->n_tags != 0) /* an S-tag only goes outermost */
			return TENBIN_DROP_BAD_VLAN;
		h->vlan_tci = tenbin_get16(f + off);
		et = tenbin_get16(f + off + 2);
		off += sizeof(struct rte_vlan_hdr);
		h->n_tags++;
	}
	h->ethertype = et;
	h->l3_off = (uint16_t)off;
	switch (et) {
	case RTE_ETHER_TYPE_IPV4:
		return parse_ipv4(f, off, len, h, 0);
	case RTE_ETHER_TYPE_IPV6:
		return parse_ipv6(f, off, len, h, 0);
	case RTE_ETHER_TYPE_ARP: {
		const struct rte_arp_hdr *a = (const struct rte_arp_hdr *)(f + off);

		if (len - off < sizeof(*a) || a->arp_hardware != RTE_BE16(RTE_ARP_HRD_ETHER) ||
		    a->arp_protocol != RTE_BE16(RTE_ETHER_TYPE_IPV4) || a->arp_hlen != 6 || a->arp_plen != 4)
			return TENBIN_DROP_BAD_ARP;
		return TENBIN_OK;
	}
	default:
		return TENBIN_DROP_NON_IP;
	}
}

int tenbin_parse_quoted(const uint8_t *ip, uint16_t len, uint8_t family, struct tenbin_hdrs *h)
{
	int r;

	memset(h, 0, sizeof(*h));
	r = family == 4 ? parse_ipv4(ip, 0, len, h, 1) : parse_ipv6(ip, 0, len, h, 1);
	if (r != TENBIN_OK)
		return TENBIN_DROP_BAD_ICMP;
	/* Only TCP and UDP flows live in the flow table, and only with their ports. */
	if ((h->proto != IPPROTO_TCP && h->proto != IPPROTO_UDP) || h->l4_off == 0)
		return TENBIN_DROP_ICMP_ERR_NO_FLOW;
	return TENBIN_OK;
}
