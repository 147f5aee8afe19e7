#!/usr/bin/env bash
# Benchmark: how many WHEP streams one process plays in real time.  For
# each N: a fresh test server (VP8 640x360 at 30 fps, encoded once and
# shared by every session), then one whep-streams process playing N
# whepsrc → fakesink (sync=true) pipelines; the streams start 100 ms apart
# and, once all show pictures, SECONDS are measured: streams in real time,
# fps per stream, CPU % of a core (player per stream, server in all), RSS
# and threads per stream with every thread name.
#
# "real time": at least 28.5 fps over the window, and at most 5 % of the
# frames rendered more than 40 ms after their time (how far decoding lags).
#
# Usage: bench/streams.sh [N…] (default: 48 64)
#   STREAMS_SECONDS (default 30), STREAMS_STAGGER_MS (default 100),
#   STREAMS_DECODER_THREADS (default 0: the decoders' own default, which
#   for vp8dec is one thread per core; 1: decoding on the streaming thread
#   only, set by the application through deep-element-added),
#   STREAMS_PLUGINS="label=DIR …" (default: this build's gst/): play with
#   each of these whepsrc builds in turn for every N, e.g. a build of an
#   older commit beside this one, side by side in one run
# On this 2-core machine wrap it in the shared lock:
#   flock /tmp/whep-cpu.lock bash bench/streams.sh 48 64
# Output: bench/out/streams-N.txt, and a summary table at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
seconds=${STREAMS_SECONDS:-30}
stagger=${STREAMS_STAGGER_MS:-100}
decoder_threads=${STREAMS_DECODER_THREADS:-0}
out=bench/out
mkdir -p "$out"
[ -x "$build_dir/tools/whep-streams" ] || bash scripts/build.sh >/dev/null
[ $# -gt 0 ] || set -- 48 64
read -r -a plugins <<<"${STREAMS_PLUGINS:-this=$PWD/$build_dir/gst}"

echo "bench/streams.sh at commit $(git rev-parse --short HEAD): $seconds s measured per run, streams $stagger ms apart, decoder threads $decoder_threads"
summary=()
for n in "$@"; do
 for plugin in "${plugins[@]}"; do
  label=${plugin%%=*}
  export GST_PLUGIN_PATH=${plugin#*=}
  export GST_REGISTRY=$PWD/$out/registry-$label.bin  # one plugin name, two builds
  log=$out/streams-server-$n-$label.log
  "$build_dir/tests/server/whep-test-server" --port 0 --width 640 --height 360 \
    --fps 30 --video vp8 --patch 405 >"$log" 2>&1 &
  server=$!
  for _ in $(seq 600); do grep -q '^LISTENING ' "$log" && break; sleep 0.1; done
  if ! grep -q '^LISTENING ' "$log"; then
    echo "== $n streams, whepsrc $label: the server did not start within 60 s, log $log"
    kill "$server" 2>/dev/null || true
    continue
  fi
  endpoint="$(sed -n 's/^LISTENING //p' "$log" | head -n1)/whep/cam"
  echo "== $n streams, whepsrc $label ($GST_PLUGIN_PATH), $(nproc) cores =="
  "$build_dir/tools/whep-streams" --endpoint "$endpoint" --streams "$n" \
    --seconds "$seconds" --stagger-ms "$stagger" --server-pid "$server" \
    --ice-local-addresses 127.0.0.1 --decoder-threads "$decoder_threads" 2>&1 \
    | tee "$out/streams-$n-$label.txt" || true
  if ! kill "$server" 2>/dev/null; then
    echo "server: DIED during the run (exit status: $(wait "$server"; echo $?)), log $log"
  fi
  wait "$server" 2>/dev/null || true
  echo "server: $(grep -c '^EVENT created' "$log" || true) sessions created," \
    "$(grep -cE '^EVENT (deleted|expired|killed)' "$log" || true) ended"
  summary+=("label=$label $(sed -n 's/^RESULT //p' "$out/streams-$n-$label.txt")")
 done
done

echo
echo "| whepsrc | decoder threads | streams | playing | at 30 fps | real time | fps min | fps median | late frames % (median / worst stream) | player CPU %/stream | server CPU % | RSS MiB/stream | threads/stream |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
for line in "${summary[@]}"; do
  eval "$line"  # key=value pairs from whep-streams' RESULT line
  # shellcheck disable=SC2154
  echo "| $label | $decoder_threads | $streams | $playing | $at_rate | $realtime | $fps_min | $fps_median | $late_pct_median / $late_pct_max | $cpu_pct_per_stream | $server_cpu_pct | $rss_mib_per_stream | $threads_per_stream |"
done
