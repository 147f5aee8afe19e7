#!/usr/bin/env bash
# Soak benchmark: whepsrc (tools/whep-play) plays from the project's WHEP
# test server for MINUTES with a session limit of 30 s — whepsrc told the
# limit, so it rotates every ~28 s (≈ 120 rotations in an hour) — while
# this script samples the player's resident memory and thread count.
#
# Prints: rotations and sessions lost (whep-play), frames read, lost
# (gaps in the frame counter the server draws into every picture) and
# repeated (held pictures), sessions the server created / DELETEd /
# expired / killed, RSS at the start and the end with its slope (KiB per
# hour, least squares), and threads at the start and the end.  "Start" is
# the end of the warm-up (the first tenth of the run, at least one sample
# interval: the first session, DTLS certificate, decoder); the slope is
# taken over the samples from then on.
#
# Usage: bench/soak.sh [MINUTES (default 60)]
# Environment: SOAK_LIMIT_S (session limit, default 30), SOAK_SAMPLE_S
# (sample interval, default 10), BUILD_DIR (default build).
# Output: bench/out/soak/ (play.txt, server.log, samples.csv, results.txt)
# Everything runs on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:-60}
limit=${SOAK_LIMIT_S:-30}
sample_s=${SOAK_SAMPLE_S:-10}
build_dir=${BUILD_DIR:-build}
out=bench/out/soak
mkdir -p "$out"
[ -x "$build_dir/tools/whep-play" ] || bash scripts/build.sh >/dev/null
case "$build_dir" in /*) ;; *) build_dir="$PWD/$build_dir" ;; esac
export GST_PLUGIN_PATH="$build_dir/gst"
seconds=$((minutes * 60))

"$build_dir/tests/server/whep-test-server" --port 0 --session-limit "$limit" \
  >"$out/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q '^LISTENING ' "$out/server.log" && break; sleep 0.1; done
endpoint="$(sed -n 's/^LISTENING //p' "$out/server.log" | head -n1)/whep/cam"

"$build_dir/tools/whep-play" --quiet --endpoint "$endpoint" \
  --seconds "$seconds" --ice-local-addresses 127.0.0.1 \
  --session-lifetime "$limit" >"$out/play.txt" 2>&1 &
player=$!

# Samples: seconds since start, VmRSS in KiB, threads.
echo "s,rss_kib,threads" >"$out/samples.csv"
start=$(date +%s)
while kill -0 "$player" 2>/dev/null; do
  status=$(cat "/proc/$player/status" 2>/dev/null) || break
  rss=$(awk '/^VmRSS:/ {print $2}' <<<"$status")
  threads=$(awk '/^Threads:/ {print $2}' <<<"$status")
  [ -n "$rss" ] && echo "$(($(date +%s) - start)),$rss,$threads" >>"$out/samples.csv"
  sleep "$sample_s"
done
play_status=0
wait "$player" || play_status=$?
sleep 1
kill "$server" 2>/dev/null || true
wait "$server" 2>/dev/null || true
trap - EXIT

count() { grep -c "^EVENT $1 " "$out/server.log" || true; }
warmup=$((seconds / 10 > sample_s ? seconds / 10 : sample_s))
{
  echo "whepsrc soak: ${minutes} min against the test server (session limit ${limit} s, VP8 640x360@30, loopback); whep-play exit status $play_status"
  sed -n 's/^rotations: \([0-9]*\), sessions lost: \([0-9]*\)/rotations: \1, sessions lost early: \2/p' "$out/play.txt"
  sed -n 's/^frame counter: \([0-9]*\) read, \([0-9]*\) missing, \([0-9]*\) repeated/frames: \1 read, \2 lost, \3 repeated/p' "$out/play.txt"
  sed -n 's/^longest wait between two frames: /longest wait between two frames: /p' "$out/play.txt"
  echo "server sessions: $(count created) created, $(count deleted) DELETEd, $(count expired) expired, $(count killed) killed"
  awk -F, -v warmup="$warmup" 'NR > 1 && $1 >= warmup {
      if (!n++) { rss0 = $2; th0 = $3; t0 = $1 }
      rss1 = $2; th1 = $3; t1 = $1
      x = $1 / 3600.0; y = $2; sx += x; sy += y; sxx += x * x; sxy += x * y
    }
    END {
      slope = (n > 1 && n * sxx - sx * sx > 0) ? (n * sxy - sx * sy) / (n * sxx - sx * sx) : 0
      printf "rss: %d KiB at %d s, %d KiB at %d s; slope %+.0f KiB per hour (least squares over %d samples from %d s on)\n", rss0, t0, rss1, t1, slope, n, warmup
      printf "threads: %d at %d s, %d at %d s\n", th0, t0, th1, t1
    }' "$out/samples.csv"
  grep '^cpu:' "$out/play.txt" || true
} | tee "$out/results.txt"
