/* SPDX-License-Identifier: BSD-3-Clause
 *
 * process.h — tenbin_process in the two halves a burst runs as two stages (lcore.c).
 *
 * tenbin_prepare parses a frame and, for TCP/UDP, builds its flow key and signature, so
 * stage 1 can prefetch every flow bucket of the burst before stage 2 runs
 * tenbin_process_prepared on any packet. The frame is parsed once; tenbin_process is the
 * two back to back (the fixture harness and the fuzzer run it so).
 */
#ifndef TENBIN_PROCESS_H
#define TENBIN_PROCESS_H

#include <stdint.h>

#include "dataplane.h"
#include "flow.h"
#include "parse.h"

/* A frame as tenbin_prepare left it for tenbin_process_prepared. */
struct tenbin_prepared {
	struct tenbin_hdrs h;
	struct tenbin_flow_key k; /* TCP/UDP only: the key as received (ports 0 for fragments) */
	uint32_t sig;             /* tenbin_flow_sig(&k), or 0 when there is no key */
	int32_t parsed;           /* tenbin_parse's result */
};

/* Parses p's frame into pp (nothing is counted yet and the config is not looked at). */
void tenbin_prepare(const struct tenbin_pkt *p, struct tenbin_prepared *pp);

/* The rest of tenbin_process for a prepared frame: counts rx, tx/kernel or the drop
 * reason. Returns p->verdict. */
int tenbin_process_prepared(struct tenbin_worker *w, struct tenbin_pkt *p, const struct tenbin_prepared *pp);

/* n frames in bursts of TENBIN_BURST, each as tenbin_process would: both stages, with
 * an express lane for flow hits of DSR services and of established nat/fnat connections
 * (burst.c, natexpress.c). Sets every frame's verdict. */
void tenbin_burst(struct tenbin_worker *w, struct tenbin_pkt *p, uint16_t n);

#endif /* TENBIN_PROCESS_H */
