#!/usr/bin/env bash
# Benchmark: what a viewer sees on a lossy or jittery network — whepsrc
# beside a plain webrtcbin WHEP player with NACK off (webrtcbin →
# decodebin, what users have today; tools/whep-ttff.c --mode plain), in
# one run.
#
# Two network namespaces this script makes, joined only by a wire that
# tests/netdelay/whep-netdelay carries (nothing leaves them):
#   client 10.3.0.1 ── [whep-netdelay: delay ± jitter] ── 10.3.0.2 servers
# The servers: the project's WHEP test server (VP8 640x360 30 fps,
# retransmits on NACK, answers PLI, a key frame every 2 s) and, in STACKS
# (default "webrtcbin wrtc"), the libwebrtc server of the interop suite
# (tests/interop/wrtc-server.js; when its npm packages are installed).
# The players run one after the other for each pattern.  nftables drops
# UDP arriving in either namespace (both directions: media, RTCP, NACKs,
# retransmissions alike):
#   N         numgen random: N % of the packets, each on its own
#   burst     every 5 s, all UDP for 300 ms (~30 video packets in a row)
#   jitter    every packet 60 ± 50 ms late (uniform: packets overtake each
#             other) — the kernel here has no netem: the wire does it
#   N+jitter  both
#
# Per run: pictures with a new counter against the counters the server
# sent (intact %), pictures whose counter cannot be read (broken shown),
# the longest freeze, the jitterbuffers' lost / NACKed / retransmitted
# packets, and the key frames asked for (PLI/FIR).
#
# Usage (root): bench/loss.sh [SECONDS per run (default 30)] [PATTERNS…]
#   default patterns: 0 1 2 5 10 burst jitter 2+jitter
# Output: a table on stdout and in bench/out/loss.txt, a plot in
# bench/out/loss.png.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
shift || true
patterns=("$@")
[ ${#patterns[@]} -gt 0 ] || patterns=(0 1 2 5 10 burst jitter 2+jitter)
build_dir=${BUILD_DIR:-build}
out=bench/out
mkdir -p "$out"
[ "$(id -u)" = 0 ] || { echo "loss.sh: needs root (network namespaces)" >&2; exit 77; }
bash scripts/build.sh >/dev/null
case $build_dir in /*) ;; *) build_dir="$PWD/$build_dir" ;; esac
ttff="$build_dir/tools/whep-ttff"
netdelay="$build_dir/tests/netdelay/whep-netdelay"

ns_c="wheploss-$$-c"
ns_s="wheploss-$$-s"
client=10.3.0.1
server=10.3.0.2
tmp=$(mktemp -d)
server_pids=()
burst_pid=""
wire_pid=""
cleanup() {
  [ -z "$burst_pid" ] || kill "$burst_pid" 2>/dev/null || true
  exec 3>&- 2>/dev/null || true
  [ -z "$wire_pid" ] || kill "$wire_pid" 2>/dev/null || true
  for p in "${server_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  ip netns del "$ns_c" 2>/dev/null || true
  ip netns del "$ns_s" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

# The two namespaces and the wire.
for pair in "$ns_c $client $server" "$ns_s $server $client"; do
  set -- $pair
  ip netns add "$1"
  ip -n "$1" link set lo up
  ip -n "$1" tuntap add dev wire mode tun
  ip -n "$1" addr add "$2" peer "$3" dev wire
  ip -n "$1" link set wire up
done
mkfifo "$tmp/wire.ctl"
"$netdelay" --ns-a "/var/run/netns/$ns_c" --ns-b "/var/run/netns/$ns_s" \
  --dev wire --control --seconds 7200 <"$tmp/wire.ctl" >"$tmp/wire.out" \
  2>"$tmp/wire.log" &
wire_pid=$!
exec 3>"$tmp/wire.ctl"
for _ in $(seq 50); do grep -q READY "$tmp/wire.out" && break; sleep 0.1; done
grep -q READY "$tmp/wire.out" || { cat "$tmp/wire.log" >&2; exit 1; }
set_jitter() { echo "DELAY $1 $2" >&3; }

# start_server NAME COMMAND…: in the servers' namespace; sets
# endpoint[NAME].
declare -A endpoint
start_server() {
  local name=$1 base=""
  shift
  ip netns exec "$ns_s" "$@" >"$tmp/$name.log" 2>&1 &
  server_pids+=($!)
  for _ in $(seq 100); do
    base=$(sed -n 's/^LISTENING //p' "$tmp/$name.log" | head -n1)
    [ -n "$base" ] && break
    sleep 0.1
  done
  [ -n "$base" ] || { cat "$tmp/$name.log" >&2; exit 1; }
  endpoint[$name]="$base/whep/cam"
}

stacks=(${STACKS:-webrtcbin wrtc})
for stack in "${stacks[@]}"; do
  case $stack in
    webrtcbin) start_server webrtcbin "$build_dir/tests/server/whep-test-server" \
      --port 0 --address "$server" --ice-address "$server" ;;
    wrtc)
      if [ -d tests/interop/node_modules/@roamhq/wrtc ]; then
        start_server wrtc node tests/interop/wrtc-server.js --port 0 \
          --address "$server" --ice-address "$server"
      else
        echo "loss.sh: no tests/interop/node_modules (scripts/install-deps.sh): wrtc left out" >&2
      fi ;;
    *) echo "loss.sh: unknown stack $stack" >&2; exit 2 ;;
  esac
done

# set_loss PERCENT: nftables drops PERCENT % of the UDP arriving in each
# namespace (0: none).
set_loss() {
  local ns
  for ns in "$ns_c" "$ns_s"; do
    ip netns exec "$ns" nft delete table inet wheploss 2>/dev/null || true
    [ "$1" = 0 ] && continue
    ip netns exec "$ns" nft -f - <<NFT
table inet wheploss {
  chain input {
    type filter hook input priority filter - 5; policy accept;
    meta l4proto udp numgen random mod 100 < $1 drop
  }
}
NFT
  done
}

# Bursts: all UDP dropped for 300 ms every 5 s, while the player plays.
burst_on() {
  local ns
  for ns in "$ns_c" "$ns_s"; do
    ip netns exec "$ns" nft -f - <<NFT
table inet whepburst {
  chain input {
    type filter hook input priority filter - 6; policy accept;
    meta l4proto udp drop
  }
}
NFT
  done
}
burst_off() {
  ip netns exec "$ns_c" nft delete table inet whepburst 2>/dev/null || true
  ip netns exec "$ns_s" nft delete table inet whepburst 2>/dev/null || true
}
start_bursts() {
  ( while sleep 4.7; do burst_on; sleep 0.3; burst_off; done ) &
  burst_pid=$!
}
stop_bursts() {
  [ -z "$burst_pid" ] || kill "$burst_pid" 2>/dev/null || true
  wait "$burst_pid" 2>/dev/null || true
  burst_pid=""
  burst_off
}

# play STACK MODE PATTERN: one run, its PLAY line (or "PLAY … failed").
play() {
  local stack=$1 mode=$2 pattern=$3 percent line
  percent=${pattern%+jitter}
  case $percent in burst|jitter) percent=0 ;; esac
  set_loss "$percent"
  [[ $pattern != *jitter ]] || set_jitter 60 50
  [ "$pattern" != burst ] || start_bursts
  line=$(GST_PLUGIN_PATH="$build_dir/gst" ip netns exec "$ns_c" "$ttff" \
    --mode "$mode" --endpoint "${endpoint[$stack]}" \
    --ice-local-address "$client" --timeout 20 --seconds "$seconds" \
    2>>"$tmp/players.log" | grep '^PLAY' || true)
  stop_bursts
  set_jitter 0 0
  set_loss 0
  echo "${line:-PLAY mode=$mode failed}"
}

field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }

{
  echo "# bench/loss.sh $seconds s per run, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
  echo "| network | server | player | intact % | broken shown | longest freeze ms | lost pkts | NACKed | retransmitted | key frames asked |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  for pattern in "${patterns[@]}"; do
    case $pattern in
      burst) label="burst 300 ms / 5 s" ;;
      jitter) label="60 ± 50 ms jitter" ;;
      *+jitter) label="${pattern%+jitter} % + jitter" ;;
      *) label="$pattern %" ;;
    esac
    for stack in "${stacks[@]}"; do
      [ -n "${endpoint[$stack]:-}" ] || continue
      for mode in whepsrc plain; do
        line=$(play "$stack" "$mode" "$pattern")
        player=whepsrc
        [ "$mode" = whepsrc ] || player="plain webrtcbin, NACK off"
        if [[ $line == *failed ]]; then
          echo "| $label | $stack | $player | failed | | | | | | |"
          continue
        fi
        printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' \
          "$label" "$stack" "$player" \
          "$(field intact_pct "$line")" "$(field unreadable "$line")" \
          "$(field longest_freeze_ms "$line")" "$(field packets_lost "$line")" \
          "$(field rtx_requests "$line")" "$(field rtx_received "$line")" \
          "$(field key_frame_requests "$line")"
      done
    done
  done
} | tee "$out/loss.txt"

# The plot: frames shown intact per network, whepsrc beside the plain
# player, per server.
command -v gnuplot >/dev/null ||
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q gnuplot-nox >/dev/null
plots=()
for stack in "${stacks[@]}"; do
  [ -n "${endpoint[$stack]:-}" ] || continue
  awk -F' *[|] *' -v s="$stack" '
    $3 == s && $4 == "whepsrc" { w[$2] = $5; order[++n] = $2 }
    $3 == s && $4 ~ /^plain/ { p[$2] = $5 }
    END { for (i = 1; i <= n; i++) { k = order[i]
            printf "\"%s\" %s %s\n", k, (w[k] ~ /^[0-9.]+$/ ? w[k] : 0),
              (p[k] ~ /^[0-9.]+$/ ? p[k] : 0) } }' \
    "$out/loss.txt" >"$out/loss-$stack.dat"
  plots+=("\"$out/loss-$stack.dat\" using 2:xtic(1) title \"whepsrc ($stack)\", '' using 3 title \"plain webrtcbin, NACK off ($stack)\"")
done
joined=$(IFS=,; echo "${plots[*]}")
gnuplot <<GP
set terminal png size 1100,500
set output "$out/loss.png"
set title "Frames shown intact, $seconds s per run (a broken picture is not intact)"
set ylabel "intact %"
set yrange [0:105]
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set key outside bottom center horizontal
plot $joined
GP
echo "plot: $out/loss.png"
