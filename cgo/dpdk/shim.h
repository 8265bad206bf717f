/*
 * C shims for package dpdk: each wraps a DPDK macro, inline function or
 * bitfield that cgo cannot call or read directly, or reads rte_errno in
 * the same C call that set it (a goroutine may change OS threads between
 * two cgo calls, and rte_errno is thread-local).
 *
 * This header names DPDK types only by forward declaration, so Go files
 * that export functions to C can include it without pulling in DPDK's
 * static inline definitions.
 */
#ifndef TENBIN_CGO_DPDK_SHIM_H
#define TENBIN_CGO_DPDK_SHIM_H

#include <stddef.h>
#include <stdint.h>

struct rte_mempool;
struct rte_mbuf;

/* eal_shim.c */
int tb_eal_init(int argc, char **argv, int capture_fd);
int tb_eal_cleanup(void);

/* log_shim.c */
int tb_log_capture(void);

/* lcore_shim.c */
unsigned int tb_lcore_id(void);
int tb_lcore_is_running(unsigned int lcore);
void *tb_go_lcore_entry_ptr(void);
void *tb_handle_arg(uintptr_t handle);

/* mempool_shim.c */
struct rte_mempool *tb_pktmbuf_pool_create(const char *name, unsigned int n,
					   unsigned int cache_size,
					   uint16_t data_room_size,
					   int socket_id, int allow_packed, int *err,
					   int *packed);
unsigned int tb_mempool_mbufs(struct rte_mempool *mp, uintptr_t *buf_addr,
			      uint64_t *buf_iova, unsigned int cap);

/* ethdev_shim.c */
int tb_eth_configure(uint16_t port, uint16_t nb_rx, uint16_t nb_tx, int rss,
		     uint16_t mtu);
struct tb_link {
	uint32_t speed_mbps;
	int up;
	int full_duplex;
	int autoneg;
};
int tb_eth_link(uint16_t port, struct tb_link *link);
int tb_eth_socket_id(uint16_t port, int *socket);

/* ringpair_shim.c */
int tb_ring_port(const char *port_name, const char *rx_ring,
		 const char *tx_ring, unsigned int socket);
int tb_ring_create(const char *name, unsigned int size, int socket);
void tb_ring_free_by_name(const char *name);

/* burst_shim.c: copies between Go byte slices and mbufs, for tests only. */
uint16_t tb_rx_burst(uint16_t port, uint16_t queue, struct rte_mbuf **pkts,
		     uint16_t n);
uint16_t tb_tx_burst(uint16_t port, uint16_t queue, struct rte_mbuf **pkts,
		     uint16_t n);
struct rte_mbuf *tb_mbuf_from_bytes(struct rte_mempool *mp, const void *data,
				    uint32_t len);
uint32_t tb_mbuf_pkt_len(const struct rte_mbuf *m);
int tb_mbuf_copy_out(const struct rte_mbuf *m, void *buf, uint32_t len);
void tb_mbuf_free(struct rte_mbuf *m);

#endif
