#!/usr/bin/env bash
# Benchmark: time to first frame with and without trickle ICE, with host,
# server-reflexive (STUN) and relay (TURN) candidates, against the
# project's WHEP test server.
#
# Topology, made here in network namespaces of our own (nothing leaves
# them):  client 10.77.1.2 ── router (NAT) ── "public" 10.77.2.2: the WHEP
# server and coturn (STUN/TURN).  The router masquerades the client and
# lets no new connection in from the public side (a home router): the
# server reaches the client only through mappings the client opened.
#
# Usage: bench/ice.sh [RUNS per case (default 5)]      (as root)
# Output: a table on stdout and in bench/out/ice.txt
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
build_dir=${BUILD_DIR:-build}
out=bench/out
mkdir -p "$out"
[ -x "$build_dir/tools/whep-play" ] || bash scripts/build.sh >/dev/null
command -v turnserver >/dev/null || bash scripts/install-deps.sh >/dev/null
case "$build_dir" in /*) ;; *) build_dir="$PWD/$build_dir" ;; esac
export GST_PLUGIN_PATH="$build_dir/gst"

tag="wb$$"
c="${tag}c" r="${tag}r" s="${tag}s"
tmp=$(mktemp -d)
server_pid="" turn_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  [ -n "$turn_pid" ] && kill "$turn_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  for ns in "$c" "$r" "$s"; do ip netns del "$ns" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

for ns in "$c" "$r" "$s"; do
  ip netns add "$ns"
  ip -n "$ns" link set lo up
done
ip link add "${tag}a" netns "$c" type veth peer name "${tag}b" netns "$r"
ip link add "${tag}d" netns "$r" type veth peer name "${tag}e" netns "$s"
ip -n "$c" addr add 10.77.1.2/24 dev "${tag}a"
ip -n "$r" addr add 10.77.1.1/24 dev "${tag}b"
ip -n "$r" addr add 10.77.2.1/24 dev "${tag}d"
ip -n "$s" addr add 10.77.2.2/24 dev "${tag}e"
ip -n "$c" link set "${tag}a" up
ip -n "$r" link set "${tag}b" up
ip -n "$r" link set "${tag}d" up
ip -n "$s" link set "${tag}e" up
ip -n "$c" route add default via 10.77.1.1
ip -n "$s" route add default via 10.77.2.1
ip netns exec "$r" sysctl -q -w net.ipv4.ip_forward=1
ip netns exec "$r" nft -f - <<EOF
table ip nat {
  chain postrouting { type nat hook postrouting priority 100; oifname "${tag}d" masquerade; }
}
table inet filter {
  chain forward {
    type filter hook forward priority 0; policy accept;
    iifname "${tag}d" ct state new drop
  }
}
EOF
# A STUN server behind a firewall that drops STUN: port 3479.
ip netns exec "$s" nft add table inet stunwall
ip netns exec "$s" nft add chain inet stunwall input \
  '{ type filter hook input priority 0 ; policy accept ; }'
ip netns exec "$s" nft add rule inet stunwall input udp dport 3479 drop

ip netns exec "$s" turnserver --no-cli --no-tls --no-dtls --listening-ip 10.77.2.2 \
  --relay-ip 10.77.2.2 --listening-port 3478 --realm bench --fingerprint \
  --lt-cred-mech --user bench:bench --pidfile "$tmp/turn.pid" \
  --log-file "$tmp/turn.log" --no-stdout-log >/dev/null 2>&1 &
turn_pid=$!

ip netns exec "$s" "$build_dir/tests/server/whep-test-server" --address 10.77.2.2 \
  --port 0 --ice-address 10.77.2.2 >"$tmp/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do grep -q '^LISTENING ' "$tmp/server.log" && break; sleep 0.1; done
endpoint="$(sed -n 's/^LISTENING //p' "$tmp/server.log" | head -n1)/whep/cam"
[ "$endpoint" != "/whep/cam" ] || { echo "test server did not start"; cat "$tmp/server.log"; exit 1; }
sleep 0.5   # coturn

# One case: label, trickle mode, whepsrc settings…  Prints the median, min
# and max time to the first frame and the candidate types used.
measure() {
  local label=$1 trickle=$2; shift 2
  local sets=() times=() types="" i t
  for kv in "$@"; do sets+=(--set "$kv"); done
  for i in $(seq "$runs"); do
    ip netns exec "$c" "$build_dir/tools/whep-play" --endpoint "$endpoint" \
      --seconds 20 --until-first-frame --ice-local-addresses 10.77.1.2 \
      --set "trickle-ice=$trickle" "${sets[@]}" >"$tmp/play.txt" 2>&1 || true
    # BENCH_DEBUG=1 keeps each case's whep-play output in bench/out/.
    [ -n "${BENCH_DEBUG:-}" ] && cp "$tmp/play.txt" "$out/play-$trickle-${label%% *}.txt"
    t=$(sed -n 's/^first frame after: \([0-9]*\) ms$/\1/p' "$tmp/play.txt")
    [ -n "$t" ] && times+=("$t")
    types=$(grep -o 'local-type\\=\\(string\\)[a-z]*\|remote-type\\=\\(string\\)[a-z]*' \
      "$tmp/play.txt" | sed 's/.*)//' | paste -sd/ -)
  done
  if [ ${#times[@]} -eq 0 ]; then
    printf '%-26s %-6s %8s %8s %8s  %s\n' "$label" "$trickle" - - - "no picture"
    return
  fi
  printf '%s\n' "${times[@]}" | sort -n >"$tmp/t"
  printf '%-26s %-6s %8s %8s %8s  %s\n' "$label" "$trickle" \
    "$(awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}' "$tmp/t")" \
    "$(head -n1 "$tmp/t")" "$(tail -n1 "$tmp/t")" "${types:-?} (${#times[@]}/$runs)"
}

{
  echo "whepsrc ICE benchmark: time from PLAYING to the first decoded frame (ms),"
  echo "$runs runs per case; client behind NAT, server and coturn on the public side, VP8 640x360@30"
  printf '%-26s %-6s %8s %8s %8s  %s\n' case trickle median min max "pair local/remote (runs)"
  for trickle in auto off; do
    measure "host" "$trickle"
    measure "srflx (STUN)" "$trickle" stun-server=stun://10.77.2.2:3478
    measure "relay (TURN, relay only)" "$trickle" \
      turn-server=turn://bench:bench@10.77.2.2:3478 ice-transport-policy=relay
    measure "STUN that never answers" "$trickle" stun-server=stun://10.77.2.2:3479
  done
  echo "server: $(grep -c '^EVENT created' "$tmp/server.log") sessions created," \
    "$(grep -cE '^EVENT (deleted|expired)' "$tmp/server.log") deleted/expired"
} | tee "$out/ice.txt"
