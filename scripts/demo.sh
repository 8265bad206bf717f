#!/bin/bash
# make demo: a client sends real HTTP through tenbin to three real servers, in network
# namespaces on this machine (scripts/lab.sh draws the topology). KEEP=1 leaves it running.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
LAB=scripts/lab.sh
BIN=$ROOT/bin
SOCK=/run/tenbin/lab.sock
RUN=/run/tenbin-lab
N=${DEMO_REQUESTS:-600}

[ "$(id -u)" = 0 ] || { echo "make demo needs root (network namespaces, raw sockets)" >&2; exit 1; }
cleanup() {
	if [ "${KEEP:-}" = 1 ]; then
		cat <<MSG

The lab is still up (KEEP=1). Try:
  bin/tenbin --socket $SOCK status
  bin/tenbin --socket $SOCK backend list
  bin/tenbin --socket $SOCK stats --watch
  bin/tenbin --socket $SOCK backend drain web-l2dsr rs1
  scripts/lab.sh exec client curl -s http://198.18.0.100/
  scripts/lab.sh exec lb curl -s http://127.0.0.1:9542/metrics | grep tenbin_backend_packets
Tear it down with: scripts/lab.sh down
MSG
	else
		$LAB down >/dev/null
	fi
}
trap cleanup EXIT

go build -o "$BIN/labtool" ./test/labtool
echo "== bringing up the lab"
$LAB up
$LAB servers
$LAB balancer

echo "== waiting for the health checks to bring the backends up"
up=0
for _ in $(seq 60); do
	up=$("$BIN/tenbin" --socket "$SOCK" backend list --output json 2>/dev/null | grep -o '"state": *"up"' | wc -l || true)
	[ "$up" -ge 12 ] && break
	sleep 0.5
done
"$BIN/tenbin" --socket "$SOCK" backend list || true
[ "$up" -ge 12 ] || { echo "backends did not come up; see $RUN/control.log" >&2; exit 1; }

# Count reply packets (source = a VIP) that reach the balancer's ports while traffic runs:
# in DSR modes the real servers answer the client through the router, so this stays 0.
$LAB exec lb timeout 300 tcpdump -i p0 -nn -q -l 'tcp and (src net 198.18.0.100/31 or src net 2001:db8::100/127)' >"$RUN/replies-at-lb.txt" 2>/dev/null &
$LAB exec lb timeout 300 tcpdump -i p1 -nn -q -l 'tcp and (src net 198.18.0.100/31 or src net 2001:db8::100/127)' >>"$RUN/replies-at-lb.txt" 2>/dev/null &
sleep 1

report() { # report NAME URL
	local out
	out=$($LAB exec client "$BIN/labtool" load -url "$2" -n "$N" -c 8)
	printf '%-14s %-26s %s\n' "$1" "$2" "$(echo "$out" | python3 -c '
import json,sys
r=json.load(sys.stdin)
per=" ".join(f"{k}={v}" for k,v in sorted(r["servers"].items()))
err=sum(r["errors"].values())
print(f"{r[\"ok\"]}/{r[\"requests\"]} ok, {err} failed, {r[\"requests\"]/r[\"seconds\"]:.0f} req/s  per backend: {per}")')"
}
echo
echo "== $N HTTP requests per VIP, each on a new TCP connection, from the client namespace"
report web-l2dsr    "http://198.18.0.100/"
report web-l2dsr-v6 "http://[2001:db8::100]/"
report web-l3dsr    "http://198.18.0.101/"
report web-l3dsr-v6 "http://[2001:db8::101]/"
sleep 1
pkill -f "tcpdump -i p[01] -nn -q" 2>/dev/null || true
echo
echo "== did the replies bypass the balancer?"
replies=$(grep -c . "$RUN/replies-at-lb.txt" || true)
echo "reply packets (from a VIP) seen on the balancer's ports: $replies  (DSR: they go real server → router → client)"
echo
echo "== tenbin stats"
"$BIN/tenbin" --socket "$SOCK" stats
echo
echo "== where to look next"
echo "metrics:  scripts/lab.sh exec lb curl -s http://127.0.0.1:9542/metrics   (Prometheus; dashboard configs/grafana/)"
echo "CLI:      bin/tenbin --socket $SOCK status | service list | backend list | stats --watch"
echo "logs:     $RUN/{dataplane,control,rs1,rs2,rs3}.log"
