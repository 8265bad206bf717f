/* SPDX-License-Identifier: BSD-3-Clause
 *
 * nattcp.c — TCP option edits on nat/fnat connections: MSS clamping on SYNs and the client
 * address option (TOA) for fnat real servers.
 *
 * TOA is DPVS's format: kind 254, length 8 (port, IPv4 address) or 20 (port, IPv6
 * address), read by the real server's toa kernel module from the segment that completes the
 * handshake. It is written there and on the SYN; the option is inserted after the existing
 * ones by moving the headers toward the headroom, not the payload toward the tail.
 */
#include <netinet/in.h>
#include <string.h>

#include <rte_ip.h>

#include "csum.h"
#include "nat.h"

#define TCP_MAX_HDR 60
#define TCPOPT_EOL 0
#define TCPOPT_NOP 1
#define TCPOPT_MSS 2

/* Writes 2 bytes at th + off and patches the TCP checksum through the 16-bit words they
 * touch (an option may start at an odd offset: then two words, each half changed). */
static void write16(uint8_t *th, unsigned off, const uint8_t b[2])
{
	unsigned a = off & ~1u, nw = off & 1u ? 2 : 1;
	uint8_t before[4], after[4];

	memcpy(before, th + a, 2 * nw);
	memcpy(after, before, 2 * nw);
	memcpy(after + (off - a), b, 2);
	tenbin_csum_patch(th + 16, before, after, nw);
	memcpy(th + a, after, 2 * nw);
}

int tenbin_tcp_clamp_mss(uint8_t *f, const struct tenbin_hdrs *h, uint16_t max, uint16_t shrink)
{
	uint8_t *th = f + h->l4_off;
	unsigned doff, i;

	if (h->l4_off == 0 || h->proto != IPPROTO_TCP)
		return 0;
	doff = (unsigned)(th[12] >> 4) * 4;
	if (h->l4_off + doff > h->l3_end)
		return 0;
	for (i = 20; i < doff;) {
		if (th[i] == TCPOPT_EOL)
			break;
		if (th[i] == TCPOPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= doff || th[i + 1] < 2 || i + th[i + 1] > doff)
			break;
		if (th[i] == TCPOPT_MSS && th[i + 1] == 4) {
			uint16_t mss = tenbin_get16(th + i + 2);
			uint16_t want = mss > shrink ? (uint16_t)(mss - shrink) : mss;
			uint8_t b[2];

			if (want > max)
				want = max;
			if (want >= mss)
				return 0;
			tenbin_put16(b, want);
			write16(th, i + 2, b);
			return 1;
		}
		i += th[i + 1];
	}
	return 0;
}

int tenbin_tcp_add_toa(struct tenbin_pkt *p, struct tenbin_hdrs *h, const uint8_t *addr, uint16_t port_be)
{
	unsigned olen = tenbin_toa_len(h->family);
	uint8_t *f = p->buf + p->off;
	uint8_t *th, *ip;
	unsigned doff, end;
	uint16_t c;

	if (h->l4_off == 0 || h->proto != IPPROTO_TCP)
		return 0;
	th = f + h->l4_off;
	doff = (unsigned)(th[12] >> 4) * 4;
	end = h->l4_off + doff;
	if (doff + olen > TCP_MAX_HDR || end > h->l3_end || p->off < olen + TENBIN_MIN_HEADROOM)
		return 0;
	/* Ethernet, IP and TCP header move olen bytes toward the head; the option goes into the
	 * gap between the TCP header and the payload, which stays where it was. */
	memmove(f - olen, f, end);
	p->off = (uint16_t)(p->off - olen);
	p->len = (uint16_t)(p->len + olen);
	f -= olen;
	th = f + h->l4_off;
	ip = f + h->l3_off;
	th[doff] = TENBIN_TCPOPT_TOA;
	th[doff + 1] = (uint8_t)olen;
	memcpy(th + doff + 2, &port_be, 2);
	memcpy(th + doff + 4, addr, olen - 4);
	th[12] = (uint8_t)(((doff + olen) / 4) << 4 | (th[12] & 0x0f));
	h->l3_end = (uint16_t)(h->l3_end + olen);
	if (h->family == 4) {
		uint8_t tl[2];

		tenbin_put16(tl, (uint16_t)(tenbin_get16(ip + 2) + olen));
		tenbin_csum_patch(ip + 10, ip + 2, tl, 1);
		memcpy(ip + 2, tl, 2);
	} else {
		tenbin_put16(ip + 4, (uint16_t)(tenbin_get16(ip + 4) + olen));
	}
	/* A handshake segment: recomputing is simpler than accounting for the moved bytes. */
	th[16] = th[17] = 0;
	c = tenbin_l4_cksum(f, h, IPPROTO_TCP);
	memcpy(th + 16, &c, 2);
	return 1;
}
