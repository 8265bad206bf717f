/* SPDX-License-Identifier: BSD-3-Clause
 *
 * parse.h — bounds-checked header parsing on a byte view (no mbuf).
 *
 * One pass from the Ethernet header to the L4 ports: 802.1Q and QinQ tags (0x88a8 or 0x8100
 * outer), ARP, IPv4 with options, IPv6 with extension headers (hop-by-hop, routing,
 * fragment, destination options), TCP, UDP, ICMP, ICMPv6. Every read is checked against
 * the frame; a malformed frame yields the enum tenbin_drop that names the problem.
 */
#ifndef TENBIN_PARSE_H
#define TENBIN_PARSE_H

#include <stdint.h>

#include <rte_ip.h>

#include "tenbin_shm.h"

/* "No drop": what tenbin_parse and the per-packet handlers return when all went well. */
#define TENBIN_OK TENBIN_DROP_MAX

#define TENBIN_MAX_VLAN_TAGS 2

enum tenbin_frag {
	TENBIN_FRAG_NONE  = 0,
	TENBIN_FRAG_FIRST = 1, /* offset 0, more fragments: has the L4 header */
	TENBIN_FRAG_LATER = 2, /* offset > 0: no L4 header */
};

/* Offsets are from the start of the frame. Ports are as in the packet (big endian). */
struct tenbin_hdrs {
	uint16_t l3_off;      /* == Ethernet header + tags */
	uint16_t l4_off;      /* 0 when there is no L4 header (later fragment) */
	uint16_t l3_end;      /* end of the IP datagram (link padding excluded) */
	uint16_t ethertype;   /* host order, after the tags */
	uint16_t vlan_tci;    /* host order, innermost tag; 0 when untagged */
	uint16_t sport_be;
	uint16_t dport_be;
	uint8_t  n_tags;
	uint8_t  family;      /* 4 or 6; 0 for ARP */
	uint8_t  proto;       /* upper-layer protocol after IPv6 extension headers */
	uint8_t  frag;        /* enum tenbin_frag */
	uint8_t  tcp_flags;
	uint8_t  icmp_type;
	uint8_t  icmp_code;
	uint8_t  _pad[3];
};

/* Parses the frame f[0..len). Returns TENBIN_OK or the drop reason. The IPv4 header
 * checksum is not verified here: only packets the dataplane answers or keeps NAT state for
 * need it (tenbin_ipv4_csum_ok; README "IPv4 header checksum"). */
int tenbin_parse(const uint8_t *f, uint16_t len, struct tenbin_hdrs *h);

/* Parses the IP header quoted in an ICMP error (ip[0..len), usually truncated: IPv4 quotes
 * the header and 8 bytes). Only addresses, protocol and ports are needed and checked.
 * Returns TENBIN_OK or TENBIN_DROP_BAD_ICMP. */
int tenbin_parse_quoted(const uint8_t *ip, uint16_t len, uint8_t family, struct tenbin_hdrs *h);

/* Whether a parsed frame's IPv4 header checksum holds (always true for IPv6, which has
 * none, and when the NIC already verified it: trusted). */
static inline int tenbin_ipv4_csum_ok(const uint8_t *f, const struct tenbin_hdrs *h, int trusted)
{
	const uint8_t *ip = f + h->l3_off;

	return h->family != 4 || trusted || rte_raw_cksum(ip, (size_t)(ip[0] & 0xf) * 4) == 0xffff;
}

static inline uint16_t tenbin_get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static inline void tenbin_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

#endif /* TENBIN_PARSE_H */
