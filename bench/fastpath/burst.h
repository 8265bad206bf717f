/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TB_BENCH_BURST_H
#define TB_BENCH_BURST_H

#include <stdint.h>

struct tenbin_worker;
struct tb_pkts;

struct tb_result {
	double seconds;     /* wall clock */
	double cpu_seconds; /* this thread on a CPU: excludes time other jobs took the core */
	uint64_t packets, sent, dropped;
};

struct tb_pkts *tb_pkts_new(const uint8_t *tmpl, uint16_t len, uint32_t n, uint32_t flows);
void tb_pkts_free(struct tb_pkts *p);
struct tenbin_worker *tb_worker(void *region, uint32_t slot);
void tb_run(struct tenbin_worker *w, struct tb_pkts *p, uint32_t passes, int restore,
	    uint64_t start_ms, uint64_t advance_ms, struct tb_result *out);

#endif
