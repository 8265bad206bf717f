#!/usr/bin/env bash
# through_pmd.sh — tenbin-dataplane beside dpdk-testpmd on the same vdevs: net_pcap
# replaying flowgen's mix (infinite_rx=1) → net_null. Each repeat runs every contender once,
# interleaved, so a noisy neighbour slows them alike. One forwarding core each: testpmd
# -l 0,1 forwards on lcore 1 (lcore 0 only prints statistics); tenbin --lcores 1 polls on
# lcore 1. Records: part "pmd", Mpps leaving the null port (testpmd's port 1 Tx-pps, tenbin's
# region tx_pkts), one record per run.
#
# Scaling 1 → 2 lcores runs in the same loop (part "scaling"): tenbin l2dsr with --lcores 0,1
# (a second rx_pcap queue, so each lcore replays the mix from its own queue) beside the
# 1-lcore figure above, and in the full run testpmd io with 2 forwarding cores. On this
# 2-core machine the second lcore takes the core testpmd and the OS leave for statistics,
# the Go runtime and everyone else, so 2 lcores show how far the loop scales when nothing
# else runs, not what a 2-core appliance would forward.
#
# NAT (issue 4) runs in the same loop, on the same vdevs, beside testpmd macswap and tenbin
# l2dsr: tenbin nat and fnat forward (client → VIP rewritten toward the backend; fnat also
# from a local address and source port of its pool). They replay the mix behind one opening
# SYN per flow (flowgen -open-of: each flow's SYN, then the ACK mix unchanged 7 times),
# because nat opens a connection only on a SYN and drops an ACK it holds no state for
# (nat_no_state), and no server answers here. Each SYN opens (or, replayed, finds) its
# flow's connection (fnat takes a source port for it: benchctl publish --flows refuses a
# pool that cannot hold every flow on one lcore, which would measure pool exhaustion); the
# ACKs that follow are established traffic: flow hit, rewrite, forward, 7 in 8 frames.
# tenbin l2dsr replays that same mix too ("tenbin l2dsr nat-mix"), the figure NAT is
# divided by: the mix holds 8192 frames where the plain one holds 1024, and net_pcap's
# replay of 8× the frames (a copy from each, ~1.5 MB of buffers cycling) costs every
# contender cache, so only the same mix compares like with like. Records: part
# "pmd", "tenbin nat", "tenbin fnat" and "tenbin l2dsr nat-mix". Any run that drops more than 1% of what it
# receives is recorded as not measured, with the drops by reason, instead of a rate.
source "$(dirname "$0")/lib.sh"

PCAP=$(pcap_dev "$FLOWS_PCAP")
PCAP2=$(pcap_dev "$FLOWS_PCAP" 2)
quick=0
[[ -n $BENCH_QUICK && $BENCH_QUICK != 0 ]] && quick=1
# The l2dsr goal rests on testpmd io, macswap (default and packed buffers) and tenbin l2dsr:
# they run every repeat. The others (2 lcores, nat, fnat, passthrough, l3dsr) run in the
# first 3 repeats of the full run, which keeps it near 20 minutes; the quick run gives 2
# lcores, nat and fnat one run each and leaves passthrough and l3dsr to the full run, to
# stay < 3 minutes. TENBIN_MODES (a list) picks the tenbin contenders, e.g.
# TENBIN_MODES="l2dsr nat fnat".
EXTRA_REPEATS=${EXTRA_REPEATS:-$( ((quick)) && echo 1 || echo $((REPEATS < 3 ? REPEATS : 3)))}
read -ra TENBIN_MODES <<<"${TENBIN_MODES:-$( ((quick)) && echo l2dsr nat fnat || echo passthrough l2dsr l3dsr nat fnat)}"
usable=1
dataplane_usable || usable=0

# The nat/fnat mix and how many flows it offers (the fnat pool must hold them).
NAT_MIX=${FLOWS_PCAP%.pcap}-open.pcap
NAT_PCAP=
NAT_FLOWS=
NAT_PROBLEM=
if ((usable)) && [[ " ${TENBIN_MODES[*]} " == *" nat "* || " ${TENBIN_MODES[*]} " == *" fnat "* ]]; then
	if out=$("$FLOWGEN" -open-of "$FLOWS_PCAP" -o "$NAT_MIX" 2>&1); then
		log "$out"
		NAT_FLOWS=$(sed -nE 's/.*: [0-9]+ frames, ([0-9]+) flows.*/\1/p' <<<"$out")
		NAT_PCAP=$(pcap_dev "$NAT_MIX")
		if [[ -z $NAT_FLOWS ]]; then
			NAT_PCAP=
			NAT_PROBLEM="flowgen -open-of did not say how many flows $NAT_MIX holds: $out"
		fi
	else
		NAT_PROBLEM="flowgen -open-of $FLOWS_PCAP failed: $(tail -1 <<<"$out")"
	fi
fi
# l2dsr on the NAT mix runs before nat and fnat: their denominator.
if [[ " ${TENBIN_MODES[*]} " == *" nat "* || " ${TENBIN_MODES[*]} " == *" fnat "* ]]; then
	modes=()
	for mode in "${TENBIN_MODES[@]}"; do
		[[ $mode == nat || $mode == fnat ]] && [[ " ${modes[*]} " != *" l2dsr-nat-mix "* ]] && modes+=(l2dsr-nat-mix)
		modes+=("$mode")
	done
	TENBIN_MODES=("${modes[@]}")
fi
if ((quick)); then
	for mode in passthrough l3dsr; do
		not_measured pmd "tenbin $mode" "full run only (the quick run measures the contenders the goals rest on)"
	done
fi

for ((rep = 1; rep <= REPEATS; rep++)); do
	# testpmd io and macswap as they come, and macswap once more on packed buffers
	# (--mp-alloc=xbuf: mbuf headers in a pool of their own, data buffers end to end in
	# memzones). Without hugepages testpmd's default pool puts each mbuf alone on a 4 KiB
	# page, so all mbuf headers, and all frames' first lines, share one L1 set; tenbin's
	# pool lays its mbufs end to end there (dpdk.Mempool.Packed). The goal stays against
	# testpmd's default; the packed line is the like-for-like figure beside it.
	for mode in io macswap macswap-xbuf; do
		log "pmd: testpmd $mode, run $rep/$REPEATS"
		new_prefix "pmd-$mode-$rep"
		logf=$LOGS/pmd-testpmd-$mode-$rep.log
		extra=() name="testpmd $mode"
		[[ $mode == macswap-xbuf ]] && extra=(--mp-alloc=xbuf) name="testpmd macswap packed buffers"
		testpmd_measure "$logf" --no-huge --no-pci -m 256 -l 0,1 --file-prefix "$PREFIX" \
			--vdev "$PCAP" --vdev "$NULL_DEV" -- \
			--total-num-mbufs=16384 --forward-mode="${mode%-xbuf}" "${extra[@]}" --auto-start --stats-period 1
		testpmd_record "$logf" 1 tx pmd "$name" "$rep"
	done
	for mode in "${TENBIN_MODES[@]}"; do
		[[ $mode != l2dsr ]] && ((rep > EXTRA_REPEATS)) && continue
		if ((!usable)); then
			((rep == 1)) && not_measured pmd "tenbin $mode" "$DATAPLANE_PROBLEM"
			continue
		fi
		rx=$PCAP publish= run=$mode name="tenbin $mode"
		[[ $mode == l2dsr-nat-mix ]] && run=l2dsr name="tenbin l2dsr nat-mix"
		if [[ $mode == nat || $mode == fnat || $mode == l2dsr-nat-mix ]]; then
			if [[ -z $NAT_PCAP ]]; then
				((rep == 1)) && not_measured pmd "$name" "$NAT_PROBLEM"
				continue
			fi
			rx=$NAT_PCAP
			[[ $mode == fnat ]] && publish="--flows $NAT_FLOWS"
		fi
		log "pmd: $name, run $rep/$REPEATS"
		if ! PUBLISH_ARGS=$publish tenbin_start "pmd-tenbin-$mode-$rep" "$run" 1 "$rx" "$NULL_DEV"; then
			not_measured pmd "$name" "$TENBIN_PROBLEM"
			continue
		fi
		tenbin_rate pmd "$name" "$rep"
		tenbin_stop
	done

	((rep > EXTRA_REPEATS)) && continue
	# testpmd macswap once more at --burst=16, on its default pool: how much of its figure
	# the one-L1-set layout costs at a burst of 32 (tenbin's and testpmd's default).
	log "pmd: testpmd macswap --burst=16, run $rep/$REPEATS"
	new_prefix "pmd-macswap16-$rep"
	logf=$LOGS/pmd-testpmd-macswap16-$rep.log
	testpmd_measure "$logf" --no-huge --no-pci -m 256 -l 0,1 --file-prefix "$PREFIX" \
		--vdev "$PCAP" --vdev "$NULL_DEV" -- \
		--total-num-mbufs=16384 --forward-mode=macswap --burst=16 --auto-start --stats-period 1
	testpmd_record "$logf" 1 tx pmd "testpmd macswap burst 16" "$rep"
	if ((usable)); then
		log "scaling: tenbin l2dsr on 2 lcores, run $rep/$REPEATS"
		if tenbin_start "scaling-tenbin-2-$rep" l2dsr 0,1 "$PCAP2" "$NULL_DEV"; then
			tenbin_rate scaling "tenbin l2dsr 2 lcores" "$rep"
			tenbin_stop
		else
			not_measured scaling "tenbin l2dsr 2 lcores" "$TENBIN_PROBLEM"
		fi
	elif ((rep == 1)); then
		not_measured scaling "tenbin l2dsr 2 lcores" "$DATAPLANE_PROBLEM"
	fi
	if ((!quick)); then
		log "scaling: testpmd io on 2 forwarding cores, run $rep/$REPEATS"
		new_prefix "scaling-io-$rep"
		logf=$LOGS/scaling-testpmd-io-2-$rep.log
		# lcore 0 (statistics) shares CPU 0 with forwarding lcore 1; lcore 2 has CPU 1.
		testpmd_measure "$logf" --no-huge --no-pci -m 256 --lcores 0@0,1@0,2@1 --file-prefix "$PREFIX" \
			--vdev "$PCAP2" --vdev "$NULL_DEV" -- --total-num-mbufs=16384 --nb-cores=2 --rxq=2 --txq=2 \
			--forward-mode=io --auto-start --stats-period 1
		testpmd_record "$logf" 1 tx scaling "testpmd io 2 cores" "$rep"
	fi
done
