#!/usr/bin/env bash
# bench/run.sh — every benchmark of issue 9 in one run (`make bench` builds bin/ and calls
# this). BENCH_QUICK=1: 3-second runs, 3 repeats, short Go benchmarks (< 3 minutes); default:
# 15-second runs, 5 repeats (< 20 minutes). Results: bench/results/<date>-<host>.{json,md}, plots
# bench/results/<date>-<host>-*.png and bench/results/LATEST.md; raw records and logs of the
# run under bench/results/work/<date>-<host>/ (not committed). See bench/README.md.
#
# A step that cannot run (a binary missing or failing) is recorded as "not measured: why" and
# the run goes on. Every process a step starts is stopped when it ends or is interrupted.
set -uo pipefail
export PATH=$PATH:/usr/local/go/bin
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export ROOT BENCH_QUICK=${BENCH_QUICK:-}
quick=0
[[ -n $BENCH_QUICK && $BENCH_QUICK != 0 ]] && quick=1

stamp=$(date +%F)-$(hostname -s)
export BENCH_OUT=$ROOT/bench/results/work/$stamp
rm -rf "$BENCH_OUT"
mkdir -p "$BENCH_OUT/bin" "$BENCH_OUT/logs"
export BENCHCTL=$BENCH_OUT/bin/benchctl FLOWGEN=$BENCH_OUT/bin/flowgen
export DATAPLANE=${DATAPLANE:-$ROOT/bin/tenbin-dataplane} FLOWS_PCAP=$BENCH_OUT/flows-64.pcap
RAW=$BENCH_OUT/raw.jsonl
started=$(date +%s)
log() { printf '%s %s\n' "$(date +%T)" "$*" >&2; }

STEP_PID=
# stop_step: the running step and its direct children (go test, a script's own children
# are stopped by the script's trap), by pid.
stop_step() {
	[[ -n $STEP_PID ]] || return 0
	pkill -TERM -P "$STEP_PID" 2>/dev/null
	kill -TERM "$STEP_PID" 2>/dev/null
	wait "$STEP_PID" 2>/dev/null
}
trap stop_step EXIT
trap 'exit 130' INT TERM

# step NAME CMD...: run one part; its own EXIT trap stops what it started.
step() {
	local name=$1
	shift
	log "== $name"
	"$@" &
	STEP_PID=$!
	wait "$STEP_PID" || log "$name ended with status $?"
	STEP_PID=
}

log "tenbin bench, $([[ $quick == 1 ]] && echo quick || echo full) run, results in bench/results/$stamp.*"
go build -o "$BENCH_OUT/bin/" ./bench/flowgen ./bench/pmd/benchctl ./bench/report || exit 1
"$FLOWGEN" -o "$FLOWS_PCAP" -flows 1024 -size 64 >&2 || exit 1
if ! command -v gnuplot >/dev/null; then
	log "installing gnuplot-nox for the plots"
	{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gnuplot-nox; } >/dev/null 2>&1 ||
		log "gnuplot-nox could not be installed: no plots"
fi
# dpdk-pktgen is named by the issue as a second generator; Debian 12 does not package it.
pktgen=$(apt-cache policy dpdk-pktgen pktgen 2>/dev/null | grep -m1 Candidate: | awk '{print $2}')
"$BENCHCTL" record --out "$RAW" --part virtio --name pktgen --not-measured \
	"${pktgen:+dpdk-pktgen $pktgen is installable but not used}${pktgen:-dpdk-pktgen is not installable here: apt-cache policy dpdk-pktgen pktgen finds no candidate in Debian 12}"

# Go benchmarks of the other parts, each as its owner's README runs it.
gobench() { # gobench PART PACKAGE COUNT BENCHTIME [go test flags...]
	local part=$1 pkg=$2 count=$3 bt=$4
	shift 4
	if ! ls "$pkg"/*_test.go >/dev/null 2>&1; then
		"$BENCHCTL" record --out "$RAW" --part "$part" --name "$part" --not-measured "no benchmarks in $pkg yet"
		return
	fi
	go test -run '^$' -bench . -count "$count" -benchtime "$bt" "$@" "./$pkg/" >"$BENCH_OUT/gobench-$part.txt" 2>&1 ||
		"$BENCHCTL" record --out "$RAW" --part "$part" --name "$part" --not-measured \
			"go test -bench ./$pkg failed: $(grep -av '^\s*$' "$BENCH_OUT/gobench-$part.txt" | tail -1 | cut -c1-160)"
}
# bench/fastpath is a Go program (`go run ./bench/fastpath`, see its README) or Go
# benchmarks; its output is kept verbatim and any `Benchmark...` lines in it are tabulated.
fastpath() {
	if [[ ! -d bench/fastpath ]]; then
		"$BENCHCTL" record --out "$RAW" --part fastpath --name fastpath --not-measured "bench/fastpath does not exist yet"
	elif ls bench/fastpath/*_test.go >/dev/null 2>&1; then
		gobench fastpath bench/fastpath "$@"
	else
		# shellcheck disable=SC2086 # FASTPATH_ARGS is a list of flags
		go run ./bench/fastpath ${FASTPATH_ARGS:-} >"$BENCH_OUT/gobench-fastpath.txt" 2>"$BENCH_OUT/logs/fastpath.log" ||
			"$BENCHCTL" record --out "$RAW" --part fastpath --name fastpath --not-measured \
				"go run ./bench/fastpath failed: $(grep -av '^\s*$' "$BENCH_OUT/logs/fastpath.log" | tail -1 | cut -c1-160)"
	fi
}
# nat: issue 4's in-process NAT figures beside tenbin's own L2DSR, both through the same
# harness (dataplane/bench_test.go, nat_bench_test.go: one cgo call per packet), so
# NAT ÷ L2DSR is like for like. The test binary is built once and run twice: the per-packet
# cases for a time, and new fnat connections for a fixed count, because each new connection
# lands on a fresh page of the 1M-entry flow table until the table is warm (the rate rises
# with the count: 1k connections ~8k conn/s, 1M ~0.5M conn/s), so a time-calibrated run
# would report how many pages the calibration touched.
natbench() { # natbench COUNT BENCHTIME CONN_COUNT CONNECTIONS
	local out=$BENCH_OUT/gobench-nat.txt test=$BENCH_OUT/bin/dataplane.test
	if ! go test -c -o "$test" ./dataplane/ >"$out" 2>&1; then
		"$BENCHCTL" record --out "$RAW" --part nat --name nat --not-measured \
			"go test -c ./dataplane failed: $(grep -av '^\s*$' "$out" | tail -1 | cut -c1-160)"
		return
	fi
	# One process per repeat, every case once in it: run i of NAT and of L2DSR are seconds
	# apart, and the report pairs them by repeat.
	(
		cd dataplane || exit 1
		for ((rep = 1; rep <= $1; rep++)); do
			"$test" -test.run '^$' -test.cpu 1 -test.benchtime "$2" \
				-test.bench '^Benchmark(Process|NAT)$/^(l2dsr-hit|f?nat-(forward|reply.*))$' || exit 1
		done
		"$test" -test.run '^$' -test.cpu 1 -test.count "$3" -test.benchtime "$4" \
			-test.bench '^BenchmarkNAT$/^fnat-new-connections$'
	) >"$out" 2>&1 ||
		"$BENCHCTL" record --out "$RAW" --part nat --name nat --not-measured \
			"dataplane NAT benchmarks failed: $(grep -av '^\s*$' "$out" | tail -1 | cut -c1-160)"
}
# The quick Maglev run builds each M=65537 table once per run (-benchtime 1x), 3 runs: the
# M=655373 cases cost kkdai seconds each and no goal rests on them.
if ((quick)); then
	step maglev gobench maglev bench/maglev 3 1x -cpu 1 -bench 'BenchmarkBuild/N=/M=65537$/'
	FASTPATH_ARGS=${FASTPATH_ARGS:--trials 3 -packets 2000000 -flows 1k} step fastpath fastpath 1 200ms
	step nat natbench 5 200ms 1 1000000x
else
	step maglev gobench maglev bench/maglev 5 200ms -cpu 1
	FASTPATH_ARGS=${FASTPATH_ARGS:--trials 5 -packets 8000000 -flows 1k,1M} step fastpath fastpath 5 1s
	step nat natbench 5 1s 3 2000000x
fi

step through-pmd bench/pmd/through_pmd.sh
step virtio-lab bench/pmd/virtio_lab.sh
step publish-under-load bench/pmd/publish_load.sh
step memory bench/pmd/memory.sh
if ((quick)); then
	"$BENCHCTL" record --out "$RAW" --part proxy --name proxy --not-measured "full run only (bench/proxy/run.sh takes minutes)"
elif [[ -x bench/proxy/run.sh ]]; then
	step proxy bash -c 'bench/proxy/run.sh >"$BENCH_OUT/proxy.txt" 2>"$BENCH_OUT/logs/proxy.log"'
fi

elapsed=$(($(date +%s) - started))
log "== report (measured in ${elapsed}s)"
"$BENCH_OUT/bin/report" -work "$BENCH_OUT" -results bench/results -stamp "$stamp" -elapsed "$elapsed" \
	$( ((quick)) && echo -quick)
