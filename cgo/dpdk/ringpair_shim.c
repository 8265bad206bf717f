#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "shim.h"

/* Creates an empty single-producer, single-consumer ring: each port queue
 * has one lcore. Returns 0 or -rte_errno. */
int tb_ring_create(const char *name, unsigned int size, int socket)
{
	struct rte_ring *r;

	r = rte_ring_create(name, size, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
	return r == NULL ? -rte_errno : 0;
}

/* Makes a net_ring port that receives from rx_ring and sends into tx_ring.
 * Returns the port id or -rte_errno. */
int tb_ring_port(const char *port_name, const char *rx_ring,
		 const char *tx_ring, unsigned int socket)
{
	struct rte_ring *rx = rte_ring_lookup(rx_ring);
	struct rte_ring *tx = rte_ring_lookup(tx_ring);
	int port;

	if (rx == NULL || tx == NULL)
		return -ENOENT;
	port = rte_eth_from_rings(port_name, &rx, 1, &tx, 1, socket);
	if (port < 0)
		return rte_errno > 0 ? -rte_errno : -EINVAL;
	return port;
}

/* Frees a ring, and the mbufs still queued in it, if it still exists (the
 * port may have freed it already). */
void tb_ring_free_by_name(const char *name)
{
	struct rte_ring *r = rte_ring_lookup(name);
	void *m;

	if (r == NULL)
		return;
	while (rte_ring_dequeue(r, &m) == 0)
		rte_pktmbuf_free(m);
	rte_ring_free(r);
}
