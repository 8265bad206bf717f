/* SPDX-License-Identifier: BSD-3-Clause
 *
 * tenbin_shm.h — the shared-memory ABI between the control plane (Go, no DPDK) and the
 * dataplane (C lcores). This header is the single source of truth: control/shm mirrors it in
 * plain Go and a test compares every offset and size through cgo, so a drift fails CI.
 *
 * Rules (STYLE.md 8): fixed-size arrays, explicit _pad fields, cache-line alignment for what
 * lcores write, no unions, bitfields, flexible arrays or packed structs. All integers are
 * host-endian except fields named *_be. IPv4 addresses occupy the first 4 bytes of a 16-byte
 * address field, the rest zero, with `family` saying which.
 *
 * Region layout (offsets in the header, sizes chosen at creation):
 *
 *   header | lcore states [MAX_LCORES] | config set 0 | config set 1 | neighbour states
 *          | port infos | per-lcore counters [n_lcores] | per-lcore flow tables [n_lcores]
 *
 * One lcore's flow table (flows_size bytes): tenbin_flow_table_hdr | tenbin_flow[flow_entries]
 * | tenbin_flow_hop[flow_entries] (the hop of entry i is hops[i]).
 *
 * Who writes what:
 *   control plane: header control words, the inactive config set, control heartbeat.
 *   dataplane:     dataplane words of the header, lcore states, counters, flow tables,
 *                  neighbour states, port infos.
 */
#ifndef TENBIN_SHM_H
#define TENBIN_SHM_H

#include <stdint.h>

#define TENBIN_SHM_MAGIC   0x314e494e4245544eULL /* "NTEBNIN1" little-endian */
#define TENBIN_SHM_VERSION 2u
#define TENBIN_CACHE_LINE  64

#define TENBIN_MAX_LCORES   16
#define TENBIN_MAX_PORTS    8
#define TENBIN_MAX_SERVICES 256
#define TENBIN_MAX_BACKENDS 4096 /* index 0 is never assigned: zero means empty */
#define TENBIN_VIP_SLOTS    1024 /* open addressing, power of two, load <= 50% */
#define TENBIN_MAX_NEIGH    1024 /* index 0 is never assigned */
#define TENBIN_MAX_LOCAL_ADDRS 64
#define TENBIN_NAME_LEN     32

#define TENBIN_FLOW_BUCKET_WAYS 4 /* entries per flow bucket */

/* Forwarding modes (tenbin_service.mode). 0 is not a mode: a zeroed service drops. */
enum tenbin_mode {
	TENBIN_MODE_NONE  = 0,
	TENBIN_MODE_L2DSR = 1,
	TENBIN_MODE_L3DSR = 2,
	TENBIN_MODE_NAT   = 3,
	TENBIN_MODE_FNAT  = 4,
};

/* How the dataplane walks a service's lookup table for a new flow (tenbin_service.lut_kind). */
enum tenbin_lut_kind {
	TENBIN_LUT_HASH   = 0, /* maglev, hash and the weight-driven schedulers: lut[hash % size] */
	TENBIN_LUT_CURSOR = 1, /* rr/wrr: lut[cursor++ % size], cursor per lcore and service */
};

/* Flow hash fields (tenbin_service.hash_fields). */
enum tenbin_hash_field {
	TENBIN_HASH_SRC_IP   = 1u << 0,
	TENBIN_HASH_SRC_PORT = 1u << 1,
	TENBIN_HASH_DST_IP   = 1u << 2,
	TENBIN_HASH_DST_PORT = 1u << 3,
	TENBIN_HASH_PROTO    = 1u << 4,
	TENBIN_HASH_ALL      = 0x1f,
};

/* tenbin_service.flags */
enum tenbin_service_flag {
	TENBIN_SVC_ICMP_ECHO = 1u << 0, /* answer ICMP echo sent to the VIP */
	TENBIN_SVC_ALL_DOWN_DROP = 1u << 1, /* informational: empty lut drops (no_backend) */
};

/* tenbin_backend.flags */
enum tenbin_backend_flag {
	TENBIN_BE_PRESENT    = 1u << 0, /* existing flows may keep using it (drain keeps it) */
	TENBIN_BE_STATIC_MAC = 1u << 1, /* use mac[] instead of the neighbour table */
};

/* Timeout classes (tenbin_service.timeout_s). */
enum tenbin_timeout {
	TENBIN_TMO_TCP_SYN = 0,
	TENBIN_TMO_TCP_EST = 1,
	TENBIN_TMO_TCP_FIN = 2,
	TENBIN_TMO_UDP     = 3,
	TENBIN_TMO_MAX     = 4,
};

/* Global per-lcore counters (tenbin_lcore_counters.global). Add to the end only. Invariant
 * (tested): rx_pkts = tx_pkts + kernel_pkts + sum(drops). Replies the dataplane generates
 * (ARP, NDP, ICMP) count in tx_pkts because they replace the packet that caused them. */
enum tenbin_counter {
	TENBIN_CTR_RX_PKTS = 0,
	TENBIN_CTR_RX_BYTES,
	TENBIN_CTR_TX_PKTS,
	TENBIN_CTR_TX_BYTES,
	TENBIN_CTR_KERNEL_PKTS, /* passed to the kernel tap port */
	TENBIN_CTR_FLOW_NEW,
	TENBIN_CTR_FLOW_HIT,
	TENBIN_CTR_FLOW_RESELECT, /* hit, but its backend left or changed incarnation */
	TENBIN_CTR_FLOW_TABLE_FULL, /* stateless selection because the bucket was full */
	TENBIN_CTR_FLOW_EXPIRED,
	TENBIN_CTR_ARP_REPLIES,
	TENBIN_CTR_NDP_REPLIES,
	TENBIN_CTR_ICMP_ECHO_REPLIES,
	TENBIN_CTR_NEIGH_REQUESTS, /* ARP/NS we sent to resolve next hops */
	TENBIN_CTR_NEIGH_UPDATES,
	TENBIN_CTR_ICMP_ERR_STEERED, /* ICMP errors sent to the backend owning the inner flow */
	TENBIN_CTR_TX_FULL, /* packets the port refused (also counted as drop tx_full) */
	TENBIN_CTR_NAT_REPLIES,        /* nat/fnat server-to-client packets translated */
	TENBIN_CTR_NAT_REPLIES_REMOTE, /* ... whose state another lcore owns */
	TENBIN_CTR_NAT_PORT_ALLOCS,    /* fnat source ports taken; in use = allocs - frees */
	TENBIN_CTR_NAT_PORT_FREES,
	TENBIN_CTR_NAT_ICMP_TRANSLATED, /* ICMP errors about NATed flows, rewritten inside and out */
	TENBIN_CTR_MSS_CLAMPED,
	TENBIN_CTR_TOA_ADDED,          /* fnat: client address options written into segments */
	TENBIN_CTR_FLOW_EVICTED,       /* a full bucket's closing connection gave its way to a new one */
	TENBIN_CTR_SYN_GUARD,          /* SYNs over their service's half-open cap: dsr forwarded
					* statelessly, nat/fnat dropped (also drop syn_guard) */
	TENBIN_CTR_MAX = 32,
};

/* Drop reasons (tenbin_lcore_counters.drops). Names in tenbin_drop_names (dataplane) and
 * control/shm.DropReasonNames, compared by a test. Add to the end only. */
enum tenbin_drop {
	TENBIN_DROP_BAD_ETH = 0,
	TENBIN_DROP_BAD_VLAN,
	TENBIN_DROP_BAD_ARP,
	TENBIN_DROP_BAD_IP_LEN,
	TENBIN_DROP_BAD_IP_VERSION,
	TENBIN_DROP_BAD_IP_CSUM,
	TENBIN_DROP_BAD_IP_OPTIONS,
	TENBIN_DROP_BAD_IPV6_EXT,
	TENBIN_DROP_BAD_L4,
	TENBIN_DROP_BAD_ICMP,
	TENBIN_DROP_UNSUPPORTED_PROTO,
	TENBIN_DROP_NON_IP,
	TENBIN_DROP_NO_VIP,
	TENBIN_DROP_NO_BACKEND,
	TENBIN_DROP_NO_NEIGH,
	TENBIN_DROP_TTL_EXCEEDED,
	TENBIN_DROP_FRAGMENT,
	TENBIN_DROP_NO_CONFIG,
	TENBIN_DROP_TX_FULL,
	TENBIN_DROP_NAT_NO_PORT,
	TENBIN_DROP_NAT_NO_STATE,
	TENBIN_DROP_MTU,
	TENBIN_DROP_ICMP_ERR_NO_FLOW,
	TENBIN_DROP_NOT_FOR_US,
	TENBIN_DROP_SYN_GUARD,
	TENBIN_DROP_MAX = 32,
};

/* Per-service and per-backend counter columns. */
enum tenbin_obj_counter {
	TENBIN_OBJ_PKTS = 0,
	TENBIN_OBJ_BYTES,
	TENBIN_OBJ_NEW_FLOWS,
	TENBIN_OBJ_ACTIVE_FLOWS, /* insertions minus removals on this lcore; may be negative per lcore */
	TENBIN_OBJ_MAX = 4,
};

/* Per-service and per-backend counters of the server-to-client direction (nat/fnat replies);
 * the tenbin_obj_counter columns count the client-to-server direction. */
enum tenbin_reply_counter {
	TENBIN_REPLY_PKTS = 0,
	TENBIN_REPLY_BYTES,
	TENBIN_REPLY_MAX = 2,
};

/* ---------------------------------------------------------------------------------------- */
/* Config set: written only by the control plane while inactive; read-only for lcores.       */

struct tenbin_port_conf {
	uint8_t  ipv4[4];      /* our address on this port (ARP source), 0 = none */
	uint8_t  ipv4_plen;
	uint8_t  ipv6_plen;
	uint16_t vlan;         /* 0 = untagged */
	uint8_t  ipv6[16];     /* our address on this port (NDP source), 0 = none */
	uint32_t flags;
	uint32_t _pad0;
};

struct tenbin_service {
	uint8_t  vip[16];
	uint8_t  family;        /* 4 or 6; 0 = slot unused */
	uint8_t  proto;         /* IPPROTO_TCP or IPPROTO_UDP */
	uint16_t port;          /* 0 = all ports */
	uint8_t  mode;          /* enum tenbin_mode */
	uint8_t  lut_kind;      /* enum tenbin_lut_kind */
	uint8_t  dscp;          /* l3dsr: DSCP that names the VIP (0..63) */
	uint8_t  hash_fields;   /* enum tenbin_hash_field */
	uint32_t hash_seed;
	uint32_t lut_offset;    /* first entry in the config set's lut pool */
	uint32_t lut_size;      /* entries; 0 = no backend (drop no_backend) */
	uint32_t timeout_s[TENBIN_TMO_MAX];
	uint16_t flags;         /* enum tenbin_service_flag */
	uint8_t  ingress_port;
	uint8_t  local_pool;    /* fnat: index of the first local address (see local_addrs) */
	uint8_t  local_count;   /* fnat: number of local addresses */
	uint8_t  client_addr;   /* fnat: 0 none, 1 TOA, 2 PROXY v2 */
	uint16_t mss_max;       /* nat/fnat: clamp the MSS option of SYNs both ways (0 = off) */
	uint16_t nat_port_lo;   /* fnat: source port range, inclusive; 0 = 1024 */
	uint16_t nat_port_hi;   /* 0 = 65535 */
	uint32_t max_half_open; /* SYN guard: half-open flows the service may hold, shared out
				 * between lcores (dataplane/synguard.h); 0 = no cap */
	uint32_t _pad1[7];
	char     name[TENBIN_NAME_LEN];
};

struct tenbin_backend {
	uint8_t  addr[16];
	uint8_t  family;        /* 4 or 6; 0 = slot unused */
	uint8_t  flags;         /* enum tenbin_backend_flag */
	uint16_t port;          /* nat/fnat target port; 0 = the packet's destination port */
	uint32_t incarnation;   /* changes whenever the slot names another server; never 0 when used */
	uint16_t service;       /* owning service index */
	uint16_t neigh;         /* neighbour slot of the next hop (0 = none) */
	uint8_t  mac[6];        /* static next-hop MAC when TENBIN_BE_STATIC_MAC */
	uint8_t  egress_port;
	uint8_t  _pad0;
	uint16_t vlan;          /* egress VLAN, 0 = untagged */
	uint16_t weight;        /* informational; the lut carries the scheduling */
	uint32_t _pad1[6];
};

struct tenbin_vip_slot {
	uint8_t  addr[16];
	uint16_t port;          /* 0 = all ports, or the address-only key when proto is 0 */
	uint8_t  proto;         /* 0 = address-only key (ARP/NDP/ICMP echo for the VIP) */
	uint8_t  family;        /* 0 = empty slot */
	uint16_t service_plus1; /* service index + 1 */
	uint16_t _pad0;
	uint32_t _pad1[2];
};

/* Neighbour key: which next hop a slot resolves. Its learned MAC lives in the dataplane-owned
 * tenbin_neigh_state with the same index, tagged with `tag` so a reassigned slot never uses a
 * MAC learned for its previous address. */
struct tenbin_neigh_key {
	uint8_t  addr[16];
	uint8_t  family;        /* 0 = unused */
	uint8_t  port;
	uint16_t vlan;
	uint16_t tag;           /* changes when the slot is reassigned; never 0 when used */
	uint16_t _pad0;
	uint32_t _pad1[2];
};

struct tenbin_local_addr {
	uint8_t  addr[16];
	uint8_t  family;
	uint8_t  _pad0[7];
};

struct tenbin_config_set {
	uint64_t generation;    /* stamped last, before the flip */
	uint32_t n_services;    /* highest used index + 1 */
	uint32_t n_backends;    /* highest used index + 1 */
	uint32_t n_neigh;       /* highest used index + 1 */
	uint32_t lut_used;
	uint32_t lut_capacity;  /* entries in lut[], copied from the header */
	uint32_t n_ports;
	uint32_t neigh_refresh_ms; /* re-resolve a neighbour after this long */
	uint32_t neigh_expire_ms;  /* stop using an unrefreshed neighbour after this long */
	uint32_t _pad0[6];
	struct tenbin_port_conf  ports[TENBIN_MAX_PORTS];
	struct tenbin_service    services[TENBIN_MAX_SERVICES];
	struct tenbin_backend    backends[TENBIN_MAX_BACKENDS];
	struct tenbin_vip_slot   vips[TENBIN_VIP_SLOTS];
	struct tenbin_neigh_key  neigh[TENBIN_MAX_NEIGH];
	struct tenbin_local_addr local_addrs[TENBIN_MAX_LOCAL_ADDRS];
	/* lut_capacity uint16_t entries follow (TENBIN_CONFIG_LUT): backend indexes, 0 = none. */
};

#define TENBIN_CONFIG_LUT(cs) ((uint16_t *)((uint8_t *)(cs) + sizeof(struct tenbin_config_set)))

/* ---------------------------------------------------------------------------------------- */
/* Dataplane-written sections.                                                               */

/* One per lcore slot. Written by that lcore, read by the control plane. */
struct tenbin_lcore_state {
	uint64_t seen_generation; /* release store once per burst, after loading `active` */
	uint64_t heartbeat_ms;    /* CLOCK_MONOTONIC milliseconds, refreshed while polling */
	uint32_t lcore_id;        /* DPDK lcore id */
	uint32_t online;          /* 1 while the loop runs */
	uint64_t busy_polls;
	uint64_t idle_polls;
	uint64_t sleeps;
	uint64_t _pad0[2];
};

/* Learned MAC of a neighbour slot: mac_tag = mac[0..5] in the low 48 bits (mac[0] lowest) |
 * tag << 48, written with one 64-bit atomic store by whichever lcore saw the reply, so
 * readers never see half a MAC. 0 = unresolved. */
struct tenbin_neigh_state {
	uint64_t mac_tag;
	uint64_t updated_ms;      /* CLOCK_MONOTONIC ms of the last reply */
	uint64_t requested_ms;    /* last request we sent */
	uint8_t  port;            /* port the reply arrived on */
	uint8_t  _pad0[7];
};

struct tenbin_port_info {
	char     name[TENBIN_NAME_LEN]; /* ethdev name, e.g. net_af_packet0 */
	uint8_t  mac[6];
	uint8_t  present;
	uint8_t  link_up;
	uint32_t speed_mbps;
	uint16_t n_queues;
	uint16_t _pad0[3];
};

/* Per-lcore counters, single writer (the lcore), plain stores; the control plane sums. */
struct tenbin_lcore_counters {
	uint64_t global[TENBIN_CTR_MAX];
	uint64_t drops[TENBIN_DROP_MAX];
	uint64_t service[TENBIN_MAX_SERVICES][TENBIN_OBJ_MAX];
	uint64_t backend[TENBIN_MAX_BACKENDS][TENBIN_OBJ_MAX];
	uint64_t service_reply[TENBIN_MAX_SERVICES][TENBIN_REPLY_MAX];
	uint64_t backend_reply[TENBIN_MAX_BACKENDS][TENBIN_REPLY_MAX];
	/* fnat connections this lcore holds per local-address slot (config set local_addrs):
	 * the writer gives a slot another address only when every lcore's count is 0. */
	uint64_t local_conns[TENBIN_MAX_LOCAL_ADDRS];
} __attribute__((aligned(TENBIN_CACHE_LINE)));

/* One flow entry: one cache line. Key is the packet's tuple as received (network-order ports,
 * addresses as in the packet). Timestamps are CLOCK_MONOTONIC ms truncated to 32 bits and
 * compared with a signed difference, valid while every timeout is < 24 days (the sweeper
 * visits each entry far more often than that). */
struct tenbin_flow {
	uint32_t sig;             /* flow hash; 0 = empty entry */
	uint32_t expires_ms;
	uint8_t  src[16];
	uint8_t  dst[16];
	uint16_t sport_be;
	uint16_t dport_be;
	uint8_t  proto;
	uint8_t  family;
	uint8_t  state;           /* TCP state (enum in dataplane/flow.h) */
	uint8_t  flags;
	uint16_t backend;         /* backend index */
	uint16_t service;
	uint32_t incarnation;     /* backend incarnation at selection */
	uint16_t nat_port_be;     /* fnat: our source port */
	uint8_t  nat_addr;        /* fnat: local address slot (config set local_addrs); the
				   * writer keeps its address while connections hold it */
	uint8_t  rev_flags;       /* nat/fnat forward entry: what the server sent (dataplane/nat.h);
				   * any lcore may set bits, with an atomic OR */
	uint32_t peer;            /* nat/fnat: index + 1 of the paired entry in the same table
				   * (forward <-> reverse); 0 = none */
} __attribute__((aligned(TENBIN_CACHE_LINE)));

/* Where a nat/fnat connection's client-side packets came from, for its replies (the MAC
 * that sent the client's first packet: its router, or the client when on-link). One per
 * flow entry, used by forward entries; written before the pair is published. */
struct tenbin_flow_hop {
	uint8_t  mac[6];
	uint8_t  port;
	uint8_t  _pad0;
	uint16_t vlan;            /* 0 = untagged */
	uint16_t _pad1;
	uint32_t _pad2;
};

struct tenbin_flow_table_hdr {
	uint32_t n_entries;       /* power of two, multiple of TENBIN_FLOW_BUCKET_WAYS */
	uint32_t sweep_cursor;    /* next bucket the incremental sweeper visits */
	uint64_t _pad0[7];
};

/* ---------------------------------------------------------------------------------------- */

struct tenbin_shm_header {
	uint64_t magic;
	uint32_t version;
	uint32_t header_size;
	uint64_t total_size;

	/* Sizes chosen at creation. */
	uint32_t n_lcores;               /* lcore slots with counters and flow tables */
	uint32_t lut_capacity;           /* lut entries per config set */
	uint32_t flow_entries;           /* flow entries per lcore, power of two */
	uint32_t _pad0;

	/* Section offsets from the start of the region and sizes in bytes. */
	uint64_t lcore_states_offset;    /* struct tenbin_lcore_state[TENBIN_MAX_LCORES] */
	uint64_t config_offset[2];
	uint64_t config_size;            /* each set, lut included, cache-line rounded */
	uint64_t neigh_states_offset;    /* struct tenbin_neigh_state[TENBIN_MAX_NEIGH] */
	uint64_t port_infos_offset;      /* struct tenbin_port_info[TENBIN_MAX_PORTS] */
	uint64_t counters_offset;        /* struct tenbin_lcore_counters[n_lcores] */
	uint64_t counters_size;          /* one lcore's block */
	uint64_t flows_offset;           /* per lcore: hdr + entries + hops */
	uint64_t flows_size;             /* one lcore's table, header and hops included */
	uint64_t _pad1[9];

	/* Control-plane words. */
	uint64_t active __attribute__((aligned(TENBIN_CACHE_LINE))); /* 0 or 1: the set lcores read */
	uint64_t published_generation;
	uint64_t control_heartbeat_ms;
	uint64_t control_pid;
	uint64_t _pad2[4];

	/* Dataplane words. */
	uint64_t dataplane_heartbeat_ms __attribute__((aligned(TENBIN_CACHE_LINE)));
	uint64_t dataplane_pid;
	uint64_t dataplane_started_ms;
	uint32_t n_ports;
	uint32_t lcores_running;
	uint64_t _pad3[4];
};

_Static_assert(sizeof(struct tenbin_shm_header) == 320, "header size is ABI");
_Static_assert(__builtin_offsetof(struct tenbin_shm_header, active) == 192, "no implicit padding");
_Static_assert(__builtin_offsetof(struct tenbin_shm_header, dataplane_heartbeat_ms) == 256, "no implicit padding");
_Static_assert(sizeof(struct tenbin_service) == 128, "service size");
_Static_assert(sizeof(struct tenbin_config_set) % TENBIN_CACHE_LINE == 0, "lut starts on a cache line");
_Static_assert(sizeof(struct tenbin_flow) == 64, "a flow entry is one cache line");
_Static_assert(sizeof(struct tenbin_lcore_state) == 64, "lcore state is one cache line");
_Static_assert(sizeof(struct tenbin_backend) == 64, "backend size");
_Static_assert(sizeof(struct tenbin_vip_slot) == 32, "vip slot size");
_Static_assert(sizeof(struct tenbin_neigh_key) == 32, "neigh key size");
_Static_assert(sizeof(struct tenbin_neigh_state) == 32, "neigh state size");
_Static_assert(sizeof(struct tenbin_flow_table_hdr) == 64, "flow table header size");
_Static_assert(sizeof(struct tenbin_flow_hop) == 16, "flow hop size");
_Static_assert(sizeof(struct tenbin_lcore_counters) % TENBIN_CACHE_LINE == 0, "counters");
_Static_assert((TENBIN_VIP_SLOTS & (TENBIN_VIP_SLOTS - 1)) == 0, "vip slots power of two");

/* The VIP table's hash, shared with control/shm (vip_hash.go): both sides must agree.
 * Folds the address words, port, proto and family, then a multiplicative mix. */
static inline uint32_t
tenbin_vip_hash(const uint8_t addr[16], uint16_t port, uint8_t proto, uint8_t family)
{
	uint32_t w[4];
	uint32_t h;

	/* The words are little-endian (as the Go side reads them): one 16-byte load on the
	 * little-endian machines DPDK runs on, instead of sixteen byte loads. */
	_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "tenbin_vip_hash assumes little-endian");
	__builtin_memcpy(w, addr, sizeof(w));
	h = w[0] * 0x9e3779b1u;
	h = (h ^ w[1]) * 0x85ebca77u;
	h = (h ^ w[2]) * 0xc2b2ae3du;
	h = (h ^ w[3]) * 0x27d4eb2fu;
	h ^= ((uint32_t)port << 16) | ((uint32_t)proto << 8) | family;
	h *= 0x9e3779b1u;
	return h ^ (h >> 15);
}

#endif /* TENBIN_SHM_H */
