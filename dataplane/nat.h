/* SPDX-License-Identifier: BSD-3-Clause
 *
 * nat.h — the L4 switch: nat (DNAT) and fnat (DNAT + SNAT to a local address), both
 * directions through the balancer.
 *
 * A connection is a pair of entries in the flow table of the lcore that saw its first packet
 * (the owner): the forward entry, keyed by the client's tuple (client → VIP), and the reverse
 * entry, keyed by the server's reply tuple (backend → client for nat, backend → local address
 * for fnat). Each names the other in `peer`. The rewrite targets come from the other entry's
 * key: forward packets take the reverse key's addresses and ports, replies the forward key's.
 *
 * Across lcores (README, "NAT across lcores"): only the owner inserts, frees or reuses its
 * entries. A reply may arrive on any lcore; it finds the reverse entry by reading the
 * owner's table without locks (the owner publishes a pair with a release store of the
 * reverse entry's `sig`; readers load it with acquire and check it again after copying what
 * they need). fnat source ports encode the owner (port % n_lcores == slot), so an fnat reply
 * goes straight to the right table; a nat reply tries its own table, then the others. A
 * reply lcore writes only three words of the owner's entries, atomically: the forward entry's
 * rev_flags (OR), its state, and both entries' expires_ms (compare-and-swap from the value it
 * validated, so a way the owner reused meanwhile is left alone).
 */
#ifndef TENBIN_NAT_H
#define TENBIN_NAT_H

#include <stdint.h>

#include "dataplane.h"
#include "flow.h"
#include "parse.h"

/* tenbin_flow.flags of nat/fnat entries. TENBIN_FF_NAT is defined in flow.h (release needs it). */
enum tenbin_nat_flag {
	TENBIN_FF_REV     = 1u << 1, /* the reverse entry of the pair */
	TENBIN_FF_FNAT    = 1u << 2, /* holds an fnat source port */
	TENBIN_FF_FWD_ACK = 1u << 3, /* the client acknowledged the server's SYN-ACK */
	TENBIN_FF_FWD_FIN = 1u << 4,
	TENBIN_FF_FWD_RST = 1u << 5,
	TENBIN_FF_TOA     = 1u << 6, /* the client address option went out on the handshake's ACK */
};

/* tenbin_flow.rev_flags: what the server sent, set by whichever lcore saw it. */
enum tenbin_nat_rev_flag {
	TENBIN_RF_SYNACK = 1u << 0,
	TENBIN_RF_FIN    = 1u << 1,
	TENBIN_RF_RST    = 1u << 2,
};

/* tenbin_flow.state of a nat/fnat forward entry: TCP seen from both sides (IPVS's table,
 * folded). Values shared with enum tenbin_flow_state keep their meaning. */
enum tenbin_nat_state {
	TENBIN_NS_SYN_SENT  = TENBIN_FS_SYN,
	TENBIN_NS_EST       = TENBIN_FS_EST,
	TENBIN_NS_FIN_WAIT  = TENBIN_FS_FIN, /* one side sent FIN */
	TENBIN_NS_UDP       = TENBIN_FS_UDP,
	TENBIN_NS_SYN_RECV  = TENBIN_FS_NAT_SYN_RECV, /* the server answered SYN-ACK */
	TENBIN_NS_TIME_WAIT = TENBIN_FS_NAT_TIME_WAIT, /* both sides sent FIN */
	TENBIN_NS_CLOSE     = TENBIN_FS_NAT_CLOSE,     /* RST from either side */
};

#define TENBIN_NAT_CLOSE_MS   10000u /* after a RST (IPVS's CLOSE): short, so the tuple frees soon */
#define TENBIN_NAT_SLACK_MS   1000u  /* expiry is rewritten only when it moves this much, so the
				      * owner's and a reply lcore's writes rarely share a line */
#define TENBIN_NAT_PORT_MIN   1024u  /* default fnat source port range */
#define TENBIN_NAT_PORT_MAX   65535u
#define TENBIN_NAT_PORT_TRIES 64u    /* candidates tried per local address before nat_no_port */

#define TENBIN_TCP_FIN 0x01
#define TENBIN_TCP_SYN 0x02
#define TENBIN_TCP_RST 0x04
#define TENBIN_TCP_ACK 0x10

/* A connection found from a reply's tuple, possibly in another lcore's table. fwd is a copy
 * taken while the pair was valid; fwd_e/rev_e point at the live entries for the atomic
 * updates. */
struct tenbin_nat_conn {
	struct tenbin_flow fwd;
	struct tenbin_flow_hop hop;
	struct tenbin_flow *fwd_e, *rev_e;
	uint32_t rev_expires;
	uint32_t slot;
};

/* The connection state from what each side sent. */
static inline uint8_t tenbin_nat_tcp_state(uint8_t ff, uint8_t rf)
{
	if ((ff & TENBIN_FF_FWD_RST) || (rf & TENBIN_RF_RST))
		return TENBIN_NS_CLOSE;
	if ((ff & TENBIN_FF_FWD_FIN) && (rf & TENBIN_RF_FIN))
		return TENBIN_NS_TIME_WAIT;
	if ((ff & TENBIN_FF_FWD_FIN) || (rf & TENBIN_RF_FIN))
		return TENBIN_NS_FIN_WAIT;
	if (ff & TENBIN_FF_FWD_ACK)
		return TENBIN_NS_EST;
	if (rf & TENBIN_RF_SYNACK)
		return TENBIN_NS_SYN_RECV;
	return TENBIN_NS_SYN_SENT;
}

/* Idle timeout of a connection in state st: the service's classes (SYN for both handshake
 * states, FIN for FIN_WAIT and TIME_WAIT), TENBIN_NAT_CLOSE_MS after a RST. */
static inline uint32_t tenbin_nat_timeout_ms(const struct tenbin_service *s, uint8_t st)
{
	uint32_t fin;

	switch (st) {
	case TENBIN_NS_SYN_RECV:
		return tenbin_flow_timeout_ms(s, TENBIN_FS_SYN);
	case TENBIN_NS_TIME_WAIT:
		return tenbin_flow_timeout_ms(s, TENBIN_FS_FIN);
	case TENBIN_NS_CLOSE:
		fin = tenbin_flow_timeout_ms(s, TENBIN_FS_FIN);
		return fin < TENBIN_NAT_CLOSE_MS ? fin : TENBIN_NAT_CLOSE_MS;
	default:
		return tenbin_flow_timeout_ms(s, st);
	}
}

/* Lcore slot s's flow entries and hops (any slot: replies read the owner's). */
static inline struct tenbin_flow *tenbin_nat_table(const struct tenbin_worker *w, uint32_t s)
{
	return (struct tenbin_flow *)(w->base + w->hdr->flows_offset + (uint64_t)s * w->hdr->flows_size +
				      sizeof(struct tenbin_flow_table_hdr));
}

static inline struct tenbin_flow_hop *tenbin_nat_hops(const struct tenbin_worker *w, uint32_t s)
{
	return (struct tenbin_flow_hop *)(tenbin_nat_table(w, s) + w->hdr->flow_entries);
}

/* 1 when the active set has nat/fnat services and the region has room for hops. */
int tenbin_nat_on(struct tenbin_worker *w);

/* Client → VIP packet of a nat/fnat service svc (k, sig: its flow key). */
int tenbin_nat_forward(struct tenbin_worker *w, struct tenbin_pkt *p, const struct tenbin_hdrs *h,
		       uint16_t svc, const struct tenbin_flow_key *k, uint32_t sig);

/* TCP/UDP packet to an address that is no VIP (rk, sig: its flow key as received): a
 * server's reply, if a pair knows its tuple. Returns TENBIN_DROP_NO_VIP for what is no reply
 * of ours. */
int tenbin_nat_reply(struct tenbin_worker *w, struct tenbin_pkt *p, const struct tenbin_hdrs *h,
		     const struct tenbin_flow_key *rk, uint32_t sig);

/* Finds the connection whose reverse key is k, in every lcore's table (own first). */
int tenbin_nat_lookup(const struct tenbin_worker *w, const struct tenbin_flow_key *k, uint32_t sig,
		      struct tenbin_nat_conn *c);

/* The owner's view after a client packet of proto with tcp flags: the forward entry fe's
 * flags and state, both entries' expiry (re: the reverse entry). */
void tenbin_nat_track_forward(struct tenbin_worker *w, const struct tenbin_service *s, struct tenbin_flow *fe,
			      struct tenbin_flow *re, uint8_t proto, uint8_t tcp_flags);

/* Keeps a connection's state and expiry from a reply with tcp flags (any lcore). */
void tenbin_nat_track_reply(struct tenbin_worker *w, const struct tenbin_service *s,
			    const struct tenbin_nat_conn *c, uint8_t proto, uint8_t tcp_flags);

/* fnat: picks a local address of service s and a source port for a connection to the
 * backend whose reply key is partly filled in rk (src, sport, proto, family): fills rk's dst
 * and dport, *rsig and the free way *rfw of the reverse entry. The port is one this lcore
 * owns (port % n_lcores == slot) and no live reverse entry holds the tuple. Returns
 * TENBIN_OK or TENBIN_DROP_NAT_NO_PORT. */
int tenbin_nat_port_alloc(struct tenbin_worker *w, const struct tenbin_service *s, uint32_t spread,
			  struct tenbin_flow_key *rk, uint32_t *rsig, struct tenbin_flow **rfw,
			  uint8_t *local_idx);

/* Rewrites the addresses of the IP header at f + h->l3_off and, for TCP/UDP, the ports
 * (src/dst NULL: keep that side), with incremental IPv4 header and TCP/UDP checksum updates
 * (an L4 checksum past h->l3_end, as in a truncated quote, is left alone). ttl: also
 * decrement the TTL / hop limit. */
void tenbin_nat_rewrite_ip(uint8_t *f, const struct tenbin_hdrs *h, const uint8_t *src, uint16_t sport_be,
			   const uint8_t *dst, uint16_t dport_be, int ttl);

static inline void tenbin_nat_rewrite(uint8_t *f, const struct tenbin_hdrs *h, const uint8_t *src,
				      uint16_t sport_be, const uint8_t *dst, uint16_t dport_be)
{
	tenbin_nat_rewrite_ip(f, h, src, sport_be, dst, dport_be, 1);
}

/* fnat: our local address for connection fe, from its slot in the config set: the writer
 * (control/shm/writer.go) keeps a slot's address while any lcore counts connections on it
 * (local_conns), so the slot names the address the connection was given. NULL when the
 * slot holds no address of fe's family (a set not written that way); the caller then
 * takes the reverse entry's key. */
static inline const uint8_t *tenbin_nat_local_addr(const struct tenbin_config_set *cs, const struct tenbin_flow *fe)
{
	const struct tenbin_local_addr *la;

	if (fe->nat_addr >= TENBIN_MAX_LOCAL_ADDRS)
		return NULL;
	la = &cs->local_addrs[fe->nat_addr];
	return la->family == fe->family ? la->addr : NULL;
}

/* A client's packet on its way to the backend (fe: the forward entry, its backend already
 * checked: same slot, same incarnation). Everything comes from fe and the config set, so
 * the reverse entry re — another line, often a cache miss — is not read: nat's destination
 * is the backend's address and port, the very values the reverse entry's key was made of
 * (a backend's incarnation changes with its address or port); fnat's source is the local
 * address in fe's slot and fe's own copy of the source port. */
static inline void tenbin_nat_rewrite_forward(const struct tenbin_config_set *cs, uint8_t *f, const struct tenbin_hdrs *h,
					      const struct tenbin_flow *fe, const struct tenbin_flow *re)
{
	const struct tenbin_backend *be = &cs->backends[fe->backend];
	uint16_t port_be = be->port ? rte_cpu_to_be_16(be->port) : fe->dport_be;

	if (fe->flags & TENBIN_FF_FNAT) {
		const uint8_t *la = tenbin_nat_local_addr(cs, fe);

		tenbin_nat_rewrite(f, h, la != NULL ? la : re->dst, fe->nat_port_be, be->addr, port_be);
	} else {
		tenbin_nat_rewrite(f, h, NULL, 0, be->addr, port_be);
	}
}

/* A server's reply on its way to the client: the source the VIP and port the client spoke
 * to (fe: the forward entry), and for fnat the destination too, the client. */
static inline void tenbin_nat_rewrite_reply(uint8_t *f, const struct tenbin_hdrs *h, const struct tenbin_flow *fe)
{
	if (fe->flags & TENBIN_FF_FNAT)
		tenbin_nat_rewrite(f, h, fe->dst, fe->dport_be, fe->src, fe->sport_be);
	else
		tenbin_nat_rewrite(f, h, fe->dst, fe->dport_be, NULL, 0);
}

/* The checksum to store for the L4 message f[h->l4_off .. h->l3_end) of protocol proto, its
 * own checksum field counted as zero by the caller: with the pseudo-header for TCP, UDP and
 * ICMPv6, without for ICMP. */
uint16_t tenbin_l4_cksum(const uint8_t *f, const struct tenbin_hdrs *h, uint8_t proto);

/* TCP option edits (nattcp.c). Lower the MSS option of a SYN to min(max, mss - shrink);
 * returns 1 if it changed. Insert the client address option (TOA, kind 254: port and
 * address, as DPVS sends it) for addr/port; returns 1 if it was inserted (it moves p->off
 * and grows p->len and h->l3_end), 0 when the header or the headroom has no room. */
#define TENBIN_TCPOPT_TOA 254
static inline unsigned tenbin_toa_len(uint8_t family) { return family == 4 ? 8 : 20; }
int tenbin_tcp_clamp_mss(uint8_t *f, const struct tenbin_hdrs *h, uint16_t max, uint16_t shrink);
int tenbin_tcp_add_toa(struct tenbin_pkt *p, struct tenbin_hdrs *h, const uint8_t *addr, uint16_t port_be);

/* ICMP errors about nat/fnat connections (naticmp.c). To the backend: an error the client
 * side sent to the VIP about a reply (e: the forward entry, possibly another lcore's). To
 * the client: an error the server side sent about a forwarded packet; returns
 * TENBIN_DROP_NO_VIP when it is none of ours. */
int tenbin_nat_icmp_to_backend(struct tenbin_worker *w, struct tenbin_pkt *p, const struct tenbin_hdrs *h,
			       const struct tenbin_flow *e);
int tenbin_nat_icmp_to_client(struct tenbin_worker *w, struct tenbin_pkt *p, const struct tenbin_hdrs *h);

/* Sends p toward the client of a connection: the hop its first packet came from. */
int tenbin_nat_emit_to_client(const struct tenbin_worker *w, struct tenbin_pkt *p, const struct tenbin_hdrs *h,
			      const struct tenbin_flow_hop *hop);

/* 1 when addr is one of the set's fnat local addresses. */
int tenbin_nat_is_local(const struct tenbin_config_set *cs, const uint8_t *addr, uint8_t family);

#endif /* TENBIN_NAT_H */
