/* SPDX-License-Identifier: BSD-3-Clause
 *
 * express.h — what the express lane's parts share (burst.c: stage 1 and the DSR lane;
 * natexpress.c: nat/fnat): a frame as stage 1 read it in place, the burst's sums, and the
 * flow lookup on the frame's words.
 */
#ifndef TENBIN_EXPRESS_H
#define TENBIN_EXPRESS_H

#include <stdint.h>
#include <string.h>

#include "dataplane.h"
#include "flow.h"
#include "forward.h"

#define TENBIN_EXPRESS_ETH_LEN  14
#define TENBIN_EXPRESS_IPV4_LEN 20 /* the express lane takes IHL 5 only */

/* An untagged IPv4 TCP/UDP frame with a 20-byte header, not a fragment, whose headers
 * tenbin_parse accepts as they are. Words are as they lie in the packet. */
struct express {
	uint32_t src, dst;
	uint32_t ports;     /* source port, then destination port: the key's layout */
	uint32_t sig;       /* tenbin_flow_sig of the frame's key; 0: not an express frame */
	uint8_t  proto;
	uint8_t  tcp_flags;
	uint8_t  whole_bucket; /* stage 1 prefetched all of sig's bucket, not only way 0 */
};

/* Global counters of the burst's express frames, added once at its end. */
struct express_sums {
	uint64_t pkts, bytes; /* received and sent alike: the express lane never resizes a frame */
	uint64_t hits;        /* flow_hit: client → VIP */
	uint64_t replies;     /* nat_replies: server → client */
};

/* Whether flow entry e holds x's key (the 38 bytes from src to family, as five words; the
 * last word's top two bytes are state and flags, not key). */
static inline int tenbin_express_key_eq(const struct tenbin_flow *e, const struct express *x)
{
	/* Five loads straight from the entry: copied as one 40-byte array, GCC went through
	 * a 32-byte store on the stack and 8-byte loads back, which the store forwarding
	 * does not serve (a stall on every flow hit, in perf's samples). */
	uint64_t s0, s1, d0, d1, tail;

	memcpy(&s0, e->src, 8);
	memcpy(&s1, e->src + 8, 8);
	memcpy(&d0, e->dst, 8);
	memcpy(&d1, e->dst + 8, 8);
	memcpy(&tail, &e->sport_be, 8);
	return ((s0 ^ x->src) | s1 | (d0 ^ x->dst) | d1 |
		((tail ^ (x->ports | (uint64_t)x->proto << 32 | (uint64_t)4 << 40)) & 0xffffffffffffull)) == 0;
}

/* The live entry with x's key in w's own table, as tenbin_flow_find finds it, or NULL. */
static inline struct tenbin_flow *tenbin_express_find(const struct tenbin_worker *w, const struct express *x)
{
	struct tenbin_flow *b = tenbin_flow_bucket(w, x->sig);
	int i;

	for (i = 0; i < TENBIN_FLOW_BUCKET_WAYS; i++)
		if (b[i].sig == x->sig && !tenbin_flow_expired(&b[i], w->now32) && tenbin_express_key_eq(&b[i], x))
			return &b[i];
	return NULL;
}

/* The next hop's MAC for backend be (its static MAC, or the neighbour's, resolved into mac)
 * when the way out tenbin_forward would take is untagged; NULL when the express lane must
 * leave the packet to the general path. The port is be->egress_port. */
static inline const uint8_t *tenbin_express_next_hop(const struct tenbin_worker *w, const struct tenbin_backend *be,
						     uint8_t mac[6])
{
	uint8_t port = be->egress_port;

	if (port >= TENBIN_MAX_PORTS || be->family != 4 || be->vlan != 0 || w->cs->ports[port].vlan != 0)
		return NULL;
	if (be->flags & TENBIN_BE_STATIC_MAC)
		return be->mac;
	return tenbin_neigh_mac(w, be->neigh, mac) ? mac : NULL;
}

/* Counts p, sent to a backend bi of service svc: what the general path counts for a flow
 * hit (the global part in sum, added once a burst). */
static inline void tenbin_express_count_hit(struct tenbin_worker *w, const struct tenbin_pkt *p, uint16_t svc,
					    uint16_t bi, struct express_sums *sum)
{
	w->ctr->service[svc][TENBIN_OBJ_PKTS]++;
	w->ctr->service[svc][TENBIN_OBJ_BYTES] += p->len;
	w->ctr->backend[bi][TENBIN_OBJ_PKTS]++;
	w->ctr->backend[bi][TENBIN_OBJ_BYTES] += p->len;
	sum->pkts++;
	sum->bytes += p->len;
	sum->hits++;
}

/* The nat/fnat part of the express lane (natexpress.c). Each returns 1 when it sent p (TX,
 * counted in sum and in the per-object counters), 0 when p must go the general way, and
 * changes nothing before it knows it will send. forward: a client's packet to service svc,
 * a nat/fnat service; reply: a packet to no VIP, maybe a server's reply. */
int tenbin_nat_express_forward(struct tenbin_worker *w, struct tenbin_pkt *p, const struct express *x,
			       uint16_t svc, struct express_sums *sum);
int tenbin_nat_express_reply(struct tenbin_worker *w, struct tenbin_pkt *p, const struct express *x,
			     struct express_sums *sum);

#endif /* TENBIN_EXPRESS_H */
