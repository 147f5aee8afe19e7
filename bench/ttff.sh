#!/usr/bin/env bash
# Benchmark: time to first frame of whepsrc beside a plain webrtcbin WHEP
# player (webrtcbin → decodebin, POST after ICE gathering, default 200 ms
# latency, written the way users write one) and the floor, a sending and a
# receiving webrtcbin in one process with no HTTP and no server
# (tools/whep-ttff.c).  Every run is a new process, from PLAYING to the
# first picture a clock-synced sink renders.
#
# Each player runs twice per round: "fresh", as gst-launch-1.0 sees it
# (the process's first DTLS element generates its certificate — RSA-2048
# on GStreamer < 1.28), and "warm", with that certificate made before
# PLAYING (a second stream in the same process, every rotation, every
# reconnection).  The modes are interleaved, RUNS rounds, against one
# whep-test-server (VP8 640x360 30 fps) that is warmed up first, and, with
# SERVERS=all, the libwebrtc server of the interop suite as well.
#
# Usage: bench/ttff.sh [RUNS (default 9)]
# Output: min / median / max per mode and the ratios of the medians, on
# stdout and in bench/out/ttff.txt.  Everything stays on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-9}
build_dir=${BUILD_DIR:-build}
servers=${SERVERS:-all}
out=bench/out
mkdir -p "$out"
bash scripts/build.sh >/dev/null
[ "$servers" != all ] || [ -d tests/interop/node_modules/@roamhq/wrtc ] ||
  bash scripts/install-deps.sh >/dev/null
case $build_dir in /*) ;; *) build_dir="$PWD/$build_dir" ;; esac
export GST_PLUGIN_PATH="$build_dir/gst"
ttff="$build_dir/tools/whep-ttff"

tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

# start_server NAME COMMAND…: waits for its "LISTENING URL" line and sets
# endpoint[NAME].  It runs in this shell, not in $(…): the interop servers
# stop when their parent process goes away.
declare -A endpoint
start_server() {
  local name=$1 base=""
  shift
  "$@" >"$tmp/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do
    base=$(sed -n 's/^LISTENING //p' "$tmp/$name.log" | head -n1)
    [ -n "$base" ] && break
    sleep 0.1
  done
  [ -n "$base" ] || { cat "$tmp/$name.log" >&2; exit 1; }
  endpoint[$name]="$base/whep/cam"
}

start_server webrtcbin \
  "$build_dir/tests/server/whep-test-server" --port 0 --ice-address 127.0.0.1
if [ "$servers" = all ]; then
  start_server wrtc node tests/interop/wrtc-server.js --port 0
fi

one() {  # one STACK MODE [whep-ttff options…] → appends "STACK MODE ms"
  local stack=$1 mode=$2 line
  shift 2
  line=$("$ttff" --mode "${mode%-*}" --endpoint "${endpoint[$stack]}" \
    --ice-local-address 127.0.0.1 "$@" 2>>"$tmp/errors") || {
    echo "run failed: $stack $mode" >>"$tmp/errors"; return 0; }
  echo "$stack $mode $(sed -n 's/.* ms=\([0-9.]*\).*/\1/p' <<<"$line")" >>"$tmp/results"
}

# Warm the servers (their own first certificate, encoders, JIT).
for stack in "${!endpoint[@]}"; do
  "$ttff" --mode whepsrc --endpoint "${endpoint[$stack]}" \
    --ice-local-address 127.0.0.1 >/dev/null 2>&1 || true
done

for round in $(seq "$runs"); do
  for stack in "${!endpoint[@]}"; do
    one "$stack" plain-fresh
    one "$stack" whepsrc-fresh
    one "$stack" plain-warm --warm-cert
    one "$stack" whepsrc-warm --warm-cert
  done
  one webrtcbin pair-warm --warm-cert   # no server: the label is only a key
done

{
  echo "# bench/ttff.sh $runs — $(date -u +%Y-%m-%d) $(nproc) cores, $(git rev-parse --short HEAD)"
  echo
  echo "| server | player | runs | min ms | median ms | max ms |"
  echo "|---|---|---|---|---|---|"
  sort -k1,1 -k2,2 -k3,3n "$tmp/results" | awk -v notes="$tmp/notes" '
    { key = $1 " " $2; v[key, ++n[key]] = $3 }
    END {
      for (key in n) {
        split(key, k, " ")
        m = n[key]
        med = (m % 2) ? v[key, (m + 1) / 2] : (v[key, m / 2] + v[key, m / 2 + 1]) / 2
        printf "| %s | %s | %d | %.0f | %.0f | %.0f |\n", k[1], k[2], m, v[key, 1], med, v[key, m] | "sort"
        median[key] = med
        if (k[2] == "pair-warm") floor = med
      }
      for (key in n) {
        split(key, k, " ")
        if (k[2] != "whepsrc-fresh" && k[2] != "whepsrc-warm") continue
        state = substr(k[2], 9)
        p = k[1] " plain-" state
        if (p in median)
          printf "- %s, %s: whepsrc / plain = %.2f\n", k[1], state, median[key] / median[p] > notes
        if (floor != "" && state == "warm")
          printf "- %s, warm: whepsrc − the in-process pair (floor) = %+.0f ms\n", k[1], median[key] - floor > notes
      }
    }'
  echo
  sort "$tmp/notes"
  if [ -s "$tmp/errors" ]; then
    echo
    echo "failed runs / messages:"
    sed 's/^/  /' "$tmp/errors"
  fi
} | tee "$out/ttff.txt"
