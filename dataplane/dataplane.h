/* SPDX-License-Identifier: BSD-3-Clause
 *
 * dataplane.h — the per-packet API of the fast path.
 *
 * tenbin_process() works on a byte view of one frame (struct tenbin_pkt); it never allocates,
 * locks, logs or touches an mbuf, so the same code runs under the lcore loop (lcore.c), the
 * Go fixture harness (harness.go) and the fuzzer. A worker is one lcore's private state plus
 * pointers into the shared region; tenbin_worker_begin() is called once per burst.
 */
#ifndef TENBIN_DATAPLANE_H
#define TENBIN_DATAPLANE_H

#include <stddef.h>
#include <stdint.h>

#include "tenbin_shm.h"

/* What became of a packet (tenbin_pkt.verdict). */
enum tenbin_verdict {
	TENBIN_V_DROP   = 0, /* drop_reason says why; the adapter frees it */
	TENBIN_V_TX     = 1, /* transmit on out_port (forwarded, or replaced by a reply) */
	TENBIN_V_KERNEL = 2, /* belongs to the host stack (kernel tap when there is one) */
};

/* tenbin_pkt.flags, set by the adapter from what the NIC already checked. */
enum tenbin_pkt_flag {
	TENBIN_PKT_IP_CSUM_GOOD = 1u << 0, /* skip the software IPv4 header checksum check */
};

/* One frame in a buffer with headroom: the frame is buf[off .. off+len), the buffer holds
 * cap bytes. tenbin_process may move off (VLAN push/pop) and change len (replies). */
struct tenbin_pkt {
	uint8_t *buf;
	uint16_t off;
	uint16_t len;
	uint16_t cap;
	uint8_t  in_port;
	uint8_t  flags;       /* enum tenbin_pkt_flag */
	/* out */
	uint8_t  out_port;
	uint8_t  verdict;     /* enum tenbin_verdict */
	uint8_t  drop_reason; /* enum tenbin_drop when verdict is DROP */
	uint8_t  _pad;
};

/* Smallest headroom the adapters must leave in front of a frame: room to push one VLAN tag
 * onto an untagged frame. */
#define TENBIN_MIN_HEADROOM 4

/* ICMP errors the dataplane generates itself (time exceeded) are rate limited per lcore. */
#define TENBIN_ICMP_RATE_PER_S 1000u
#define TENBIN_ICMP_BURST      100u

/* Per-lcore state. One writer (its lcore); cache-line aligned so two workers never share a
 * line. Invariants of the region are copied in at init. */
struct tenbin_worker {
	/* region, fixed at init */
	struct tenbin_shm_header *hdr;
	uint8_t *base;
	struct tenbin_lcore_state *state;
	struct tenbin_lcore_counters *ctr;
	struct tenbin_flow_table_hdr *ft;
	struct tenbin_flow *flows;
	struct tenbin_neigh_state *neigh;
	const struct tenbin_port_info *port_infos;
	uint32_t bucket_mask;     /* flow buckets - 1 */
	uint32_t slot;

	/* per burst (tenbin_worker_begin) */
	const struct tenbin_config_set *cs;
	const uint16_t *lut;
	uint64_t now_ms;
	uint32_t now32;           /* now_ms truncated, the flow table's clock */

	/* private */
	uint32_t icmp_tokens;     /* time-exceeded messages we may still send */
	uint64_t icmp_refill_ms;
	uint64_t neigh_next_ms;   /* slot 0: next neighbour resolution round */
	uint32_t neigh_cursor;    /* slot 0: next neighbour key of this round */
	uint32_t kernel_ports;    /* bit per ingress port with a kernel tap (kernel.h) */
	uint32_t cursor[TENBIN_MAX_SERVICES]; /* LUT_CURSOR position per service */
	/* Entries of this lcore's table flagged half-open, per service (flow.h, synguard.h).
	 * Private: rebuilt from the table's flags by tenbin_worker_init. */
	uint32_t half_open[TENBIN_MAX_SERVICES];

	/* The last TCP/UDP VIP lookup (process.c), valid for config generation vip_memo_gen:
	 * traffic comes in runs to one VIP, and a hit skips the hash and the probe. */
	uint64_t vip_memo_gen;
	uint64_t vip_memo_addr[2];
	uint16_t vip_memo_port;   /* host order */
	uint8_t  vip_memo_proto;
	uint8_t  vip_memo_family; /* 0: nothing memoised */
	uint16_t vip_memo_svc;

	uint64_t express_pkts;    /* frames the express lane sent (burst.c); tests and profiling */

	/* nat.c (nat.h) */
	struct tenbin_flow_hop *hops; /* this slot's hop per flow entry */
	uint64_t nat_gen;         /* generation nat_on was worked out for */
	uint32_t nat_on;          /* the set has nat/fnat services (and the region has hops) */
	uint32_t _pad1;
	uint32_t nat_cursor[TENBIN_MAX_LOCAL_ADDRS]; /* fnat: next source port per local address */
} __attribute__((aligned(TENBIN_CACHE_LINE)));

/* Names of enum tenbin_drop, in order (compared with control/shm.DropReasonNames). */
extern const char *const tenbin_drop_names[TENBIN_DROP_MAX];

/* Binds w to lcore slot `slot` of the region at base. Returns 0 or -EINVAL. */
int tenbin_worker_init(struct tenbin_worker *w, void *base, uint32_t slot);

/* Starts a burst: loads the active config set once, reports it as seen and refreshes the
 * heartbeat. Every packet of the burst is processed against that set. */
void tenbin_worker_begin(struct tenbin_worker *w, uint64_t now_ms);

/* Processes one frame. Returns p->verdict. Counts rx, tx/kernel or the drop reason. */
int tenbin_process(struct tenbin_worker *w, struct tenbin_pkt *p);

/* Expires up to `buckets` flow buckets from the sweep cursor on. Returns entries freed. */
uint32_t tenbin_flow_sweep(struct tenbin_worker *w, uint32_t buckets);

/* Slot 0's neighbour resolution: when a round is due, writes the next ARP request or IPv6
 * neighbour solicitation into buf (cap bytes) and returns its length, with the port in
 * *port; returns 0 when nothing (more) is due. Call until it returns 0. */
uint16_t tenbin_neigh_request(struct tenbin_worker *w, uint8_t *buf, uint16_t cap, uint8_t *port);

/* Whether tenbin_neigh_request may have something to write now: lets the poll loop skip
 * taking an mbuf from the pool on the polls between rounds (nearly all of them). */
static inline int tenbin_neigh_due(const struct tenbin_worker *w)
{
	return w->cs != NULL && w->slot == 0 && (w->neigh_cursor != 0 || w->now_ms >= w->neigh_next_ms);
}

/* Milliseconds between neighbour resolution rounds, and between two requests for one key. */
#define TENBIN_NEIGH_ROUND_MS 250u
#define TENBIN_NEIGH_RETRY_MS 1000u

/* CLOCK_MONOTONIC in milliseconds, the clock of every *_ms field of the region. */
uint64_t tenbin_now_ms(void);

#endif /* TENBIN_DATAPLANE_H */
