/* SPDX-License-Identifier: BSD-3-Clause
 *
 * kernel.h — which packets belong to the host stack when a data port has a kernel tap
 * (tap.h): the exception path DPVS users know from KNI and virtio-user.
 *
 * The decision is one bit per ingress port in the worker (tenbin_worker.kernel_ports),
 * looked at only for a packet tenbin_process was about to drop, so a port without a tap
 * costs nothing per packet and drops exactly as before. On a port with one, what is not a
 * VIP's goes to the kernel instead of being dropped (counted as kernel_pkts):
 *   no_vip      TCP/UDP/ICMP/other IP to an address no service has (and no NAT reply)
 *   not_for_us  ARP and NDP the dataplane does not answer itself
 *   non_ip      frames of other ethertypes (LLDP, ...)
 *   no_config   everything, before the control plane has published a config set
 *   fragment    a later fragment whose destination is no VIP's and no local address's
 * Malformed frames still drop under their reason; ICMP to a VIP that does not answer echo
 * stays `not_for_us`.
 */
#ifndef TENBIN_KERNEL_H
#define TENBIN_KERNEL_H

#include "dataplane.h"
#include "parse.h"
#include "process.h"

/* The drop reason r of p, or TENBIN_OK with p->verdict = KERNEL when the kernel takes it.
 * Called for dropped packets only. */
int tenbin_kernel_claim_dropped(const struct tenbin_worker *w, struct tenbin_pkt *p,
				const struct tenbin_prepared *pp, int r);

static inline int tenbin_kernel_claim(const struct tenbin_worker *w, struct tenbin_pkt *p,
				      const struct tenbin_prepared *pp, int r)
{
	if (((w->kernel_ports >> (p->in_port & 31)) & 1) == 0)
		return r;
	return tenbin_kernel_claim_dropped(w, p, pp, r);
}

#endif /* TENBIN_KERNEL_H */
