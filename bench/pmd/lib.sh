# Shared by the bench/pmd scripts (sourced, not run). Every process a script starts goes
# through bench_start, so the EXIT trap can stop exactly those processes and nothing else.
#
# Inputs (set by bench/run.sh, with defaults for running a script alone):
#   BENCH_OUT     run directory; records go to $BENCH_OUT/raw.jsonl, logs to $BENCH_OUT/logs
#   BENCH_QUICK   1 for the short run
#   BENCHCTL      the benchctl binary;  DATAPLANE  the tenbin-dataplane binary
#   FLOWGEN       the flowgen binary (derives the nat/fnat mix from FLOWS_PCAP)
#   FLOWS_PCAP    the flow mix to replay (bench/flowgen)

set -uo pipefail

ROOT=${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BENCH_OUT=${BENCH_OUT:-$ROOT/bench/results/tmp}
BENCH_QUICK=${BENCH_QUICK:-}
BENCHCTL=${BENCHCTL:-$BENCH_OUT/bin/benchctl}
DATAPLANE=${DATAPLANE:-$ROOT/bin/tenbin-dataplane}
FLOWGEN=${FLOWGEN:-$BENCH_OUT/bin/flowgen}
FLOWS_PCAP=${FLOWS_PCAP:-$BENCH_OUT/flows-64.pcap}
RAW=$BENCH_OUT/raw.jsonl
LOGS=$BENCH_OUT/logs
mkdir -p "$LOGS"

# Seconds each measured process runs (the first second is warm-up) and how many times.
# Quick: 3 seconds (2 measured samples per run), so the whole quick run stays < 3 minutes.
if [[ -n $BENCH_QUICK && $BENCH_QUICK != 0 ]]; then
	RUN_SECONDS=${RUN_SECONDS:-3}
	REPEATS=${REPEATS:-3}
else
	RUN_SECONDS=${RUN_SECONDS:-15}
	REPEATS=${REPEATS:-5}
fi

BENCH_PIDS=()
BENCH_PREFIXES=()
BENCH_TMP=$(mktemp -d /tmp/tenbin-bench.XXXXXX)

bench_cleanup() {
	local pid
	for pid in "${BENCH_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${BENCH_PIDS[@]}"; do
		bench_wait "$pid" 5 || kill -KILL "$pid" 2>/dev/null
	done
	local p
	for p in "${BENCH_PREFIXES[@]}"; do
		rm -rf "/var/run/dpdk/$p"
	done
	rm -rf "$BENCH_TMP"
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

log() { printf '%s %s\n' "$(date +%T)" "$*" >&2; }

# bench_start LOG CMD... starts CMD in the background with output to LOG; its pid is in
# BENCH_PID. stdin is /dev/null so testpmd never waits for a key.
bench_start() {
	local logf=$1
	shift
	"$@" </dev/null >"$logf" 2>&1 &
	BENCH_PID=$!
	BENCH_PIDS+=("$BENCH_PID")
}

# bench_wait PID SECONDS: wait for PID to exit; 1 if it is still running after SECONDS.
bench_wait() {
	local pid=$1 i
	for ((i = 0; i < $2 * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
		sleep 0.1
	done
	return 1
}

# bench_stop PID [SIGNAL]: signal PID (INT for testpmd, which then prints its totals; TERM
# for the dataplane), wait up to 10 s, then kill it.
bench_stop() {
	local pid=$1 sig=${2:-TERM}
	kill "-$sig" "$pid" 2>/dev/null
	if ! bench_wait "$pid" 10; then
		log "pid $pid ignored SIG$sig, killing it"
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	local keep=() p
	for p in "${BENCH_PIDS[@]}"; do
		[[ $p == "$pid" ]] || keep+=("$p")
	done
	BENCH_PIDS=("${keep[@]}")
}

# new_prefix NAME: sets PREFIX to a unique EAL --file-prefix, removed at exit. (Not a
# command substitution: the list must grow in this shell.)
new_prefix() {
	PREFIX="tb$$-$1"
	BENCH_PREFIXES+=("$PREFIX")
}

# record ARGS...: one record through benchctl (see `benchctl record --help`).
record() { "$BENCHCTL" record --out "$RAW" "$@"; }

# not_measured PART NAME REASON
not_measured() {
	log "not measured: $1 $2: $3"
	record --part "$1" --name "$2" --not-measured "$3"
}

# dataplane_usable: 0 when bin/tenbin-dataplane exists and accepts its flags; the reason
# is in DATAPLANE_PROBLEM otherwise.
dataplane_usable() {
	DATAPLANE_PROBLEM=
	if [[ ! -x $DATAPLANE ]]; then
		DATAPLANE_PROBLEM="$DATAPLANE is not built"
		return 1
	fi
	local out
	if ! out=$("$DATAPLANE" --check --port "net_null0" --lcores 0 --mem 128 --shm "$BENCH_TMP/check" 2>&1); then
		DATAPLANE_PROBLEM="tenbin-dataplane --check failed: $(tail -1 <<<"$out")"
		return 1
	fi
	rm -f "$BENCH_TMP/check"
	return 0
}

# last_line FILE: the file's last non-empty line, for a reason in a record.
last_line() { grep -av '^\s*$' "$1" 2>/dev/null | tail -1 | cut -c1-200; }

# The replayed flow mix and the sink, shared by every through-PMD style step. net_null's
# rx is off (no-rx=1): with it on, net_null invents an endless stream of empty frames that
# testpmd would forward back into the pcap port and tenbin would drop as non-IP, which
# measures neither.
pcap_dev() { # pcap_dev PCAP [QUEUES]
	local q args="net_pcap0"
	for ((q = 0; q < ${2:-1}; q++)); do args+=",rx_pcap=$1"; done
	echo "$args,infinite_rx=1"
}
NULL_DEV="net_null0,no-rx=1"

# tenbin_start NAME MODE LCORES PORT... starts the dataplane on the ports (devargs) in
# MODE (passthrough, l2dsr, l3dsr, nat or fnat; the VIP modes get flowgen's VIP published)
# with extra dataplane flags from TENBIN_ARGS and extra `benchctl publish` flags from
# PUBLISH_ARGS; START_WAIT bounds its start-up (default 20s). Sets BENCH_PID and
# TENBIN_SHM; on failure returns 1 with the reason in TENBIN_PROBLEM and nothing left running.
tenbin_start() {
	local name=$1 mode=$2 lcores=$3
	shift 3
	local args=(--lcores "$lcores" --shm "$BENCH_TMP/region-$name" --lcore-slots 2 --mem 512 --mbufs 16383)
	local p publish=()
	for p in "$@"; do args+=(--port "$p"); done
	[[ $mode == passthrough ]] && args+=(--passthrough)
	read -ra publish <<<"${PUBLISH_ARGS:-}"
	TENBIN_SHM=$BENCH_TMP/region-$name
	TENBIN_LOG=$LOGS/$name.log
	TENBIN_PROBLEM=
	rm -f "$TENBIN_SHM"
	# shellcheck disable=SC2086 # TENBIN_ARGS is a list of flags
	bench_start "$TENBIN_LOG" "$DATAPLANE" "${args[@]}" ${TENBIN_ARGS:-}
	if ! "$BENCHCTL" wait --shm "$TENBIN_SHM" --pid "$BENCH_PID" --wait "${START_WAIT:-20s}" 2>"$BENCH_TMP/wait.err"; then
		TENBIN_PROBLEM="tenbin-dataplane did not start: $(last_line "$TENBIN_LOG")"
		grep -q "exited" "$BENCH_TMP/wait.err" || TENBIN_PROBLEM="$(last_line "$BENCH_TMP/wait.err")"
	elif [[ $mode != passthrough ]] &&
		! "$BENCHCTL" publish --shm "$TENBIN_SHM" --pid "$BENCH_PID" --mode "$mode" --wait 20s "${publish[@]}" >>"$TENBIN_LOG" 2>&1; then
		TENBIN_PROBLEM="publish failed: $(last_line "$TENBIN_LOG")"
	fi
	if [[ -n $TENBIN_PROBLEM ]]; then
		tenbin_stop
		return 1
	fi
}

# tenbin_stop: stop the dataplane tenbin_start started and remove its region.
tenbin_stop() {
	bench_stop "$BENCH_PID" TERM
	rm -f "$TENBIN_SHM"
}

# tenbin_rate PART NAME REP: record the running dataplane's tx Mpps over RUN_SECONDS (the
# first second warm-up). A run that drops more than 1% of what it receives (benchctl rate's
# --max-drops) is recorded as not measured, with the drops by reason, instead of a rate.
tenbin_rate() {
	"$BENCHCTL" rate --shm "$TENBIN_SHM" --pid "$BENCH_PID" --seconds $((RUN_SECONDS - 1)) --skip 1 --wait 15s \
		--out "$RAW" --part "$1" --name "$2" --rep "$3"
}

# testpmd_measure LOG EAL_AND_APP_ARGS...: run testpmd until it has forwarded for
# RUN_SECONDS (EAL start-up, 1-3 s on a busy machine, is not counted), then stop it with
# SIGINT. Its periodic statistics are in LOG.
testpmd_measure() {
	local logf=$1
	shift
	bench_start "$logf" stdbuf -oL dpdk-testpmd "$@"
	testpmd_forwarding "$logf" "$BENCH_PID"
	bench_stop "$BENCH_PID" INT
}

# testpmd_forwarding LOG PID: wait until testpmd's statistics show it forwarding (testpmd
# runs under stdbuf -oL, so each print is in LOG at once): that first non-zero print is the
# warm-up second `benchctl testpmd` drops. Then RUN_SECONDS - 1 more prints, the measured
# samples. (Waiting for "forwards packets on" instead left the first print, always 0 pps,
# and the warm-up one inside RUN_SECONDS: 3-second runs had no sample left.)
testpmd_forwarding() {
	local i
	for ((i = 0; i < 200; i++)); do
		grep -saqE "Tx-pps: +[1-9]" "$1" && break
		kill -0 "$2" 2>/dev/null || return
		sleep 0.05
	done
	sleep "$((RUN_SECONDS - 1)).5"
}

# testpmd_record LOG PORT DIR PART NAME REP: record the median Mpps of one port's tx or rx
# in LOG (the first second of samples is warm-up).
testpmd_record() {
	"$BENCHCTL" testpmd "$1" --port "$2" --dir "$3" --skip 1 --out "$RAW" --part "$4" --name "$5" --rep "$6"
}

# raw_median PART NAME: the median value of RAW's measured records of PART named NAME, two
# decimals, or nothing when none was measured (a not-measured record's value is 0, not a
# rate). For the scripts that print their own summary (compare_builds.sh, hugepages.sh).
raw_median() {
	grep -a "\"part\":\"$1\",\"name\":\"$2\"" "$RAW" | grep -av '"not_measured"' | grep -o '"value":[0-9.e+-]*' | cut -d: -f2 | sort -g |
		awk '{v[NR] = $1} END {if (NR) printf "%.2f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}

# print_ratio LABEL A B: prints "LABEL: A ÷ B" when both medians are there.
print_ratio() {
	if [[ -n $2 && -n $3 ]]; then
		awk -v a="$2" -v b="$3" -v l="$1" 'BEGIN {printf "%s: %.3f\n", l, a / b}'
	fi
}
