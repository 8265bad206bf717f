/* SPDX-License-Identifier: BSD-3-Clause
 *
 * flow.h — the per-lcore flow table in the shared region.
 *
 * n_entries / 4 buckets of 4 ways, one 64-byte entry per way, no pointers, so the table
 * survives a dataplane restart. A packet's bucket is sig & bucket_mask; a way matches when
 * its signature and then its full key (addresses, ports, protocol, family) are equal.
 * Expiry is lazy (an expired way is free for insertion) plus an incremental sweeper that
 * visits a few buckets per poll from a cursor kept in the table header: never a full scan.
 */
#ifndef TENBIN_FLOW_H
#define TENBIN_FLOW_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <rte_hash_crc.h>
#include <rte_prefetch.h>

#include "dataplane.h"

/* tenbin_flow.state: the client-to-server half of TCP, which is all DSR lets us see
 * (the IPVS "one-direction" state table). */
enum tenbin_flow_state {
	TENBIN_FS_NONE = 0,
	TENBIN_FS_SYN  = 1, /* SYN seen, no ACK yet */
	TENBIN_FS_EST  = 2, /* ACK seen */
	TENBIN_FS_FIN  = 3, /* FIN or RST seen */
	TENBIN_FS_UDP  = 4,
	/* 5..7 are nat.h's SYN_RECV, TIME_WAIT and CLOSE (both directions tracked). */
	TENBIN_FS_NAT_SYN_RECV  = 5,
	TENBIN_FS_NAT_TIME_WAIT = 6,
	TENBIN_FS_NAT_CLOSE     = 7,
};

/* The key as it lies in struct tenbin_flow from src to family, so one memcmp compares it. */
struct tenbin_flow_key {
	uint8_t  src[16];
	uint8_t  dst[16];
	uint16_t sport_be;
	uint16_t dport_be;
	uint8_t  proto;
	uint8_t  family;
};

#define TENBIN_FLOW_KEY_LEN (offsetof(struct tenbin_flow_key, family) + 1)
_Static_assert(offsetof(struct tenbin_flow, family) - offsetof(struct tenbin_flow, src) + 1 ==
	       TENBIN_FLOW_KEY_LEN, "flow key mirrors struct tenbin_flow");

/* Defaults when a service leaves a timeout at 0 (IPVS's). */
#define TENBIN_TMO_DEFAULT_SYN 60u
#define TENBIN_TMO_DEFAULT_EST 900u
#define TENBIN_TMO_DEFAULT_FIN 120u
#define TENBIN_TMO_DEFAULT_UDP 300u

/* CRC32-C steps. rte_hash_crc_*() check at run time which instructions to use (a load and
 * a branch per call, six per hash); built for SSE4.2 (-march=native) we use the instruction
 * itself. The values are the same either way. */
#if defined(RTE_ARCH_X86) && defined(__SSE4_2__)
#include <nmmintrin.h>
static inline uint32_t tenbin_crc_u64(uint64_t d, uint32_t h) { return (uint32_t)_mm_crc32_u64(h, d); }
static inline uint32_t tenbin_crc_u32(uint32_t d, uint32_t h) { return _mm_crc32_u32(h, d); }
static inline uint32_t tenbin_crc_u16(uint16_t d, uint32_t h) { return _mm_crc32_u16(h, d); }
#else
static inline uint32_t tenbin_crc_u64(uint64_t d, uint32_t h) { return rte_hash_crc_8byte(d, h); }
static inline uint32_t tenbin_crc_u32(uint32_t d, uint32_t h) { return rte_hash_crc_4byte(d, h); }
static inline uint32_t tenbin_crc_u16(uint16_t d, uint32_t h) { return rte_hash_crc_2byte(d, h); }
#endif

/* Flow signature: CRC32-C over the whole key, taken as the words it lies in (src and dst as
 * two 64-bit words each, the ports as one 32-bit word, proto | family << 8); never 0 (0
 * marks an empty way). */
static inline uint32_t tenbin_flow_sig_words(uint64_t s0, uint64_t s1, uint64_t d0, uint64_t d1,
					     uint32_t ports, uint16_t proto_family)
{
	uint32_t h;

	h = tenbin_crc_u64(s0, 0x9e3779b9u);
	h = tenbin_crc_u64(s1, h);
	h = tenbin_crc_u64(d0, h);
	h = tenbin_crc_u64(d1, h);
	h = tenbin_crc_u32(ports, h);
	h = tenbin_crc_u16(proto_family, h);
	return h | (h == 0);
}

static inline uint32_t tenbin_flow_sig(const struct tenbin_flow_key *k)
{
	uint64_t a[4];
	uint32_t tail;

	memcpy(a, k->src, 32);
	memcpy(&tail, &k->sport_be, 4);
	return tenbin_flow_sig_words(a[0], a[1], a[2], a[3], tail, (uint16_t)(k->proto | k->family << 8));
}

/* A connection that has ended on at least one side. */
static inline int tenbin_flow_closing(uint8_t st)
{
	return st == TENBIN_FS_FIN || st == TENBIN_FS_NAT_TIME_WAIT || st == TENBIN_FS_NAT_CLOSE;
}

static inline int tenbin_flow_expired(const struct tenbin_flow *e, uint32_t now32)
{
	/* signed difference: valid while timeouts stay far below 2^31 ms */
	return (int32_t)(now32 - e->expires_ms) >= 0;
}

static inline struct tenbin_flow *tenbin_flow_bucket(const struct tenbin_worker *w, uint32_t sig)
{
	return &w->flows[(size_t)(sig & w->bucket_mask) * TENBIN_FLOW_BUCKET_WAYS];
}

/* Prefetches every way of sig's bucket (4 lines): a lookup reads ways until it matches, an
 * insertion reads all four. */
static inline void tenbin_flow_prefetch(const struct tenbin_worker *w, uint32_t sig)
{
	const struct tenbin_flow *b = tenbin_flow_bucket(w, sig);
	int i;

	for (i = 0; i < TENBIN_FLOW_BUCKET_WAYS; i++)
		rte_prefetch0(&b[i]);
}

/* Stage 1's half of tenbin_flow_prefetch: the bucket's first way, where a flow sits unless
 * its bucket was busy when it arrived. */
static inline void tenbin_flow_prefetch_first(const struct tenbin_worker *w, uint32_t sig)
{
	rte_prefetch0(tenbin_flow_bucket(w, sig));
}

/* The rest, once the first way is in: ways 1..3 only when way 0 is not a live flow with
 * sig, so a flow hit brings one line in and an insertion (which reads all four) still
 * finds them coming. */
static inline void tenbin_flow_prefetch_rest(const struct tenbin_worker *w, uint32_t sig)
{
	const struct tenbin_flow *b = tenbin_flow_bucket(w, sig);
	int i;

	if (b[0].sig == sig && !tenbin_flow_expired(&b[0], w->now32))
		return;
	for (i = 1; i < TENBIN_FLOW_BUCKET_WAYS; i++)
		rte_prefetch0(&b[i]);
}

/* Finds the live entry for k. When there is none, *freeway is an empty or expired way of
 * the bucket for an insertion, or NULL when all four ways hold live flows. */
static inline struct tenbin_flow *
tenbin_flow_find(struct tenbin_worker *w, const struct tenbin_flow_key *k, uint32_t sig,
		 struct tenbin_flow **freeway)
{
	struct tenbin_flow *b = tenbin_flow_bucket(w, sig);
	struct tenbin_flow *fw = NULL;
	int i;

	for (i = 0; i < TENBIN_FLOW_BUCKET_WAYS; i++) {
		struct tenbin_flow *e = &b[i];

		if (e->sig == 0 || tenbin_flow_expired(e, w->now32)) {
			if (fw == NULL)
				fw = e;
			continue;
		}
		if (e->sig == sig && memcmp(e->src, k, TENBIN_FLOW_KEY_LEN) == 0)
			return e;
	}
	if (fw == NULL) {
		/* Four live flows: the closing connection nearest its timeout gives up its way (the
		 * caller releases it, counted as flow_evicted), so connections that ended do not
		 * lock new ones out for the FIN timeout. Established and opening ones never do:
		 * their traffic would go to another server. */
		for (i = 0; i < TENBIN_FLOW_BUCKET_WAYS; i++) {
			struct tenbin_flow *e = &b[i];

			if (tenbin_flow_closing(e->state) &&
			    (fw == NULL || (int32_t)(e->expires_ms - fw->expires_ms) < 0))
				fw = e;
		}
	}
	*freeway = fw;
	return NULL;
}

/* Read-only lookup in another lcore's table (for ICMP errors that RSS delivered to us).
 * The owner may be writing the entry; a torn read at worst steers one ICMP error wrong. */
const struct tenbin_flow *tenbin_flow_find_any(const struct tenbin_worker *w,
					       const struct tenbin_flow_key *k, uint32_t sig);

/* tenbin_flow.flags: the entry is one of a nat/fnat pair (nat.h); releasing it frees both. */
#define TENBIN_FF_NAT 0x01u
void tenbin_nat_release(struct tenbin_worker *w, struct tenbin_flow *e);

/* tenbin_flow.flags: the entry counts in its owner's half_open[service] (the SYN guard,
 * synguard.h). Only the owner sets or clears it, and the count moves with it, so the count
 * is exactly the number of live entries carrying it; tenbin_worker_init rebuilds the count
 * from the flags when a dataplane re-attaches to a region. */
#define TENBIN_FF_HALF_OPEN 0x80u

/* A connection whose handshake has not completed: DSR's SYN (the client's ACK not seen
 * yet), nat/fnat's SYN_SENT and SYN_RECV (a forward entry's state). */
static inline int tenbin_flow_half_open(uint8_t st)
{
	return st == TENBIN_FS_SYN || st == TENBIN_FS_NAT_SYN_RECV;
}

/* Takes e out of the half-open count (its release, or before its service changes). */
static inline void tenbin_half_open_forget(struct tenbin_worker *w, struct tenbin_flow *e)
{
	if (!(e->flags & TENBIN_FF_HALF_OPEN))
		return;
	e->flags &= (uint8_t)~TENBIN_FF_HALF_OPEN;
	if (e->service < TENBIN_MAX_SERVICES)
		w->half_open[e->service]--;
}

/* The owner, after it set e's state (or service): the flag and the count follow the state. */
static inline void tenbin_half_open_sync(struct tenbin_worker *w, struct tenbin_flow *e)
{
	if (!tenbin_flow_half_open(e->state) || e->service >= TENBIN_MAX_SERVICES) {
		tenbin_half_open_forget(w, e);
		return;
	}
	if (e->flags & TENBIN_FF_HALF_OPEN)
		return;
	e->flags |= TENBIN_FF_HALF_OPEN;
	w->half_open[e->service]++;
}

/* Frees an entry and keeps the backend's active-flow count and the half-open count. */
static inline void tenbin_flow_release(struct tenbin_worker *w, struct tenbin_flow *e)
{
	tenbin_half_open_forget(w, e);
	if (e->flags & TENBIN_FF_NAT) {
		tenbin_nat_release(w, e);
		return;
	}
	if (e->backend < TENBIN_MAX_BACKENDS)
		w->ctr->backend[e->backend][TENBIN_OBJ_ACTIVE_FLOWS]--;
	e->sig = 0;
}

/* Readies the way tenbin_flow_find offered for an insertion: an expired flow there is
 * released (flow_expired), a closing one it chose in a full bucket too (flow_evicted). */
static inline void tenbin_flow_reuse(struct tenbin_worker *w, struct tenbin_flow *fw)
{
	if (fw->sig == 0)
		return;
	w->ctr->global[tenbin_flow_expired(fw, w->now32) ? TENBIN_CTR_FLOW_EXPIRED : TENBIN_CTR_FLOW_EVICTED]++;
	tenbin_flow_release(w, fw);
}

/* Milliseconds a flow in state st may stay idle under service s. */
static inline uint32_t tenbin_flow_timeout_ms(const struct tenbin_service *s, uint8_t st)
{
	static const uint32_t def[TENBIN_TMO_MAX] = {
		TENBIN_TMO_DEFAULT_SYN, TENBIN_TMO_DEFAULT_EST, TENBIN_TMO_DEFAULT_FIN, TENBIN_TMO_DEFAULT_UDP,
	};
	unsigned c;
	uint32_t t;

	switch (st) {
	case TENBIN_FS_SYN: c = TENBIN_TMO_TCP_SYN; break;
	case TENBIN_FS_FIN: c = TENBIN_TMO_TCP_FIN; break;
	case TENBIN_FS_UDP: c = TENBIN_TMO_UDP; break;
	default:            c = TENBIN_TMO_TCP_EST; break;
	}
	t = s->timeout_s[c] ? s->timeout_s[c] : def[c];
	if (t > 86400u * 20) /* keep the signed 32-bit ms clock comparison valid */
		t = 86400u * 20;
	return t * 1000u;
}

/* Next TCP state from the flags of a client packet. */
static inline uint8_t tenbin_tcp_next_state(uint8_t st, uint8_t flags)
{
	if (flags & (0x01 | 0x04)) /* FIN, RST */
		return TENBIN_FS_FIN;
	if (flags & 0x02) /* SYN: a new attempt, also on a reused port */
		return (flags & 0x10) ? st : TENBIN_FS_SYN;
	if (flags & 0x10) /* ACK */
		return st == TENBIN_FS_FIN ? st : TENBIN_FS_EST;
	return st == TENBIN_FS_NONE ? TENBIN_FS_EST : st;
}

#endif /* TENBIN_FLOW_H */
