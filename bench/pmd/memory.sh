#!/usr/bin/env bash
# memory.sh — memory per flow. The flow entry is 64 bytes by the ABI (struct tenbin_flow);
# this step fills flow tables of 2^20 (1M) and 2^24 (16M, the power of two above 10M)
# entries per lcore with a mix of MEM_FLOWS distinct flows (default 1M; quick: 64k) and
# records, per table: the dataplane's VmRSS, the region's size, the region pages actually
# in memory (tmpfs blocks of the file: the flow table's pages are allocated when first
# touched) and the flows found in the table; then `tenbin control` attaches to the same
# region and its VmRSS is recorded beside. Records: part "memory".
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
TENBIN=${TENBIN:-$ROOT/bin/tenbin}

# control_rss NAME: start `tenbin control` on the running dataplane's region (a 16-backend
# l2dsr service on flowgen's VIP, no health checks), wait until it has published, and record
# its RSS beside the dataplane's. It replaces benchctl's service: call it after measuring.
control_rss() {
	if [[ ! -x $TENBIN ]]; then
		not_measured memory "$1" "$TENBIN is not built"
		return
	fi
	local cfg=$BENCH_TMP/control.yaml logf=$LOGS/control-${1//[ ,]/-}.log i pid
	{
		printf 'dataplane:\n  shm: %s\n  ports:\n' "$TENBIN_SHM"
		printf '    - {name: p0, ipv4: 198.18.0.1/24}\n    - {name: p1, ipv4: 198.18.10.3/24}\n'
		printf 'api:\n  socket: %s\n' "$BENCH_TMP/control.sock"
		printf 'services:\n  - name: bench\n    vip: 198.18.0.100\n    port: 80\n    mode: l2dsr\n'
		printf '    ingress_port: p0\n    egress_port: p1\n    health_check: {kind: none}\n    backends:\n'
		for ((i = 1; i <= 16; i++)); do printf '      - {name: rs%d, address: 198.18.10.%d}\n' "$i" $((10 + i)); done
	} >"$cfg"
	bench_start "$logf" "$TENBIN" control --config "$cfg" --socket "$BENCH_TMP/control.sock"
	pid=$BENCH_PID
	for ((i = 0; i < 100; i++)); do
		grep -q "control daemon running" "$logf" && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if grep -q "control daemon running" "$logf"; then
		sleep 1 # its first health-check and metrics rounds
		"$BENCHCTL" rss --pid "$pid" --out "$RAW" --part memory --name "$1"
	else
		not_measured memory "$1" "tenbin control did not start: $(last_line "$logf")"
	fi
	bench_stop "$pid" TERM
	BENCH_PID=$TENBIN_PID
}

record --part memory --name "bytes per flow entry" --value 64 --unit B --extra "source=struct tenbin_flow (ABI)"
if ! dataplane_usable; then
	for e in 1M 16M; do not_measured memory "dataplane, $e-entry table" "$DATAPLANE_PROBLEM"; done
	exit 0
fi
pcap=$BENCH_TMP/mem-flows.pcap
"$FLOWGEN" -o "$pcap" -flows "$MEM_FLOWS" >&2 || exit 1
# The capture lives in mbufs: room for it plus the rings, and memory for the pool. Without
# hugepages the pool lays its mbufs (~2.3 KiB) end to end; a page per mbuf, plus room for the
# rest, is generous (it was what DPDK's own layout, one mbuf per 4 KiB page, needed).
mbufs=$((MEM_FLOWS + 16384))
mem=$((mbufs * 4096 / 1048576 + 768))
for entries in 1048576 16777216; do
	name="dataplane, $((entries >> 20))M-entry table"
	log "memory: $name, $MEM_FLOWS flows"
	# Start-up faults in all of --mem (GBs with a 1M-frame capture) before the lcores run.
	START_WAIT=120s TENBIN_ARGS="--flow-entries $entries --lcore-slots 1 --mbufs $mbufs --mem $mem" \
		tenbin_start "memory-$entries" l2dsr 1 "$(pcap_dev "$pcap")" "$NULL_DEV" ||
		{ not_measured memory "$name" "$TENBIN_PROBLEM"; continue; }
	TENBIN_PID=$BENCH_PID
	# FILL_SECONDS of traffic: the capture goes round many times at any rate above 0.1 Mpps.
	"$BENCHCTL" memory --shm "$TENBIN_SHM" --pid "$BENCH_PID" --fill "$FILL_SECONDS" --offered-flows "$MEM_FLOWS" \
		--out "$RAW" --part memory --name "$name"
	control_rss "control plane, $((entries >> 20))M-entry table"
	tenbin_stop
done
