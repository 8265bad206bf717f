#include <rte_errno.h>
#include <rte_mbuf.h>

#include "shim.h"

struct rte_mempool *tb_pktmbuf_pool_create(const char *name, unsigned int n,
					   unsigned int cache_size,
					   uint16_t data_room_size,
					   int socket_id, int *err)
{
	struct rte_mempool *mp;

	mp = rte_pktmbuf_pool_create(name, n, cache_size, 0, data_room_size,
				     socket_id);
	*err = mp == NULL ? rte_errno : 0;
	return mp;
}
