#include <string.h>

#include <rte_errno.h>
#include <rte_ethdev.h>

#include "shim.h"

/*
 * Fills struct rte_eth_conf (unions and nested structs cgo handles poorly)
 * and configures the port. RSS asks only for the IP/TCP/UDP hash types the
 * device offers, so one call works on every driver.
 */
int tb_eth_configure(uint16_t port, uint16_t nb_rx, uint16_t nb_tx, int rss,
		     uint16_t mtu)
{
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf;
	int ret;

	memset(&conf, 0, sizeof(conf));
	conf.rxmode.mtu = mtu;
	if (rss && nb_rx > 1) {
		ret = rte_eth_dev_info_get(port, &info);
		if (ret < 0)
			return ret;
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf =
			(RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP) &
			info.flow_type_rss_offloads;
	}
	return rte_eth_dev_configure(port, nb_rx, nb_tx, &conf);
}

/* struct rte_eth_link keeps status, duplex and autoneg in bitfields. */
int tb_eth_link(uint16_t port, struct tb_link *link)
{
	struct rte_eth_link l;
	int ret;

	memset(&l, 0, sizeof(l));
	ret = rte_eth_link_get_nowait(port, &l);
	if (ret < 0)
		return ret;
	link->speed_mbps = l.link_speed;
	link->up = l.link_status == RTE_ETH_LINK_UP;
	link->full_duplex = l.link_duplex == RTE_ETH_LINK_FULL_DUPLEX;
	link->autoneg = l.link_autoneg == RTE_ETH_LINK_AUTONEG;
	return 0;
}

/* rte_eth_dev_socket_id returns -1 both for "any socket" and for errors. */
int tb_eth_socket_id(uint16_t port, int *socket)
{
	rte_errno = 0;
	*socket = rte_eth_dev_socket_id(port);
	if (*socket < 0 && rte_errno != 0)
		return -rte_errno;
	return 0;
}
