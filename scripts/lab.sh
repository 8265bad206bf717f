#!/bin/bash
# The tenbin lab: network namespaces and veth pairs, nothing that leaves the machine.
#
#   client (198.18.0.2, .3) ┐                         ┌─ rs1 198.18.10.11 ┐
#        lb port 0 (p0) ─┤ brA  [router ns]  brB ├─ rs2 198.18.10.12 ├ real servers
#                        │ 198.18.0.254  198.18.10.1 ├─ rs3 198.18.10.13 ┘  (HTTP on :80, :8080)
#                        └───────────────────────────┤
#                                lb port 1 (p1) ─────┤  198.18.10.3 (the dataplane's)
#                                lb mgmt 198.18.10.2 ┘  (health checks from the control plane)
#
# Segment A 198.18.0.0/24 + 2001:db8::/64 holds the client, the VIPs (198.18.0.100-103,
# 2001:db8::100-103) and the balancer's port 0; segment B 198.18.10.0/24 + 2001:db8:10::/64
# holds the real servers and the balancer's port 1. Real servers reply to clients through the
# router (their default gateway), so DSR replies never pass the balancer.
# NAT replies must pass it: the client's second address 198.18.0.3 / 2001:db8::3, used only
# to reach the nat VIPs, is routed by every real server via p1 (198.18.10.3 / 2001:db8:10::3).
# fnat needs no route: its local addresses (198.18.10.50 / 2001:db8:10::50) are on segment B.
# The balancer namespace's p0/p1 carry no kernel address: the dataplane owns them through
# net_af_packet. No namespace has a route out of the machine.
#
# Usage: scripts/lab.sh up | servers | balancer | down | status | exec NS CMD...
#   up          namespaces, bridges, router, addresses
#   servers     labtool HTTP servers on rs1..rs3 and `tenbin realserver setup` for the lab VIPs
#   balancer    tenbin-dataplane on p0/p1 and `tenbin control` with the lab config, in $P-lb
#   down        stops everything started in the lab, removes the namespaces and the region
# Pieces the end-to-end tests use (pids in $RUN/NAME.pid):
#   server N      (re)start real server rsN's HTTP server (and its DSR setup)
#   add-server N  one more real server namespace rsN (198.18.10.1N, 2001:db8:10::1N) on
#                 segment B, DSR set up and serving, e.g. to add a backend to a running lab
#   dataplane     start only the dataplane (it re-attaches to an existing region)
#   control       start only the control plane
set -euo pipefail
P=${LAB_PREFIX:-tbl}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$ROOT/bin}
RUN=${LAB_RUN:-/run/tenbin-lab}
CONFIG=${LAB_CONFIG:-$ROOT/configs/lab.yaml}
SHM=${LAB_SHM:-/dev/shm/tenbin-lab}
SOCK=${LAB_SOCK:-/run/tenbin/lab.sock}
NS_LIST="$P-client $P-lb $P-router $P-rs1 $P-rs2 $P-rs3"

ns() { ip netns exec "$1" "${@:2}"; }

link_to() { # link_to NS IFNAME BRIDGE: a veth from NS into the router's bridge
	local nsn=$1 ifn=$2 br=$3 peer="v-${1#$P-}-$2"
	peer=${peer:0:15}
	ip link add "$ifn" netns "$nsn" type veth peer name "$peer" netns "$P-router"
	ns "$P-router" ip link set "$peer" master "$br" up
	ns "$nsn" ip link set "$ifn" up
}

sysctls() {
	ns "$1" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
		net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0
	ns "$1" ip link set lo up
}

up() {
	down quiet
	# Logs of this run only (server and balancer restarts append to them).
	mkdir -p "$RUN" && rm -f "$RUN"/*.log
	for n in $NS_LIST; do ip netns add "$n"; sysctls "$n"; done
	local R="$P-router"
	ns "$R" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
		net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
	# Fixed bridge MACs: a bridge without one takes the lowest MAC among its ports, so adding a
	# server later (add-server) could change the gateway's MAC under every neighbour's ARP cache
	# and drop replies for seconds.
	for br in brA brB; do
		ns "$R" ip link add "$br" type bridge
		# Set after creation: only a MAC set on a bridge device pins it (addr_assign_type).
		ns "$R" ip link set "$br" address "02:00:00:00:0b:0${br#br}"
		ns "$R" ip link set "$br" type bridge forward_delay 0 stp_state 0
		ns "$R" sysctl -qw "net.ipv6.conf.$br.accept_dad=0" 2>/dev/null || true
		ns "$R" ip link set "$br" up
	done
	ns "$R" ip addr add 198.18.0.254/24 dev brA
	ns "$R" ip addr add 2001:db8::fe/64 dev brA nodad
	ns "$R" ip addr add 198.18.10.1/24 dev brB
	ns "$R" ip addr add 2001:db8:10::1/64 dev brB nodad

	link_to "$P-client" eth0 brA
	ns "$P-client" ip addr add 198.18.0.2/24 dev eth0
	ns "$P-client" ip addr add 2001:db8::2/64 dev eth0 nodad
	# The NAT tests' client address, bound explicitly (labtool load -source): secondary for
	# IPv4 and deprecated for IPv6, so the kernel never picks it for DSR traffic, whose
	# replies would then be routed into the balancer.
	ns "$P-client" ip addr add 198.18.0.3/24 dev eth0
	ns "$P-client" ip addr add 2001:db8::3/64 dev eth0 nodad preferred_lft 0
	# Only lab routes: segment B through the router; no default route out of the lab.
	ns "$P-client" ip route add 198.18.10.0/24 via 198.18.0.254
	ns "$P-client" ip -6 route add 2001:db8:10::/64 via 2001:db8::fe

	link_to "$P-lb" p0 brA
	link_to "$P-lb" p1 brB
	link_to "$P-lb" mgmt brB
	ns "$P-lb" ip addr add 198.18.10.2/24 dev mgmt
	ns "$P-lb" ip addr add 2001:db8:10::2/64 dev mgmt nodad
	for i in p0 p1; do
		# The kernel must not answer for, or route from, the dataplane's ports.
		ns "$P-lb" sysctl -qw "net.ipv6.conf.$i.disable_ipv6=1"
		ns "$P-lb" ethtool -K "$i" rx off tx off tso off gso off gro off >/dev/null 2>&1 || true
		ns "$P-router" ethtool -K "v-lb-$i" rx off tx off tso off gso off gro off >/dev/null 2>&1 || true
	done

	for i in 1 2 3; do rs_link "$i"; done
	ns "$P-client" ethtool -K eth0 tx off tso off gso off >/dev/null 2>&1 || true
	echo "lab up: $NS_LIST"
}

rs_link() { # rs_link N: real server rsN's addresses on segment B, replies through the router
	local n="$P-rs$1"
	link_to "$n" eth0 brB
	ns "$n" ip addr add "198.18.10.1$1/24" dev eth0
	ns "$n" ip addr add "2001:db8:10::1$1/64" dev eth0 nodad
	ns "$n" ip route add 198.18.0.0/24 via 198.18.10.1
	ns "$n" ip -6 route add 2001:db8::/64 via 2001:db8:10::1
	# Replies to the NAT client go back through the balancer (nat needs both directions).
	ns "$n" ip route add 198.18.0.3/32 via 198.18.10.3
	ns "$n" ip -6 route add 2001:db8::3/128 via 2001:db8:10::3
	# Segment offloads off so af_packet sees real, checksummed frames.
	ns "$n" ethtool -K eth0 tx off tso off gso off >/dev/null 2>&1 || true
}

add_server() { # add_server N: a real server namespace beyond rs1..rs3, serving at once
	case "$1" in [4-9]) ;; *) echo "add-server: N must be 4..9" >&2; exit 2 ;; esac
	[ -e "/run/netns/$P-rs$1" ] && { echo "add-server: $P-rs$1 exists" >&2; exit 1; }
	ip netns add "$P-rs$1"
	sysctls "$P-rs$1"
	rs_link "$1"
	server "$1"
}

servers() {
	for i in 1 2 3; do server "$i"; done
	echo "servers: rs1..rs3 serving HTTP on :80 and :8080, DSR set up (logs in $RUN)"
}

server() { # server N: DSR setup (idempotent) and the HTTP server of rsN, restarted if running
	local i=$1 n="$P-rs$1"
	mkdir -p "$RUN"
	[ -x "$BIN/labtool" ] || go build -o "$BIN/labtool" "$ROOT/test/labtool"
	stop_pid "$RUN/rs$i.pid"
	ns "$n" "$BIN/tenbin" realserver setup --mode l2dsr --vip 198.18.0.100 --vip 2001:db8::100 \
		--state "$RUN/rs$i-l2dsr.json" >"$RUN/rs$i-setup.log"
	ns "$n" "$BIN/tenbin" realserver setup --mode l3dsr --vip 198.18.0.101 --vip 2001:db8::101 \
		--rip "198.18.10.1$i" --rip "2001:db8:10::1$i" --state "$RUN/rs$i-l3dsr.json" >>"$RUN/rs$i-setup.log"
	# Started with ip netns exec directly (no subshell) so $! is the server's own pid.
	# :80 for the DSR services, :8080 for nat/fnat (the VIP's :80 mapped to the backend's port).
	ip netns exec "$n" "$BIN/labtool" serve -name "rs$i" -listen :80 -listen :8080 >>"$RUN/rs$i.log" 2>&1 &
	echo $! >"$RUN/rs$i.pid"
}

stop_pid() { # stop_pid FILE: TERM the process named in FILE, if it still runs, and wait for it
	local pid
	pid=$(cat "$1" 2>/dev/null) || return 0
	rm -f "$1"
	kill -TERM "$pid" 2>/dev/null || return 0
	for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
	kill -KILL "$pid" 2>/dev/null || true
}

# balancer starts the dataplane on the lab's veths (one lcore: the machine has two cores and
# the lab's clients and servers need the other) and the control plane beside it.
balancer() {
	rm -f "$SHM"
	# The control plane runs on a copy: `tenbin config apply` writes the applied file back to
	# its --config, which must not be the checked-in lab.yaml.
	mkdir -p "$RUN"
	if [ -n "${LAB_CONFIG:-}" ]; then
		cp "$LAB_CONFIG" "$RUN/config.yaml"
	else # the embedded default, the same text as configs/lab.yaml
		"$BIN/tenbin" config default >"$RUN/config.yaml"
	fi
	dataplane
	control
	echo "balancer: dataplane and control plane running in $P-lb (logs in $RUN, API $SOCK)"
}

# dataplane starts tenbin-dataplane; on an existing region it re-attaches (flow tables kept).
# Flow entries: a closed connection keeps its entries for the FIN timeout (120 s), NAT takes
# two per connection, and a 4-way bucket refuses a new NAT connection once its ways are all
# live (flow_table_full, drop nat_no_state; DSR goes stateless instead): at 65,536 entries
# 7,500 NAT connections in a minute lost 18 SYNs (1 in ~400), at 262,144 the whole e2e suite
# (~60,000 connections) still lost one; 1,048,576 (64 MiB per lcore slot) leaves no full bucket.
dataplane() {
	mkdir -p "$RUN"
	# Started with ip netns exec directly (no subshell) so $! is the process's own pid.
	ip netns exec "$P-lb" "$BIN/tenbin-dataplane" --port net_af_packet0,iface=p0 --port net_af_packet1,iface=p1 \
		--lcores "${LAB_LCORES:-0}" --lcore-slots 2 --flow-entries "${LAB_FLOW_ENTRIES:-1048576}" --shm "$SHM" \
		>>"$RUN/dataplane.log" 2>&1 &
	echo $! >"$RUN/dataplane.pid"
	for _ in $(seq 50); do [ -e "$SHM" ] && break; sleep 0.1; done
	[ -e "$SHM" ] || { echo "dataplane did not start; see $RUN/dataplane.log" >&2; tail -5 "$RUN/dataplane.log" >&2; exit 1; }
}

control() { # restarted alone, it keeps the configuration last applied
	mkdir -p "$RUN" "$(dirname "$SOCK")"
	[ -e "$RUN/config.yaml" ] || cp "$CONFIG" "$RUN/config.yaml"
	ip netns exec "$P-lb" "$BIN/tenbin" control --config "$RUN/config.yaml" --socket "$SOCK" >>"$RUN/control.log" 2>&1 &
	echo $! >"$RUN/control.pid"
	for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
	[ -S "$SOCK" ] || { echo "control plane did not start; see $RUN/control.log" >&2; tail -5 "$RUN/control.log" >&2; exit 1; }
}

# lab_namespaces lists every namespace with the lab's prefix, servers from add-server included.
lab_namespaces() { ip netns list | awk -v p="$P-" 'index($1, p) == 1 {print $1}'; }

down() {
	local n="" all
	all=$(lab_namespaces)
	for n in $all; do
		if [ -e "/run/netns/$n" ]; then
			# Processes started inside the namespace go with it.
			for pid in $(ip netns pids "$n" 2>/dev/null); do kill -TERM "$pid" 2>/dev/null || true; done
		fi
	done
	# Give them a moment to exit cleanly (the dataplane releases its EAL files) before KILL.
	for _ in $(seq 30); do
		for n in $all; do [ -n "$(ip netns pids "$n" 2>/dev/null)" ] && break; n=; done
		[ -z "$n" ] && break
		sleep 0.1
	done
	for n in $all; do
		if [ -e "/run/netns/$n" ]; then
			for pid in $(ip netns pids "$n" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
			ip netns del "$n" 2>/dev/null || true
		fi
	done
	rm -f "$SHM" "$SOCK" "$RUN"/*.pid 2>/dev/null || true
	[ "${1:-}" = quiet ] || echo "lab down"
}

status() {
	for n in $(printf '%s\n' $NS_LIST $(lab_namespaces) | awk '!seen[$0]++'); do
		if [ -e "/run/netns/$n" ]; then echo "$n: up ($(ip netns pids "$n" | wc -l) processes)"; else echo "$n: absent"; fi
	done
}

case "${1:-}" in
up) up ;;
servers) servers ;;
balancer) balancer ;;
down) down ;;
status) status ;;
server) server "${2:?usage: $0 server N}" ;;
add-server) add_server "${2:?usage: $0 add-server N}" ;;
dataplane) dataplane ;;
control) control ;;
exec) shift; n=$1; shift; ns "$P-$n" "$@" ;;
*) echo "usage: $0 up|servers|balancer|down|status|exec NS CMD...|server N|add-server N|dataplane|control" >&2; exit 2 ;;
esac
