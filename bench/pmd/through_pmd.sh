#!/usr/bin/env bash
# through_pmd.sh — tenbin-dataplane beside dpdk-testpmd on the same vdevs: net_pcap
# replaying flowgen's mix (infinite_rx=1) → net_null. Each repeat runs every contender once,
# interleaved, so a noisy neighbour slows them alike. One forwarding core each: testpmd
# -l 0,1 forwards on lcore 1 (lcore 0 only prints statistics); tenbin --lcores 1 polls on
# lcore 1. Records: part "pmd", Mpps leaving the null port (testpmd's port 1 Tx-pps, tenbin's
# region tx_pkts), one record per run.
source "$(dirname "$0")/lib.sh"

PCAP=$(pcap_dev "$FLOWS_PCAP")
TENBIN_MODES=(passthrough l2dsr l3dsr)
usable=1
dataplane_usable || usable=0

for ((rep = 1; rep <= REPEATS; rep++)); do
	for mode in io macswap; do
		log "pmd: testpmd $mode, run $rep/$REPEATS"
		new_prefix "pmd-$mode-$rep"
		logf=$LOGS/pmd-testpmd-$mode-$rep.log
		testpmd_measure "$logf" --no-huge --no-pci -m 1024 -l 0,1 --file-prefix "$PREFIX" \
			--vdev "$PCAP" --vdev "$NULL_DEV" -- \
			--total-num-mbufs=16384 --forward-mode="$mode" --auto-start --stats-period 1
		testpmd_record "$logf" 1 tx pmd "testpmd $mode" "$rep"
	done
	for mode in "${TENBIN_MODES[@]}"; do
		if ((!usable)); then
			((rep == 1)) && not_measured pmd "tenbin $mode" "$DATAPLANE_PROBLEM"
			continue
		fi
		log "pmd: tenbin $mode, run $rep/$REPEATS"
		if ! tenbin_start "pmd-tenbin-$mode-$rep" "$mode" 1 "$PCAP" "$NULL_DEV"; then
			not_measured pmd "tenbin $mode" "$TENBIN_PROBLEM"
			continue
		fi
		tenbin_rate pmd "tenbin $mode" "$rep"
		tenbin_stop
	done
done
