#!/bin/bash
# make demo: a client sends real HTTP through tenbin to three real servers, in network
# namespaces on this machine (scripts/lab.sh draws the topology): direct server return (l2dsr,
# l3dsr), NAT and full-NAT. KEEP=1 leaves it running.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
LAB=scripts/lab.sh
BIN=${BIN:-$ROOT/bin}
export BIN # scripts/lab.sh runs the same binaries
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
  scripts/lab.sh exec client curl -s --interface 198.18.0.3 http://198.18.0.102/   (nat)
  scripts/lab.sh exec client curl -s http://198.18.0.103/   (fnat: see "toa")
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
	up=$("$BIN/tenbin" --socket "$SOCK" backend list --output json 2>/dev/null | grep -o '"health": *"up"' | wc -l || true)
	[ "$up" -ge 24 ] && break
	sleep 0.5
done
"$BIN/tenbin" --socket "$SOCK" backend list || true
[ "$up" -ge 24 ] || { echo "backends did not come up; see $RUN/control.log" >&2; exit 1; }

# Capture what reaches the balancer's ports while traffic runs: requests to the VIPs must be
# there (proof the capture works), replies from the VIPs must not: in DSR modes the real
# servers answer the client through the router.
VIPS='host 198.18.0.100 or host 198.18.0.101 or host 2001:db8::100 or host 2001:db8::101'
for p in p0 p1; do
	$LAB exec lb timeout 300 tcpdump -i "$p" -nn -s 96 -w "$RUN/lb-$p.pcap" "tcp and ($VIPS)" 2>/dev/null &
done
sleep 1

report() { # report NAME URL [SOURCE]: SOURCE is the client address to connect from
	local out
	out=$($LAB exec client "$BIN/labtool" load -url "$2" -n "$N" -c 8 ${3:+-source "$3"})
	printf '%-14s %-26s %s\n' "$1" "$2" "$(echo "$out" | python3 -c '
import json, sys
r = json.load(sys.stdin)
per = " ".join("%s=%d" % kv for kv in sorted(r["servers"].items()))
failed = sum(r["errors"].values())
seen = "servers saw client " + ", ".join(sorted(r["clients"]))
toa = sorted(a for a in r["toa"] if a)
if toa:
    seen += " carrying " + ", ".join(toa) + " in TOA"
print("%d/%d ok, %d failed, %.0f req/s   per backend: %s   %s" % (r["ok"], r["requests"], failed, r["requests"] / r["seconds"], per, seen))')"
}
counter() { "$BIN/tenbin" -o json shm inspect /dev/shm/tenbin-lab | python3 -c 'import json, sys; print(json.load(sys.stdin)["counters"]["'"$1"'"])'; }
echo
echo "== $N HTTP requests per VIP, each on a new TCP connection, from the client namespace"
report web-l2dsr    "http://198.18.0.100/"
report web-l2dsr-v6 "http://[2001:db8::100]/"
report web-l3dsr    "http://198.18.0.101/"
report web-l3dsr-v6 "http://[2001:db8::101]/"
nat_before=$(counter nat_replies)
# nat: the servers route only the client's second address (198.18.0.3, 2001:db8::3) back
# through the balancer; fnat: they answer the balancer's local address and read the client's
# from the TOA option on the SYN.
report web-nat      "http://198.18.0.102/"      198.18.0.3
report web-nat-v6   "http://[2001:db8::102]/"   2001:db8::3
report web-fnat     "http://198.18.0.103/"      198.18.0.3
report web-fnat-v6  "http://[2001:db8::103]/"   2001:db8::3
nat_replies=$(( $(counter nat_replies) - nat_before ))
sleep 1
pkill -f "tcpdump -i p[01] -nn" 2>/dev/null || true
sleep 0.5
count() { tcpdump -nn -r "$1" "$2" 2>/dev/null | wc -l; }
to_vip=0; from_vip=0
for p in p0 p1; do
	to_vip=$((to_vip + $(count "$RUN/lb-$p.pcap" "dst host 198.18.0.100 or dst host 198.18.0.101 or dst host 2001:db8::100 or dst host 2001:db8::101")))
	from_vip=$((from_vip + $(count "$RUN/lb-$p.pcap" "src host 198.18.0.100 or src host 198.18.0.101 or src host 2001:db8::100 or src host 2001:db8::101")))
done
echo
echo "== did the DSR replies bypass the balancer? (tcpdump on the balancer's ports p0 and p1)"
echo "client → VIP packets seen at the balancer: $to_vip   (requests, forwarded to the real servers)"
echo "VIP → client packets seen at the balancer: $from_vip   (replies: 0 means they went real server → router → client)"
echo "nat/fnat replies through the balancer:      $nat_replies   (its nat_replies counter: NAT answers come back through it)"
echo
echo "== tenbin stats, sampled while a client keeps requesting web-l2dsr and web-nat"
$LAB exec client "$BIN/labtool" load -url http://198.18.0.100/ -duration 3s -c 4 >/dev/null &
$LAB exec client "$BIN/labtool" load -url http://198.18.0.102/ -source 198.18.0.3 -duration 3s -c 4 >/dev/null &
sleep 1
"$BIN/tenbin" --socket "$SOCK" stats --interval 1s
wait
echo
echo "== where to look next"
echo "metrics:  scripts/lab.sh exec lb curl -s http://127.0.0.1:9542/metrics   (Prometheus; dashboard configs/grafana/)"
echo "CLI:      bin/tenbin --socket $SOCK status | service list | backend list | stats --watch"
echo "logs:     $RUN/{dataplane,control,rs1,rs2,rs3}.log"
