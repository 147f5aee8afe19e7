#!/usr/bin/env bash
# Benchmark: what a viewer sees on a lossy network — whepsrc beside a plain
# webrtcbin WHEP player with NACK off (webrtcbin → decodebin, what users
# have today; tools/whep-ttff.c --mode plain), in one run.
#
# Everything runs inside a network namespace this script makes (only its
# loopback, nothing leaves it): the project's WHEP test server (VP8
# 640x360 30 fps, retransmits on NACK, answers PLI, a key frame every 2 s)
# and the two players, one after the other for each loss pattern.  nftables
# drops UDP arriving in the namespace (both directions: media, RTCP,
# retransmissions alike):
#   N%      numgen random: N % of the packets, each on its own
#   burst   every 5 s, all UDP for 300 ms (~30 video packets in a row)
# The kernel here has no netem: delay and jitter are not measured.
#
# Per run: pictures with a new counter against the counters the server
# sent (intact %), pictures whose counter cannot be read (broken), the
# longest freeze, and the jitterbuffers' lost / NACKed / retransmitted
# packets.
#
# Usage (root): bench/loss.sh [SECONDS per run (default 30)] [PATTERNS…]
#   default patterns: 0 1 2 5 10 burst
# Output: a table on stdout and in bench/out/loss.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
shift || true
patterns=("$@")
[ ${#patterns[@]} -gt 0 ] || patterns=(0 1 2 5 10 burst)
build_dir=${BUILD_DIR:-build}
out=bench/out
mkdir -p "$out"
[ "$(id -u)" = 0 ] || { echo "loss.sh: needs root (network namespaces)" >&2; exit 77; }
bash scripts/build.sh >/dev/null
case $build_dir in /*) ;; *) build_dir="$PWD/$build_dir" ;; esac
ttff="$build_dir/tools/whep-ttff"

ns="wheploss-$$"
tmp=$(mktemp -d)
server_pid=""
burst_pid=""
cleanup() {
  [ -z "$burst_pid" ] || kill "$burst_pid" 2>/dev/null || true
  [ -z "$server_pid" ] || kill "$server_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

ip netns add "$ns"
ip netns exec "$ns" ip link set lo up
in_ns() { ip netns exec "$ns" "$@"; }

in_ns "$build_dir/tests/server/whep-test-server" --port 0 \
  --ice-address 127.0.0.1 >"$tmp/server.log" 2>&1 &
server_pid=$!
base=""
for _ in $(seq 100); do
  base=$(sed -n 's/^LISTENING //p' "$tmp/server.log" | head -n1)
  [ -n "$base" ] && break
  sleep 0.1
done
[ -n "$base" ] || { cat "$tmp/server.log" >&2; exit 1; }
endpoint="$base/whep/cam"

# set_loss PATTERN: the nftables table wheploss for a random pattern.
set_loss() {
  in_ns nft delete table inet wheploss 2>/dev/null || true
  case $1 in
    0|burst) ;;
    *) in_ns nft -f - <<EOF
table inet wheploss {
  chain input {
    type filter hook input priority filter - 5; policy accept;
    meta l4proto udp numgen random mod 100 < $1 drop
  }
}
EOF
      ;;
  esac
}

# Bursts: all UDP dropped for 300 ms every 5 s, while the player plays.
start_bursts() {
  (
    while sleep 4.7; do
      in_ns nft -f - <<EOF
table inet whepburst {
  chain input {
    type filter hook input priority filter - 6; policy accept;
    meta l4proto udp drop
  }
}
EOF
      sleep 0.3
      in_ns nft delete table inet whepburst 2>/dev/null || true
    done
  ) &
  burst_pid=$!
}
stop_bursts() {
  [ -z "$burst_pid" ] || kill "$burst_pid" 2>/dev/null || true
  wait "$burst_pid" 2>/dev/null || true
  burst_pid=""
  in_ns nft delete table inet whepburst 2>/dev/null || true
}

# play MODE PATTERN: one run, its PLAY line (or "PLAY … failed").
play() {
  local mode=$1 pattern=$2 line
  set_loss "$pattern"
  [ "$pattern" != burst ] || start_bursts
  line=$(GST_PLUGIN_PATH="$build_dir/gst" in_ns "$ttff" --mode "$mode" \
    --endpoint "$endpoint" --ice-local-address 127.0.0.1 --timeout 20 \
    --seconds "$seconds" 2>>"$tmp/players.log" | grep '^PLAY' || true)
  stop_bursts
  set_loss 0
  echo "${line:-PLAY mode=$mode failed}"
}

field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }

{
  echo "# bench/loss.sh $seconds s per run, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores"
  echo "| loss | player | intact % | broken shown | longest freeze ms | lost pkts | NACKed | retransmitted |"
  echo "|---|---|---|---|---|---|---|---|"
  for pattern in "${patterns[@]}"; do
    for mode in whepsrc plain; do
      line=$(play "$mode" "$pattern")
      label=$pattern; [ "$pattern" = burst ] || label="$pattern %"
      if [[ $line == *failed ]]; then
        echo "| $label | $mode | failed | | | | | |"
        continue
      fi
      printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$label" \
        "$([ "$mode" = plain ] && echo 'plain webrtcbin, NACK off' || echo whepsrc)" \
        "$(field intact_pct "$line")" "$(field unreadable "$line")" \
        "$(field longest_freeze_ms "$line")" "$(field packets_lost "$line")" \
        "$(field rtx_requests "$line")" "$(field rtx_received "$line")"
    done
  done
} | tee "$out/loss.txt"
