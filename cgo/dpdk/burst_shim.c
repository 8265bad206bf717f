#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "shim.h"

/*
 * Test-only adapters: the dataplane's C loops call rte_eth_rx_burst and
 * rte_eth_tx_burst themselves and never come through here.
 */

uint16_t tb_rx_burst(uint16_t port, uint16_t queue, struct rte_mbuf **pkts,
		     uint16_t n)
{
	return rte_eth_rx_burst(port, queue, pkts, n);
}

uint16_t tb_tx_burst(uint16_t port, uint16_t queue, struct rte_mbuf **pkts,
		     uint16_t n)
{
	return rte_eth_tx_burst(port, queue, pkts, n);
}

struct rte_mbuf *tb_mbuf_from_bytes(struct rte_mempool *mp, const void *data,
				    uint32_t len)
{
	struct rte_mbuf *m;
	char *dst;

	if (len > UINT16_MAX)
		return NULL;
	m = rte_pktmbuf_alloc(mp);
	if (m == NULL)
		return NULL;
	dst = rte_pktmbuf_append(m, (uint16_t)len);
	if (dst == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	rte_memcpy(dst, data, len);
	return m;
}

uint32_t tb_mbuf_pkt_len(const struct rte_mbuf *m)
{
	return rte_pktmbuf_pkt_len(m);
}

/* Copies a whole packet, across segments, into buf (len bytes). */
int tb_mbuf_copy_out(const struct rte_mbuf *m, void *buf, uint32_t len)
{
	const void *p = rte_pktmbuf_read(m, 0, len, buf);

	if (p == NULL)
		return -1;
	if (p != buf)
		rte_memcpy(buf, p, len);
	return 0;
}

void tb_mbuf_free(struct rte_mbuf *m)
{
	rte_pktmbuf_free(m);
}
