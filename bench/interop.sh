#!/usr/bin/env bash
# Benchmark: whepsrc against WHEP servers on three WebRTC stacks it did not
# write — libwebrtc (npm @roamhq/wrtc), werift (npm, relaying one encoding
# to every session) and Debian's Janus 1.1.2 behind the project's janode
# front — in four scenarios each (tests/check/interop.c, "the benchmark"):
#
#   limit-6s   SECONDS of play, audio + video, the server ending every
#              session 6 s after its POST (whepsrc: session-lifetime=6)
#   no-limit   SECONDS of play with no session limit
#   kill       five times, 2–3 s apart, the session on air killed by the
#              server (POST /admin/kill: no word to whepsrc)
#   silence    the same with the session silenced (media stop, transport
#              and RTCP kept: POST /admin/silence)
#
# Every figure comes from one run and is measured where the sinks get the
# buffers: frames lost / repeated / out of order by the frame counter the
# servers paint into the picture before encoding; "stall" is the longest
# wait between two buffers out of whepsrc, "freeze" the longest time
# without a new picture (a hold's repeats are not new), "audio jump" the
# largest gap or overlap between consecutive audio timestamps; for kill
# and silence, per loss (median / max of five): the freeze, and the time
# from the server's word to the first new picture.
#
# Usage: bench/interop.sh [SECONDS (default 120)]
# Output: the raw BENCH lines and a table on stdout and in
# bench/out/interop.txt.  Needs scripts/install-deps.sh (node packages,
# janus); everything stays on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-120}
build_dir=${BUILD_DIR:-build}
out=bench/out
mkdir -p "$out"
[ -d tests/interop/node_modules/@roamhq/wrtc ] || bash scripts/install-deps.sh >/dev/null
bash scripts/build.sh >/dev/null

log="$out/interop.log"
# meson passes the environment through; the cases run one after another.
WHEP_BENCH_SECONDS=$seconds \
GST_CHECKS=test_bench_wrtc,test_bench_werift,test_bench_janus \
  meson test -C "$build_dir" --suite interop interop --timeout-multiplier 0 \
  --verbose >"$log" 2>&1 || { tail -40 "$log"; echo "bench/interop.sh: the run failed (log: $log)" >&2; exit 1; }

{
  echo "# bench/interop.sh $seconds — $(date -u +%Y-%m-%d) $(nproc) cores"
  grep -o 'BENCH .*' "$log"
  echo
  grep -o 'BENCH .*' "$log" | awk '
    function v(k,  i, kv) {
      for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == k) return kv[2] }
      return "?"
    }
    BEGIN {
      printf "| stack | case | s | 1st frame ms | sessions | rotations | losses | lost | repeated | backwards | stall ms | freeze ms | to new frame ms (median/max) | audio jump ms | created/deleted/expired |\n"
      printf "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
    }
    {
      printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s/%s/%s |\n",
        v("stack"), v("case"), v("seconds"), v("first_frame_ms"), v("sessions"),
        v("rotations"), v("early_losses"), v("lost"), v("repeated"), v("backwards"),
        v("longest_stall_ms"), v("longest_freeze_ms"),
        (v("to_new_frame_median_ms") != "?" ? v("to_new_frame_median_ms") "/" v("to_new_frame_max_ms") : "-"),
        (v("audio_buffers") > 0 ? v("audio_max_jump_ms") : "-"),
        v("created"), v("deleted"), v("expired")
    }'
} | tee "$out/interop.txt"
