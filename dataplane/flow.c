/* SPDX-License-Identifier: BSD-3-Clause */
#include "flow.h"

uint32_t tenbin_flow_sweep(struct tenbin_worker *w, uint32_t buckets)
{
	uint32_t cur = w->ft->sweep_cursor;
	uint32_t freed = 0;

	while (buckets--) {
		struct tenbin_flow *b = &w->flows[(size_t)(cur & w->bucket_mask) * TENBIN_FLOW_BUCKET_WAYS];
		int i;

		for (i = 0; i < TENBIN_FLOW_BUCKET_WAYS; i++) {
			if (b[i].sig != 0 && tenbin_flow_expired(&b[i], w->now32)) {
				tenbin_flow_release(w, &b[i]);
				freed++;
			}
		}
		cur = (cur + 1) & w->bucket_mask;
	}
	/* The cursor walks the table a bucket per busy poll: fetch the next one now, so the
	 * next poll does not stall on it (at 2^18 entries it is never still in cache). */
	tenbin_flow_prefetch(w, cur);
	w->ft->sweep_cursor = cur;
	w->ctr->global[TENBIN_CTR_FLOW_EXPIRED] += freed;
	return freed;
}

const struct tenbin_flow *tenbin_flow_find_any(const struct tenbin_worker *w,
					       const struct tenbin_flow_key *k, uint32_t sig)
{
	uint32_t slot;

	for (slot = 0; slot < w->hdr->n_lcores; slot++) {
		const struct tenbin_flow *b = (const struct tenbin_flow *)(w->base + w->hdr->flows_offset +
			(uint64_t)slot * w->hdr->flows_size + sizeof(struct tenbin_flow_table_hdr));
		int i;

		b += (size_t)(sig & w->bucket_mask) * TENBIN_FLOW_BUCKET_WAYS;
		for (i = 0; i < TENBIN_FLOW_BUCKET_WAYS; i++) {
			if (b[i].sig == sig && !tenbin_flow_expired(&b[i], w->now32) &&
			    memcmp(b[i].src, k, TENBIN_FLOW_KEY_LEN) == 0)
				return &b[i];
		}
	}
	return NULL;
}
