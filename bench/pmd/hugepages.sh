#!/usr/bin/env bash
# hugepages.sh — the through-PMD pair on hugepages: tenbin-dataplane l2dsr (--huge) and
# dpdk-testpmd macswap at its default burst (32) and at --burst=16, alternating REPEATS times
# on net_pcap (flowgen's mix, infinite_rx=1) → net_null, one forwarding core each, as
# through_pmd.sh runs them without hugepages. Prints each one's median Mpps and tenbin ÷
# macswap.
#
# Why: without hugepages testpmd's default pool puts every mbuf alone on a 4 KiB page, so all
# mbuf headers (and all first data lines) share an L1 set, and net_pcap's copies miss; tenbin's
# pool is packed there (dpdk.Mempool.Packed). On hugepages both pools are packed: the ratio
# here is tenbin's own per-packet path against macswap's (bench/fastpath/README.md), as is
# through_pmd.sh's ratio against testpmd macswap on packed buffers.
#
#   bench/pmd/hugepages.sh        # REPEATS=3 RUN_SECONDS=5 unless set; results in BENCH_OUT
#
# Needs root: reserves HUGEPAGES 2 MiB pages (default 1024) if fewer are free and mounts
# hugetlbfs on /dev/hugepages if nothing is mounted there; both are put back as found.
RUN_SECONDS=${RUN_SECONDS:-5} REPEATS=${REPEATS:-3}
source "$(dirname "$0")/lib.sh"

HUGEPAGES=${HUGEPAGES:-1024}
nr=/proc/sys/vm/nr_hugepages
old_nr=$(cat "$nr")
mounted=0
restore() {
	((mounted)) && umount /dev/hugepages
	echo "$old_nr" >"$nr"
}
trap 'bench_cleanup; restore' EXIT # the pollers stop before hugetlbfs goes
free=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)
if ((free < HUGEPAGES)); then
	echo $((old_nr + HUGEPAGES - free)) >"$nr"
	free=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)
	((free >= HUGEPAGES)) || { echo "$0: only $free free 2 MiB pages after asking for $HUGEPAGES" >&2; exit 1; }
fi
if ! grep -q " /dev/hugepages hugetlbfs " /proc/mounts; then
	mkdir -p /dev/hugepages && mount -t hugetlbfs nodev /dev/hugepages || exit 1
	mounted=1
fi

[[ -x $BENCHCTL ]] || go build -o "$BENCH_OUT/bin/" "$ROOT/bench/pmd/benchctl" "$ROOT/bench/flowgen" || exit 1
[[ -s $FLOWS_PCAP ]] || "$BENCH_OUT/bin/flowgen" -o "$FLOWS_PCAP" -flows 1024 -size 64 >&2 || exit 1
PCAP=$(pcap_dev "$FLOWS_PCAP")
rm -f "$RAW"

for ((rep = 1; rep <= REPEATS; rep++)); do
	log "hugepages: tenbin l2dsr --huge, run $rep/$REPEATS"
	if TENBIN_ARGS=--huge tenbin_start "huge-tenbin-$rep" l2dsr 1 "$PCAP" "$NULL_DEV"; then
		tenbin_rate huge "tenbin l2dsr" "$rep"
		tenbin_stop
	else
		log "tenbin: $TENBIN_PROBLEM"
	fi
	for burst in 32 16; do
		log "hugepages: testpmd macswap --burst=$burst, run $rep/$REPEATS"
		new_prefix "huge-macswap$burst-$rep"
		logf=$LOGS/huge-macswap$burst-$rep.log
		testpmd_measure "$logf" --no-pci -m 512 -l 0,1 --file-prefix "$PREFIX" \
			--vdev "$PCAP" --vdev "$NULL_DEV" -- \
			--total-num-mbufs=16384 --forward-mode=macswap --burst=$burst --auto-start --stats-period 1
		testpmd_record "$logf" 1 tx huge "testpmd macswap burst $burst" "$rep"
	done
done

t=$(raw_median huge "tenbin l2dsr") m32=$(raw_median huge "testpmd macswap burst 32") m16=$(raw_median huge "testpmd macswap burst 16")
echo "tenbin l2dsr --huge         median ${t:-none} Mpps"
echo "testpmd macswap, burst 32   median ${m32:-none} Mpps"
echo "testpmd macswap, burst 16   median ${m16:-none} Mpps"
print_ratio "tenbin ÷ macswap (burst 32)" "$t" "$m32"
