#!/usr/bin/env bash
# publish_load.sh — packets lost across publishes: tenbin forwards flowgen's mix in l2dsr
# (net_pcap → net_null, 1 lcore) while benchctl publishes PUBLISHES config sets (default
# 1000), alternating 16 and 17 backends so every publish swaps in a different Maglev table.
# After the dataplane stops, every packet received since the first config was live must have
# been sent: lost = drops since then + (rx - tx - kernel - drops) of the final counters.
# Records: part "publish": "publish latency" (µs, median; p99 and max beside it) and
# "lost across publishes" (packets).
source "$(dirname "$0")/lib.sh"

PUBLISHES=${PUBLISHES:-1000}
if ! dataplane_usable; then
	not_measured publish "publish latency" "$DATAPLANE_PROBLEM"
	not_measured publish "lost across publishes" "$DATAPLANE_PROBLEM"
	exit 0
fi
log "publish: $PUBLISHES publishes under l2dsr load"
if ! tenbin_start publish-load l2dsr 1 "$(pcap_dev "$FLOWS_PCAP")" "$NULL_DEV"; then
	not_measured publish "publish latency" "$TENBIN_PROBLEM"
	not_measured publish "lost across publishes" "$TENBIN_PROBLEM"
	exit 0
fi
state=$BENCH_TMP/churn-before.json
"$BENCHCTL" churn --shm "$TENBIN_SHM" --pid "$BENCH_PID" --publishes "$PUBLISHES" --state "$state" \
	--out "$RAW" --part publish --name "publish latency"
bench_stop "$BENCH_PID" TERM # the counters are final only once the lcores have stopped
"$BENCHCTL" lost --shm "$TENBIN_SHM" --state "$state" --out "$RAW" --part publish --name "lost across publishes"
rm -f "$TENBIN_SHM"
