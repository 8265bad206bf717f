/* SPDX-License-Identifier: BSD-3-Clause
 *
 * icmp.h — ICMP the dataplane answers or generates in place of the packet that caused it
 * (echo replies for VIPs, time exceeded), and reading the flow an ICMP error quotes.
 */
#ifndef TENBIN_ICMP_H
#define TENBIN_ICMP_H

#include "dataplane.h"
#include "flow.h"
#include "parse.h"

/* Turns an echo request into the echo reply, back out the ingress port. */
int tenbin_icmp_echo_reply(struct tenbin_worker *w, struct tenbin_pkt *p, const struct tenbin_hdrs *h);

/* Turns p into an ICMP time exceeded (v4) or hop limit exceeded (v6) for its sender, back
 * out the ingress port, within the per-lcore rate limit. Returns TENBIN_OK, or
 * TENBIN_DROP_TTL_EXCEEDED when no message may or can be sent. */
int tenbin_icmp_time_exceeded(struct tenbin_worker *w, struct tenbin_pkt *p, const struct tenbin_hdrs *h);

/* 1 for ICMP/ICMPv6 error types whose quoted header names a flow we forwarded. */
int tenbin_icmp_is_error(uint8_t family, uint8_t type);

/* Builds the key of the client flow an ICMP error quotes. The quoted packet went from the
 * VIP to the client (the backend answered directly), so the flow is its reverse. Returns
 * TENBIN_OK or a drop reason. */
int tenbin_icmp_quoted_flow(const uint8_t *f, const struct tenbin_hdrs *h, struct tenbin_flow_key *k);

#endif /* TENBIN_ICMP_H */
