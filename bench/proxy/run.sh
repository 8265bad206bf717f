#!/usr/bin/env bash
# Side-by-side benchmark of the L7 proxy tier: tenbin proxy, HAProxy and NGINX, configured for
# the same routes (/api/ -> pool api, everything else -> pool www) over the same two loopback
# backends, measured with wrk in one run. Prints req/s and p99 per proxy for plain HTTP and
# for HTTPS on kept-alive connections, TLS handshakes/s (one request per connection), and the
# ratios to HAProxy. Each wrk run is short (DURATION, default 5s); the median of REPEATS
# (default 3) is reported.
#
# Usage: bench/proxy/run.sh            (as root: installs wrk, haproxy, nginx, openssl if missing)
# Env:   DURATION=5s REPEATS=3 CONNS=64 WRK_THREADS=1 KINDS="http https hs" (which columns to measure)
#        BASELINE_BIN=path: also run that tenbin binary (e.g. an older build) as "baseline" on
#        48080/48443, interleaved with the others, for a before/after in one run
set -euo pipefail

DURATION=${DURATION:-5s}
REPEATS=${REPEATS:-3}
CONNS=${CONNS:-64}
WRK_THREADS=${WRK_THREADS:-1}
KINDS=${KINDS:-http https hs}
BASELINE_BIN=${BASELINE_BIN:-}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$(mktemp -d /tmp/tenbin-bench-proxy.XXXXXX)
PIDS=()

cleanup() {
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT

need=()
for tool in wrk haproxy nginx openssl; do command -v "$tool" >/dev/null || need+=("$tool"); done
if ((${#need[@]})); then
	apt-get update -qq >/dev/null
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
# Debian starts the packaged services; this benchmark runs its own instances only.
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
HAPROXY=$(command -v haproxy || echo /usr/sbin/haproxy)

# Ports: backends 19001-19002; tenbin 18080/18443; haproxy 28080/28443; nginx 38080/38443.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
	-subj /CN=bench.example -addext subjectAltName=DNS:bench.example \
	-keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null
cat "$WORK/cert.pem" "$WORK/key.pem" >"$WORK/haproxy.pem"

mkdir -p "$WORK/nginx-be" "$WORK/nginx-px"
cat >"$WORK/nginx-be/nginx.conf" <<CONF
worker_processes 1;
pid $WORK/nginx-be/nginx.pid;
error_log $WORK/nginx-be/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  server { listen 127.0.0.1:19001; location / { return 200 "backend 1\n"; } }
  server { listen 127.0.0.1:19002; location / { return 200 "backend 2\n"; } }
}
CONF
cat >"$WORK/nginx-px/nginx.conf" <<CONF
worker_processes 2;
pid $WORK/nginx-px/nginx.pid;
error_log $WORK/nginx-px/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  upstream api { server 127.0.0.1:19001; server 127.0.0.1:19002; keepalive 128; }
  upstream www { server 127.0.0.1:19001; server 127.0.0.1:19002; keepalive 128; }
  server {
    listen 127.0.0.1:38080;
    listen 127.0.0.1:38443 ssl;
    ssl_certificate $WORK/cert.pem;
    ssl_certificate_key $WORK/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header X-Forwarded-For \$remote_addr;
    location /api/ { proxy_pass http://api; }
    location / { proxy_pass http://www; }
  }
}
CONF
cat >"$WORK/haproxy.cfg" <<CONF
global
  nbthread 2
  maxconn 4096
  ssl-default-bind-options ssl-min-ver TLSv1.2
defaults
  mode http
  timeout connect 3s
  timeout client 60s
  timeout server 60s
  option forwardfor
  http-reuse always
frontend web
  bind 127.0.0.1:28080
  bind 127.0.0.1:28443 ssl crt $WORK/haproxy.pem alpn h2,http/1.1
  acl api path_beg /api/
  use_backend api if api
  default_backend www
backend api
  balance roundrobin
  server b1 127.0.0.1:19001
  server b2 127.0.0.1:19002
backend www
  balance roundrobin
  server b1 127.0.0.1:19001
  server b2 127.0.0.1:19002
CONF
cat >"$WORK/tenbin.yaml" <<CONF
proxy:
  access_log: {output: "off"}
  listeners:
    - {name: web, kind: http, address: "127.0.0.1:18080"}
    - name: tls
      kind: https
      address: "127.0.0.1:18443"
      certificates: [{cert: $WORK/cert.pem, key: $WORK/key.pem}]
  routes: [{name: api, match: {path_prefix: /api/}, pool: api}]
  default_pool: www
  pools:
    - {name: api, scheduler: rr, backends: [{name: b1, address: "127.0.0.1:19001"}, {name: b2, address: "127.0.0.1:19002"}]}
    - {name: www, scheduler: rr, backends: [{name: b1, address: "127.0.0.1:19001"}, {name: b2, address: "127.0.0.1:19002"}]}
CONF

(cd "$ROOT" && go build -o "$WORK/tenbin" ./cmd/tenbin)

"$NGINX" -p "$WORK/nginx-be" -c "$WORK/nginx-be/nginx.conf" -g 'daemon off;' & PIDS+=($!)
"$NGINX" -p "$WORK/nginx-px" -c "$WORK/nginx-px/nginx.conf" -g 'daemon off;' & PIDS+=($!)
"$HAPROXY" -db -f "$WORK/haproxy.cfg" & PIDS+=($!)
"$WORK/tenbin" proxy --config "$WORK/tenbin.yaml" 2>"$WORK/tenbin.log" & PIDS+=($!)
ports="19001 19002 18080 18443 28080 28443 38080 38443"
if [[ -n $BASELINE_BIN ]]; then
	sed 's/:18080/:48080/; s/:18443/:48443/' "$WORK/tenbin.yaml" >"$WORK/baseline.yaml"
	"$BASELINE_BIN" proxy --config "$WORK/baseline.yaml" 2>"$WORK/baseline.log" & PIDS+=($!)
	ports+=" 48080 48443"
fi

for port in $ports; do
	for _ in $(seq 50); do
		(exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break
		sleep 0.1
	done
done
for url in http://127.0.0.1:18080/api/x http://127.0.0.1:28080/api/x http://127.0.0.1:38080/api/x; do
	curl -fsS "$url" >/dev/null || { echo "no answer from $url" >&2; exit 1; }
done

# one_run URL [wrk args...] -> "req_per_s p99_ms"
one_run() {
	local url=$1; shift
	wrk -t"$WRK_THREADS" -c"$CONNS" -d"$DURATION" --latency "$@" "$url" | awk '
		/Requests\/sec:/ { rps = $2 }
		$1 == "99%" { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
		              ms = (u == "us") ? v / 1000 : (u == "s") ? v * 1000 : v }
		END { printf "%.0f %.2f\n", rps, ms }'
}

# median COLUMN < lines -> the median of that column
median() {
	local lines
	lines=$(cat)
	local n m
	n=$(printf '%s\n' "$lines" | wc -l)
	m=$(((n + 1) / 2))
	printf '%s\n' "$lines" | awk -v c="$1" '{ print $c }' | sort -n | sed -n "${m}p"
}

names=(tenbin haproxy nginx)
declare -A HTTP=([tenbin]=18080 [haproxy]=28080 [nginx]=38080 [baseline]=48080)
declare -A HTTPS=([tenbin]=18443 [haproxy]=28443 [nginx]=38443 [baseline]=48443)
[[ -n $BASELINE_BIN ]] && names+=(baseline)
# "direct": wrk straight at one backend, plain HTTP only: the ceiling the proxies share.
names+=(direct)
HTTP[direct]=19001
declare -A RUNS=() RPS P99
for n in "${names[@]}"; do for k in http https hs; do RUNS[$n,$k]=""; done; done

echo "load before: $(uptime)"
echo "wrk -t$WRK_THREADS -c$CONNS -d$DURATION, median of $REPEATS; $(nproc) cores shared by wrk, proxy and backends"
# Repeats outermost and proxies interleaved, so a noisy neighbour hurts all three alike.
for ((i = 0; i < REPEATS; i++)); do
	for n in "${names[@]}"; do
		for k in $KINDS; do
			[[ $n == direct && $k != http ]] && continue
			case $k in
			http) RUNS[$n,http]+="$(one_run "http://127.0.0.1:${HTTP[$n]}/api/x")"$'\n' ;;
			https) RUNS[$n,https]+="$(one_run "https://127.0.0.1:${HTTPS[$n]}/api/x")"$'\n' ;;
			hs) RUNS[$n,hs]+="$(one_run "https://127.0.0.1:${HTTPS[$n]}/" -H "Connection: close")"$'\n' ;;
			esac
		done
	done
done
for n in "${names[@]}"; do
	for k in http https hs; do
		RPS[$n,$k]=$(printf '%s' "${RUNS[$n,$k]}" | median 1)
		P99[$n,$k]=$(printf '%s' "${RUNS[$n,$k]}" | median 2)
	done
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "" && b > 0) printf "%.2f", a / b; else print "-" }'; }
printf '\n%-8s %12s %9s %12s %9s %14s %8s %8s %8s\n' proxy "http req/s" "p99 ms" "https req/s" "p99 ms" "handshakes/s" "http/ha" "https/ha" "hs/ha"
for n in "${names[@]}"; do
	printf '%-8s %12s %9s %12s %9s %14s %8s %8s %8s\n' "$n" \
		"${RPS[$n,http]}" "${P99[$n,http]}" "${RPS[$n,https]}" "${P99[$n,https]}" "${RPS[$n,hs]}" \
		"$(ratio "${RPS[$n,http]}" "${RPS[haproxy,http]}")" \
		"$(ratio "${RPS[$n,https]}" "${RPS[haproxy,https]}")" \
		"$(ratio "${RPS[$n,hs]}" "${RPS[haproxy,hs]}")"
done
echo "load after: $(uptime)"
echo
echo "handshakes/s = HTTPS requests/s with Connection: close (a full ECDSA P-256 handshake each);"
echo "per core: divide by the cores the proxy had (at most $(nproc), shared with wrk and the backends)."
