#include <stdio.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_mbuf_pool_ops.h>
#include <rte_memzone.h>

#include "shim.h"

static void packed_chunk_free(struct rte_mempool_memhdr *memhdr __rte_unused, void *opaque)
{
	rte_memzone_free(opaque);
}

/* Packet mbufs laid end to end in one memzone, as rte_pktmbuf_pool_create lays them on
 * hugepages. Without hugepages DPDK keeps each object inside one 4 KiB page, in case its
 * buffer must be physically contiguous; a 2.3 KiB mbuf then sits alone at the start of its
 * page, so every mbuf header falls in the same L1 cache set, and so does every frame's
 * first line: a burst's own lines evict each other (testpmd macswap doubles its rate on
 * packed buffers). With IOVA as VA, which is the only mode without hugepages, virtually
 * contiguous memory is IOVA-contiguous, so an mbuf may cross a page and nothing is lost. */
static struct rte_mempool *packed_pool_create(const char *name, unsigned int n, unsigned int cache_size,
					      uint16_t data_room_size, int socket_id)
{
	struct rte_pktmbuf_pool_private priv = { .mbuf_data_room_size = data_room_size };
	char mz_name[RTE_MEMZONE_NAMESIZE];
	const struct rte_memzone *mz;
	struct rte_mempool *mp;
	size_t size;
	int r;

	if (snprintf(mz_name, sizeof(mz_name), "MP_%s_pk", name) >= (int)sizeof(mz_name)) {
		rte_errno = ENAMETOOLONG;
		return NULL;
	}
	/* NO_IOVA_CONTIG lets objects cross pages; their IOVAs are still right (below). */
	mp = rte_mempool_create_empty(name, n, sizeof(struct rte_mbuf) + data_room_size, cache_size, sizeof(priv),
				      socket_id, RTE_MEMPOOL_F_NO_IOVA_CONTIG);
	if (mp == NULL)
		return NULL;
	r = rte_mempool_set_ops_byname(mp, rte_mbuf_best_mempool_ops(), NULL);
	if (r != 0)
		goto fail;
	rte_pktmbuf_pool_init(mp, &priv);
	/* What the ring ops' calc_mem_size gives when page boundaries do not matter (its
	 * wrapper is internal to DPDK): the objects with their headers, end to end. */
	size = (size_t)n * (mp->header_size + mp->elt_size + mp->trailer_size);
	mz = rte_memzone_reserve_aligned(mz_name, size, socket_id, 0, RTE_CACHE_LINE_SIZE);
	if (mz == NULL) {
		r = -rte_errno;
		goto fail;
	}
	r = rte_mempool_populate_iova(mp, mz->addr, mz->iova, mz->len, packed_chunk_free, (void *)(uintptr_t)mz);
	if (r < 0) {
		rte_memzone_free(mz);
		goto fail;
	}
	if (mp->populated_size != n) {
		r = -ENOMEM;
		goto fail;
	}
	rte_mempool_obj_iter(mp, rte_pktmbuf_init, NULL);
	return mp;
fail:
	rte_mempool_free(mp);
	rte_errno = -r;
	return NULL;
}

struct rte_mempool *tb_pktmbuf_pool_create(const char *name, unsigned int n,
					   unsigned int cache_size,
					   uint16_t data_room_size,
					   int socket_id, int allow_packed, int *err, int *packed)
{
	struct rte_mempool *mp;

	/* Only the ring and stack ops size their memory by objects alone; others (bucket,
	 * hardware pools) keep DPDK's layout. */
	*packed = allow_packed && !rte_eal_has_hugepages() && rte_eal_iova_mode() == RTE_IOVA_VA &&
		  (strncmp(rte_mbuf_best_mempool_ops(), "ring_", 5) == 0 ||
		   strcmp(rte_mbuf_best_mempool_ops(), "stack") == 0);
	if (*packed)
		mp = packed_pool_create(name, n, cache_size, data_room_size, socket_id);
	else
		mp = rte_pktmbuf_pool_create(name, n, cache_size, 0, data_room_size, socket_id);
	*err = mp == NULL ? rte_errno : 0;
	return mp;
}

struct mbuf_walk {
	uintptr_t *addr;
	uint64_t *iova;
	unsigned int n, cap;
};

static void mbuf_walk_one(struct rte_mempool *mp __rte_unused, void *arg, void *obj, unsigned int i __rte_unused)
{
	struct mbuf_walk *w = arg;
	struct rte_mbuf *m = obj;

	if (w->n < w->cap) {
		w->addr[w->n] = (uintptr_t)m->buf_addr;
		w->iova[w->n] = rte_mbuf_iova_get(m);
	}
	w->n++;
}

unsigned int tb_mempool_mbufs(struct rte_mempool *mp, uintptr_t *buf_addr, uint64_t *buf_iova, unsigned int cap)
{
	struct mbuf_walk w = { buf_addr, buf_iova, 0, cap };

	rte_mempool_obj_iter(mp, mbuf_walk_one, &w);
	return w.n;
}
