#!/usr/bin/env bash
# compare_builds.sh A B [MODE] — two tenbin-dataplane builds side by side on the through-PMD
# vdevs (net_pcap replaying flowgen's mix → net_null), with testpmd macswap (on its default
# pool and on packed buffers) in the same repeats: A, B and both macswaps run alternately
# REPEATS times, so a noisy neighbour slows them alike. Prints each one's median Mpps and
# the ratios A ÷ B and each ÷ each macswap. This is how
# the before/after figures in bench/fastpath/README.md were taken: build the old commit to
# one path and the new to another, e.g.
#
#   git worktree add /tmp/old HEAD~1 && (cd /tmp/old && go build -o /tmp/dp-old ./cmd/tenbin-dataplane)
#   make build && REPEATS=7 RUN_SECONDS=3 bench/pmd/compare_builds.sh bin/tenbin-dataplane /tmp/dp-old
#
# MODE: l2dsr (default), l3dsr, passthrough, nat or fnat (these two replay flowgen -open-of's
# mix, one opening SYN per flow then the ACK mix 7 times, as through_pmd.sh does). Needs the bench tools and the mix that
# bench/run.sh builds; run alone it builds them into BENCH_OUT.
source "$(dirname "$0")/lib.sh"

[[ $# -ge 2 ]] || { echo "usage: $0 DATAPLANE_A DATAPLANE_B [l2dsr|l3dsr|passthrough|nat|fnat]" >&2; exit 2; }
A=$(realpath "$1") B=$(realpath "$2") MODE=${3:-l2dsr}
for bin in "$A" "$B"; do
	[[ -x $bin ]] || { echo "$0: $bin is not an executable" >&2; exit 2; }
done
[[ -x $BENCHCTL ]] || go build -o "$BENCH_OUT/bin/" "$ROOT/bench/pmd/benchctl" "$ROOT/bench/flowgen" || exit 1
if [[ ! -s $FLOWS_PCAP ]]; then
	"$BENCH_OUT/bin/flowgen" -o "$FLOWS_PCAP" -flows 1024 -size 64 >&2 || exit 1
fi
PCAP=$(pcap_dev "$FLOWS_PCAP")
if [[ $MODE == nat || $MODE == fnat ]]; then
	NAT_MIX=${FLOWS_PCAP%.pcap}-open.pcap
	"$FLOWGEN" -open-of "$FLOWS_PCAP" -o "$NAT_MIX" >&2 || exit 1
	PCAP=$(pcap_dev "$NAT_MIX")
fi
rm -f "$RAW"

for ((rep = 1; rep <= REPEATS; rep++)); do
	for side in A B; do
		DATAPLANE=${!side}
		log "compare: build $side ($DATAPLANE) $MODE, run $rep/$REPEATS"
		if tenbin_start "cmp-$side-$rep" "$MODE" 1 "$PCAP" "$NULL_DEV"; then
			tenbin_rate cmp "$side" "$rep"
			tenbin_stop
		else
			log "build $side: $TENBIN_PROBLEM"
		fi
	done
	# macswap on its default pool and on packed buffers (through_pmd.sh says why both)
	for pool in default packed; do
		log "compare: testpmd macswap, $pool pool, run $rep/$REPEATS"
		new_prefix "cmp-macswap-$pool-$rep"
		logf=$LOGS/cmp-macswap-$pool-$rep.log
		extra=() name=macswap
		[[ $pool == packed ]] && extra=(--mp-alloc=xbuf) name=macswap-packed
		testpmd_measure "$logf" --no-huge --no-pci -m 256 -l 0,1 --file-prefix "$PREFIX" \
			--vdev "$PCAP" --vdev "$NULL_DEV" -- \
			--total-num-mbufs=16384 --forward-mode=macswap "${extra[@]}" --auto-start --stats-period 1
		testpmd_record "$logf" 1 tx cmp "$name" "$rep"
	done
done

ma=$(raw_median cmp A) mb=$(raw_median cmp B) mm=$(raw_median cmp macswap) mp=$(raw_median cmp macswap-packed)
echo "A        $A: median ${ma:-none} Mpps"
echo "B        $B: median ${mb:-none} Mpps"
echo "macswap  testpmd: median ${mm:-none} Mpps"
echo "macswap  testpmd, packed buffers (--mp-alloc=xbuf): median ${mp:-none} Mpps"
print_ratio "A ÷ B" "$ma" "$mb"
print_ratio "A ÷ testpmd macswap" "$ma" "$mm"
print_ratio "B ÷ testpmd macswap" "$mb" "$mm"
print_ratio "A ÷ macswap packed buffers" "$ma" "$mp"
print_ratio "B ÷ macswap packed buffers" "$mb" "$mp"
