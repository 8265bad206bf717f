#!/usr/bin/env bash
# virtio_lab.sh — the virtio lab: testpmd generates (replaying flowgen's mix from net_pcap)
# into net_virtio_user0 ⇄ vhost-user ⇄ the middle's net_vhost0; the middle forwards to its
# net_vhost1 ⇄ vhost-user ⇄ net_virtio_user1, where testpmd sinks. The middle is tenbin
# (passthrough, l2dsr) or, as the baseline, testpmd io. Records: part "virtio", the Mpps the
# sink received ("<middle>") and the Mpps offered to the middle ("<middle> offered").
#
# Pinning on this 2-core machine (VIRTIO_LAYOUT):
#   combined (default)  2 DPDK processes. Generator and sink are one testpmd, one forwarding
#                       lcore on CPU 0 (ports chained pcap → virtio_user0, virtio_user1 → pcap
#                       tx_drop); the middle polls on CPU 1. Nothing time-shares a core, so the
#                       middle's core is the one being measured.
#   split               3 DPDK processes: generator on CPU 0, middle on CPU 1, sink (rxonly)
#                       sharing CPU 0 with the generator. Two busy pollers on one core are
#                       time-sliced by the kernel (milliseconds), the virtio ring (256
#                       descriptors) overflows while the sink is off-CPU, and the figure
#                       measures the scheduler, not the middle: kept to show that.
# testpmd's main lcore (statistics only, asleep between prints) sits on CPU 0 throughout.
source "$(dirname "$0")/lib.sh"

LAYOUT=${VIRTIO_LAYOUT:-combined}
if [[ -n $BENCH_QUICK && $BENCH_QUICK != 0 ]]; then
	REPEATS=${VIRTIO_REPEATS:-1}
	MIDDLES=(testpmd-io tenbin-l2dsr)
else
	MIDDLES=(testpmd-io tenbin-passthrough tenbin-l2dsr)
fi
PCAP=$(pcap_dev "$FLOWS_PCAP")
usable=1
dataplane_usable || usable=0

# wait_sockets DIR: the middle's vhost-user servers are listening.
wait_sockets() {
	local i
	for ((i = 0; i < 200; i++)); do
		[[ -S $1/in.sock && -S $1/out.sock ]] && return 0
		kill -0 "$MIDDLE_PID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# run_traffic NAME REP DIR: generator (and sink) through the middle listening in DIR.
run_traffic() {
	local name=$1 rep=$2 dir=$3 base=$LOGS/virtio-${1// /-}-$2
	local gen_eal=(--no-huge --no-pci -m 256 --lcores 0@0,1@0)
	local app=(--total-num-mbufs=16384 --auto-start --stats-period 1)
	if [[ $LAYOUT == split ]]; then
		new_prefix "virtio-sink-$rep"
		bench_start "$base-sink.log" dpdk-testpmd "${gen_eal[@]}" --file-prefix "$PREFIX" \
			--vdev "net_virtio_user1,path=$dir/out.sock,queues=1" -- "${app[@]}" --forward-mode=rxonly
		local sink=$BENCH_PID
		new_prefix "virtio-gen-$rep"
		testpmd_measure_bg "$base-gen.log" "${gen_eal[@]}" --file-prefix "$PREFIX" --vdev "$PCAP" \
			--vdev "net_virtio_user0,path=$dir/in.sock,queues=1" -- "${app[@]}" --forward-mode=io
		bench_stop "$sink" INT
		bench_stop "$GEN_PID" INT
		testpmd_record "$base-sink.log" 0 rx virtio "$name" "$rep"
		testpmd_record "$base-gen.log" 1 tx virtio "$name offered" "$rep"
	else
		new_prefix "virtio-gen-$rep"
		testpmd_measure_bg "$base-gen.log" "${gen_eal[@]}" --file-prefix "$PREFIX" --vdev "$PCAP" \
			--vdev "net_virtio_user0,path=$dir/in.sock,queues=1" --vdev "net_virtio_user1,path=$dir/out.sock,queues=1" -- \
			"${app[@]}" --forward-mode=io --port-topology=chained
		bench_stop "$GEN_PID" INT
		testpmd_record "$base-gen.log" 2 rx virtio "$name" "$rep"
		testpmd_record "$base-gen.log" 1 tx virtio "$name offered" "$rep"
	fi
}

# testpmd_measure_bg LOG ARGS...: like testpmd_measure but leaves it running (GEN_PID), so
# the sink can be stopped first and never samples a stopped generator.
testpmd_measure_bg() {
	local logf=$1
	shift
	bench_start "$logf" stdbuf -oL dpdk-testpmd "$@"
	GEN_PID=$BENCH_PID
	testpmd_forwarding "$logf" "$GEN_PID"
}

log "virtio: layout $LAYOUT"
record --part virtio --name layout --extra "layout=$LAYOUT"
for ((rep = 1; rep <= REPEATS; rep++)); do
	for middle in "${MIDDLES[@]}"; do
		name=${middle/-/ }
		dir=$BENCH_TMP/vhost-$middle-$rep
		mkdir -p "$dir"
		log "virtio: $name in the middle, run $rep/$REPEATS"
		if [[ $middle == testpmd-io ]]; then
			new_prefix "virtio-mid-$rep"
			bench_start "$LOGS/virtio-mid-$middle-$rep.log" dpdk-testpmd --no-huge --no-pci -m 512 --lcores 0@0,1@1 \
				--file-prefix "$PREFIX" --vdev "net_vhost0,iface=$dir/in.sock,queues=1" \
				--vdev "net_vhost1,iface=$dir/out.sock,queues=1" -- \
				--total-num-mbufs=16384 --forward-mode=io --auto-start --stats-period 1
			MIDDLE_PID=$BENCH_PID
		else
			if ((!usable)); then
				((rep == 1)) && not_measured virtio "$name" "$DATAPLANE_PROBLEM"
				continue
			fi
			if ! tenbin_start "virtio-mid-$middle-$rep" "${middle#tenbin-}" 1 \
				"net_vhost0,iface=$dir/in.sock,queues=1" "net_vhost1,iface=$dir/out.sock,queues=1"; then
				not_measured virtio "$name" "$TENBIN_PROBLEM"
				continue
			fi
			MIDDLE_PID=$BENCH_PID
		fi
		if ! wait_sockets "$dir"; then
			not_measured virtio "$name" "the middle's vhost-user sockets did not appear"
		else
			run_traffic "$name" "$rep" "$dir"
		fi
		bench_stop "$MIDDLE_PID" TERM
		rm -f "${TENBIN_SHM:-}"
	done
done
