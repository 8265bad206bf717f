#!/usr/bin/env bash
# memory.sh — memory per flow. The flow entry is 64 bytes by the ABI (struct tenbin_flow);
# this step fills flow tables of 2^20 (1M) and 2^24 (16M, the power of two above 10M)
# entries per lcore with a mix of MEM_FLOWS distinct flows (default 1M; quick: 64k) and
# records, per table: the dataplane's VmRSS, the region's size, the region pages actually
# in memory (tmpfs blocks of the file: the flow table's pages are allocated when first
# touched) and the flows found in the table. Records: part "memory".
#
# A 10M-flow mix is not replayed: net_pcap with infinite_rx keeps the whole capture in
# mbufs (~2.4 KB each), 24 GB for 10M frames. 1M flows hashed over a 16M-entry table touch
# nearly every page of it, so the resident region of the 16M table is already its full size.
source "$(dirname "$0")/lib.sh"

if [[ -n $BENCH_QUICK && $BENCH_QUICK != 0 ]]; then
	MEM_FLOWS=${MEM_FLOWS:-65536}
	FILL_SECONDS=1
else
	MEM_FLOWS=${MEM_FLOWS:-1048576}
	FILL_SECONDS=3
fi
FLOWGEN=${FLOWGEN:-$BENCH_OUT/bin/flowgen}

record --part memory --name "bytes per flow entry" --value 64 --unit B --extra "source=struct tenbin_flow (ABI)"
if ! dataplane_usable; then
	for e in 1M 16M; do not_measured memory "dataplane, $e-entry table" "$DATAPLANE_PROBLEM"; done
	exit 0
fi
pcap=$BENCH_TMP/mem-flows.pcap
"$FLOWGEN" -o "$pcap" -flows "$MEM_FLOWS" >&2 || exit 1
# The capture lives in mbufs: room for it plus the rings, and memory for the pool.
mbufs=$((MEM_FLOWS + 16384))
mem=$((mbufs * 2560 / 1048576 + 512))
for entries in 1048576 16777216; do
	name="dataplane, $((entries >> 20))M-entry table"
	log "memory: $name, $MEM_FLOWS flows"
	TENBIN_ARGS="--flow-entries $entries --lcore-slots 1 --mbufs $mbufs --mem $mem" \
		tenbin_start "memory-$entries" l2dsr 1 "$(pcap_dev "$pcap")" "$NULL_DEV" ||
		{ not_measured memory "$name" "$TENBIN_PROBLEM"; continue; }
	# FILL_SECONDS of traffic: the capture goes round many times at any rate above 0.1 Mpps.
	"$BENCHCTL" memory --shm "$TENBIN_SHM" --pid "$BENCH_PID" --fill "$FILL_SECONDS" --offered-flows "$MEM_FLOWS" \
		--out "$RAW" --part memory --name "$name"
	tenbin_stop
done
not_measured memory "control plane" "the control daemon (tenbin) is not part of this benchmark yet; benchctl publishes instead"
