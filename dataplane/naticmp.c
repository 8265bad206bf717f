/* SPDX-License-Identifier: BSD-3-Clause
 *
 * naticmp.c — ICMP errors about nat/fnat connections, translated both ways (as IPVS's
 * ip_vs_nat_icmp does): the outer header like any packet of the connection in that
 * direction, the quoted header back into what its receiver sent, the quoted header's
 * checksums patched (the quote may be truncated), the ICMP checksum recomputed.
 */
#include <netinet/in.h>
#include <string.h>

#include "forward.h"
#include "icmp.h"
#include "nat.h"
#include "select.h"

static int outer_ttl(const uint8_t *f, const struct tenbin_hdrs *h)
{
	return h->family == 4 ? f[h->l3_off + 8] : f[h->l3_off + 7];
}

/* Rewrites the quote and the outer header, then the ICMP checksum. */
static int translate(uint8_t *f, const struct tenbin_hdrs *h, const uint8_t *qsrc, uint16_t qsport,
		     const uint8_t *qdst, uint16_t qdport, const uint8_t *osrc, const uint8_t *odst)
{
	uint8_t *q = f + h->l4_off + 8;
	uint8_t *ic = f + h->l4_off;
	struct tenbin_hdrs in;
	uint16_t c;

	if (tenbin_parse_quoted(q, (uint16_t)(h->l3_end - h->l4_off - 8), h->family, &in) != TENBIN_OK)
		return TENBIN_DROP_BAD_ICMP;
	tenbin_nat_rewrite_ip(q, &in, qsrc, qsport, qdst, qdport, 0);
	tenbin_nat_rewrite_ip(f, h, osrc, 0, odst, 0, 1);
	ic[2] = ic[3] = 0;
	c = tenbin_l4_cksum(f, h, h->proto);
	memcpy(ic + 2, &c, 2);
	return TENBIN_OK;
}

int tenbin_nat_icmp_to_backend(struct tenbin_worker *w, struct tenbin_pkt *p, const struct tenbin_hdrs *h,
			       const struct tenbin_flow *e)
{
	const struct tenbin_config_set *cs = w->cs;
	uint8_t *f = p->buf + p->off;
	const struct tenbin_backend *be;
	struct tenbin_flow fe, re;
	const struct tenbin_flow *t;
	uint64_t at = (uint64_t)((const uint8_t *)e - (w->base + w->hdr->flows_offset));
	uint32_t slot = (uint32_t)(at / w->hdr->flows_size);
	int fnat, r;

	/* e may be another lcore's: work on copies, and check the pair still holds together */
	memcpy(&fe, e, sizeof(fe));
	t = tenbin_nat_table(w, slot);
	if (fe.peer == 0 || fe.peer > w->hdr->flow_entries || (fe.flags & TENBIN_FF_REV))
		return TENBIN_DROP_ICMP_ERR_NO_FLOW;
	memcpy(&re, &t[fe.peer - 1], sizeof(re));
	if (re.sig == 0 || re.peer != (uint32_t)(e - t) + 1 || !(re.flags & TENBIN_FF_REV))
		return TENBIN_DROP_ICMP_ERR_NO_FLOW;
	be = tenbin_backend_usable(cs, fe.backend);
	if (be == NULL || be->incarnation != fe.incarnation || fe.service >= TENBIN_MAX_SERVICES)
		return TENBIN_DROP_ICMP_ERR_NO_FLOW;
	if (outer_ttl(f, h) <= 1)
		return TENBIN_DROP_TTL_EXCEEDED; /* never an error about an error */
	fnat = (fe.flags & TENBIN_FF_FNAT) != 0;
	/* The quote (a reply: VIP → client) becomes backend → client (nat) or → local (fnat);
	 * the error goes from the client (nat) or our local address (fnat) to the backend. */
	r = translate(f, h, re.src, re.sport_be, fnat ? re.dst : NULL, re.dport_be,
		      fnat ? re.dst : NULL, re.src);
	if (r != TENBIN_OK)
		return r;
	r = tenbin_forward(w, p, h, &cs->services[fe.service], be, 0);
	if (r == TENBIN_OK)
		w->ctr->global[TENBIN_CTR_NAT_ICMP_TRANSLATED]++;
	return r;
}

int tenbin_nat_icmp_to_client(struct tenbin_worker *w, struct tenbin_pkt *p, const struct tenbin_hdrs *h)
{
	uint8_t *f = p->buf + p->off;
	struct tenbin_nat_conn conn;
	struct tenbin_flow_key k;
	int fnat, r;

	if (!tenbin_nat_on(w) || h->l4_off == 0 || !tenbin_icmp_is_error(h->family, h->icmp_type))
		return TENBIN_DROP_NO_VIP;
	/* The quote is a forwarded packet (client or local → backend); reversed, it is the
	 * reverse entry's key. */
	if (tenbin_icmp_quoted_flow(f, h, &k) != TENBIN_OK || !tenbin_nat_lookup(w, &k, tenbin_flow_sig(&k), &conn))
		return TENBIN_DROP_NO_VIP;
	if (outer_ttl(f, h) <= 1)
		return TENBIN_DROP_TTL_EXCEEDED;
	fnat = (conn.fwd.flags & TENBIN_FF_FNAT) != 0;
	/* The quote becomes client → VIP; the error comes from the VIP to the client. */
	r = translate(f, h, fnat ? conn.fwd.src : NULL, conn.fwd.sport_be, conn.fwd.dst, conn.fwd.dport_be,
		      conn.fwd.dst, fnat ? conn.fwd.src : NULL);
	if (r != TENBIN_OK)
		return r;
	r = tenbin_nat_emit_to_client(w, p, h, &conn.hop);
	if (r == TENBIN_OK)
		w->ctr->global[TENBIN_CTR_NAT_ICMP_TRANSLATED]++;
	return r;
}
